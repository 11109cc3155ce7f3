package server

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/ultravioletrs/cube-hal/agent/atls"
	"github.com/ultravioletrs/cube-hal/agent/config"
	"github.com/ultravioletrs/cube-hal/agent/tsm"
)

// TLSSetup is the server's TLS configuration and what it amounts to.
type TLSSetup struct {
	Config *tls.Config
	// Mode is "tls", "mtls", "atls" or "atls+mtls".
	Mode string
	// ATLS is the attested-TLS certificate provider, when enabled.
	ATLS *atls.Provider
}

// TLSInputs are what BuildTLS needs besides the configuration.
type TLSInputs struct {
	// Source produces attested-TLS evidence (required for attested TLS).
	Source tsm.Source
	// Enrolled is a certificate obtained from the CA (UV_CUBE_AGENT_CA_URL);
	// it replaces SERVER_CERT/SERVER_KEY.
	Enrolled *tls.Certificate
	// Issuer, when set, has the CA issue each attested certificate.
	Issuer atls.Issuer
}

// BuildTLS turns the configuration into a TLS setup, or nil for plain HTTP.
// Every problem is a *config.Error naming the variable at fault; key
// material never appears in it.
func BuildTLS(cfg *config.Config, in TLSInputs) (*TLSSetup, error) {
	if !cfg.TLS() {
		return nil, nil
	}
	p := func(s string) string { return config.Prefix + s }
	var serverCert *tls.Certificate
	switch {
	case in.Enrolled != nil:
		c := *in.Enrolled
		serverCert = &c
	case cfg.ServerCert != "":
		c, err := loadKeyPair(cfg.ServerCert, cfg.ServerKey)
		if err != nil {
			return nil, err
		}
		serverCert = c
	}
	if serverCert != nil && cfg.ServerCACerts != "" {
		chain, err := loadCerts(p("SERVER_CA_CERTS"), cfg.ServerCACerts)
		if err != nil {
			return nil, err
		}
		for _, c := range chain {
			serverCert.Certificate = append(serverCert.Certificate, c.Raw)
		}
	}
	tc := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
	}
	setup := &TLSSetup{Config: tc, Mode: "tls"}
	if cfg.AttestedTLS {
		if in.Source == nil {
			return nil, &config.Error{Var: p("ATTESTED_TLS"), Msg: "attested TLS needs a TSM, and none is available"}
		}
		prov := &atls.Provider{Source: in.Source, Issuer: in.Issuer}
		if serverCert != nil {
			c := serverCert
			prov.Fallback = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c, nil }
		}
		tc.GetCertificate = prov.GetCertificate
		setup.ATLS = prov
		setup.Mode = "atls"
	} else {
		if serverCert == nil {
			return nil, &config.Error{Var: p("SERVER_CERT"), Msg: "TLS is configured but there is no server certificate"}
		}
		tc.Certificates = []tls.Certificate{*serverCert}
	}
	if cfg.ClientCACerts != "" {
		certs, err := loadCerts(p("CLIENT_CA_CERTS"), cfg.ClientCACerts)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		for _, c := range certs {
			pool.AddCert(c)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
		if setup.Mode == "atls" {
			setup.Mode = "atls+mtls"
		} else {
			setup.Mode = "mtls"
		}
	}
	return setup, nil
}

// loadKeyPair loads the server certificate and key, naming the variable
// whose file is wrong.
func loadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	p := func(s string) string { return config.Prefix + s }
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, &config.Error{Var: p("SERVER_CERT"), Msg: err.Error()}
	}
	if _, err := loadCertsPEM(p("SERVER_CERT"), certFile, certPEM); err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, &config.Error{Var: p("SERVER_KEY"), Msg: err.Error()}
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls errors describe the problem, never the key bytes.
		return nil, &config.Error{Var: p("SERVER_KEY"), Msg: fmt.Sprintf("%s: %v", keyFile, err)}
	}
	return &c, nil
}

func loadCerts(name, file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &config.Error{Var: name, Msg: err.Error()}
	}
	return loadCertsPEM(name, file, data)
}

func loadCertsPEM(name, file string, data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, &config.Error{Var: name, Msg: fmt.Sprintf("%s: %v", file, err)}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, &config.Error{Var: name, Msg: file + ": no PEM certificate in it"}
	}
	return out, nil
}

// Package daemon runs the cube-agent: it loads the configuration, picks the
// TSM, enrols with the CA when one is configured, sets up TLS and serves
// until told to stop. cmd/cube-agent is a thin main around Run, so tests can
// run the whole agent in-process.
package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/ultravioletrs/cube-hal/agent/config"
	"github.com/ultravioletrs/cube-hal/agent/enroll"
	"github.com/ultravioletrs/cube-hal/agent/fakesnp"
	"github.com/ultravioletrs/cube-hal/agent/server"
	"github.com/ultravioletrs/cube-hal/agent/tsm"
)

// Version is the agent's version, set at link time with
// -ldflags "-X github.com/ultravioletrs/cube-hal/agent/daemon.Version=v1.2.3".
var Version = "dev"

// Exit codes.
const (
	ExitOK     = 0 // stopped on request
	ExitFailed = 1 // could not run (listen, TSM, CA)
	ExitConfig = 2 // invalid configuration
)

// Options parameterise Run.
type Options struct {
	// Env looks up settings (normally os.LookupEnv).
	Env config.Lookup
	// Stderr receives the log (text, one record per line).
	Stderr io.Writer
	// Listener, when set, is served instead of listening on the configured
	// address (tests).
	Listener net.Listener
	// Ready is called with the address once the agent serves.
	Ready func(net.Addr)
	// Grace bounds the graceful shutdown (default 10 s).
	Grace time.Duration
	// OpenTSM replaces tsm.OpenLinux (tests).
	OpenTSM func(vmpl uint) (tsm.Source, error)
}

// Run runs the agent until ctx ends and returns the process exit code.
func Run(ctx context.Context, opts Options) int {
	stderr := opts.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	cfg, err := config.Load(opts.Env)
	if err != nil {
		fmt.Fprintf(stderr, "cube-agent: invalid configuration: %v\n", err)
		return ExitConfig
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if cfg.EnvFileNote != "" {
		log.Warn(cfg.EnvFileNote)
	}
	log.Info("cube-agent starting", "version", Version, "instance_id", cfg.InstanceID,
		"listen", cfg.Addr(), "backend", cfg.TargetURL.Redacted(), "env_file", cfg.EnvFile,
		"vmpl", cfg.VMPL, "os_build", cfg.OSBuild, "os_distro", cfg.OSDistro, "os_type", cfg.OSType)

	src, noTSM, code := openTSM(cfg, log, opts.OpenTSM)
	if code != ExitOK {
		if code == ExitConfig {
			fmt.Fprintf(stderr, "cube-agent: invalid configuration: %s\n", noTSM)
		}
		return code
	}

	if src == nil && cfg.AttestedTLS {
		fmt.Fprintf(stderr, "cube-agent: invalid configuration: %sATTESTED_TLS: attested TLS needs a TSM, and there is none (%s); set %sATTESTED_TLS=false, or %sTSM=fake for development\n",
			config.Prefix, noTSM, config.Prefix, config.Prefix)
		return ExitConfig
	}
	in := server.TLSInputs{Source: src}
	if cfg.CAURL != nil {
		if err := enrollCA(ctx, cfg, log, &in); err != nil {
			log.Error("certificate enrolment failed", "error", err)
			fmt.Fprintf(stderr, "cube-agent: certificate from %s%s failed: %v\n", config.Prefix, "CA_URL", err)
			return ExitFailed
		}
	}
	tlsSetup, err := server.BuildTLS(cfg, in)
	if err != nil {
		fmt.Fprintf(stderr, "cube-agent: invalid configuration: %v\n", err)
		return ExitConfig
	}
	if tlsSetup == nil {
		log.Warn("serving plain HTTP: no TLS configured (set UV_CUBE_AGENT_SERVER_CERT and UV_CUBE_AGENT_SERVER_KEY, UV_CUBE_AGENT_CA_URL, or UV_CUBE_AGENT_ATTESTED_TLS=true)")
	}
	srv := server.New(server.Options{Config: cfg, Source: src, NoTSM: noTSM, TLS: tlsSetup, Log: log, Version: Version})

	ln := opts.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.Addr())
		if err != nil {
			fmt.Fprintf(stderr, "cube-agent: cannot listen on %s (%sHOST, %sPORT): %v\n", cfg.Addr(), config.Prefix, config.Prefix, err)
			return ExitFailed
		}
	}
	mode := "http"
	if tlsSetup != nil {
		mode = tlsSetup.Mode
	}
	log.Info("cube-agent serving", "addr", ln.Addr().String(), "transport", mode)
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}
	grace := opts.Grace
	if grace == 0 {
		grace = 10 * time.Second
	}
	if err := srv.Serve(ctx, ln, grace); err != nil {
		log.Error("server stopped", "error", err)
		return ExitFailed
	}
	log.Info("cube-agent stopped")
	return ExitOK
}

// openTSM picks the evidence source for the configured mode. On failure
// it returns the message and ExitConfig or ExitFailed.
func openTSM(cfg *config.Config, log *slog.Logger, open func(uint) (tsm.Source, error)) (tsm.Source, string, int) {
	if open == nil {
		open = func(vmpl uint) (tsm.Source, error) { return tsm.OpenLinux(vmpl) }
	}
	switch cfg.TSM {
	case config.TSMNone:
		log.Warn("attestation disabled (UV_CUBE_AGENT_TSM=none): POST /attestation answers 503")
		return nil, "disabled by UV_CUBE_AGENT_TSM=none", ExitOK
	case config.TSMFake:
		signer, err := fakesnp.New(fakesnp.Options{Measurement: cfg.FakeMeasurement})
		if err != nil {
			log.Error("fake TSM", "error", err)
			return nil, err.Error(), ExitFailed
		}
		src, err := tsm.NewFake(signer, cfg.VMPL)
		if err != nil {
			log.Error("fake TSM", "error", err)
			return nil, err.Error(), ExitFailed
		}
		log.Warn("!!! FAKE TSM !!! attestation reports are signed with go-sev-guest's published test keys and prove nothing; " +
			"they verify only against test roots (cube-hal attest --test-roots). Never use UV_CUBE_AGENT_TSM=fake in production.")
		log.Info("attestation source", "tsm", src.Describe())
		return src, "", ExitOK
	}
	src, err := open(cfg.VMPL)
	if err == nil {
		log.Info("attestation source", "tsm", src.Describe())
		return src, "", ExitOK
	}
	var ve *tsm.VMPLError
	if errors.As(err, &ve) {
		return nil, "AGENT_VMPL (UV_CUBE_AGENT_VMPL): " + err.Error(), ExitConfig
	}
	if cfg.TSM == config.TSMAuto && errors.Is(err, tsm.ErrUnavailable) {
		log.Warn("no TSM: attestation unavailable, POST /attestation answers 503", "reason", err)
		return nil, err.Error(), ExitOK
	}
	log.Error("configfs-tsm", "error", err)
	return nil, err.Error(), ExitFailed
}

// enrollCA gets the server certificate from the CA and, for attested TLS,
// lets the CA issue each attested certificate.
func enrollCA(ctx context.Context, cfg *config.Config, log *slog.Logger, in *server.TLSInputs) error {
	id, generated, err := enroll.CVMID(cfg.CVMID, cfg.StateDir)
	if err != nil {
		return err
	}
	if generated {
		log.Info("generated a CVM ID", "cvm_id", id, "kept_in", cfg.StateDir)
	}
	client := &enroll.Client{BaseURL: cfg.CAURL, Token: cfg.CertsToken.Reveal(), CVMID: id, TTL: cfg.CertTTL, Log: log}
	if cfg.ServerCACerts != "" {
		hc, err := caHTTPClient(cfg.ServerCACerts)
		if err != nil {
			return err
		}
		client.HTTP = hc
	}
	log.Info("requesting a certificate from the CA", "ca", cfg.CAURL.Redacted(), "cvm_id", id)
	ectx, cancel := context.WithTimeout(ctx, cfg.CATimeout)
	defer cancel()
	hosts := []string{"localhost", "127.0.0.1"}
	if h, err := os.Hostname(); err == nil {
		hosts = append(hosts, h)
	}
	if cfg.Host != "" && cfg.Host != "0.0.0.0" && cfg.Host != "::" {
		hosts = append(hosts, cfg.Host)
	}
	cert, stale, err := client.Enroll(ectx, enroll.DefaultFiles(cfg.StateDir), hosts)
	if err != nil {
		return err
	}
	if stale != nil {
		log.Warn("using the stored certificate", "reason", stale)
	} else {
		log.Info("certificate issued", "subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	in.Enrolled = cert
	if cfg.AttestedTLS {
		in.Issuer = client
	}
	return nil
}

// caHTTPClient trusts the system roots plus the certificates in caFile
// (UV_CUBE_AGENT_SERVER_CA_CERTS) for talking to the CA.
func caHTTPClient(caFile string) (*http.Client, error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, &config.Error{Var: config.Prefix + "SERVER_CA_CERTS", Msg: err.Error()}
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, &config.Error{Var: config.Prefix + "SERVER_CA_CERTS", Msg: caFile + ": no PEM certificate in it"}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

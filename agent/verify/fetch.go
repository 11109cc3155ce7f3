package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/ultravioletrs/cube-hal/agent/atls"
	"github.com/ultravioletrs/cube-hal/agent/evidence"
)

// maxEvidence bounds an agent's answer: an SNP attestation with its full
// certificate table is under 16 KiB, a TDX quote under 8 KiB.
const maxEvidence = 1 << 20

type fetched struct {
	platform evidence.Platform
	fake     bool
	body     []byte
}

func agentURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--agent: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--agent %q: want http://host:port or https://host:port", s)
	}
	return u, nil
}

// fetchEndpoint posts the nonce as report_data (and its first 32 bytes as
// the upstream vTPM nonce) to /attestation.
func fetchEndpoint(ctx context.Context, opts Options, nonce []byte) (*fetched, error) {
	u, err := agentURL(opts.Agent)
	if err != nil {
		return nil, err
	}
	client := opts.HTTPClient
	if client == nil {
		tc, _, err := opts.TLS.config()
		if err != nil {
			return nil, err
		}
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment}}
		defer client.CloseIdleConnections()
	}
	body, _ := json.Marshal(map[string]string{
		"report_data": base64.StdEncoding.EncodeToString(nonce),
		"nonce":       base64.StdEncoding.EncodeToString(nonce[:evidence.UpstreamNonceSz]),
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.JoinPath("attestation").String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxEvidence+1))
	if err != nil {
		return nil, fmt.Errorf("reading the agent's answer: %w", err)
	}
	if len(data) > maxEvidence {
		return nil, fmt.Errorf("the agent's answer is larger than %d bytes", maxEvidence)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return nil, fmt.Errorf("agent answered %s: %s", resp.Status, msg)
	}
	f := &fetched{body: data, fake: resp.Header.Get(evidence.HeaderFake) == "true"}
	if p := resp.Header.Get(evidence.HeaderPlatform); p != "" {
		if f.platform, err = evidence.ParsePlatform(p); err != nil {
			return nil, fmt.Errorf("agent header %s: %w", evidence.HeaderPlatform, err)
		}
	} else if opts.Mode != "" {
		f.platform = opts.Mode // an upstream agent: trust the caller's --mode
	}
	return f, nil
}

// fetchATLS performs one attested-TLS handshake with nonce and returns the
// checked peer. A *atls.KeyBindingError comes back with the peer set.
func fetchATLS(ctx context.Context, opts Options, nonce []byte) (*atls.Peer, error) {
	u, err := agentURL(opts.Agent)
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	base, roots, err := opts.TLS.config()
	if err != nil {
		return nil, err
	}
	// Capture the certificates during the handshake and judge them after,
	// so a failure can be reported check by check instead of as a bare
	// handshake error.
	var raw [][]byte
	cfg := atls.ClientConfig(nonce, roots, nil)
	cfg.Certificates = base.Certificates
	cfg.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		raw = rawCerts
		return nil
	}
	d := &tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("attested TLS handshake with %s: %w", host, err)
	}
	conn.Close()
	return atls.CheckPeer(raw, nonce, roots, opts.Roots.now())
}

// Package enroll gets the agent its TLS certificate from a certificate
// authority: it makes a key, sends a CSR with the certs token, retries with
// backoff while the CA is unreachable, and keeps the result on disk (mode
// 0600) so a later start can fall back to it. It also keeps the CVM ID the
// CA knows the agent by.
//
// The wire protocol is the one Cube's agents use with an Abstract Machines
// "certs" service (Cocos v0.8.2 IssueFromCSRInternal):
//
//	POST {CA_URL}/certs/csrs/{CVM_ID}?ttl=8760h0m0s
//	Authorization: Bearer {CERTS_TOKEN}
//	Content-Type: application/json
//	{"csr": "<base64 of the PEM CSR>"}
//
// answered by 200 with {"certificate": "<PEM>", ...}.
package enroll

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
)

// CVMIDFile is the file under the state directory holding a generated ID.
const CVMIDFile = "cvm_id"

// CVMID returns the CVM ID to enrol with: the configured one, else the one
// kept in stateDir, else a new UUID that is written there (0600) and kept.
func CVMID(configured, stateDir string) (id string, generated bool, err error) {
	if configured != "" {
		return configured, false, nil
	}
	path := filepath.Join(stateDir, CVMIDFile)
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read CVM ID: %w", err)
	}
	id = uuid.NewString()
	if err := writeFileAtomic(path, []byte(id+"\n")); err != nil {
		return "", false, fmt.Errorf("keep CVM ID: %w", err)
	}
	return id, true, nil
}

// Client talks to the CA.
type Client struct {
	// BaseURL is the CA's URL (UV_CUBE_AGENT_CA_URL).
	BaseURL *url.URL
	// Token authenticates the agent (UV_CUBE_AGENT_CERTS_TOKEN). Never
	// logged or put in an error.
	Token string
	// CVMID is the entity the certificate is issued to.
	CVMID string
	// TTL is the certificate lifetime to ask for.
	TTL time.Duration
	// HTTP is the client to use (nil: a client with a 30 s timeout).
	HTTP *http.Client
	// Log receives retry notices (nil: discarded).
	Log *slog.Logger
}

// StatusError is a CA answer other than success.
type StatusError struct {
	Code int
	Msg  string // the CA's own message, shortened, token removed
}

func (e *StatusError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("CA answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("CA answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Msg)
}

// retryable tells transient failures (network, 5xx, 429) from final ones.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests || se.Code == http.StatusRequestTimeout
	}
	var pe *ParseError
	return !errors.As(err, &pe) && !errors.Is(err, context.Canceled)
}

// ParseError is a CA answer that is not a certificate.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return "CA response: " + e.Msg }

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// scrub removes the token from text that came back from the CA.
func (c *Client) scrub(s string) string {
	if c.Token != "" {
		s = strings.ReplaceAll(s, c.Token, "[redacted]")
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// IssueFromCSR sends one CSR (DER) and returns the issued chain (DER, leaf
// first). It implements atls.Issuer, for CA-issued attested certificates.
func (c *Client) IssueFromCSR(ctx context.Context, csrDER []byte) ([][]byte, error) {
	csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})
	body, err := json.Marshal(struct {
		CSR []byte `json:"csr"`
	}{csrPEM})
	if err != nil {
		return nil, err
	}
	u := c.BaseURL.JoinPath("certs", "csrs", c.CVMID)
	q := u.Query()
	q.Set("ttl", c.TTL.String())
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.http().Do(req)
	if err != nil {
		// url.Error carries the URL, which holds no secret; the token is in
		// a header and never in the error.
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read CA response: %w", err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		msg := string(data)
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) == nil && (e.Error != "" || e.Message != "") {
			msg = strings.TrimSpace(e.Error + " " + e.Message)
		}
		return nil, &StatusError{Code: resp.StatusCode, Msg: c.scrub(msg)}
	}
	var out struct {
		Certificate string `json:"certificate"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, &ParseError{Msg: "not JSON: " + err.Error()}
	}
	chain := parseChain(strings.ReplaceAll(out.Certificate, `\n`, "\n"))
	if len(chain) == 0 {
		return nil, &ParseError{Msg: `no PEM certificate in "certificate"`}
	}
	return chain, nil
}

func parseChain(s string) [][]byte {
	var chain [][]byte
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return chain
		}
		if b.Type == "CERTIFICATE" {
			chain = append(chain, b.Bytes)
		}
	}
}

// Files are where the enrolled certificate and key are kept.
type Files struct {
	Cert string // PEM chain, leaf first
	Key  string // PKCS #8 PEM private key, mode 0600
}

// DefaultFiles are the files under a state directory.
func DefaultFiles(stateDir string) Files {
	return Files{
		Cert: filepath.Join(stateDir, "certs", "agent.crt"),
		Key:  filepath.Join(stateDir, "certs", "agent.key"),
	}
}

// Enroll obtains a server certificate, retrying transient failures with
// exponential backoff (0.5 s doubling to 30 s, with jitter) until ctx ends.
// The certificate and its key are stored in files (0600). If the CA cannot
// be reached in time but files hold a certificate that is still valid, that
// one is used and stale reports why. hosts become the CSR's subject
// alternative names.
func (c *Client) Enroll(ctx context.Context, files Files, hosts []string) (cert *tls.Certificate, stale error, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: c.CVMID, Organization: []string{"Ultraviolet"}},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, nil, err
	}
	chain, err := c.retry(ctx, csr)
	if err != nil {
		if old, oerr := loadValid(files); oerr == nil {
			return old, fmt.Errorf("could not renew from the CA (%v); using the stored certificate valid until %s",
				err, old.Leaf.NotAfter.UTC().Format(time.RFC3339)), nil
		}
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, nil, &ParseError{Msg: "certificate: " + err.Error()}
	}
	if !publicKeysEqual(leaf.PublicKey, &key.PublicKey) {
		return nil, nil, &ParseError{Msg: "the issued certificate is not for the key in the CSR"}
	}
	if err := store(files, chain, key); err != nil {
		return nil, nil, err
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil, nil
}

func publicKeysEqual(a crypto.PublicKey, b *ecdsa.PublicKey) bool {
	ak, ok := a.(*ecdsa.PublicKey)
	return ok && ak.Equal(b)
}

func (c *Client) retry(ctx context.Context, csr []byte) ([][]byte, error) {
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		chain, err := c.IssueFromCSR(ctx, csr)
		if err == nil {
			return chain, nil
		}
		if !retryable(err) || ctx.Err() != nil {
			return nil, fmt.Errorf("certificate request to %s failed after %d attempt(s): %w", c.BaseURL.Redacted(), attempt, err)
		}
		wait := time.Duration(float64(delay) * (0.75 + 0.5*mrand.Float64()))
		if c.Log != nil {
			c.Log.Warn("CA not ready, retrying", "ca", c.BaseURL.Redacted(), "attempt", attempt, "error", err, "retry_in", wait.Round(time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("certificate request to %s gave up after %d attempt(s): %w", c.BaseURL.Redacted(), attempt, err)
		case <-t.C:
		}
		delay = time.Duration(math.Min(float64(delay*2), float64(30*time.Second)))
	}
}

func store(files Files, chain [][]byte, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	var certPEM bytes.Buffer
	for _, c := range chain {
		pem.Encode(&certPEM, &pem.Block{Type: "CERTIFICATE", Bytes: c})
	}
	if err := writeFileAtomic(files.Key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	if err := writeFileAtomic(files.Cert, certPEM.Bytes()); err != nil {
		return fmt.Errorf("store certificate: %w", err)
	}
	return nil
}

// loadValid loads a stored certificate that is valid now.
func loadValid(files Files) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		return nil, err
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	if now.Before(c.Leaf.NotBefore) || now.After(c.Leaf.NotAfter) {
		return nil, errors.New("stored certificate expired")
	}
	return &c, nil
}

// writeFileAtomic writes data to path (mode 0600) through a temporary file
// and a rename, so a crash never leaves half a key.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}

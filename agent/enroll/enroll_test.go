package enroll

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const token = "tok-3f9a-very-secret"

// fakeCA is a CA speaking the certs-service protocol with a real signing key.
type fakeCA struct {
	t        *testing.T
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	failures atomic.Int32 // answer 503 this many times first
	status   int          // when non-zero, always answer this
	calls    atomic.Int32
	lastPath string
	lastTTL  string
}

func newFakeCA(t *testing.T) *fakeCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	return &fakeCA{t: t, cert: cert, key: key}
}

func (ca *fakeCA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ca.calls.Add(1)
	ca.lastPath, ca.lastTTL = r.URL.Path, r.URL.Query().Get("ttl")
	if ca.status != 0 {
		w.WriteHeader(ca.status)
		// A careless CA echoing the credentials it got.
		json.NewEncoder(w).Encode(map[string]string{"error": "bad token " + r.Header.Get("Authorization")})
		return
	}
	if ca.failures.Add(-1) >= 0 {
		http.Error(w, "starting up", http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+token {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	var req struct {
		CSR []byte `json:"csr"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b, _ := pem.Decode(req.CSR)
	if b == nil {
		http.Error(w, "no PEM", http.StatusBadRequest)
		return
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		http.Error(w, "bad CSR", http.StatusBadRequest)
		return
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: csr.Subject,
		DNSNames: csr.DNSNames, IPAddresses: csr.IPAddresses,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	var chain bytes.Buffer
	pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
	json.NewEncoder(w).Encode(map[string]string{"certificate": chain.String(), "entity_id": "x"})
}

func client(t *testing.T, ca *fakeCA, logs *bytes.Buffer) *Client {
	srv := httptest.NewServer(ca)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/api")
	return &Client{BaseURL: u, Token: token, CVMID: "cvm-1", TTL: 48 * time.Hour,
		Log: slog.New(slog.NewTextHandler(logs, nil))}
}

func TestEnrollRetriesThenStores0600(t *testing.T) {
	ca := newFakeCA(t)
	ca.failures.Store(2)
	var logs bytes.Buffer
	c := client(t, ca, &logs)
	files := DefaultFiles(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cert, stale, err := c.Enroll(ctx, files, []string{"localhost", "127.0.0.1"})
	if err != nil || stale != nil {
		t.Fatalf("enroll: %v %v", err, stale)
	}
	if ca.calls.Load() != 3 {
		t.Errorf("%d CA calls, want 3 (two 503s, then success)", ca.calls.Load())
	}
	if ca.lastPath != "/api/certs/csrs/cvm-1" || ca.lastTTL != "48h0m0s" {
		t.Errorf("request path %q ttl %q", ca.lastPath, ca.lastTTL)
	}
	if len(cert.Certificate) != 2 || cert.Leaf.Subject.CommonName != "cvm-1" || len(cert.Leaf.IPAddresses) != 1 {
		t.Errorf("certificate: %d certs, subject %v, IPs %v", len(cert.Certificate), cert.Leaf.Subject, cert.Leaf.IPAddresses)
	}
	for _, f := range []string{files.Cert, files.Key} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("no retry logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Fatal("token in logs")
	}
}

func TestEnrollFinalFailureHidesToken(t *testing.T) {
	ca := newFakeCA(t)
	ca.status = http.StatusUnauthorized
	var logs bytes.Buffer
	c := client(t, ca, &logs)
	_, _, err := c.Enroll(context.Background(), DefaultFiles(t.TempDir()), nil)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 401 {
		t.Fatalf("got %v, want a 401 StatusError", err)
	}
	if ca.calls.Load() != 1 {
		t.Errorf("%d calls: a 401 must not be retried", ca.calls.Load())
	}
	if strings.Contains(err.Error(), token) || strings.Contains(logs.String(), token) {
		t.Fatalf("token leaked: %v / %s", err, logs.String())
	}
}

func TestEnrollFallsBackToStoredCertificate(t *testing.T) {
	ca := newFakeCA(t)
	var logs bytes.Buffer
	c := client(t, ca, &logs)
	retrying := make(chan struct{}, 10)
	c.Log = slog.New(slog.NewTextHandler(retryWatch{retrying}, nil))
	files := DefaultFiles(t.TempDir())
	first, _, err := c.Enroll(context.Background(), files, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Now the CA is down for good. The client gives up when its context
	// ends: here while it waits to retry after its second try, at a point
	// that does not depend on the machine's speed.
	ca.status = http.StatusBadGateway
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-retrying; <-retrying; cancel() }()
	cert, stale, err := c.Enroll(ctx, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stale == nil || !strings.Contains(stale.Error(), "stored certificate") {
		t.Fatalf("stale = %v", stale)
	}
	if !bytes.Equal(cert.Certificate[0], first.Certificate[0]) {
		t.Fatal("not the stored certificate")
	}
	if ca.calls.Load() < 2 {
		t.Fatal("no retries before falling back")
	}
	// No stored certificate: a clear failure.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go func() { <-retrying; cancel2() }()
	if _, _, err := c.Enroll(ctx2, DefaultFiles(t.TempDir()), nil); err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("got %v, want a give-up error", err)
	}
}

// retryWatch is a log writer that signals each "retrying" record.
type retryWatch struct{ c chan<- struct{} }

func (w retryWatch) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("retrying")) {
		w.c <- struct{}{}
	}
	return len(p), nil
}

func TestCVMIDGeneratedAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	id, gen, err := CVMID("", dir)
	if err != nil || !gen || len(id) != 36 {
		t.Fatalf("first: %q %v %v", id, gen, err)
	}
	id2, gen2, err := CVMID("", dir)
	if err != nil || gen2 || id2 != id {
		t.Fatalf("second: %q %v %v, want %q kept", id2, gen2, err, id)
	}
	st, _ := os.Stat(filepath.Join(dir, CVMIDFile))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	if got, _, _ := CVMID("configured", dir); got != "configured" {
		t.Errorf("configured ID ignored: %q", got)
	}
}

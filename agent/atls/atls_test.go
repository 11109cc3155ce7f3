package atls

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
	"github.com/ultravioletrs/cube-hal/agent/fakesnp"
	"github.com/ultravioletrs/cube-hal/agent/tsm"
	"github.com/ultravioletrs/cube-hal/agent/tsm/tsmtest"
)

func fakeSource(t testing.TB) tsm.Source {
	t.Helper()
	s, err := fakesnp.New(fakesnp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := tsm.NewFake(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// serve runs a TLS echo server on loopback with getCert and returns its
// address.
func serve(t *testing.T, getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: getCert})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func nonce(t testing.TB) []byte {
	n := make([]byte, NonceSize)
	if _, err := rand.Read(n); err != nil {
		t.Fatal(err)
	}
	return n
}

// handshake dials addr with an attested handshake and returns the checked
// peer or the error.
func handshake(t *testing.T, addr string, n []byte) (*Peer, error) {
	t.Helper()
	var peer *Peer
	cfg := ClientConfig(n, nil, func(p *Peer) error { peer = p; return nil })
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		return nil, err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		return nil, errors.New("echo failed")
	}
	return peer, nil
}

func TestHandshakeBindsKeyAndNonce(t *testing.T) {
	p := &Provider{Source: fakeSource(t)}
	addr := serve(t, p.GetCertificate)
	n := nonce(t)
	peer, err := handshake(t, addr, n)
	if err != nil {
		t.Fatal(err)
	}
	if peer.Platform != evidence.SNP || peer.Parsed == nil {
		t.Fatalf("peer: %+v", peer)
	}
	want := Binding(peer.PublicKeyDER, n)
	if !bytes.Equal(peer.Parsed.ReportData(), want[:]) {
		t.Fatal("report data is not the key binding")
	}
	if got := peer.Cert.Subject.Organization; len(got) != 1 || got[0] != "Ultraviolet" {
		t.Errorf("subject %v, want Cocos' Ultraviolet subject", peer.Cert.Subject)
	}
	// A second handshake gets a fresh key.
	peer2, err := handshake(t, addr, nonce(t))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(peer.PublicKeyDER, peer2.PublicKeyDER) {
		t.Fatal("key reused across handshakes")
	}
}

// attestedCert builds what a malicious server might send: evidence bound to
// evidenceKey, certificate for certKey.
func attestedCert(t *testing.T, src tsm.Source, n []byte, evidenceKey, certKey *ecdsa.PrivateKey) *tls.Certificate {
	t.Helper()
	pub, _ := x509.MarshalPKIXPublicKey(&evidenceKey.PublicKey)
	b := Binding(pub, n)
	ev, err := src.Attest(b[:])
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := ev.Marshal(src.ProductFMS())
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: Subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{{Id: OIDSNP, Value: body}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &certKey.PublicKey, certKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: certKey}
}

func TestSwappedKeyRejected(t *testing.T) {
	src := fakeSource(t)
	honest, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	addr := serve(t, func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		n, err := NonceFromServerName(h.ServerName)
		if err != nil {
			return nil, err
		}
		// Evidence genuinely bound to the honest key and this nonce, but the
		// attacker's key in the certificate.
		return attestedCert(t, src, n, honest, attacker), nil
	})
	_, err := handshake(t, addr, nonce(t))
	var kb *KeyBindingError
	if !errors.As(err, &kb) {
		t.Fatalf("got %v, want a key binding error", err)
	}
}

func TestReplayedCertificateRejected(t *testing.T) {
	p := &Provider{Source: fakeSource(t)}
	var mu sync.Mutex
	var recorded *tls.Certificate
	addr := serve(t, func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		mu.Lock()
		defer mu.Unlock()
		if recorded != nil {
			return recorded, nil // replay the first handshake's certificate
		}
		c, err := p.GetCertificate(h)
		recorded = c
		return c, err
	})
	if _, err := handshake(t, addr, nonce(t)); err != nil {
		t.Fatalf("first handshake: %v", err)
	}
	_, err := handshake(t, addr, nonce(t))
	var kb *KeyBindingError
	if !errors.As(err, &kb) {
		t.Fatalf("replay: got %v, want a key binding error", err)
	}
}

func TestNoNonceHandshake(t *testing.T) {
	p := &Provider{Source: fakeSource(t)}
	addr := serve(t, p.GetCertificate)
	_, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err == nil {
		t.Fatal("handshake without nonce succeeded with no fallback")
	}
	// With a fallback certificate, plain TLS clients are served.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	fb := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	p.Fallback = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return fb, nil }
	addr = serve(t, p.GetCertificate)
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("fallback: %v", err)
	}
	c.Close()
}

func TestServerNameNonce(t *testing.T) {
	n := nonce(t)
	got, err := NonceFromServerName(ServerName(n))
	if err != nil || !bytes.Equal(got, n) {
		t.Fatalf("round trip: %x %v", got, err)
	}
	for _, bad := range []string{"localhost", "zz.nonce", "abcd.nonce", strings.Repeat("ab", 65) + ".nonce"} {
		if _, err := NonceFromServerName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TDX: the recorded quote binds some other report data, so a certificate
// carrying it must fail the key binding check (which Cocos v0.8.2 skips).
func TestTDXKeyBindingChecked(t *testing.T) {
	src, err := tsmtest.RecordedTDX(0)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{Source: src}
	addr := serve(t, p.GetCertificate)
	_, err = handshake(t, addr, nonce(t))
	var kb *KeyBindingError
	if !errors.As(err, &kb) {
		t.Fatalf("got %v, want a key binding error", err)
	}
}

func TestCAIssuedAttestedCertificate(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	p := &Provider{Source: fakeSource(t), Issuer: issuerFunc(func(csrDER []byte) ([][]byte, error) {
		csr, err := x509.ParseCertificateRequest(csrDER)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: csr.Subject,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, ExtraExtensions: csr.Extensions}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, csr.PublicKey, caKey)
		return [][]byte{der}, err
	})}
	addr := serve(t, p.GetCertificate)
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	n := nonce(t)
	var peer *Peer
	c, err := tls.Dial("tcp", addr, ClientConfig(n, roots, func(pp *Peer) error { peer = pp; return nil }))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if peer.Cert.Issuer.CommonName != "test CA" {
		t.Fatalf("issuer %v", peer.Cert.Issuer)
	}
	// Without the CA in the roots the self-signed check fails.
	if c, err := tls.Dial("tcp", addr, ClientConfig(nonce(t), nil, nil)); err == nil {
		c.Close()
		t.Fatal("CA-issued attested certificate accepted as self-signed")
	}
}

type issuerFunc func([]byte) ([][]byte, error)

func (f issuerFunc) IssueFromCSR(_ context.Context, csr []byte) ([][]byte, error) { return f(csr) }

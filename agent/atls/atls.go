// Package atls implements attested TLS the way Cube uses it today (the
// Cocos v0.8.2 scheme), so cube-proxy and cube-hal can both talk to the
// agent:
//
//  1. The client picks a fresh 64-byte nonce and sends it as the TLS server
//     name: hex(nonce) + ".nonce".
//  2. For each handshake the server makes a fresh ECDSA P-256 key, asks its
//     TSM for evidence over SHA3-512(SubjectPublicKeyInfo DER || nonce), and
//     presents a certificate for that key carrying the evidence in an X.509
//     extension (OID 2.99999.1.x by platform).
//  3. The client checks the certificate (self-signed, or issued by a CA it
//     trusts), recomputes the binding from the certificate's key and its own
//     nonce, and verifies the evidence with that binding as report data.
//
// A replayed certificate fails step 3 (the nonce differs), and a certificate
// for another key fails it too (the key differs). Cocos v0.8.2 skips the
// report-data comparison for TDX; this package always makes it.
//
// Cocos v0.8.2 defines no OID for plain SEV-SNP (only SNP behind a vTPM),
// so SNP evidence here uses 2.99999.1.3, carrying the same serialized
// sevsnp.Attestation as the /attestation endpoint. TDX evidence uses
// 2.99999.1.2 with the raw quote, exactly as Cocos does.
package atls

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha3"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
	"github.com/ultravioletrs/cube-hal/agent/tsm"
)

// Extension OIDs.
var (
	// OIDSNPvTPM is Cocos' SEV-SNP-behind-vTPM evidence (not produced or
	// verified here; recognised to say so).
	OIDSNPvTPM = asn1.ObjectIdentifier{2, 99999, 1, 0}
	// OIDAzure is Cocos' Azure CVM evidence (recognised, not verified).
	OIDAzure = asn1.ObjectIdentifier{2, 99999, 1, 1}
	// OIDTDX carries a raw TDX quote (Cocos-compatible).
	OIDTDX = asn1.ObjectIdentifier{2, 99999, 1, 2}
	// OIDSNP carries a serialized sevsnp.Attestation (cube-hal).
	OIDSNP = asn1.ObjectIdentifier{2, 99999, 1, 3}
)

// NonceSize is the size of the client's nonce.
const NonceSize = 64

// nonceSuffix ends a nonce-carrying server name.
const nonceSuffix = ".nonce"

// ServerName encodes a nonce as the TLS server name.
func ServerName(nonce []byte) string { return hex.EncodeToString(nonce) + nonceSuffix }

// ErrNoNonce means the client did not ask for attested TLS.
var ErrNoNonce = errors.New("server name carries no attested-TLS nonce")

// NonceFromServerName decodes the nonce a client put in its server name.
func NonceFromServerName(name string) ([]byte, error) {
	h, ok := strings.CutSuffix(name, nonceSuffix)
	if !ok {
		return nil, ErrNoNonce
	}
	n, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("attested-TLS nonce is not hex: %w", err)
	}
	if len(n) != NonceSize {
		return nil, fmt.Errorf("attested-TLS nonce is %d bytes, want %d", len(n), NonceSize)
	}
	return n, nil
}

// Binding is the report data that ties evidence to a TLS key and a nonce:
// SHA3-512(pubDER || nonce).
func Binding(pubDER, nonce []byte) [64]byte {
	h := sha3.New512()
	h.Write(pubDER)
	h.Write(nonce)
	var out [64]byte
	copy(out[:], h.Sum(nil))
	return out
}

// OIDFor returns the extension OID for a platform.
func OIDFor(p evidence.Platform) (asn1.ObjectIdentifier, error) {
	switch p {
	case evidence.SNP:
		return OIDSNP, nil
	case evidence.TDX:
		return OIDTDX, nil
	}
	return nil, fmt.Errorf("no attested-TLS OID for platform %q", p)
}

// Issuer has a certificate authority sign a CSR (the CA variant of attested
// TLS); it returns the chain, leaf first, in DER.
type Issuer interface {
	IssueFromCSR(ctx context.Context, csrDER []byte) ([][]byte, error)
}

// Subject is the certificate subject Cocos uses; kept for compatibility.
var Subject = pkix.Name{
	Organization:  []string{"Ultraviolet"},
	Country:       []string{"Serbia"},
	Locality:      []string{"Belgrade"},
	StreetAddress: []string{"Bulevar Arsenija Carnojevica 103"},
	PostalCode:    []string{"11000"},
}

// Provider serves attested certificates (tls.Config.GetCertificate).
type Provider struct {
	// Source produces the evidence.
	Source tsm.Source
	// Acquire, when set, is called before asking the TSM and must return a
	// release function; it shares the agent's cap on concurrent reports.
	Acquire func(ctx context.Context) (release func(), err error)
	// Fallback, when set, serves clients that send no nonce (plain TLS on
	// the same port, e.g. a health probe). When nil such handshakes fail.
	Fallback func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// Issuer, when set, has a CA sign each attested certificate instead of
	// self-signing it.
	Issuer Issuer
	// Now returns the current time (tests); nil means time.Now.
	Now func() time.Time
	// OnHandshake, when set, observes each attested certificate served (or
	// the error), for metrics.
	OnHandshake func(err error)
}

// GetCertificate implements tls.Config.GetCertificate.
func (p *Provider) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	nonce, err := NonceFromServerName(hello.ServerName)
	if errors.Is(err, ErrNoNonce) && p.Fallback != nil {
		return p.Fallback(hello)
	}
	if err != nil {
		return nil, err
	}
	cert, err := p.attest(hello.Context(), nonce)
	if p.OnHandshake != nil {
		p.OnHandshake(err)
	}
	return cert, err
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Provider) attest(ctx context.Context, nonce []byte) (*tls.Certificate, error) {
	oid, err := OIDFor(p.Source.Platform())
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("attested TLS key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("attested TLS key: %w", err)
	}
	bind := Binding(pubDER, nonce)
	if p.Acquire != nil {
		release, err := p.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("attested TLS: %w", err)
		}
		defer release()
	}
	ev, err := p.Source.Attest(bind[:])
	if err != nil {
		return nil, fmt.Errorf("attested TLS evidence: %w", err)
	}
	body, _, err := ev.Marshal(p.Source.ProductFMS())
	if err != nil {
		return nil, fmt.Errorf("attested TLS evidence: %w", err)
	}
	ext := pkix.Extension{Id: oid, Value: body}

	if p.Issuer != nil {
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject:         Subject,
			ExtraExtensions: []pkix.Extension{ext},
		}, key)
		if err != nil {
			return nil, fmt.Errorf("attested TLS CSR: %w", err)
		}
		chain, err := p.Issuer.IssueFromCSR(ctx, csr)
		if err != nil {
			return nil, fmt.Errorf("attested TLS certificate from CA: %w", err)
		}
		return &tls.Certificate{Certificate: chain, PrivateKey: key}, nil
	}

	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := p.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               Subject,
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{ext},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("attested TLS certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Peer is what a client learned from an attested handshake.
type Peer struct {
	// Cert is the server's leaf certificate.
	Cert *x509.Certificate
	// PublicKeyDER is the certificate's SubjectPublicKeyInfo.
	PublicKeyDER []byte
	// Platform and Body are the evidence from the certificate extension, in
	// the wire format evidence.Parse reads.
	Platform evidence.Platform
	Body     []byte
	// Binding is SHA3-512(PublicKeyDER || nonce): the report data the
	// evidence must carry.
	Binding [64]byte
	// Parsed is the decoded evidence.
	Parsed *evidence.Parsed
}

// KeyBindingError is evidence whose report data is not the binding of this
// certificate's key and this client's nonce: a replayed or transplanted
// certificate.
type KeyBindingError struct {
	Want, Got []byte
}

func (e *KeyBindingError) Error() string {
	return fmt.Sprintf("attested TLS key binding: evidence report data is %x, want SHA3-512(certificate key || nonce) = %x", e.Got, e.Want)
}

// CheckPeer checks an attested server certificate against the client's
// nonce: the certificate chain (self-signed when roots is nil, else issued
// by roots), the evidence extension, and the key binding. It does not verify
// the evidence's signature or policy; the caller does that with
// Peer.Parsed and Peer.Binding.
func CheckPeer(rawCerts [][]byte, nonce []byte, roots *x509.CertPool, now time.Time) (*Peer, error) {
	if len(rawCerts) == 0 {
		return nil, errors.New("attested TLS: server sent no certificate")
	}
	cert, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return nil, fmt.Errorf("attested TLS: server certificate: %w", err)
	}
	if now.IsZero() {
		now = time.Now()
	}
	opts := x509.VerifyOptions{CurrentTime: now, Roots: roots, Intermediates: x509.NewCertPool(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if roots == nil {
		// Self-signed: crypto/x509 accepts a root without checking its own
		// signature, so check that here.
		if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
			return nil, fmt.Errorf("attested TLS: server certificate is not self-signed (is it CA-issued? give the CA): %w", err)
		}
		opts.Roots = x509.NewCertPool()
		opts.Roots.AddCert(cert)
	}
	for _, raw := range rawCerts[1:] {
		if c, err := x509.ParseCertificate(raw); err == nil {
			opts.Intermediates.AddCert(c)
		}
	}
	// Evidence extensions are unknown to crypto/x509; they are non-critical.
	if _, err := cert.Verify(opts); err != nil {
		return nil, fmt.Errorf("attested TLS: server certificate: %w", err)
	}
	peer := &Peer{Cert: cert, PublicKeyDER: cert.RawSubjectPublicKeyInfo}
exts:
	for _, ext := range cert.Extensions {
		switch {
		case ext.Id.Equal(OIDSNP):
			peer.Platform = evidence.SNP
		case ext.Id.Equal(OIDTDX):
			peer.Platform = evidence.TDX
		case ext.Id.Equal(OIDSNPvTPM), ext.Id.Equal(OIDAzure):
			return nil, fmt.Errorf("attested TLS: evidence extension %v (vTPM/Azure) is not supported", ext.Id)
		default:
			continue
		}
		peer.Body = ext.Value
		break exts
	}
	if peer.Body == nil {
		return nil, errors.New("attested TLS: server certificate has no evidence extension (is attested TLS enabled on the agent?)")
	}
	pub, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("attested TLS: server key: %w", err)
	}
	peer.PublicKeyDER = pub
	peer.Binding = Binding(pub, nonce)
	peer.Parsed, err = evidence.Parse(peer.Platform, peer.Body)
	if err != nil {
		return nil, fmt.Errorf("attested TLS: %w", err)
	}
	if got := peer.Parsed.ReportData(); !bytes.Equal(got, peer.Binding[:]) {
		return peer, &KeyBindingError{Want: peer.Binding[:], Got: got}
	}
	return peer, nil
}

// ClientConfig returns a TLS client configuration for an attested
// handshake with nonce. verify is called with the checked peer (key binding
// included) and decides whether the handshake may complete; roots is the CA
// for CA-issued attested certificates (nil: self-signed).
func ClientConfig(nonce []byte, roots *x509.CertPool, verify func(*Peer) error) *tls.Config {
	return &tls.Config{
		ServerName: ServerName(nonce),
		// The usual host-name check is replaced by CheckPeer: the name is a
		// nonce, and trust comes from the evidence.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
		VerifyPeerCertificate: func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			peer, err := CheckPeer(rawCerts, nonce, roots, time.Time{})
			if err != nil {
				return err
			}
			if verify != nil {
				return verify(peer)
			}
			return nil
		},
	}
}

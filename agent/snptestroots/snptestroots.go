// Package snptestroots recognises go-sev-guest's published test-only AMD
// root key (the key its testing package signs fake SEV-SNP chains with) by
// a pinned hash, so a verifier can honour --test-roots without linking
// go-sev-guest/testing: that package parses three RSA-4096 keys at init,
// several milliseconds and ~0.4 MB on every start of the binary.
//
// The test ARK and ASK come from the evidence itself (the fake TSM's
// certificate table); they are trusted only when the ARK's public key is
// the test key and the ASK is signed by it. The test key is public, so
// anything it signs proves nothing about a machine: this is for checking
// the plumbing against cube-agent's fake TSM, never for real evidence.
package snptestroots

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/verify/trust"
)

// ProductName is the AMD product the fake chain claims to be (the fake TSM
// reports it; the verifier expects it under --test-roots).
const ProductName = "Milan-B1"

// ARKKeySHA256 is the SHA-256 of the DER SubjectPublicKeyInfo of
// go-sev-guest's test ARK key (testing.DefaultAmdKeys().Ark). A test
// recomputes it from go-sev-guest so the pin cannot drift from the module.
const ARKKeySHA256 = "686a27cee8debf56a4cf2ae07b2835b5440f7761ea14d05d3326155c0392a892"

// ErrNoCertTable means the evidence carries no ARK and ASK to recognise.
var ErrNoCertTable = errors.New("test roots need the fake TSM's certificate table (ARK and ASK), and the evidence carries none: " +
	"is the agent running UV_CUBE_AGENT_TSM=fake?")

// Product returns the fake chain's product (name and stepping).
func Product() *spb.SevProduct {
	p, err := kds.ParseProductName(ProductName, abi.VcekReportSigner)
	if err != nil {
		panic(err) // ProductName is a constant go-sev-guest knows
	}
	return p
}

// IsTestARK reports whether cert's public key is go-sev-guest's test ARK key.
func IsTestARK(cert *x509.Certificate) bool {
	want, _ := hex.DecodeString(ARKKeySHA256)
	got := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return bytes.Equal(got[:], want)
}

// FromChain returns the trusted roots for go-sev-guest's verify.Options
// (keyed by Product's product line) made of the ARK and ASK in chain: only
// if the ARK carries the test key, is self-signed, and signed the ASK.
func FromChain(chain *spb.CertificateChain) (map[string][]*trust.AMDRootCerts, error) {
	arkDER, askDER := chain.GetArkCert(), chain.GetAskCert()
	if len(arkDER) == 0 || len(askDER) == 0 {
		return nil, ErrNoCertTable
	}
	ark, err := x509.ParseCertificate(arkDER)
	if err != nil {
		return nil, fmt.Errorf("test roots: the certificate table's ARK: %w", err)
	}
	ask, err := x509.ParseCertificate(askDER)
	if err != nil {
		return nil, fmt.Errorf("test roots: the certificate table's ASK: %w", err)
	}
	if !IsTestARK(ark) {
		sum := sha256.Sum256(ark.RawSubjectPublicKeyInfo)
		return nil, fmt.Errorf("test roots: the certificate table's ARK (%q, key SHA-256 %x) is not go-sev-guest's test ARK (key SHA-256 %s)",
			ark.Subject.CommonName, sum, ARKKeySHA256)
	}
	if err := ark.CheckSignatureFrom(ark); err != nil {
		return nil, fmt.Errorf("test roots: the certificate table's ARK is not self-signed: %w", err)
	}
	if err := ask.CheckSignatureFrom(ark); err != nil {
		return nil, fmt.Errorf("test roots: the certificate table's ASK (%q) is not signed by the test ARK: %w", ask.Subject.CommonName, err)
	}
	line := kds.ProductLine(Product())
	root := trust.AMDRootCertsProduct(line)
	root.ProductCerts = &trust.ProductCerts{Ark: ark, Ask: ask}
	return map[string][]*trust.AMDRootCerts{line: {root}}, nil
}

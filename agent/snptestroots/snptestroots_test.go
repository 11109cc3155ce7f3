package snptestroots_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	sevtest "github.com/google/go-sev-guest/testing"

	"github.com/ultravioletrs/cube-hal/agent/fakesnp"
	"github.com/ultravioletrs/cube-hal/agent/snptestroots"
)

// The pin is go-sev-guest's test ARK key, recomputed from the module so an
// upgrade that changes the key fails here, not in the field.
func TestPinIsGoSevGuestTestARK(t *testing.T) {
	spki, err := x509.MarshalPKIXPublicKey(&sevtest.DefaultAmdKeys().Ark.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(spki)
	if got := hex.EncodeToString(sum[:]); got != snptestroots.ARKKeySHA256 {
		t.Fatalf("ARKKeySHA256 = %s, go-sev-guest's test ARK key hashes to %s", snptestroots.ARKKeySHA256, got)
	}
	if fakesnp.ProductName != snptestroots.ProductName {
		t.Fatalf("fakesnp claims %q, snptestroots expects %q", fakesnp.ProductName, snptestroots.ProductName)
	}
}

// chainOf parses a fake platform's certificate table the way the verifier
// sees it.
func chainOf(t *testing.T, s *fakesnp.Signer) *spb.CertificateChain {
	t.Helper()
	certs := new(abi.CertTable)
	if err := certs.Unmarshal(s.CertTable()); err != nil {
		t.Fatal(err)
	}
	return certs.Proto()
}

// selfSigned mints a throwaway RSA CA certificate (a stand-in ARK that is
// not the test key).
func selfSigned(t *testing.T, cn string) ([]byte, *x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return der, c, key
}

func TestFromChain(t *testing.T) {
	s, err := fakesnp.New(fakesnp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := chainOf(t, s)
	roots, err := snptestroots.FromChain(good)
	if err != nil {
		t.Fatalf("the fake TSM's own chain: %v", err)
	}
	rs := roots["Milan"]
	if len(roots) != 1 || len(rs) != 1 || rs[0].ProductCerts == nil ||
		!bytes.Equal(rs[0].ProductCerts.Ark.Raw, good.ArkCert) || !bytes.Equal(rs[0].ProductCerts.Ask.Raw, good.AskCert) {
		t.Fatalf("roots = %+v", roots)
	}

	otherARK, otherCert, otherKey := selfSigned(t, "ARK-Milan")
	// An ASK the impostor ARK signed, so only the pin stops it.
	askTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "SEV-Milan"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	askKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherASK, err := x509.CreateCertificate(rand.Reader, askTmpl, otherCert, &askKey.PublicKey, otherKey)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		chain *spb.CertificateChain
		want  string
	}{
		{"no certificate table", &spb.CertificateChain{}, "certificate table"},
		{"nil chain", nil, "certificate table"},
		{"ARK only", &spb.CertificateChain{ArkCert: good.ArkCert}, "certificate table"},
		{"another ARK key", &spb.CertificateChain{ArkCert: otherARK, AskCert: otherASK}, "is not go-sev-guest's test ARK"},
		{"ASK not signed by the test ARK", &spb.CertificateChain{ArkCert: good.ArkCert, AskCert: otherASK}, "not signed by the test ARK"},
		{"garbage ARK", &spb.CertificateChain{ArkCert: []byte("nope"), AskCert: good.AskCert}, "ARK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := snptestroots.FromChain(tc.chain)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

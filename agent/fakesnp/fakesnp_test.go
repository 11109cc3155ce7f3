package fakesnp

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/validate"
	"github.com/google/go-sev-guest/verify"
)

func attest(t *testing.T, s *Signer, rd []byte, vmpl uint) []byte {
	t.Helper()
	rep, err := s.Report(rd, vmpl)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestReportVerifiesAgainstTestRootsOnly(t *testing.T) {
	now := time.Now()
	s, err := New(Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	rd := bytes.Repeat([]byte{0xab}, 64)
	raw := attest(t, s, rd, 2)
	att, err := abi.ReportCertsToProto(append(raw, s.CertTable()...))
	if err != nil {
		t.Fatal(err)
	}
	// A verifier mints its own copy of the roots, later: still verifies.
	roots, err := TestRoots(now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	opts := &verify.Options{DisableCertFetching: true, TrustedRoots: roots, Now: now, Product: Product()}
	if err := verify.SnpAttestation(att, opts); err != nil {
		t.Fatalf("verify with test roots: %v", err)
	}
	vmpl := 2
	if err := validate.SnpAttestation(att, &validate.Options{
		ReportData:  rd,
		Measurement: DefaultMeasurement,
		VMPL:        &vmpl,
		GuestPolicy: abi.SnpPolicy{SMT: true},
		MinimumTCB:  TCB,
	}); err != nil {
		t.Fatalf("validate: %v", err)
	}

	// AMD's real roots must reject it.
	err = verify.SnpAttestation(att, &verify.Options{DisableCertFetching: true, Now: now})
	if err == nil || !strings.Contains(err.Error(), "could not be verified by any trusted roots") {
		t.Fatalf("verify with AMD roots: got %v, want a trust failure", err)
	}

	// A flipped bit in the signed part breaks the signature.
	raw[0x60] ^= 1
	att2, err := abi.ReportCertsToProto(append(raw, s.CertTable()...))
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.SnpAttestation(att2, opts); err == nil {
		t.Fatal("tampered report verified")
	}
}

func TestConcurrentSigning(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 16)
	for i := 0; i < 16; i++ {
		go func(i int) {
			_, err := s.Report([]byte{byte(i)}, 0)
			done <- err
		}(i)
	}
	for i := 0; i < 16; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestReportRejectsBadInput(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Report(make([]byte, 65), 0); err == nil {
		t.Error("65 bytes of report data accepted")
	}
	if _, err := s.Report(nil, 4); err == nil {
		t.Error("VMPL 4 accepted")
	}
	if _, err := New(Options{Measurement: []byte{1}}); err == nil {
		t.Error("1-byte measurement accepted")
	}
}

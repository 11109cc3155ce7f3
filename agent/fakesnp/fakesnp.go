// Package fakesnp makes AMD SEV-SNP attestation reports signed by
// go-sev-guest's test-only AMD key chain, for development and tests on
// machines without SEV-SNP.
//
// The keys are go-sev-guest's fixed, published test keys, so anyone can sign
// with them: a report from here proves nothing. It verifies only against
// TestRoots, which a verifier must be asked for explicitly
// (cube-hal attest --test-roots); against AMD's real roots it fails, as it
// must.
package fakesnp

import (
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	sevtest "github.com/google/go-sev-guest/testing"
	"github.com/google/go-sev-guest/verify/trust"

	"github.com/ultravioletrs/cube-hal/agent/snptestroots"
)

// ProductName is the AMD product the fake chain claims to be (the one a
// --test-roots verifier expects).
const ProductName = snptestroots.ProductName

// TCB is the firmware TCB the fake platform reports and its VCEK certifies.
var TCB = kds.TCBParts{BlSpl: 3, TeeSpl: 0, SnpSpl: 8, UcodeSpl: 115}

// DefaultMeasurement is the launch measurement fake reports carry unless
// told otherwise: the SHA-384 of nothing is as good as any, but a fixed,
// recognisable value ("cube-hal fake" in ASCII, zero padded) makes it
// obvious in a summary.
var DefaultMeasurement = func() []byte {
	m := make([]byte, abi.MeasurementSize)
	copy(m, "cube-hal fake measurement")
	return m
}()

// signMu serialises signing and minting: go-sev-guest's test signer draws
// from one shared math/rand source, which is not safe for concurrent use.
var signMu sync.Mutex

// Options shape a fake platform.
type Options struct {
	// Now is when the fake chain is minted; its certificates are valid from
	// a day before. Zero means time.Now().
	Now time.Time
	// Measurement is the 48-byte launch measurement to report (nil:
	// DefaultMeasurement).
	Measurement []byte
	// HostData is the 32-byte HOST_DATA to report (nil: zeros).
	HostData []byte
	// Debug sets the guest policy's debug bit (to test that verifiers
	// reject it).
	Debug bool
}

// Signer is a fake SEV-SNP firmware: it builds and signs reports.
type Signer struct {
	amd         *sevtest.AmdSigner
	certTable   []byte
	measurement []byte
	hostData    []byte
	policy      uint64
	fms         uint32
	tcb         uint64
}

// Product returns the fake chain's product (name and stepping).
func Product() *spb.SevProduct { return snptestroots.Product() }

// chain mints the deterministic-key test chain valid from created-1 day.
func chain(created time.Time) (*sevtest.AmdSigner, error) {
	tcb, err := kds.ComposeTCBParts(TCB)
	if err != nil {
		return nil, err
	}
	from := created.Add(-24 * time.Hour)
	id := hwid()
	b := &sevtest.AmdSignerBuilder{
		Keys:             sevtest.DefaultAmdKeys(),
		ProductName:      ProductName,
		ArkCreationTime:  from,
		AskCreationTime:  from,
		AsvkCreationTime: from,
		VcekCreationTime: from,
		VlekCreationTime: from,
		CSPID:            "cube-hal-fake",
		TCB:              tcb,
		HWID:             id,
		// go-sev-guest certifies a zero TCB and chip ID unless told
		// otherwise; a real VCEK carries both.
		VcekCustom: sevtest.CertOverride{
			Extensions: sevtest.CustomExtensions(TCB, id[:], "", ProductName),
		},
	}
	signMu.Lock()
	defer signMu.Unlock()
	amd, err := b.TestOnlyCertChain()
	if err != nil {
		return nil, err
	}
	amd.Product = Product()
	return amd, nil
}

// hwid is the fake chip's ID: fixed, so a VCEK cached by a verifier keeps
// matching.
func hwid() [abi.ChipIDSize]byte {
	var id [abi.ChipIDSize]byte
	copy(id[:], "cube-hal fake chip")
	return id
}

// New mints a fake platform.
func New(opts Options) (*Signer, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	amd, err := chain(now)
	if err != nil {
		return nil, fmt.Errorf("fake SNP chain: %w", err)
	}
	table, err := amd.CertTableBytes()
	if err != nil {
		return nil, fmt.Errorf("fake SNP cert table: %w", err)
	}
	m := opts.Measurement
	if m == nil {
		m = DefaultMeasurement
	}
	if len(m) != abi.MeasurementSize {
		return nil, fmt.Errorf("fake measurement is %d bytes, want %d", len(m), abi.MeasurementSize)
	}
	hd := opts.HostData
	if hd == nil {
		hd = make([]byte, abi.HostDataSize)
	}
	if len(hd) != abi.HostDataSize {
		return nil, fmt.Errorf("fake host data is %d bytes, want %d", len(hd), abi.HostDataSize)
	}
	tcb, _ := kds.ComposeTCBParts(TCB)
	return &Signer{
		amd:         amd,
		certTable:   table,
		measurement: append([]byte(nil), m...),
		hostData:    append([]byte(nil), hd...),
		// SMT allowed, the must-be-one bit 17, ABI 0.0; debug only on request.
		policy: abi.SnpPolicyToBytes(abi.SnpPolicy{SMT: true, Debug: opts.Debug}),
		fms:    abi.MaskedCpuid1EaxFromSevProduct(Product()),
		tcb:    uint64(tcb),
	}, nil
}

// CertTable returns the AMD certificate table (ARK, ASK, VCEK, ...) a host
// would hand the guest as the configfs auxblob.
func (s *Signer) CertTable() []byte { return append([]byte(nil), s.certTable...) }

// VCEK returns the fake chip's VCEK certificate (DER), as AMD's KDS would
// serve it.
func (s *Signer) VCEK() []byte { return append([]byte(nil), s.amd.Vcek.Raw...) }

// ProductName returns the AMD product the fake platform claims to be.
func (s *Signer) ProductName() string { return ProductName }

// FMS returns the masked CPUID 1 EAX of the fake product.
func (s *Signer) FMS() uint32 { return s.fms }

// Report returns a signed version-3 ATTESTATION_REPORT binding reportData,
// requested at privilege level vmpl.
func (s *Signer) Report(reportData []byte, vmpl uint) ([]byte, error) {
	if len(reportData) > abi.ReportDataSize {
		return nil, fmt.Errorf("report data is %d bytes, at most %d", len(reportData), abi.ReportDataSize)
	}
	if vmpl > 3 {
		return nil, fmt.Errorf("VMPL %d out of range 0..3", vmpl)
	}
	rd := make([]byte, abi.ReportDataSize)
	copy(rd, reportData)
	reportID := make([]byte, abi.ReportIDSize)
	if _, err := rand.Read(reportID); err != nil {
		return nil, err
	}
	ff := make([]byte, abi.ReportIDMASize)
	for i := range ff {
		ff[i] = 0xff
	}
	id := hwid()
	r := &spb.Report{
		Version:         3,
		GuestSvn:        0,
		Policy:          s.policy,
		FamilyId:        make([]byte, abi.FamilyIDSize),
		ImageId:         make([]byte, abi.ImageIDSize),
		Vmpl:            uint32(vmpl),
		SignatureAlgo:   1, // ECDSA P-384 with SHA-384
		CurrentTcb:      s.tcb,
		PlatformInfo:    1, // SMT enabled
		SignerInfo:      0, // VCEK, no author key
		ReportData:      rd,
		Measurement:     append([]byte(nil), s.measurement...),
		HostData:        append([]byte(nil), s.hostData...),
		IdKeyDigest:     make([]byte, abi.IDKeyDigestSize),
		AuthorKeyDigest: make([]byte, abi.AuthorKeyDigestSize),
		ReportId:        reportID,
		ReportIdMa:      ff,
		ReportedTcb:     s.tcb,
		ChipId:          id[:],
		CommittedTcb:    s.tcb,
		CurrentBuild:    21,
		CurrentMinor:    55,
		CurrentMajor:    1,
		CommittedBuild:  21,
		CommittedMinor:  55,
		CommittedMajor:  1,
		LaunchTcb:       s.tcb,
		Cpuid1EaxFms:    s.fms,
		Signature:       make([]byte, abi.SignatureSize),
	}
	raw, err := abi.ReportToAbiBytes(r)
	if err != nil {
		return nil, fmt.Errorf("fake report: %w", err)
	}
	signMu.Lock()
	R, S, err := s.amd.Sign(abi.SignedComponent(raw))
	signMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("sign fake report: %w", err)
	}
	if err := abi.SetSignature(R, S, raw); err != nil {
		return nil, fmt.Errorf("sign fake report: %w", err)
	}
	return raw, nil
}

// TestRoots returns the trust anchors that fake reports verify against: the
// test-only ARK and ASK, minted at now (certificates valid from a day
// before, for 25 years). Pass them as go-sev-guest verify.Options
// TrustedRoots, or as verify.Roots.SNPRoots in tests whose evidence carries
// no certificate table; never use them for real evidence.
func TestRoots(now time.Time) (map[string][]*trust.AMDRootCerts, error) {
	amd, err := chain(now)
	if err != nil {
		return nil, fmt.Errorf("test roots: %w", err)
	}
	line := kds.ProductLine(Product())
	root := trust.AMDRootCertsProduct(line)
	root.ProductCerts = &trust.ProductCerts{Ark: amd.Ark, Ask: amd.Ask, Asvk: amd.Asvk}
	return map[string][]*trust.AMDRootCerts{line: {root}}, nil
}

// KDS returns a stand-in for AMD's Key Distribution Service that serves the
// fake chain (the ASK/ARK bundle and the fake chip's VCEK), for testing
// verifiers that fetch certificates.
func KDS(now time.Time) (trust.HTTPSGetter, error) {
	amd, err := chain(now)
	if err != nil {
		return nil, err
	}
	return sevtest.FakeKDSFromSigner(amd)
}

// Package tsm obtains attestation evidence from the guest kernel's
// configfs-tsm report interface (/sys/kernel/config/tsm/report, Linux 6.7+),
// which serves both AMD SEV-SNP reports (sev-guest driver) and Intel TDX
// quotes (tdx-guest driver), or from a fake TSM for development.
//
// Every request creates its own configfs report entry, writes inblob (and,
// on SNP, privlevel), reads the result and removes the entry, so concurrent
// requests never share state; go-configfs-tsm's generation check catches any
// interference.
package tsm

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-configfs-tsm/configfs/configfsi"
	"github.com/google/go-configfs-tsm/configfs/faketsm"
	"github.com/google/go-configfs-tsm/configfs/linuxtsm"
	"github.com/google/go-configfs-tsm/report"
	sevabi "github.com/google/go-sev-guest/abi"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
)

// ReportDir is where the kernel exposes configfs-tsm reports.
const ReportDir = configfsi.TsmPrefix + "/report"

// ErrUnavailable means this machine has no TSM to ask: not a confidential
// VM, or the guest driver or configfs is missing.
var ErrUnavailable = errors.New("no confidential-computing TSM available")

// Source produces attestation evidence. Implementations are safe for
// concurrent use.
type Source interface {
	// Platform is the technology the evidence comes from.
	Platform() evidence.Platform
	// Fake reports whether the evidence is signed by test-only keys.
	Fake() bool
	// ProductFMS is the masked CPUID 1 EAX to record in SNP evidence when the
	// certificate table lacks a VCEK (0 for TDX).
	ProductFMS() uint32
	// Attest returns evidence binding reportData (at most 64 bytes, zero
	// padded).
	Attest(reportData []byte) (*evidence.Evidence, error)
	// Describe says in a few words where evidence comes from, for logs.
	Describe() string
}

// ConfigFS is a Source over a configfs-tsm client (the kernel's, or a fake).
type ConfigFS struct {
	client   configfsi.Client
	platform evidence.Platform
	vmpl     uint
	fake     bool
	fms      uint32
	desc     string
}

// Provider names as the kernel prints them (driver KBUILD_MODNAME).
const (
	providerSNP = "sev_guest"
	providerTDX = "tdx_guest"
)

// Open wraps a configfs-tsm client, asking it which provider it has. vmpl is
// the SNP privilege level to request reports at (ignored on TDX).
func Open(client configfsi.Client, vmpl uint) (*ConfigFS, error) {
	provider, err := probeProvider(client)
	if err != nil {
		return nil, err
	}
	c := &ConfigFS{client: client, vmpl: vmpl}
	switch provider {
	case providerSNP:
		c.platform = evidence.SNP
		c.fms = sevabi.MakeExtraPlatformInfo().Cpuid1Eax
		if err := c.checkPrivLevel(); err != nil {
			return nil, err
		}
		c.desc = fmt.Sprintf("configfs-tsm sev_guest (SEV-SNP, VMPL %d)", vmpl)
	case providerTDX:
		c.platform = evidence.TDX
		c.desc = "configfs-tsm tdx_guest (TDX)"
	default:
		return nil, fmt.Errorf("configfs-tsm provider %q is neither sev_guest nor tdx_guest", provider)
	}
	return c, nil
}

// probeProvider reads the provider attribute of a fresh entry. The kernel
// answers without generating a report; some clients (fakes) only answer
// after one, so fall back to a throwaway report.
func probeProvider(client configfsi.Client) (string, error) {
	r, err := report.CreateOpenReport(client)
	if err != nil {
		return "", fmt.Errorf("configfs-tsm: %w", err)
	}
	b, perr := r.ReadOption("provider")
	if derr := r.Destroy(); derr != nil && perr == nil {
		return "", fmt.Errorf("configfs-tsm: remove probe entry: %w", derr)
	}
	if perr == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b)), nil
	}
	resp, err := report.Get(client, &report.Request{InBlob: make([]byte, evidence.ReportDataSize)})
	if err != nil {
		return "", fmt.Errorf("configfs-tsm has no working provider (is the sev-guest or tdx-guest driver loaded?): %w", err)
	}
	return strings.TrimSpace(resp.Provider), nil
}

// checkPrivLevel makes sure the configured VMPL is one the platform allows.
func (c *ConfigFS) checkPrivLevel() error {
	if c.vmpl > 3 {
		return fmt.Errorf("VMPL %d out of range 0..3", c.vmpl)
	}
	r, err := report.CreateOpenReport(c.client)
	if err != nil {
		return fmt.Errorf("configfs-tsm: %w", err)
	}
	floor, ferr := r.PrivilegeLevelFloor()
	_ = r.Destroy()
	if ferr != nil {
		// Kernels and fakes that cannot show privlevel_floor before a report
		// exists: ask for one at the configured level and see.
		req := &report.Request{InBlob: make([]byte, evidence.ReportDataSize), Privilege: &report.Privilege{Level: c.vmpl}}
		if _, err := report.Get(c.client, req); err != nil {
			return fmt.Errorf("a report at VMPL %d was refused (the guest may run at a higher VMPL): %w", c.vmpl, err)
		}
		return nil
	}
	if c.vmpl < floor {
		return &VMPLError{Want: c.vmpl, Floor: floor}
	}
	return nil
}

// VMPLError is a configured VMPL below what the platform can grant.
type VMPLError struct{ Want, Floor uint }

func (e *VMPLError) Error() string {
	return fmt.Sprintf("VMPL %d is below this guest's privlevel_floor %d (the guest runs at VMPL %d; choose %d..3)",
		e.Want, e.Floor, e.Floor, e.Floor)
}

// OpenLinux opens the kernel's configfs-tsm. It returns ErrUnavailable
// (wrapped, with the reason) when the report interface is absent.
func OpenLinux(vmpl uint) (*ConfigFS, error) {
	if _, err := os.Stat(ReportDir); err != nil {
		mountConfigFS()
	}
	if _, err := os.Stat(ReportDir); err != nil {
		return nil, fmt.Errorf("%w: %s not found (needs Linux 6.7+ with CONFIG_TSM_REPORTS, the sev-guest or tdx-guest driver, and configfs mounted at /sys/kernel/config)", ErrUnavailable, ReportDir)
	}
	client, err := linuxtsm.MakeClient()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return Open(client, vmpl)
}

// FakeSigner is what the fake TSM needs from a fake SEV-SNP firmware
// (agent/fakesnp's Signer). It is an interface so that this package, which
// cube-hal links for its verifier's evidence types, does not pull in
// go-sev-guest's test keys.
type FakeSigner interface {
	// CertTable is the AMD certificate table served as the auxblob.
	CertTable() []byte
	// Report returns a signed ATTESTATION_REPORT binding reportData at vmpl.
	Report(reportData []byte, vmpl uint) ([]byte, error)
	// FMS is the masked CPUID 1 EAX of the fake product.
	FMS() uint32
	// ProductName names the fake product (for Describe), e.g. "Milan-B1".
	ProductName() string
}

// NewFake returns a Source over go-configfs-tsm's fake configfs, emulating a
// sev_guest provider whose reports the given fake SNP firmware signs. The
// same code path as on real hardware runs above it.
func NewFake(signer FakeSigner, vmpl uint) (*ConfigFS, error) {
	sub := faketsm.Report611(0)
	fallback := sub.ReadAttr
	sub.ReadAttr = func(e *faketsm.ReportEntry, attr string) ([]byte, error) {
		switch attr {
		case "provider":
			return []byte(providerSNP + "\n"), nil
		case "auxblob":
			return signer.CertTable(), nil
		case "outblob":
			in := e.InAttrs["inblob"]
			if in == nil || len(in.Value) == 0 {
				return nil, errors.New("inblob not written")
			}
			level := uint(0)
			if p := e.InAttrs["privlevel"]; p != nil && len(p.Value) > 0 {
				v, err := configfsi.Kstrtouint(p.Value, 10, 2)
				if err != nil {
					return nil, err
				}
				level = uint(v)
			}
			return signer.Report(in.Value, level)
		}
		return fallback(e, attr)
	}
	client := &faketsm.Client{Subsystems: map[string]configfsi.Client{"report": sub}}
	c, err := Open(client, vmpl)
	if err != nil {
		return nil, err
	}
	c.fake = true
	c.fms = signer.FMS()
	c.desc = fmt.Sprintf("FAKE TSM (go-configfs-tsm faketsm + go-sev-guest test-only signer, %s, VMPL %d): reports verify only against test roots", signer.ProductName(), vmpl)
	return c, nil
}

// Platform implements Source.
func (c *ConfigFS) Platform() evidence.Platform { return c.platform }

// Fake implements Source.
func (c *ConfigFS) Fake() bool { return c.fake }

// ProductFMS implements Source.
func (c *ConfigFS) ProductFMS() uint32 { return c.fms }

// Describe implements Source.
func (c *ConfigFS) Describe() string { return c.desc }

// Attest implements Source.
func (c *ConfigFS) Attest(reportData []byte) (*evidence.Evidence, error) {
	if len(reportData) > evidence.ReportDataSize {
		return nil, fmt.Errorf("report data is %d bytes, at most %d", len(reportData), evidence.ReportDataSize)
	}
	in := make([]byte, evidence.ReportDataSize)
	copy(in, reportData)
	req := &report.Request{InBlob: in}
	if c.platform == evidence.SNP {
		req.Privilege = &report.Privilege{Level: c.vmpl}
		req.GetAuxBlob = true
	}
	resp, err := report.Get(c.client, req)
	if err != nil {
		return nil, fmt.Errorf("configfs-tsm report: %w", err)
	}
	if got := strings.TrimSpace(resp.Provider); got != providerName(c.platform) {
		return nil, fmt.Errorf("configfs-tsm provider changed to %q", got)
	}
	ev := &evidence.Evidence{Platform: c.platform, Report: resp.OutBlob, Fake: c.fake}
	if c.platform == evidence.SNP {
		if len(resp.OutBlob) < sevabi.ReportSize {
			return nil, fmt.Errorf("SNP report is %d bytes, want %d", len(resp.OutBlob), sevabi.ReportSize)
		}
		ev.Report = resp.OutBlob[:sevabi.ReportSize]
		ev.CertTable = resp.AuxBlob
	}
	return ev, nil
}

func providerName(p evidence.Platform) string {
	if p == evidence.TDX {
		return providerTDX
	}
	return providerSNP
}

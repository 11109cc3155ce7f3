package verify

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	sevabi "github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	sevvalidate "github.com/google/go-sev-guest/validate"
	sevverify "github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"
	"go.uber.org/multierr"
	"google.golang.org/protobuf/proto"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
	"github.com/ultravioletrs/cube-hal/agent/snptestroots"
)

func tcbString(t kds.TCBParts) string {
	return fmt.Sprintf("bl=%d tee=%d snp=%d ucode=%d", t.BlSpl, t.TeeSpl, t.SnpSpl, t.UcodeSpl)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// vcekFileName is how a VCEK is cached: per chip and reported TCB, as AMD's
// KDS issues them.
func vcekFileName(r *spb.Report) string {
	return fmt.Sprintf("vcek_%x_%016x.der", r.GetChipId(), r.GetReportedTcb())
}

// findVCEK looks for a VCEK for this report in dirs: the cache name first,
// then vcek.der / vcek.pem / vcek.crt (a VCEK the user put there).
func findVCEK(r *spb.Report, dirs ...string) ([]byte, string) {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		for _, name := range []string{vcekFileName(r), "vcek.der", "vcek.pem", "vcek.crt"} {
			p := filepath.Join(d, name)
			data, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if b, _ := pem.Decode(data); b != nil {
				data = b.Bytes
			}
			return data, p
		}
	}
	return nil, ""
}

func checkSNP(ctx context.Context, res *Result, parsed *evidence.Parsed, expected []byte, opts Options) {
	att := proto.Clone(parsed.SNP).(*spb.Attestation)
	if att.CertificateChain == nil {
		att.CertificateChain = &spb.CertificateChain{}
	}
	if att.CertificateChain.Extras == nil {
		att.CertificateChain.Extras = map[string][]byte{}
	}
	r := att.GetReport()
	pol := opts.Policy
	gp, gpErr := sevabi.ParseSnpPolicy(r.GetPolicy())
	reported := kds.DecomposeTCBVersion(kds.TCBVersion(r.GetReportedTcb()))
	vmpl := r.GetVmpl()
	res.Details.VMPL = &vmpl
	res.Details.GuestPolicy = fmt.Sprintf("0x%x (debug %s, SMT %s, migration agent %s)", r.GetPolicy(), onOff(gp.Debug), onOff(gp.SMT), onOff(gp.MigrateMA))
	res.Details.ReportedTCB = tcbString(reported)
	res.Details.ChipID = hex.EncodeToString(r.GetChipId())
	res.Details.HostData = hex.EncodeToString(r.GetHostData())
	if fms := r.GetCpuid1EaxFms(); fms != 0 {
		res.Details.Product = kds.ProductName(sevabi.SevProductFromCpuid1Eax(fms))
	}

	// Signature and certificate chain.
	now := opts.Roots.now()
	vo := &sevverify.Options{
		DisableCertFetching: !opts.Roots.Fetch,
		CheckRevocations:    opts.Roots.Fetch && !opts.Roots.TestRoots, // the test chain has no CRL
		Now:                 now,
		Getter:              opts.Roots.Getter,
	}
	if vo.Getter == nil && opts.Roots.Fetch {
		vo.Getter = &trust.RetryHTTPSGetter{Timeout: 2 * time.Minute, MaxRetryDelay: 30 * time.Second, Getter: &trust.SimpleHTTPSGetter{}}
	}
	anchor := "AMD's root certificates (embedded in go-sev-guest)"
	var rootsErr error
	switch {
	case opts.Roots.SNPRoots != nil:
		vo.TrustedRoots = opts.Roots.SNPRoots
		anchor = "the AMD roots the caller gave"
	case opts.Roots.TestRoots:
		// go-sev-guest's test ARK and ASK, as the fake TSM's certificate
		// table carries them: trusted only if the ARK has the pinned test key.
		vo.TrustedRoots, rootsErr = snptestroots.FromChain(att.CertificateChain)
	}
	if opts.Roots.TestRoots {
		vo.Product = snptestroots.Product()
		anchor = "go-sev-guest's TEST-ONLY roots (--test-roots)"
	}
	vcekSource := "the platform's certificate table"
	hadVCEK := len(att.CertificateChain.GetVcekCert()) > 0
	if !hadVCEK {
		if der, path := findVCEK(r, opts.Roots.CertsDir, opts.Roots.CacheDir); der != nil {
			att.CertificateChain.VcekCert = der
			vcekSource, hadVCEK = path, true
		}
	}
	sigErr := rootsErr
	if sigErr == nil {
		sigErr = sevverify.SnpAttestationContext(ctx, att, vo)
	}
	switch {
	case sigErr == nil:
		if !hadVCEK && len(att.CertificateChain.GetVcekCert()) > 0 {
			vcekSource = "AMD KDS (--fetch-certs)"
			if opts.Roots.CacheDir != "" {
				p := filepath.Join(opts.Roots.CacheDir, vcekFileName(r))
				if err := os.MkdirAll(opts.Roots.CacheDir, 0o755); err == nil {
					if os.WriteFile(p, att.CertificateChain.GetVcekCert(), 0o644) == nil {
						vcekSource += ", cached in " + p
					}
				}
			}
		}
		res.add(Check{Name: CheckSignature, Status: Pass,
			Expected: "report signed by a VCEK chaining to " + anchor,
			Actual:   "verified (VCEK from " + vcekSource + ")",
			Detail:   "verified: VCEK from " + vcekSource + ", chaining to " + anchor})
	default:
		detail := ""
		switch {
		case rootsErr != nil:
			detail = "--test-roots trusts only evidence from cube-agent's fake TSM (UV_CUBE_AGENT_TSM=fake), whose certificate table carries go-sev-guest's test ARK and ASK"
		case !hadVCEK && !opts.Roots.Fetch:
			detail = "the platform sent no VCEK certificate: put it in --certs DIR as vcek.pem or vcek.der, or allow --fetch-certs to get it from AMD's KDS"
		}
		if strings.Contains(sigErr.Error(), "trusted roots") && !opts.Roots.TestRoots && res.Fake {
			detail = "the agent runs a FAKE TSM: its reports verify only with --test-roots"
		}
		res.add(Check{Name: CheckSignature, Status: Fail,
			Expected: "report signed by a VCEK chaining to " + anchor,
			Actual:   sigErr.Error(), Detail: detail})
	}
	if opts.Roots.TestRoots {
		res.Fake = true
		res.add(Check{Name: CheckTestRoots, Status: Warn,
			Detail: "trusting go-sev-guest's published test keys: this checks the plumbing, and proves nothing about the machine"})
	}

	// Report data: our nonce.
	if expected != nil {
		st := Pass
		if !bytes.Equal(r.GetReportData(), expected) {
			st = Fail
		}
		res.add(Check{Name: CheckReportData, Status: st, Expected: hex.EncodeToString(expected), Actual: hex.EncodeToString(r.GetReportData()),
			Detail: pick(st == Fail, "the report does not carry our fresh nonce: replayed, or made for another request", "carries our fresh nonce")})
	}

	checkMeasurement(res, pol, r.GetMeasurement())

	if pol.VMPL == nil {
		res.add(Check{Name: CheckVMPL, Status: Skip, Actual: fmt.Sprint(vmpl), Detail: "not checked: give --vmpl or a policy with vmpl"})
	} else {
		st := Pass
		if uint32(*pol.VMPL) != vmpl {
			st = Fail
		}
		res.add(Check{Name: CheckVMPL, Status: st, Expected: fmt.Sprint(*pol.VMPL), Actual: fmt.Sprint(vmpl)})
	}

	switch {
	case gpErr != nil:
		res.add(Check{Name: CheckDebug, Status: Fail, Expected: "off", Actual: "unreadable guest policy: " + gpErr.Error()})
	case gp.Debug && pol.AllowDebug:
		res.add(Check{Name: CheckDebug, Status: Warn, Expected: "off", Actual: "on", Detail: "allowed by --allow-debug / the policy: the host can read this guest's memory"})
	case gp.Debug:
		res.add(Check{Name: CheckDebug, Status: Fail, Expected: "off", Actual: "on", Detail: "the guest policy lets the host debug (read) the guest"})
	default:
		res.add(Check{Name: CheckDebug, Status: Pass, Expected: "off", Actual: "off"})
	}

	if pol.HostData != nil {
		st := Pass
		if !bytes.Equal(pol.HostData, r.GetHostData()) {
			st = Fail
		}
		res.add(Check{Name: CheckHostData, Status: st, Expected: hex.EncodeToString(pol.HostData), Actual: hex.EncodeToString(r.GetHostData())})
	}

	var minTCB kds.TCBParts
	if pol.SNP != nil {
		minTCB = pol.SNP.MinimumTCB
	}
	if minTCB == (kds.TCBParts{}) {
		res.add(Check{Name: CheckTCB, Status: Skip, Actual: tcbString(reported), Detail: "no minimum given; set minimum_tcb in a policy file"})
	} else {
		st := Pass
		if !kds.TCBPartsLE(minTCB, reported) {
			st = Fail
		}
		res.add(Check{Name: CheckTCB, Status: st, Expected: ">= " + tcbString(minTCB), Actual: tcbString(reported)})
	}

	// Everything else go-sev-guest validates: TCB consistency between the
	// report and the VCEK, no provisional firmware, chip ID, the guest
	// policy's other bits, and the policy file's remaining fields.
	if sigErr != nil {
		res.add(Check{Name: CheckPolicy, Status: Skip, Detail: "not evaluated: the signature did not verify"})
		return
	}
	vopts := &sevvalidate.Options{GuestPolicy: sevabi.SnpPolicy{SMT: true}}
	source := "built-in (SMT allowed, no provisional firmware, TCB consistent with the VCEK)"
	if pol.SNP != nil {
		c := *pol.SNP
		vopts = &c
		source = "policy " + pol.File
	}
	vopts.ReportData, vopts.Measurement, vopts.VMPL, vopts.HostData = nil, nil, nil, nil
	vopts.MinimumTCB = kds.TCBParts{}
	vopts.GuestPolicy.Debug = true // judged above, with a clearer message
	if err := sevvalidate.SnpAttestation(att, vopts); err != nil {
		var msgs []string
		for _, e := range multierr.Errors(err) {
			msgs = append(msgs, e.Error())
		}
		res.add(Check{Name: CheckPolicy, Status: Fail, Expected: source, Actual: strings.Join(msgs, "; ")})
	} else {
		res.add(Check{Name: CheckPolicy, Status: Pass, Expected: source, Actual: "satisfied", Detail: "satisfied: " + source})
	}
}

func checkMeasurement(res *Result, pol Policy, got []byte) {
	if pol.Measurement == nil {
		res.add(Check{Name: CheckMeasurement, Status: Skip, Actual: hex.EncodeToString(got),
			Detail: "not checked: give --measurement or a policy with the expected launch measurement"})
		return
	}
	st := Pass
	if !bytes.Equal(pol.Measurement, got) {
		st = Fail
	}
	detail := "matches the value from " + pol.MeasurementSource
	if st == Fail {
		detail = "the guest did not launch the expected firmware, kernel, initrd and command line (expected value from " + pol.MeasurementSource + ")"
	}
	res.add(Check{Name: CheckMeasurement, Status: st, Expected: hex.EncodeToString(pol.Measurement), Actual: hex.EncodeToString(got), Detail: detail})
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

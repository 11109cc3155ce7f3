package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	tdxvalidate "github.com/google/go-tdx-guest/validate"
	tdxverify "github.com/google/go-tdx-guest/verify"
	"go.uber.org/multierr"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
)

// IntelSGXRootSHA256 pins the Intel SGX Root CA certificate (the one
// go-tdx-guest embeds; a test checks they agree). The quote carries its own
// copy of the root; it is trusted only if it is this certificate.
const IntelSGXRootSHA256 = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

// IntelRootFile is the name under Roots.CertsDir of an Intel root to trust
// instead of the pinned one.
const IntelRootFile = "intel_sgx_root.pem"

// tdxRoots picks the Intel root to trust: CertsDir/intel_sgx_root.pem if
// present, else the quote's own root when it is the pinned Intel SGX Root
// CA. (Passing a root explicitly also keeps go-tdx-guest from printing a
// warning on stdout.)
func tdxRoots(chainPEM []byte, certsDir string) (*x509.CertPool, string, error) {
	pool := x509.NewCertPool()
	if certsDir != "" {
		p := filepath.Join(certsDir, IntelRootFile)
		if data, err := os.ReadFile(p); err == nil {
			if !pool.AppendCertsFromPEM(data) {
				return nil, "", fmt.Errorf("%s: no PEM certificate in it", p)
			}
			return pool, p, nil
		}
	}
	rest := chainPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if sum := sha256.Sum256(b.Bytes); hex.EncodeToString(sum[:]) == IntelSGXRootSHA256 {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, "", err
			}
			pool.AddCert(c)
			return pool, "the Intel SGX Root CA (pinned)", nil
		}
	}
	return nil, "", errors.New("the quote's PCK chain does not end in the Intel SGX Root CA (give one in --certs DIR/" + IntelRootFile + " to trust another)")
}

func checkTDX(res *Result, parsed *evidence.Parsed, expected []byte, opts Options) {
	q := parsed.TDX
	body := q.GetTdQuoteBody()
	pol := opts.Policy
	res.Details.TdAttributes = hex.EncodeToString(body.GetTdAttributes())
	res.Details.TeeTcbSvn = hex.EncodeToString(body.GetTeeTcbSvn())
	res.Details.MrSeam = hex.EncodeToString(body.GetMrSeam())
	for _, r := range body.GetRtmrs() {
		res.Details.Rtmrs = append(res.Details.Rtmrs, hex.EncodeToString(r))
	}

	chain := q.GetSignedData().GetCertificationData().GetQeReportCertificationData().GetPckCertificateChainData().GetPckCertChain()
	const want = "quote signed by a PCK chaining to "
	roots, anchor, err := tdxRoots(chain, opts.Roots.CertsDir)
	var sigErr error
	if err != nil {
		sigErr = err
		res.add(Check{Name: CheckSignature, Status: Fail, Expected: want + "the Intel SGX Root CA", Actual: err.Error()})
	} else {
		sigErr = tdxverify.TdxQuote(q, &tdxverify.Options{
			TrustedRoots:     roots,
			Now:              opts.Roots.now(),
			GetCollateral:    opts.Roots.Fetch,
			CheckRevocations: opts.Roots.Fetch,
		})
		if sigErr != nil {
			res.add(Check{Name: CheckSignature, Status: Fail, Expected: want + anchor, Actual: sigErr.Error()})
		} else {
			actual := "verified (PCK chain from the quote"
			if !opts.Roots.Fetch {
				actual += "; TCB status and revocation not checked: allow --fetch-certs for Intel PCS collateral"
			}
			res.add(Check{Name: CheckSignature, Status: Pass, Expected: want + anchor, Actual: actual + ")"})
		}
	}
	if opts.Roots.TestRoots {
		res.add(Check{Name: CheckTestRoots, Status: Warn, Detail: "--test-roots applies to SEV-SNP only; TDX evidence was checked against Intel's root"})
	}

	if expected != nil {
		st := Pass
		if !bytes.Equal(body.GetReportData(), expected) {
			st = Fail
		}
		res.add(Check{Name: CheckReportData, Status: st, Expected: hex.EncodeToString(expected), Actual: hex.EncodeToString(body.GetReportData()),
			Detail: pick(st == Fail, "the quote does not carry our fresh nonce: replayed, or made for another request", "carries our fresh nonce")})
	}
	checkMeasurement(res, pol, body.GetMrTd())

	// TD attributes bit 0 (TUD.DEBUG): the host can read the TD.
	debug := len(body.GetTdAttributes()) > 0 && body.GetTdAttributes()[0]&1 != 0
	switch {
	case debug && pol.AllowDebug:
		res.add(Check{Name: CheckDebug, Status: Warn, Expected: "off", Actual: "on", Detail: "allowed by --allow-debug / the policy"})
	case debug:
		res.add(Check{Name: CheckDebug, Status: Fail, Expected: "off", Actual: "on", Detail: "TD attribute DEBUG is set: the host can read the TD"})
	default:
		res.add(Check{Name: CheckDebug, Status: Pass, Expected: "off", Actual: "off"})
	}

	var minSvn []byte
	if pol.TDX != nil {
		minSvn = pol.TDX.TdQuoteBodyOptions.MinimumTeeTcbSvn
	}
	if len(minSvn) == 0 {
		res.add(Check{Name: CheckTCB, Status: Skip, Actual: "TEE_TCB_SVN " + hex.EncodeToString(body.GetTeeTcbSvn()), Detail: "no minimum given; set minimum_tee_tcb_svn in a policy file"})
	} else {
		st := Pass
		got := body.GetTeeTcbSvn()
		for i := range minSvn {
			if i >= len(got) || got[i] < minSvn[i] {
				st = Fail
			}
		}
		res.add(Check{Name: CheckTCB, Status: st, Expected: "TEE_TCB_SVN >= " + hex.EncodeToString(minSvn), Actual: "TEE_TCB_SVN " + hex.EncodeToString(got)})
	}

	if sigErr != nil {
		res.add(Check{Name: CheckPolicy, Status: Skip, Detail: "not evaluated: the signature did not verify"})
		return
	}
	vopts := &tdxvalidate.Options{}
	source := "built-in (XFAM and TD attributes fixed bits)"
	if pol.TDX != nil {
		c := *pol.TDX
		vopts = &c
		source = "policy " + pol.File
	}
	vopts.TdQuoteBodyOptions.ReportData = nil
	vopts.TdQuoteBodyOptions.MrTd = nil
	vopts.TdQuoteBodyOptions.MinimumTeeTcbSvn = nil
	if err := tdxvalidate.TdxQuote(q, vopts); err != nil {
		var msgs []string
		for _, e := range multierr.Errors(err) {
			msgs = append(msgs, e.Error())
		}
		res.add(Check{Name: CheckPolicy, Status: Fail, Expected: source, Actual: strings.Join(msgs, "; ")})
	} else {
		res.add(Check{Name: CheckPolicy, Status: Pass, Expected: source, Actual: "satisfied", Detail: "satisfied: " + source})
	}
}

// Package verify is the host side of attestation: it asks a cube-agent for
// evidence bound to a fresh nonce (over POST /attestation or an attested-TLS
// handshake), verifies the signature chain (go-sev-guest verify for AMD
// SEV-SNP, go-tdx-guest verify for Intel TDX), and checks it against a
// policy: the nonce binding, the launch measurement, the VMPL, debug off,
// TCB minimums, and whatever else a go-sev-guest / go-tdx-guest policy file
// asks (validate).
//
// Every check lands in Result.Checks with the expected and the actual value,
// so a CLI, a TUI or a test can show exactly what failed. Nothing is
// fetched from the network unless Roots.Fetch is set.
package verify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/google/go-sev-guest/verify/trust"

	"github.com/ultravioletrs/cube-hal/agent/atls"
	"github.com/ultravioletrs/cube-hal/agent/evidence"
)

// Transport says how evidence is fetched.
type Transport string

// Transports.
const (
	// Endpoint posts the nonce to the agent's /attestation endpoint.
	Endpoint Transport = "endpoint"
	// ATLS performs an attested-TLS handshake and checks the evidence in the
	// agent's certificate.
	ATLS Transport = "atls"
)

// Options describe one attestation.
type Options struct {
	// Agent is the agent's base URL (http:// or https://host:port).
	Agent string
	// Transport is Endpoint (default) or ATLS.
	Transport Transport
	// Mode is the expected platform; empty accepts either.
	Mode evidence.Platform
	// Policy is what the evidence must satisfy.
	Policy Policy
	// Roots says what to trust and where certificates may come from.
	Roots Roots
	// TLS configures the connection to an agent serving TLS or mTLS.
	TLS ClientTLS
	// Timeout bounds fetching (default 30 s).
	Timeout time.Duration
	// HTTPClient replaces the client used for the endpoint (tests); its
	// TLS settings then win over TLS.
	HTTPClient *http.Client
}

// ClientTLS is how to reach an agent over TLS.
type ClientTLS struct {
	// CAFile verifies the agent's certificate (endpoint over https), or the
	// CA that issued attested certificates (aTLS with a CA).
	CAFile string
	// CertFile and KeyFile are the client certificate for mutual TLS.
	CertFile, KeyFile string
}

// Roots is what to trust.
type Roots struct {
	// TestRoots trusts go-sev-guest's published test-only AMD roots instead
	// of AMD's: evidence from the agent's fake TSM then verifies. The ARK
	// and ASK are taken from the evidence's certificate table, and trusted
	// only if the ARK carries go-sev-guest's test key (a pinned hash, see
	// agent/snptestroots) and signed the ASK; evidence without a
	// certificate table fails. It proves nothing about real hardware.
	TestRoots bool
	// SNPRoots, when set, are the AMD roots (ARK and ASK per product line)
	// to trust instead of AMD's embedded ones or, with TestRoots, the
	// certificate table's: for tests whose evidence carries no certificate
	// table (fakesnp.TestRoots mints go-sev-guest's test roots).
	SNPRoots map[string][]*trust.AMDRootCerts
	// CertsDir holds certificates the verifier may use: an SNP VCEK
	// (vcek.pem or vcek.der) when the platform sends none, or an Intel SGX
	// root (intel_sgx_root.pem) to trust for TDX.
	CertsDir string
	// CacheDir holds VCEKs fetched earlier (read always, written when Fetch
	// fetched one).
	CacheDir string
	// Fetch allows fetching missing certificates and collateral from AMD's
	// KDS or Intel's PCS (and revocation checks). Off by default: nothing
	// goes to the network unless asked.
	Fetch bool
	// Getter replaces the HTTPS getter used when Fetch is set (tests).
	Getter trust.HTTPSGetter
	// Now is the time to check certificate validity at (zero: now).
	Now time.Time
}

func (r Roots) now() time.Time {
	if r.Now.IsZero() {
		return time.Now()
	}
	return r.Now
}

// Status is a check's outcome.
type Status string

// Statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip" // not asked for
	Warn Status = "warn" // passed, but read the detail
)

// Check names, stable for scripts reading --json.
const (
	CheckPlatform    = "platform"
	CheckSignature   = "signature"
	CheckKeyBinding  = "key binding"
	CheckReportData  = "report data"
	CheckMeasurement = "measurement"
	CheckVMPL        = "vmpl"
	CheckDebug       = "debug"
	CheckTCB         = "tcb"
	CheckHostData    = "host data"
	CheckPolicy      = "policy"
	CheckTestRoots   = "test roots"
)

// Check is one verified property.
type Check struct {
	Name     string `json:"name"`
	Status   Status `json:"status"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// Result is the outcome of one attestation.
type Result struct {
	Agent     string            `json:"agent"`
	Transport Transport         `json:"transport"`
	Platform  evidence.Platform `json:"platform"`
	// Fake is set when the agent labelled the evidence as coming from its
	// fake TSM, or when it verified only against test roots.
	Fake        bool    `json:"fake"`
	Nonce       string  `json:"nonce"`
	ReportData  string  `json:"report_data"`
	Measurement string  `json:"measurement"`
	Details     Details `json:"details"`
	Checks      []Check `json:"checks"`
	Verified    bool    `json:"verified"`
	// Evidence is the decoded evidence, for callers that want more than the
	// summary (not serialised).
	Evidence *evidence.Parsed `json:"-"`
}

// Details are platform facts worth showing.
type Details struct {
	// SNP.
	VMPL        *uint32 `json:"vmpl,omitempty"`
	GuestPolicy string  `json:"guest_policy,omitempty"`
	ReportedTCB string  `json:"reported_tcb,omitempty"`
	Product     string  `json:"product,omitempty"`
	ChipID      string  `json:"chip_id,omitempty"`
	HostData    string  `json:"host_data,omitempty"`
	// TDX.
	TdAttributes string   `json:"td_attributes,omitempty"`
	TeeTcbSvn    string   `json:"tee_tcb_svn,omitempty"`
	MrSeam       string   `json:"mr_seam,omitempty"`
	Rtmrs        []string `json:"rtmrs,omitempty"`
}

func (r *Result) add(c Check) { r.Checks = append(r.Checks, c) }

// Failed returns the failing checks.
func (r *Result) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

func (r *Result) finish() {
	r.Verified = len(r.Checks) > 0 && len(r.Failed()) == 0
}

// FetchError means no evidence could be obtained at all.
type FetchError struct {
	Transport Transport
	Err       error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("fetching evidence (%s): %v", e.Transport, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Attest fetches evidence bound to a fresh random nonce and verifies it.
// The error is non-nil only when no evidence could be obtained (a
// *FetchError) or the options are unusable; verification failures are in
// the Result.
func Attest(ctx context.Context, opts Options) (*Result, error) {
	nonce := make([]byte, atls.NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return attestWithNonce(ctx, opts, nonce)
}

func attestWithNonce(ctx context.Context, opts Options, nonce []byte) (*Result, error) {
	if opts.Transport == "" {
		opts.Transport = Endpoint
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := &Result{Agent: opts.Agent, Transport: opts.Transport, Nonce: hex.EncodeToString(nonce)}

	var parsed *evidence.Parsed
	var expected []byte
	switch opts.Transport {
	case Endpoint:
		f, err := fetchEndpoint(ctx, opts, nonce)
		if err != nil {
			return nil, &FetchError{Transport: Endpoint, Err: err}
		}
		res.Fake = f.fake
		parsed, err = evidence.Parse(f.platform, f.body)
		if err != nil {
			return nil, &FetchError{Transport: Endpoint, Err: fmt.Errorf("the agent's answer is not evidence: %w", err)}
		}
		expected = nonce
	case ATLS:
		peer, err := fetchATLS(ctx, opts, nonce)
		var kb *atls.KeyBindingError
		switch {
		case errors.As(err, &kb):
			res.add(Check{Name: CheckKeyBinding, Status: Fail, Expected: hex.EncodeToString(kb.Want), Actual: hex.EncodeToString(kb.Got),
				Detail: "the evidence is not bound to this certificate's key and our nonce (replayed or transplanted)"})
		case err != nil:
			return nil, &FetchError{Transport: ATLS, Err: err}
		default:
			res.add(Check{Name: CheckKeyBinding, Status: Pass, Expected: "SHA3-512(certificate key || nonce)", Actual: hex.EncodeToString(peer.Binding[:]),
				Detail: "the evidence is bound to this TLS key and our fresh nonce"})
		}
		parsed = peer.Parsed
		expected = nil // the key binding check above is the report data check
	default:
		return nil, fmt.Errorf("unknown transport %q", opts.Transport)
	}
	res.Evidence = parsed
	res.Platform = parsed.Platform
	res.ReportData = hex.EncodeToString(parsed.ReportData())
	res.Measurement = hex.EncodeToString(parsed.Measurement())
	if opts.Mode != "" {
		st := Pass
		if opts.Mode != parsed.Platform {
			st = Fail
		}
		res.add(Check{Name: CheckPlatform, Status: st, Expected: string(opts.Mode), Actual: string(parsed.Platform)})
	}
	switch parsed.Platform {
	case evidence.SNP:
		checkSNP(ctx, res, parsed, expected, opts)
	case evidence.TDX:
		checkTDX(res, parsed, expected, opts)
	}
	res.finish()
	return res, nil
}

// Evidence verifies evidence obtained elsewhere against expectedReportData
// (the caller's nonce or binding), without fetching anything from an agent.
func Evidence(ctx context.Context, parsed *evidence.Parsed, expectedReportData []byte, opts Options) *Result {
	res := &Result{Agent: opts.Agent, Transport: opts.Transport, Platform: parsed.Platform, Evidence: parsed,
		ReportData:  hex.EncodeToString(parsed.ReportData()),
		Measurement: hex.EncodeToString(parsed.Measurement()),
	}
	switch parsed.Platform {
	case evidence.SNP:
		checkSNP(ctx, res, parsed, expectedReportData, opts)
	case evidence.TDX:
		checkTDX(res, parsed, expectedReportData, opts)
	}
	res.finish()
	return res
}

// clientTLS builds the TLS client configuration from ClientTLS.
func (c ClientTLS) config() (*tls.Config, *x509.CertPool, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	var pool *x509.CertPool
	if c.CAFile != "" {
		data, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--cacert: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, nil, fmt.Errorf("--cacert %s: no PEM certificate in it", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		if c.CertFile == "" || c.KeyFile == "" {
			return nil, nil, errors.New("mutual TLS needs both --cert and --key")
		}
		kp, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	return cfg, pool, nil
}

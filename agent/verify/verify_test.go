package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	sevabi "github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	sevvalidate "github.com/google/go-sev-guest/validate"
	tdxtestdata "github.com/google/go-tdx-guest/testing/testdata"
	"google.golang.org/protobuf/proto"

	"github.com/ultravioletrs/cube-hal/agent/agenttest"
	"github.com/ultravioletrs/cube-hal/agent/evidence"
	"github.com/ultravioletrs/cube-hal/agent/fakesnp"
	"github.com/ultravioletrs/cube-hal/agent/tsm"
	"github.com/ultravioletrs/cube-hal/agent/tsm/tsmtest"
)

var fakeEnv = map[string]string{"UV_CUBE_AGENT_TSM": "fake", "UV_CUBE_AGENT_VMPL": "2"}

func vmpl(n int) *int { return &n }

func check(t *testing.T, r *Result, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	var buf bytes.Buffer
	r.WriteText(&buf)
	t.Fatalf("no %q check in:\n%s", name, buf.String())
	return Check{}
}

func mustAttest(t *testing.T, opts Options) *Result {
	t.Helper()
	r, err := Attest(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFakeTSMEndToEndVerifies(t *testing.T) {
	a := agenttest.Start(t, fakeEnv, nil)
	r := mustAttest(t, Options{
		Agent: a.URL, Mode: evidence.SNP,
		Policy: Policy{Measurement: fakesnp.DefaultMeasurement, MeasurementSource: "test", VMPL: vmpl(2)},
		Roots:  Roots{TestRoots: true},
	})
	var buf bytes.Buffer
	r.WriteText(&buf)
	if !r.Verified || !r.Fake || r.Platform != evidence.SNP {
		t.Fatalf("not verified:\n%s", buf.String())
	}
	for _, name := range []string{CheckSignature, CheckReportData, CheckMeasurement, CheckVMPL, CheckDebug, CheckPolicy, CheckPlatform} {
		if c := check(t, r, name); c.Status != Pass {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if c := check(t, r, CheckTestRoots); c.Status != Warn {
		t.Errorf("test roots not flagged: %+v", c)
	}
	if !strings.Contains(buf.String(), "VERIFIED against TEST roots") {
		t.Errorf("verdict does not warn about test roots:\n%s", buf.String())
	}
	// JSON round trip keeps the checks.
	js, _ := json.Marshal(r)
	var back Result
	if err := json.Unmarshal(js, &back); err != nil || len(back.Checks) != len(r.Checks) || !back.Verified {
		t.Fatalf("json: %v %s", err, js)
	}
}

func TestWrongRootFails(t *testing.T) {
	a := agenttest.Start(t, fakeEnv, nil)
	r := mustAttest(t, Options{Agent: a.URL})
	c := check(t, r, CheckSignature)
	if r.Verified || c.Status != Fail || !strings.Contains(c.Actual, "trusted roots") || !strings.Contains(c.Expected, "AMD's root") {
		t.Fatalf("signature check: %+v", c)
	}
	if !strings.Contains(c.Detail, "FAKE TSM") {
		t.Errorf("detail does not explain the fake TSM: %q", c.Detail)
	}
	if p := check(t, r, CheckPolicy); p.Status != Skip {
		t.Errorf("policy evaluated on an unverified report: %+v", p)
	}
}

func TestExpiredRootFails(t *testing.T) {
	a := agenttest.Start(t, fakeEnv, nil)
	// Thirty years on, the test chain (VCEK 7 years, ARK/ASK 25) has expired.
	later := time.Now().AddDate(30, 0, 0)
	r := mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true, Now: later}})
	c := check(t, r, CheckSignature)
	if r.Verified || c.Status != Fail || !strings.Contains(c.Actual, "expired") {
		t.Fatalf("signature check: %+v", c)
	}
}

func TestWrongMeasurementFails(t *testing.T) {
	a := agenttest.Start(t, fakeEnv, nil)
	want := bytes.Repeat([]byte{0x42}, 48)
	r := mustAttest(t, Options{Agent: a.URL, Policy: Policy{Measurement: want, MeasurementSource: "--measurement"}, Roots: Roots{TestRoots: true}})
	c := check(t, r, CheckMeasurement)
	if r.Verified || c.Status != Fail || c.Expected != hex.EncodeToString(want) || c.Actual != hex.EncodeToString(fakesnp.DefaultMeasurement) {
		t.Fatalf("measurement check: %+v", c)
	}
	if f := r.Failed(); len(f) != 1 {
		t.Errorf("only the measurement should fail: %+v", f)
	}
	var buf bytes.Buffer
	r.WriteText(&buf)
	t.Log("\n" + buf.String())
	for _, s := range []string{"FAIL  measurement", "expected: " + hex.EncodeToString(want), "NOT VERIFIED: 1 check(s) failed: measurement"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestConfiguredFakeMeasurementAndVMPL(t *testing.T) {
	m := bytes.Repeat([]byte{0x17}, 48)
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake", "AGENT_VMPL": "0", "UV_CUBE_AGENT_FAKE_MEASUREMENT": hex.EncodeToString(m)}, nil)
	r := mustAttest(t, Options{Agent: a.URL, Policy: Policy{Measurement: m, MeasurementSource: "x", VMPL: vmpl(2)}, Roots: Roots{TestRoots: true}})
	if c := check(t, r, CheckMeasurement); c.Status != Pass {
		t.Errorf("measurement: %+v", c)
	}
	if c := check(t, r, CheckVMPL); c.Status != Fail || c.Expected != "2" || c.Actual != "0" {
		t.Errorf("vmpl: %+v", c)
	}
}

// rewriting is a man in the middle between verifier and agent.
type rewriting struct {
	req  func(body []byte) []byte
	resp func(body []byte) []byte
}

func (m rewriting) RoundTrip(r *http.Request) (*http.Response, error) {
	if m.req != nil && r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		b = m.req(b)
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || m.resp == nil {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b = m.resp(b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestWrongNonceFails(t *testing.T) {
	a := agenttest.Start(t, fakeEnv, nil)
	// The man in the middle swaps our nonce for one he chose earlier.
	mitm := rewriting{req: func(b []byte) []byte {
		var m map[string]string
		json.Unmarshal(b, &m)
		m["report_data"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 64))
		out, _ := json.Marshal(m)
		return out
	}}
	r := mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true}, HTTPClient: &http.Client{Transport: mitm}})
	c := check(t, r, CheckReportData)
	if r.Verified || c.Status != Fail || c.Expected != r.Nonce || c.Actual != strings.Repeat("07", 64) {
		t.Fatalf("report data check: %+v", c)
	}
	if check(t, r, CheckSignature).Status != Pass {
		t.Error("the replayed report itself is genuine; its signature should verify")
	}
}

func TestTamperedReportFails(t *testing.T) {
	a := agenttest.Start(t, fakeEnv, nil)
	mitm := rewriting{resp: func(b []byte) []byte {
		var att spb.Attestation
		if err := proto.Unmarshal(b, &att); err != nil {
			t.Errorf("not an attestation: %v", err)
			return b
		}
		att.Report.Measurement[0] ^= 0xff // claim another image
		out, _ := proto.Marshal(&att)
		return out
	}}
	r := mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true}, HTTPClient: &http.Client{Transport: mitm}})
	c := check(t, r, CheckSignature)
	if r.Verified || c.Status != Fail || !strings.Contains(strings.ToLower(c.Actual), "signature") {
		t.Fatalf("signature check: %+v", c)
	}
}

func TestDebugGuestFails(t *testing.T) {
	open := func(v uint) (tsm.Source, error) {
		s, err := fakesnp.New(fakesnp.Options{Debug: true})
		if err != nil {
			return nil, err
		}
		return tsm.NewFake(s, v)
	}
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "configfs"}, open)
	r := mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true}})
	if c := check(t, r, CheckDebug); r.Verified || c.Status != Fail || c.Actual != "on" || c.Expected != "off" {
		t.Fatalf("debug check: %+v", c)
	}
	r = mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true}, Policy: Policy{AllowDebug: true}})
	if c := check(t, r, CheckDebug); !r.Verified || c.Status != Warn {
		t.Fatalf("allowed debug: %+v", c)
	}
}

func TestPolicyFile(t *testing.T) {
	dir := t.TempDir()
	snp := filepath.Join(dir, "snp.json")
	m := base64.StdEncoding.EncodeToString(fakesnp.DefaultMeasurement)
	// Cocos' layout, with its extra pcr_values and root_of_trust.
	os.WriteFile(snp, []byte(`{"policy":{"policy":"196608","measurement":"`+m+`","vmpl":2,
		"minimum_tcb":"9007199254740992"},"root_of_trust":{"product_line":"Milan"},"pcr_values":{"sha256":[]}}`), 0o644)
	pol, err := LoadPolicy(snp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pol.Measurement, fakesnp.DefaultMeasurement) || pol.VMPL == nil || *pol.VMPL != 2 || pol.SNP == nil {
		t.Fatalf("policy: %+v", pol)
	}
	a := agenttest.Start(t, fakeEnv, nil)
	r := mustAttest(t, Options{Agent: a.URL, Policy: *pol, Roots: Roots{TestRoots: true}})
	// minimum_tcb 2^53 is SNP SPL 32; the fake platform has SNP SPL 8.
	c := check(t, r, CheckTCB)
	if c.Status != Fail || !strings.Contains(c.Expected, "snp=32") {
		t.Fatalf("minimum TCB: %+v", c)
	}
	if check(t, r, CheckMeasurement).Status != Pass || check(t, r, CheckVMPL).Status != Pass {
		t.Fatal("policy measurement or VMPL not applied")
	}

	tdx := filepath.Join(dir, "tdx.json")
	os.WriteFile(tdx, []byte(`{"root_of_trust":{},"policy":{"header_policy":{"minimum_qe_svn":0},"td_quote_body_policy":{"minimum_tee_tcb_svn":"AAAAAAAAAAAAAAAAAAAAAA=="}}}`), 0o644)
	tp, err := LoadPolicy(tdx)
	if err != nil || tp.TDX == nil || tp.SNP != nil {
		t.Fatalf("TDX policy: %+v %v", tp, err)
	}
	for _, bad := range []string{`[]`, `{"x":1}`, `{"policy":{"measurement":"!!"}}`} {
		p := filepath.Join(dir, "bad.json")
		os.WriteFile(p, []byte(bad), 0o644)
		if _, err := LoadPolicy(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v, want an error naming the file", bad, err)
		}
	}
}

func TestTCBMinimum(t *testing.T) {
	a := agenttest.Start(t, fakeEnv, nil)
	hi := fakesnp.TCB
	hi.SnpSpl++
	pol := Policy{SNP: fakeValidateOptions(hi)}
	r := mustAttest(t, Options{Agent: a.URL, Policy: pol, Roots: Roots{TestRoots: true}})
	c := check(t, r, CheckTCB)
	if r.Verified || c.Status != Fail || !strings.Contains(c.Expected, "snp=9") || !strings.Contains(c.Actual, "snp=8") {
		t.Fatalf("tcb check: %+v", c)
	}
	pol = Policy{SNP: fakeValidateOptions(fakesnp.TCB)}
	r = mustAttest(t, Options{Agent: a.URL, Policy: pol, Roots: Roots{TestRoots: true}})
	if c := check(t, r, CheckTCB); !r.Verified || c.Status != Pass {
		t.Fatalf("tcb at the minimum: %+v", c)
	}
}

func fakeValidateOptions(min kds.TCBParts) *sevvalidate.Options {
	return &sevvalidate.Options{GuestPolicy: sevabi.SnpPolicy{SMT: true}, MinimumTCB: min}
}

func TestRecordedTDXQuoteVerifies(t *testing.T) {
	parsed, err := evidence.Parse("", tdxtestdata.RawQuote)
	if err != nil || parsed.Platform != evidence.TDX {
		t.Fatalf("parse: %v %v", parsed, err)
	}
	// go-tdx-guest's own test setting: the recorded collateral was valid in
	// July 2023.
	when := time.Date(2023, 7, 1, 1, 0, 0, 0, time.UTC)
	r := Evidence(context.Background(), parsed, parsed.ReportData(), Options{Agent: "recorded", Roots: Roots{Now: when}})
	var buf bytes.Buffer
	r.WriteText(&buf)
	if c := check(t, r, CheckSignature); c.Status != Pass || !strings.Contains(c.Expected, "Intel SGX Root CA (pinned)") {
		t.Fatalf("signature: %+v\n%s", c, buf.String())
	}
	if !r.Verified {
		t.Fatalf("recorded quote not verified:\n%s", buf.String())
	}
	// Another nonce, another MRTD: both fail with expected vs actual.
	r = Evidence(context.Background(), parsed, bytes.Repeat([]byte{1}, 64),
		Options{Policy: Policy{Measurement: make([]byte, 48), MeasurementSource: "test"}, Roots: Roots{Now: when}})
	if c := check(t, r, CheckReportData); c.Status != Fail || c.Actual != hex.EncodeToString(parsed.ReportData()) {
		t.Errorf("report data: %+v", c)
	}
	if c := check(t, r, CheckMeasurement); c.Status != Fail || c.Actual != hex.EncodeToString(parsed.Measurement()) {
		t.Errorf("measurement: %+v", c)
	}
	// By 2100 even Intel's root (valid to 2049) has expired.
	r = Evidence(context.Background(), parsed, parsed.ReportData(), Options{Roots: Roots{Now: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}})
	if c := check(t, r, CheckSignature); c.Status != Fail || !strings.Contains(c.Actual, "expired") {
		t.Errorf("expired recorded chain accepted: %+v", c)
	}
}

// An agent whose TSM is a (recorded) TDX quote: the endpoint path carries
// the raw quote and the platform header; the nonce cannot match.
func TestTDXAgentEndpoint(t *testing.T) {
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "configfs"}, tsmtest.RecordedTDX)
	r := mustAttest(t, Options{Agent: a.URL, Mode: evidence.TDX, Roots: Roots{Now: time.Date(2023, 7, 1, 1, 0, 0, 0, time.UTC)}})
	if r.Platform != evidence.TDX || check(t, r, CheckSignature).Status != Pass || check(t, r, CheckPlatform).Status != Pass {
		t.Fatalf("TDX over the endpoint: %+v", r.Checks)
	}
	if c := check(t, r, CheckReportData); c.Status != Fail || c.Expected != r.Nonce {
		t.Fatalf("a recorded quote cannot carry our nonce: %+v", c)
	}
	// Asking for SNP from a TDX agent fails the platform check.
	r = mustAttest(t, Options{Agent: a.URL, Mode: evidence.SNP, Roots: Roots{Now: time.Date(2023, 7, 1, 1, 0, 0, 0, time.UTC)}})
	if c := check(t, r, CheckPlatform); c.Status != Fail || c.Expected != "snp" || c.Actual != "tdx" {
		t.Fatalf("platform: %+v", c)
	}
}

func TestIntelRootPinMatchesGoTDXGuest(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}", "github.com/google/go-tdx-guest").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/google/go-tdx-guest: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "verify", "trusted_root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool, where, err := tdxRoots(data, "")
	if err != nil || pool == nil || !strings.Contains(where, "pinned") {
		t.Fatalf("go-tdx-guest's embedded root is not the pinned one: %v", err)
	}
}

func TestATLSEndToEnd(t *testing.T) {
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake", "UV_CUBE_AGENT_ATTESTED_TLS": "true"}, nil)
	r := mustAttest(t, Options{Agent: a.URL, Transport: ATLS, Roots: Roots{TestRoots: true},
		Policy: Policy{Measurement: fakesnp.DefaultMeasurement, MeasurementSource: "test"}})
	var buf bytes.Buffer
	r.WriteText(&buf)
	if !r.Verified || check(t, r, CheckKeyBinding).Status != Pass {
		t.Fatalf("aTLS:\n%s", buf.String())
	}
	for _, c := range r.Checks {
		if c.Name == CheckReportData {
			t.Error("aTLS has its own key binding check; no separate report data check expected")
		}
	}
}

func TestFetchErrors(t *testing.T) {
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "none"}, nil)
	_, err := Attest(context.Background(), Options{Agent: a.URL})
	var fe *FetchError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "attestation unavailable") {
		t.Fatalf("got %v, want a fetch error carrying the agent's 503", err)
	}
	a.Stop()
	if _, err := Attest(context.Background(), Options{Agent: a.URL, Timeout: 2 * time.Second}); !errors.As(err, &fe) {
		t.Fatalf("stopped agent: got %v", err)
	}
	if _, err := Attest(context.Background(), Options{Agent: "ftp://x"}); err == nil {
		t.Fatal("ftp URL accepted")
	}
}

// BenchmarkAttestAndVerify is cube-hal attest's whole path against the fake
// TSM: fresh nonce, POST /attestation, signature chain, checks, validate.
func BenchmarkAttestAndVerify(b *testing.B) {
	a := agenttest.Start(b, fakeEnv, nil)
	opts := Options{Agent: a.URL, Roots: Roots{TestRoots: true}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Attest(context.Background(), opts)
		if err != nil || !r.Verified {
			b.Fatalf("%v %+v", err, r)
		}
	}
}

// noCerts is a platform whose host hands the guest no certificates (an
// empty auxblob): the usual case with upstream QEMU.
type noCerts struct{ tsm.Source }

func (n noCerts) Attest(rd []byte) (*evidence.Evidence, error) {
	ev, err := n.Source.Attest(rd)
	if ev != nil {
		ev.CertTable = nil
	}
	return ev, err
}

func TestVCEKFromCertsDirCacheOrFetch(t *testing.T) {
	signer, err := fakesnp.New(fakesnp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	open := func(v uint) (tsm.Source, error) {
		src, err := tsm.NewFake(signer, v)
		return noCerts{src}, err
	}
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "configfs"}, open)
	cache := t.TempDir()

	// --test-roots alone: the test ARK and ASK come from the certificate
	// table, and there is none.
	r := mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true, CacheDir: cache}})
	if c := check(t, r, CheckSignature); r.Verified || c.Status != Fail || !strings.Contains(c.Actual, "test roots need the fake TSM's certificate table") ||
		!strings.Contains(c.Detail, "UV_CUBE_AGENT_TSM=fake") {
		t.Fatalf("test roots without a certificate table: %+v", c)
	}
	if c := check(t, r, CheckTestRoots); c.Status != Warn {
		t.Fatalf("test roots check: %+v", c)
	}

	// From here the test hands the test roots over itself, as a verifier
	// holding the AMD chain out of band would.
	roots, err := fakesnp.TestRoots(time.Now())
	if err != nil {
		t.Fatal(err)
	}

	// Offline and nowhere to find the VCEK: a clear failure with the way out.
	r = mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true, SNPRoots: roots, CacheDir: cache}})
	if c := check(t, r, CheckSignature); c.Status != Fail || !strings.Contains(c.Detail, "--certs") || !strings.Contains(c.Detail, "--fetch-certs") {
		t.Fatalf("signature without a VCEK: %+v", c)
	}

	// The user put the VCEK in --certs.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "vcek.der"), signer.VCEK(), 0o644)
	r = mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true, SNPRoots: roots, CertsDir: dir, CacheDir: cache}})
	if c := check(t, r, CheckSignature); !r.Verified || !strings.Contains(c.Actual, "vcek.der") {
		t.Fatalf("VCEK from --certs: %+v", c)
	}

	// Allowed to fetch: from (a fake) AMD KDS, then cached.
	kds, err := fakesnp.KDS(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r = mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true, SNPRoots: roots, CacheDir: cache, Fetch: true, Getter: kds}})
	if c := check(t, r, CheckSignature); !r.Verified || !strings.Contains(c.Actual, "AMD KDS") || !strings.Contains(c.Actual, "cached") {
		t.Fatalf("fetched VCEK: %+v", c)
	}
	// Offline again: the cache serves.
	r = mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true, SNPRoots: roots, CacheDir: cache}})
	if c := check(t, r, CheckSignature); !r.Verified || !strings.Contains(c.Actual, cache) {
		t.Fatalf("cached VCEK: %+v", c)
	}
}

// otherARK is a platform whose certificate table carries an ARK that is not
// go-sev-guest's test key (a self-signed stand-in with the same name).
type otherARK struct {
	tsm.Source
	ark []byte
}

func (o otherARK) Attest(rd []byte) (*evidence.Evidence, error) {
	ev, err := o.Source.Attest(rd)
	if ev != nil {
		certs := new(sevabi.CertTable)
		if err := certs.Unmarshal(ev.CertTable); err != nil {
			return nil, err
		}
		chain := certs.Proto()
		chain.ArkCert = o.ark
		ev.CertTable = sevabi.CertsFromProto(chain).Marshal()
	}
	return ev, err
}

func TestTestRootsRefuseAnotherARK(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ARK-Milan"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	ark, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := fakesnp.New(fakesnp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	open := func(v uint) (tsm.Source, error) {
		src, err := tsm.NewFake(signer, v)
		return otherARK{src, ark}, err
	}
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "configfs"}, open)
	r := mustAttest(t, Options{Agent: a.URL, Roots: Roots{TestRoots: true}})
	c := check(t, r, CheckSignature)
	if r.Verified || c.Status != Fail || !strings.Contains(c.Actual, "is not go-sev-guest's test ARK") {
		t.Fatalf("signature with a foreign ARK under --test-roots: %+v", c)
	}
	if p := check(t, r, CheckPolicy); p.Status != Skip {
		t.Errorf("policy evaluated on an unverified report: %+v", p)
	}
}

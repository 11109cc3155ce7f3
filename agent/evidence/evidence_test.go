package evidence

import (
	"bytes"
	"testing"

	"github.com/google/go-sev-guest/abi"
	sevtest "github.com/google/go-sev-guest/testing"
	tdxtestdata "github.com/google/go-tdx-guest/testing/testdata"

	"github.com/ultravioletrs/cube-hal/agent/fakesnp"
)

func snpEvidence(t testing.TB) (*Evidence, *fakesnp.Signer) {
	s, err := fakesnp.New(fakesnp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Report(bytes.Repeat([]byte{9}, 64), 1)
	if err != nil {
		t.Fatal(err)
	}
	return &Evidence{Platform: SNP, Report: rep, CertTable: s.CertTable(), Fake: true}, s
}

func TestSNPRoundTrip(t *testing.T) {
	ev, s := snpEvidence(t)
	body, format, err := ev.Marshal(s.FMS())
	if err != nil || format != FormatSNPProto {
		t.Fatal(err, format)
	}
	for _, p := range []Platform{SNP, ""} {
		got, err := Parse(p, body)
		if err != nil || got.Platform != SNP {
			t.Fatalf("parse %q: %v", p, err)
		}
		if !bytes.Equal(got.ReportData(), bytes.Repeat([]byte{9}, 64)) || !bytes.Equal(got.Measurement(), fakesnp.DefaultMeasurement) {
			t.Fatal("fields lost in the round trip")
		}
		if got.SNP.GetReport().GetVmpl() != 1 || len(got.SNP.GetCertificateChain().GetVcekCert()) == 0 {
			t.Fatal("VMPL or VCEK lost")
		}
	}
	// A bare report (as other tools return it) parses too.
	got, err := Parse(SNP, ev.Report)
	if err != nil || !bytes.Equal(got.ReportData(), bytes.Repeat([]byte{9}, 64)) {
		t.Fatalf("bare report: %v", err)
	}
	js, format, err := ev.MarshalProtoJSON(s.FMS())
	if err != nil || format != FormatSNPJSON || !bytes.Contains(js, []byte(`"reportData"`)) {
		t.Fatalf("protojson: %v %s", err, js)
	}
}

func TestSNPWithoutCertTableRecordsProduct(t *testing.T) {
	ev, s := snpEvidence(t)
	ev.CertTable = nil
	att, err := ev.SNPAttestation(s.FMS())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := att.GetCertificateChain().GetExtras()[abi.ExtraPlatformInfoGUID]; !ok {
		t.Fatal("no platform info recorded for a chain without VCEK")
	}
}

func TestTDXRoundTrip(t *testing.T) {
	ev := &Evidence{Platform: TDX, Report: tdxtestdata.RawQuote}
	body, format, err := ev.Marshal(0)
	if err != nil || format != FormatTDXQuote || !bytes.Equal(body, tdxtestdata.RawQuote) {
		t.Fatal("TDX evidence is not the raw quote")
	}
	got, err := Parse("", body)
	if err != nil || got.Platform != TDX || len(got.ReportData()) != 64 || len(got.Measurement()) != 48 {
		t.Fatalf("parse: %v", err)
	}
	if _, _, err := ev.MarshalProtoJSON(0); err != nil {
		t.Fatal(err)
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte{0xff}, 2000)} {
		if _, err := Parse("", b); err == nil {
			t.Errorf("%q parsed", b[:min(len(b), 8)])
		}
	}
	if _, err := Parse(TDX, []byte("not a quote")); err == nil {
		t.Error("TDX garbage parsed")
	}
	if _, err := ParsePlatform("sgx"); err == nil {
		t.Error("sgx accepted")
	}
}

// FuzzParse feeds arbitrary agent answers to the verifier's parser: it must
// fail cleanly, never panic.
func FuzzParse(f *testing.F) {
	// Unsigned seeds: signing a fake chain in every fuzz worker is slow and
	// the signature does not matter to the parser.
	raw := sevtest.CreateRawReport(&sevtest.TestReportOptions{ReportData: []byte("seed"), Version: 3})
	ev := &Evidence{Platform: SNP, Report: raw[:abi.ReportSize]}
	body, _, err := ev.Marshal(abi.MaskedCpuid1EaxFromSevProduct(fakesnp.Product()))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	f.Add(ev.Report)
	f.Add(tdxtestdata.RawQuote)
	f.Add([]byte{4, 0, 2, 0, 0x81, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse("", b)
		if err == nil {
			_ = p.ReportData()
			_ = p.Measurement()
		}
	})
}

package tsm_test

import (
	"bytes"
	"strings"
	"testing"

	sevabi "github.com/google/go-sev-guest/abi"
	tdxtestdata "github.com/google/go-tdx-guest/testing/testdata"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
	"github.com/ultravioletrs/cube-hal/agent/tsm"
	"github.com/ultravioletrs/cube-hal/agent/tsm/tsmtest"
)

// Open over configfs entries whose provider and outblob the test picks
// (tsmtest.Emulated).

func TestTDXProviderReturnsRawQuote(t *testing.T) {
	c, err := tsm.Open(tsmtest.Emulated("tdx_guest\n", tdxtestdata.RawQuote, 0), 2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Platform() != evidence.TDX || c.Fake() {
		t.Fatalf("platform %s fake %v", c.Platform(), c.Fake())
	}
	ev, err := c.Attest(make([]byte, 64))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ev.Report, tdxtestdata.RawQuote) || ev.CertTable != nil {
		t.Fatal("TDX evidence is not the raw quote")
	}
}

func TestUnknownProviderRefused(t *testing.T) {
	_, err := tsm.Open(tsmtest.Emulated("fake\n", nil, 0), 0)
	if err == nil || !strings.Contains(err.Error(), `"fake"`) {
		t.Fatalf("got %v, want an unknown-provider error", err)
	}
}

func TestVMPLBelowFloorRefused(t *testing.T) {
	_, err := tsm.Open(tsmtest.Emulated("sev_guest\n", make([]byte, sevabi.ReportSize), 2), 1)
	if err == nil || !strings.Contains(err.Error(), "VMPL 1") {
		t.Fatalf("got %v, want a refusal naming VMPL 1", err)
	}
	if _, err := tsm.Open(tsmtest.Emulated("sev_guest\n", make([]byte, sevabi.ReportSize), 2), 2); err != nil {
		t.Fatalf("VMPL at the floor refused: %v", err)
	}
}

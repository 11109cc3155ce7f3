package tsm

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	sevabi "github.com/google/go-sev-guest/abi"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
	"github.com/ultravioletrs/cube-hal/agent/fakesnp"
)

func newFake(t *testing.T, vmpl uint) *ConfigFS {
	t.Helper()
	s, err := fakesnp.New(fakesnp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewFake(s, vmpl)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFakeSNPReportCarriesDataAndVMPL(t *testing.T) {
	c := newFake(t, 2)
	if c.Platform() != evidence.SNP || !c.Fake() {
		t.Fatalf("platform %s fake %v", c.Platform(), c.Fake())
	}
	if !strings.Contains(c.Describe(), "FAKE") {
		t.Errorf("description does not shout FAKE: %q", c.Describe())
	}
	ev, err := c.Attest([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Report) != sevabi.ReportSize || len(ev.CertTable) == 0 || !ev.Fake {
		t.Fatalf("evidence: report %d bytes, cert table %d bytes, fake %v", len(ev.Report), len(ev.CertTable), ev.Fake)
	}
	r, err := sevabi.ReportToProto(ev.Report)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 64)
	copy(want, "hello")
	if !bytes.Equal(r.ReportData, want) {
		t.Errorf("report data %x, want %x", r.ReportData, want)
	}
	if r.Vmpl != 2 {
		t.Errorf("VMPL %d, want 2", r.Vmpl)
	}
	if _, err := c.Attest(make([]byte, 65)); err == nil {
		t.Error("65 bytes of report data accepted")
	}
}

func TestConcurrentReportsUseSeparateEntries(t *testing.T) {
	c := newFake(t, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rd := bytes.Repeat([]byte{byte(i)}, 64)
			ev, err := c.Attest(rd)
			if err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(ev.Report[0x50:0x90], rd) {
				errs <- errors.New("report data crossed between requests")
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOpenLinuxWithoutTSM(t *testing.T) {
	if _, err := OpenLinux(0); err == nil {
		t.Skip("this machine has a configfs-tsm report interface")
	} else if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}

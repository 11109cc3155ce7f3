package tui

import (
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/agent/agenttest"
	"github.com/ultravioletrs/cube-hal/agent/fakesnp"
	"github.com/ultravioletrs/cube-hal/agent/verify"
	"github.com/ultravioletrs/cube-hal/launch"
)

// launchFake starts the fake VM on the launch screen, so it is the
// session's VM.
func launchFake(t *testing.T, l *loop, vm *fakeVM) {
	t.Helper()
	l.tab("Launch")
	l.shows("p plain    ✓ ready")
	l.keys("p")
	l.shows(vm.rec.Name + " ● running")
}

// The attest screen against a real cube-agent (in-process, fake TSM) and
// the real verifier: the checks with expected and actual values, test
// roots, an expected measurement and VMPL set on the screen.
func TestAttestScreenRealAgent(t *testing.T) {
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake", "AGENT_VMPL": "2"}, nil)
	_, port, _ := net.SplitHostPort(a.Addr)
	p, _ := strconv.Atoi(port)

	fb := newFakeBackends(t)
	vm := newFakeVM("attested")
	vm.rec.Ports.Agent = p
	fb.launch.vm = vm
	o := fb.options()
	o.Backends.Attest = nil // the real verifier
	l := newLoop(t, o, 120, 60)

	l.tab("Attest")
	l.keys("a")
	l.shows("No VM is running: launch one first (3)")

	launchFake(t, l, vm)
	l.tab("Attest")
	l.shows("Attest the VM", "http://127.0.0.1:"+port, "attested (plain/tcg, running)", "not checked (m sets one)")
	l.keys("a")
	l.shows("Result: AMD SEV-SNP, fake TSM / test roots", "✗ NOT VERIFIED", "✗ FAIL  signature",
		"T trusts the test roots")

	l.keys("T")
	l.shows("go-sev-guest's TEST roots")
	l.keys("a")
	s := l.shows("✓ VERIFIED", "✓ pass  signature", "✓ pass  report data", "– skip  measurement", "VMPL", "2",
		"guest policy", "reported TCB", "VERIFIED against TEST roots")
	if !strings.Contains(s, "nonce") {
		t.Fatalf("no nonce shown:\n%s", s)
	}

	// A wrong expected measurement fails, showing expected and actual.
	wrong := strings.Repeat("ab", 48)
	l.keys("m")
	l.typeText("abcd")
	l.keys("enter")
	l.shows("! 2 bytes, want 48 (96 hex digits)")
	for range "abcd" {
		l.keys("backspace")
	}
	l.typeText(wrong)
	l.keys("enter")
	l.keys("v")
	l.typeText("2")
	l.keys("enter")
	l.keys("a")
	actual := hex.EncodeToString(fakesnp.DefaultMeasurement)
	l.shows("✗ FAIL  measurement", "expected  "+wrong[:40], "actual    "+actual[:40], "✓ pass  vmpl",
		"NOT VERIFIED: 1 check(s) failed: measurement")

	// The right one passes.
	l.keys("m", "ctrl+u")
	l.typeText(actual)
	l.keys("enter", "a")
	l.shows("✓ pass  measurement  matches the value from the Attest screen (m)", "✓ VERIFIED")
}

// What the screen asks the verifier for, and how a fetch error shows.
func TestAttestScreenOptions(t *testing.T) {
	fb := newFakeBackends(t)
	vm := newFakeVM(launch.DefaultName)
	fb.launch.vm = vm
	fb.attest.err = &verify.FetchError{Transport: verify.Endpoint, Err: errors.New("connection refused")}
	l := newLoop(t, fb.options(), 100, 40)
	launchFake(t, l, vm)
	l.tab("Attest")
	l.keys("a")
	l.shows("No evidence (", "connection refused", "The guest may still be booting")
	o := fb.attest.last(t)
	if o.Agent != "http://127.0.0.1:6193" || o.Roots.TestRoots || o.Policy.Measurement != nil || o.Policy.VMPL != nil || o.Transport != verify.Endpoint {
		t.Fatalf("options %+v", o)
	}

	fb.attest.mu.Lock()
	fb.attest.err = nil
	fb.attest.res = &verify.Result{Agent: o.Agent, Platform: "snp", Measurement: "aa", Verified: true, Checks: []verify.Check{
		{Name: verify.CheckSignature, Status: verify.Pass, Detail: "VCEK chain to AMD ARK"},
		{Name: verify.CheckMeasurement, Status: verify.Pass, Expected: "aa", Actual: "aa"},
	}}
	fb.attest.mu.Unlock()
	l.keys("T", "v")
	l.typeText("1")
	l.keys("enter", "a")
	l.shows("✓ pass  signature", "VCEK chain to AMD ARK", "✓ pass  measurement  expected aa, actual aa", "✓ VERIFIED")
	o = fb.attest.last(t)
	if !o.Roots.TestRoots || o.Policy.VMPL == nil || *o.Policy.VMPL != 1 {
		t.Fatalf("options after T and v 1: %+v", o)
	}
}

// An SEV-SNP VM's reports are checked against the launch digest recorded
// when it started; the launch screen shows it.
func TestAttestScreenExpectsLaunchDigest(t *testing.T) {
	fb := newFakeBackends(t)
	fb.launch.facts.QEMU.Version.Major = 9 // not enough for SNP here: adopt a running one
	vm := newFakeVM("snp-vm")
	vm.rec.Mode = launch.ModeSNP
	digest := strings.Repeat("5f", 48)
	vm.rec.ExpectedMeasurement = digest
	fb.launch.running = vm
	fb.attest.res = &verify.Result{Platform: "snp", Verified: true}
	l := newLoop(t, fb.options(), 120, 40)
	l.tab("Launch")
	l.shows("Found VM snp-vm running", "Measure   5f5f5f5f", "(Attest checks it)")
	l.tab("Attest")
	l.shows("Measurement   " + digest[:40])
	l.keys("a")
	l.shows("✓ VERIFIED")
	o := fb.attest.last(t)
	if hex.EncodeToString(o.Policy.Measurement) != digest || o.Mode != "snp" {
		t.Fatalf("policy measurement %x, mode %q; want the recorded digest", o.Policy.Measurement, o.Mode)
	}
	// One set by hand wins.
	l.keys("m")
	l.typeText(strings.Repeat("ab", 48))
	l.keys("enter", "a")
	l.until("a second attestation", func() bool {
		fb.attest.mu.Lock()
		defer fb.attest.mu.Unlock()
		return len(fb.attest.opts) == 2
	})
	if o := fb.attest.last(t); hex.EncodeToString(o.Policy.Measurement) != strings.Repeat("ab", 48) {
		t.Fatalf("policy measurement %x, want the one set with m", o.Policy.Measurement)
	}
}

// Screens switch with digits, except while text is typed; alt+digit and
// F-keys switch even then.
func TestScreenSwitchKeys(t *testing.T) {
	fb := newFakeBackends(t)
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Attest")
	l.keys("m")
	l.keys("2")
	if l.app.active != 3 || !strings.Contains(l.screen(), "Expected measurement: 2") {
		t.Fatalf("a digit typed into a field switched screens:\n%s", l.screen())
	}
	l.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2"), Alt: true})
	if l.app.active != 1 {
		t.Fatalf("alt+2 did not show Build (active %d)", l.app.active)
	}
	l.send(tea.KeyMsg{Type: tea.KeyF3})
	if l.app.active != 2 {
		t.Fatalf("F3 did not show Launch (active %d)", l.app.active)
	}
}

package build

import (
	"strings"
	"testing"
	"time"
)

// Weighted percent and ETA from an earlier build's durations, with
// controlled clocks.
func TestModelPercentAndETAFromHistory(t *testing.T) {
	info := map[string]*PackageInfo{
		"host-a": {Name: "host-a", Type: "host"},
		"host-b": {Name: "host-b", Type: "host", Dependencies: []string{"host-a"}},
		"host-c": {Name: "host-c", Type: "host", Dependencies: []string{"host-b"}},
	}
	hist := &History{steps: map[string]map[string]time.Duration{
		"host-a": {"build": 40 * time.Second},
		"host-b": {"build": 60 * time.Second},
	}}
	t0 := time.Unix(1_800_000_000, 0)
	m := newModel(nil, "", t.TempDir(), t0)
	m.setPlan(info, planFor(nil, info), hist)
	m.phase = Running

	s := m.snapshot(t0)
	if s.Total != 3 || s.Done != 0 || s.Percent != 0 {
		t.Fatalf("start: %d/%d %.1f%%", s.Done, s.Total, s.Percent)
	}
	// host-c has no history: it weighs the median of the known (60s).
	if got := s.Packages[2]; got.Name != "host-c" || got.Expected != 0 || m.weight["host-c"] != 60 {
		t.Errorf("host-c: %+v, weight %v", got, m.weight["host-c"])
	}
	if s.ETA != 160*time.Second {
		t.Errorf("ETA at start %s, want 160s (the history, pace unknown)", s.ETA)
	}

	ev := func(start bool, step, pkg string, at time.Duration) {
		m.stepEvent(StepEvent{Start: start, Step: step, Package: pkg}, t0.Add(at))
	}
	// host-a takes 80s where it took 40s before: this machine is 2× slower.
	ev(true, "build", "host-a", 0)
	ev(false, "build", "host-a", 70*time.Second)
	ev(true, "install-host", "host-a", 70*time.Second)
	ev(false, "install-host", "host-a", 80*time.Second)
	s = m.snapshot(t0.Add(80 * time.Second))
	if s.Done != 1 || s.Percent != 25 {
		t.Errorf("after host-a: %d/%d %.2f%%, want 1/3 25%% (40 of 160 weighted seconds)", s.Done, s.Total, s.Percent)
	}
	if s.ETA != 240*time.Second {
		t.Errorf("ETA after host-a %s, want 240s ((60+60) × 2)", s.ETA)
	}
	// host-b half-way through its build step by the history.
	ev(true, "build", "host-b", 80*time.Second)
	s = m.snapshot(t0.Add(110 * time.Second))
	if s.Percent != 43.75 || len(s.Active) != 1 || s.Active[0].Name != "host-b" || s.Active[0].Elapsed != 30*time.Second {
		t.Errorf("host-b running: %.2f%%, active %+v", s.Percent, s.Active)
	}
	if s.ETA != 180*time.Second {
		t.Errorf("ETA with host-b half done %s, want 180s ((30+60) × 2)", s.ETA)
	}
	if s.Current != "host-b" {
		t.Errorf("current %q", s.Current)
	}
}

// Without history the percent counts steps, and the ETA waits until there
// is enough to extrapolate from.
func TestModelWithoutHistory(t *testing.T) {
	info := map[string]*PackageInfo{
		"x": {Name: "x", Type: "target", InstallTarget: true},
		"y": {Name: "y", Type: "target", InstallTarget: true, InstallStaging: true},
	}
	t0 := time.Unix(1_800_000_000, 0)
	m := newModel(nil, "", t.TempDir(), t0)
	m.setPlan(info, planFor(nil, info), &History{})
	m.phase = Running
	for _, step := range []string{"download", "extract", "patch", "configure", "build", "install-target"} {
		m.stepEvent(StepEvent{Start: true, Step: step, Package: "x"}, t0)
		m.stepEvent(StepEvent{Step: step, Package: "x"}, t0.Add(time.Minute))
	}
	s := m.snapshot(t0.Add(time.Minute))
	if s.Done != 1 || s.Percent != 50 {
		t.Errorf("%d/%d %.1f%%", s.Done, s.Total, s.Percent)
	}
	if s.ETA != time.Minute {
		t.Errorf("ETA %s, want 1m (half done in 1m)", s.ETA)
	}
	if s := m.snapshot(t0.Add(10 * time.Second)); s.ETA >= 0 {
		t.Errorf("ETA after 10s: %s, want unknown", s.ETA)
	}
	// A step of y: 1 of 7 steps.
	m.stepEvent(StepEvent{Start: true, Step: "download", Package: "y"}, t0.Add(time.Minute))
	m.stepEvent(StepEvent{Step: "download", Package: "y"}, t0.Add(time.Minute))
	if s := m.snapshot(t0.Add(time.Minute)); s.Percent <= 50 || s.Percent >= 60 {
		t.Errorf("with 1 of y's 7 steps: %.1f%%", s.Percent)
	}
}

// Packages built in parallel: every package with a step running is
// active, oldest step first; Current is the latest started.
func TestModelActivePackages(t *testing.T) {
	info := map[string]*PackageInfo{
		"a": {Name: "a", Type: "target", InstallTarget: true},
		"b": {Name: "b", Type: "target", InstallTarget: true},
		"c": {Name: "c", Type: "target", InstallTarget: true},
	}
	t0 := time.Unix(1_800_000_000, 0)
	m := newModel(nil, "", t.TempDir(), t0)
	m.setPlan(info, planFor(nil, info), &History{})
	m.phase = Running
	m.stepEvent(StepEvent{Start: true, Step: "build", Package: "b"}, t0)
	m.stepEvent(StepEvent{Start: true, Step: "download", Package: "a"}, t0.Add(time.Second))
	m.stepEvent(StepEvent{Start: true, Step: "configure", Package: "c"}, t0.Add(2*time.Second))
	m.stepEvent(StepEvent{Step: "configure", Package: "c"}, t0.Add(3*time.Second))
	s := m.snapshot(t0.Add(4 * time.Second))
	var got []string
	for _, p := range s.Active {
		got = append(got, p.Name+":"+p.Step)
	}
	if strings.Join(got, " ") != "b:build a:download" || s.Current != "c" {
		t.Errorf("active %v, current %q; want b:build a:download, current c", got, s.Current)
	}
	if act := s.Activity(); act != "b: Building, a: Downloading" {
		t.Errorf("activity %q", act)
	}
}

// The failure report names the package and step from the step that
// started and never ended when make's error line names no stamp (a
// sub-make's error), and from make's stamp line when it does, even with
// another package's step still open (a parallel build).
func TestModelFailurePackageAndStep(t *testing.T) {
	info := map[string]*PackageInfo{
		"a": {Name: "a", Type: "target", Version: "1.0", StampDir: "build/a-1.0", InstallTarget: true},
		"b": {Name: "b", Type: "target", Version: "2.0", StampDir: "build/b-2.0", InstallTarget: true},
	}
	t0 := time.Unix(1_800_000_000, 0)
	newRun := func() *model {
		m := newModel(nil, "/o/cube-hal-build.log", "/o", t0)
		m.setPlan(info, planFor(nil, info), &History{})
		m.phase = Running
		m.stepEvent(StepEvent{Start: true, Step: "build", Package: "a"}, t0)
		m.scan([]byte("\x1b[7m>>> a 1.0 Building\x1b[27m\ncc -c a.c\n"))
		m.stepEvent(StepEvent{Start: true, Step: "configure", Package: "b"}, t0.Add(time.Second))
		m.scan([]byte("\x1b[7m>>> b 2.0 Configuring\x1b[27m\nchecking for foo... no\nconfigure: error: foo is required\n"))
		return m
	}
	tests := []struct {
		name, makeErr             string
		pkg, version, step, label string
		line                      string
	}{
		{"open step", "make[1]: *** [Makefile:3: all] Error 1\n", "b", "2.0", "configure", "Configuring", "configure: error: foo is required"},
		{"stamp line", "make: *** [package/pkg-generic.mk:300: /o/build/a-1.0/.stamp_built] Error 2\n", "a", "1.0", "build", "Building", "cc -c a.c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newRun()
			if tc.name == "open step" {
				m.stepEvent(StepEvent{Step: "build", Package: "a"}, t0.Add(2*time.Second))
			}
			m.scan([]byte(tc.makeErr))
			f := m.buildFailure("")
			if f.Package != tc.pkg || f.Version != tc.version || f.Step != tc.step || f.Label != tc.label || f.LogPath != "/o/cube-hal-build.log" {
				t.Errorf("failure %s %s step %s (%q), log %s; want %s %s step %s (%q)", f.Package, f.Version, f.Step, f.Label, f.LogPath, tc.pkg, tc.version, tc.step, tc.label)
			}
			all := strings.Join(f.Lines, "\n")
			if !strings.Contains(all, tc.line) || f.MakeError != strings.TrimSpace(tc.makeErr) || strings.Contains(all, "\x1b") {
				t.Errorf("lines %q, make error %q", f.Lines, f.MakeError)
			}
			if f.Hint == "" {
				t.Error("no hint")
			}
		})
	}
}

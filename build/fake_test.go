package build

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// fakeWorkspace is a workspace on the fake Buildroot in testdata/fakebr with
// a fresh, configured output directory.
func fakeWorkspace(t *testing.T) *workspace.Workspace {
	t.Helper()
	testenv.Tool(t, "make", "bash", "tput")
	br, err := filepath.Abs(filepath.Join("testdata", "fakebr"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, ".config"), []byte("BR2_HAVE_DOT_CONFIG=y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &workspace.Workspace{BuildrootDir: br, OutputDir: out}
}

// fakeEnv is the test's environment plus the fake's knobs.
func fakeEnv(knobs ...string) []string {
	env := append([]string(nil), os.Environ()...)
	env = append(env, "FAKE_DELAY=0.005")
	return append(env, knobs...)
}

// waitFor waits until cond holds for a snapshot, woken by Updates and,
// for conditions outside the model (a file a step writes), every 20 ms.
// The deadline is only for a test that is broken: on a loaded machine a
// fake build takes seconds, not minutes.
func waitFor(t *testing.T, b *Build, what string, cond func(Snapshot) bool) Snapshot {
	t.Helper()
	deadline := time.After(waitLimit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s := b.Snapshot()
		if cond(s) {
			return s
		}
		select {
		case _, ok := <-b.Updates():
			if !ok {
				s := b.Snapshot()
				if cond(s) {
					return s
				}
				t.Fatalf("build finished (%s) before %s", s.Phase, what)
			}
		case <-tick.C:
		case <-deadline:
			t.Fatalf("no %s after %s; last snapshot: phase %s, done %d/%d, active %v", what, waitLimit, s.Phase, s.Done, s.Total, s.Active)
		}
	}
}

// waitLimit bounds every wait of these tests; only a hung build reaches it.
const waitLimit = 3 * time.Minute

// waitDone waits for the build to end (see waitLimit).
func waitDone(t *testing.T, b *Build, what string) Snapshot {
	t.Helper()
	select {
	case <-b.Done():
		return b.Snapshot()
	case <-time.After(waitLimit):
		t.Fatalf("%s: the build did not end within %s", what, waitLimit)
		return Snapshot{}
	}
}

// logBody returns the raw output part of a build log: between the header's
// last line and the trailer's first.
func logBody(t *testing.T, path string) (body, trailer string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, logBodyStart)
	if i < 0 {
		t.Fatalf("log %s has no %q line:\n%s", path, logBodyStart, s)
	}
	s = s[i+len(logBodyStart):]
	if strings.HasPrefix(s, "=== cube-hal: ") {
		return "", s // no output at all
	}
	j := strings.LastIndex(s, "\n=== cube-hal: ")
	if j < 0 {
		if !strings.HasPrefix(s, "=== cube-hal: ") {
			t.Fatalf("log %s has no trailer", path)
		}
		return "", s
	}
	// The trailer starts on a line of its own; a newline the output lacked
	// was added in front of it.
	k := strings.Index(s, "\n=== cube-hal: ")
	return s[:k+1], s[k+1:]
}

func mustStart(t *testing.T, o Options) *Build {
	t.Helper()
	b, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Kill()
		<-b.Done()
	})
	return b
}

var fakeCounted = []string{"host-skeleton", "host-tar", "host-fakegcc", "zlib", "busybox", "cube-agent", "linux"}

func TestFakeBuildProgress(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	b := mustStart(t, Options{Workspace: ws, Env: fakeEnv("FAKE_DELAY=0.02"), Cols: 100, Rows: 30})

	// Follow the build the way a UI does: wake on Updates, read a Snapshot.
	var snaps []Snapshot
	sawActive, sawMiddle := false, false
	for range b.Updates() {
		s := b.Snapshot()
		snaps = append(snaps, s)
		if len(s.Active) > 0 && s.Active[0].Step != "" {
			sawActive = true
		}
		if s.Total == 7 && s.Done > 0 && s.Done < 7 {
			sawMiddle = true
		}
	}
	s := b.Wait()
	if s.Phase != Succeeded || s.ExitCode != 0 {
		t.Fatalf("phase %s, exit %d, failure %+v", s.Phase, s.ExitCode, s.Failure)
	}
	if s.Total != 7 || s.Done != 7 || s.Percent != 100 || s.ETA != 0 {
		t.Errorf("done %d/%d, %.1f%%, ETA %s; want 7/7, 100%%, 0", s.Done, s.Total, s.Percent, s.ETA)
	}
	if s.Warnings != 3 {
		t.Errorf("warnings %d, want 3 (2 in zlib, 1 in busybox)", s.Warnings)
	}
	if !sawActive || !sawMiddle {
		t.Errorf("never saw a running step (%v) or a partly done build (%v) in %d snapshots", sawActive, sawMiddle, len(snaps))
	}
	last := -1.0
	for _, sn := range snaps {
		if sn.Percent < last {
			t.Errorf("percent went back from %.1f to %.1f", last, sn.Percent)
		}
		last = max(last, sn.Percent)
	}
	byName := map[string]Package{}
	for _, p := range s.Packages {
		byName[p.Name] = p
	}
	for _, n := range fakeCounted {
		p, ok := byName[n]
		if !ok {
			t.Errorf("package %s missing from the snapshot", n)
			continue
		}
		if p.Status != Built || !p.Counted || p.AlreadyBuilt || p.Elapsed <= 0 || p.StepsDone < p.StepsTotal-1 || p.Started.IsZero() {
			t.Errorf("%s: %+v", n, p)
		}
	}
	if p := byName["zlib"]; p.Warnings != 2 || p.Version != "1.3.1" {
		t.Errorf("zlib: %d warnings, version %q", p.Warnings, p.Version)
	}
	if p := byName["toolchain"]; p.Counted || p.Status != Built {
		t.Errorf("virtual toolchain: %+v (want shown, built, not counted)", p)
	}
	// The journal has every step of every package, in order.
	evs := b.Events(0)
	starts := map[string][]string{}
	built := 0
	for _, e := range evs {
		switch e.Kind {
		case StepStarted:
			starts[e.Package] = append(starts[e.Package], e.Step)
		case PackageBuilt:
			built++
			if e.Done != built || e.Total != 7 {
				t.Errorf("PackageBuilt %s: %d/%d, want %d/7", e.Package, e.Done, e.Total, built)
			}
		}
	}
	if got := strings.Join(starts["zlib"], " "); got != "download extract patch configure build install-staging install-target" {
		t.Errorf("zlib steps: %s", got)
	}
	if built != 7 {
		t.Errorf("%d PackageBuilt events, want 7", built)
	}
	if len(b.Events(evs[len(evs)-1].Seq+1)) != 0 || len(b.Events(evs[3].Seq)) != len(evs)-3 {
		t.Error("Events(since) does not resume after a Seq")
	}
	// The screen shows the end of the output, rendered.
	scr := b.Screen(3)
	if len(scr) != 3 || !strings.Contains(scr[2], ">>>   Generating filesystem image rootfs.cpio") || !strings.Contains(scr[2], "\x1b[7m") {
		t.Errorf("screen: %q", scr)
	}
	_, trailer := logBody(t, s.LogPath)
	if !strings.Contains(trailer, "build succeeded") || !strings.Contains(trailer, "7/7 packages, 3 warnings") {
		t.Errorf("trailer: %q", trailer)
	}
}

// A second build of the same output: everything is already built, and the
// earlier build-time.log gives each package its expected duration.
func TestFakeBuildIncrementalAndRebuild(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	if s := waitDone(t, mustStart(t, Options{Workspace: ws, Env: fakeEnv()}), "first build"); s.Phase != Succeeded {
		t.Fatalf("first build: %s", s.Phase)
	}
	b := mustStart(t, Options{Workspace: ws, Env: fakeEnv()})
	s := waitFor(t, b, "the package list", func(s Snapshot) bool { return s.Total > 0 })
	if s.Done != 7 {
		t.Errorf("second build starts at %d/%d, want 7/7", s.Done, s.Total)
	}
	for _, p := range s.Packages {
		if p.Counted && (!p.AlreadyBuilt || p.Expected <= 0) {
			t.Errorf("%s: already built %v, expected %s", p.Name, p.AlreadyBuilt, p.Expected)
		}
	}
	if s := waitDone(t, b, "second build"); s.Phase != Succeeded || s.Done != 7 {
		t.Fatalf("second build: %s %d/%d", s.Phase, s.Done, s.Total)
	}
	for _, e := range b.Events(0) {
		if e.Kind == StepStarted {
			t.Errorf("second build ran a step: %+v", e)
		}
	}

	// busybox-rebuild builds busybox again (and only what it depends on
	// counts): host-skeleton, host-tar, host-fakegcc, busybox.
	b = mustStart(t, Options{Workspace: ws, Env: fakeEnv(), Targets: []string{"busybox-rebuild"}, Jobs: 3})
	s = waitFor(t, b, "the package list", func(s Snapshot) bool { return s.Total > 0 })
	if s.Total != 4 || s.Done != 3 {
		t.Errorf("busybox-rebuild starts at %d/%d, want 3/4", s.Done, s.Total)
	}
	s = waitDone(t, b, "busybox-rebuild")
	if got := strings.Join(s.Command, " "); !strings.Contains(got, " -j3 BR2_JLEVEL=3 ") || !strings.HasSuffix(got, " busybox-rebuild") {
		t.Errorf("command: %s", got)
	}
	if s.Phase != Succeeded || s.Done != 4 {
		t.Fatalf("busybox-rebuild: %s %d/%d", s.Phase, s.Done, s.Total)
	}
	for _, p := range s.Packages {
		if p.Name == "busybox" && (p.AlreadyBuilt || p.Status != Built || p.StepsDone != 2) {
			t.Errorf("busybox after rebuild: %+v", p)
		}
	}
}

func TestFakeBuildFailureDiagnosis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fail     string
		pkg      string
		step     string
		label    string
		cause    Cause
		line     string // a line the report must show
		hint     string // text the hint must hold
		makeStmp string
	}{
		{"zlib:build", "zlib", "build", "Building", CauseCompile, "error: 'cube_token' undeclared", "zlib-rebuild", ".stamp_built] Error 2"},
		{"host-tar:download:network", "host-tar", "download", "Downloading", CauseNetwork, "unable to resolve host address", "no network", ".stamp_downloaded] Error 1"},
		{"busybox:build:nospace", "busybox", "build", "Building", CauseDiskFull, "No space left on device", "df -h", ".stamp_built] Error 2"},
		{"cube-agent:configure:notool", "cube-agent", "configure", "Configuring", CauseMissingTool, "bison: command not found", "apt-get install bison", ".stamp_configured] Error 127"},
	}
	for _, tc := range tests {
		t.Run(tc.fail, func(t *testing.T) {
			ws := fakeWorkspace(t)
			t.Parallel()
			s := waitDone(t, mustStart(t, Options{Workspace: ws, Env: fakeEnv("FAKE_FAIL=" + tc.fail)}), tc.fail)
			if s.Phase != Failed || s.ExitCode != 2 {
				t.Fatalf("phase %s exit %d", s.Phase, s.ExitCode)
			}
			f := s.Failure
			if f == nil {
				t.Fatal("no failure report")
			}
			if f.Package != tc.pkg || f.Step != tc.step || f.Label != tc.label || f.Cause != tc.cause {
				t.Errorf("failure %s/%s (%q), cause %q; want %s/%s (%q), %q", f.Package, f.Step, f.Label, f.Cause, tc.pkg, tc.step, tc.label, tc.cause)
			}
			if !strings.HasSuffix(f.MakeError, tc.makeStmp) || !strings.HasPrefix(f.MakeError, "make: *** [") {
				t.Errorf("make error %q, want one ending in %q", f.MakeError, tc.makeStmp)
			}
			all := strings.Join(f.Lines, "\n")
			if !strings.Contains(all, tc.line) || len(f.Lines) > 30 {
				t.Errorf("%d lines, want ≤30 holding %q:\n%s", len(f.Lines), tc.line, all)
			}
			if strings.Contains(all, "\x1b") || strings.Contains(all, "\r") {
				t.Errorf("report lines hold escapes or CRs: %q", all)
			}
			if !strings.Contains(f.Hint, tc.hint) {
				t.Errorf("hint %q does not mention %q", f.Hint, tc.hint)
			}
			if f.LogPath != filepath.Join(ws.OutputDir, LogName) || f.LogPath != s.LogPath {
				t.Errorf("log path %q", f.LogPath)
			}
			for _, p := range s.Packages {
				if p.Name == tc.pkg && p.Status != Broken {
					t.Errorf("%s: status %s, want failed", p.Name, p.Status)
				}
			}
			_, trailer := logBody(t, s.LogPath)
			want := "failing package " + tc.pkg + ", step " + tc.step
			if !strings.Contains(trailer, "build failed") || !strings.Contains(trailer, want) || !strings.Contains(trailer, "hint: ") {
				t.Errorf("trailer %q does not say %q", trailer, want)
			}
		})
	}
}

// The log holds exactly the bytes the build wrote, with no consumer reading
// the model at all while megabytes go through (a consumer that never reads
// Updates cannot stall make).
func TestFakeBuildLogByteExact(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	record := filepath.Join(t.TempDir(), "emitted")
	b := mustStart(t, Options{Workspace: ws, Env: fakeEnv("FAKE_RECORD="+record, "FAKE_LINES=6000")})
	s := waitDone(t, b, "a build nobody watches")
	if s.Phase != Succeeded {
		t.Fatalf("phase %s: %+v", s.Phase, s.Failure)
	}
	want, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := logBody(t, s.LogPath)
	if len(want) < 4<<20 {
		t.Fatalf("the fake emitted only %d bytes; the test wants megabytes", len(want))
	}
	if body != string(want) {
		i := 0
		for i < len(body) && i < len(want) && body[i] == want[i] {
			i++
		}
		t.Fatalf("log body (%d bytes) differs from what the fake emitted (%d bytes) at byte %d: log %q, emitted %q",
			len(body), len(want), i, snippet(body, i), snippet(string(want), i))
	}
	if s.Bytes != int64(len(want)) {
		t.Errorf("model counted %d bytes, the fake emitted %d", s.Bytes, len(want))
	}
}

func snippet(s string, i int) string {
	return s[max(0, i-40):min(len(s), i+40)]
}

// pidsIn reads the PIDs the fake's hanging steps recorded (none while the
// file does not exist yet).
func pidsIn(path string) []int {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var pids []int
	for _, l := range strings.SplitAfter(string(b), "\n") {
		var p int
		if _, err := fmt.Sscan(l, &p); err == nil && strings.HasSuffix(l, "\n") {
			pids = append(pids, p)
		}
	}
	return pids
}

// alive reports whether pid is a live (non-zombie) process.
func alive(pid int) bool {
	p, ok := readStat(pid)
	return ok && p.State != 'Z' && p.State != 'X'
}

var cancelTrailerRe = regexp.MustCompile(`build cancelled after \S+ \((.*)\)`)

func TestFakeBuildCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		hang  string
		grace time.Duration
		// stages is what the trailer lists, with each later stage's time
		// since the first; the times must be at least these.
		stages []string
		after  []time.Duration
		swept  bool // processes left behind were ended after make exited
		kill   bool // Kill right after Cancel (a second Ctrl-C)
	}{
		// make stops on SIGINT, as with Ctrl-C in a terminal; the
		// daemon-like child a step left (ignoring SIGINT and SIGHUP) is
		// swept with SIGTERM. The grace period is long: SIGINT alone must
		// do.
		{hang: "busybox:build", grace: time.Hour, stages: []string{"SIGINT to make's process group"}, swept: true},
		// A step that ignores SIGINT and SIGTERM: SIGKILL after the grace
		// periods, for make and all of its session.
		{hang: "busybox:build:stubborn", grace: 300 * time.Millisecond,
			stages: []string{"SIGINT to make's process group", "SIGTERM after", "SIGKILL after"},
			after:  []time.Duration{300 * time.Millisecond, 600 * time.Millisecond}},
		// The same step and a second Ctrl-C: SIGKILL at once, without
		// waiting out the (hour-long) grace period.
		{hang: "busybox:build:stubborn", grace: time.Hour, kill: true,
			stages: []string{"SIGINT to make's process group", "SIGKILL after"},
			after:  []time.Duration{0}},
	}
	for _, tc := range tests {
		name := tc.hang
		if tc.kill {
			name += "+kill"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ws := fakeWorkspace(t)
			pidFile := filepath.Join(t.TempDir(), "pids")
			b := mustStart(t, Options{Workspace: ws, Env: fakeEnv("FAKE_HANG="+tc.hang, "FAKE_PIDS="+pidFile), Grace: tc.grace})
			// Both processes of the hanging step have written their PIDs,
			// after setting their traps.
			s := waitFor(t, b, "busybox's build step hanging", func(s Snapshot) bool {
				return len(s.Active) > 0 && s.Active[0].Name == "busybox" && s.Active[0].Step == "build" && len(pidsIn(pidFile)) == 2
			})
			sid := s.PID
			if sid <= 0 || len(sessionProcs(sid)) == 0 {
				t.Fatalf("make's session %d has no processes before the cancel", sid)
			}
			pids := pidsIn(pidFile)
			t0 := time.Now()
			b.Cancel()
			if s := b.Snapshot(); len(tc.after) > 0 && (!s.Cancelling || s.Phase != Running) {
				t.Errorf("during the grace period: phase %s, cancelling %v; want running, cancelling", s.Phase, s.Cancelling)
			}
			if tc.kill {
				b.Kill()
			}
			s = waitDone(t, b, "a cancelled build")
			took := time.Since(t0)
			if s.Phase != Cancelled || s.Failure != nil || s.Cancelling {
				t.Errorf("phase %s, failure %+v, cancelling %v", s.Phase, s.Failure, s.Cancelling)
			}
			if left := sessionProcs(sid); len(left) > 0 {
				t.Errorf("processes of the build left behind: %+v", left)
			}
			for _, p := range pids {
				if alive(p) {
					t.Errorf("pid %d of the hanging step is still alive", p)
				}
			}
			_, trailer := logBody(t, s.LogPath)
			m := cancelTrailerRe.FindStringSubmatch(trailer)
			if m == nil {
				t.Fatalf("trailer %q does not say the build was cancelled and how", trailer)
			}
			stages := strings.Split(m[1], ", then ")
			if len(stages) != len(tc.stages) {
				t.Fatalf("trailer %q: signals %q, want %d stage(s): %q", trailer, m[1], len(tc.stages), tc.stages)
			}
			for i, st := range stages {
				if !strings.HasPrefix(st, tc.stages[i]) {
					t.Errorf("stage %d: %q, want %q", i, st, tc.stages[i])
				}
				if i == 0 {
					continue
				}
				d, err := time.ParseDuration(strings.TrimPrefix(st, tc.stages[i]+" "))
				if err != nil || d < tc.after[i-1] {
					t.Errorf("stage %q: %v, want at least %s after the first", st, err, tc.after[i-1])
				}
			}
			if tc.swept != strings.Contains(trailer, "make left behind (SIGTERM)") {
				t.Errorf("trailer %q: a note on processes ended after make: %v, want %v", trailer, !tc.swept, tc.swept)
			}
			if len(tc.after) > 0 && took < tc.after[len(tc.after)-1] {
				t.Errorf("took %s: SIGKILL came before the grace periods", took)
			}
		})
	}
}

// Cancel while make show-info still runs (seconds to minutes on a real
// tree): show-info is stopped, make never starts, the log says so.
func TestCancelWhilePreparing(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	pidFile := filepath.Join(t.TempDir(), "pids")
	b := mustStart(t, Options{Workspace: ws, Env: fakeEnv("FAKE_HANG=show-info", "FAKE_PIDS="+pidFile)})
	s := waitFor(t, b, "make show-info running", func(Snapshot) bool { return len(pidsIn(pidFile)) == 1 })
	if s.Phase != Preparing {
		t.Fatalf("phase %s while show-info runs", s.Phase)
	}
	b.Cancel()
	s = waitDone(t, b, "a cancel during show-info")
	if s.Phase != Cancelled || s.PID != 0 || s.Command != nil || s.Total != 0 {
		t.Errorf("phase %s, make PID %d, command %q, total %d; want cancelled before make ran", s.Phase, s.PID, s.Command, s.Total)
	}
	if p := pidsIn(pidFile)[0]; alive(p) {
		t.Errorf("show-info (pid %d) survived the cancel", p)
	}
	body, trailer := logBody(t, s.LogPath)
	if body != "" || !strings.Contains(trailer, "build cancelled after ") || !strings.Contains(trailer, "(before make started)") {
		t.Errorf("log body %q, trailer %q", body, trailer)
	}
	if log, _ := os.ReadFile(s.LogPath); !strings.Contains(string(log), "\n=== command:   none, make was not started\n") {
		t.Errorf("the log's header names a command:\n%s", log)
	}
}

// With per-package directories Buildroot builds packages in parallel at
// the top level: steps of several packages run at once and their output
// interleaves. The instrumentation events keep the count right.
func TestFakeBuildTopLevelParallel(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	if err := os.WriteFile(ws.ConfigFile(), []byte("BR2_HAVE_DOT_CONFIG=y\nBR2_PER_PACKAGE_DIRECTORIES=y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := mustStart(t, Options{Workspace: ws, Env: fakeEnv("FAKE_DELAY=0.05"), Jobs: 4})
	s := waitDone(t, b, "a parallel build")
	if s.Phase != Succeeded || s.Done != 7 || s.Total != 7 || s.Warnings != 3 {
		t.Fatalf("phase %s, %d/%d, %d warnings", s.Phase, s.Done, s.Total, s.Warnings)
	}
	// The journal is in the order the steps started and ended: several
	// packages had a step running at once.
	running := map[string]int{}
	most := 0
	for _, e := range b.Events(0) {
		switch e.Kind {
		case StepStarted:
			running[e.Package]++
		case StepEnded:
			if running[e.Package]--; running[e.Package] == 0 {
				delete(running, e.Package)
			}
		}
		most = max(most, len(running))
	}
	if most < 2 || len(running) != 0 {
		t.Errorf("at most %d package(s) had a step running at once (want parallel steps); still running at the end: %v", most, running)
	}
	for _, p := range s.Packages {
		if p.Status != Built {
			t.Errorf("%s: %s", p.Name, p.Status)
		}
	}
}

// Nothing in a build may wait for a person: a step that reads stdin (as
// Kconfig's syncconfig does about NEW symbols) gets end of file and goes
// on with the default, instead of hanging on the pty.
func TestFakeBuildNeverWaitsForInput(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	b := mustStart(t, Options{Workspace: ws, Env: fakeEnv("FAKE_ASK=zlib")})
	s := waitDone(t, b, "a step asking a question")
	log, _ := os.ReadFile(s.LogPath)
	if s.Phase != Succeeded || !strings.Contains(string(log), "[N/y/?] (NEW) \nanswer: ''") {
		t.Errorf("phase %s; log:\n%s", s.Phase, log)
	}
}

func TestFakeBuildrootScriptPassesShellcheck(t *testing.T) {
	t.Parallel()
	bin := testenv.Tool(t, "shellcheck")[0]
	out, err := exec.Command(bin, filepath.Join("testdata", "fakebr", "fake-step.sh")).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// Instrumentation scripts the .config already names keep running next to
// cube-hal's (a command-line BR2_INSTRUMENTATION_SCRIPTS replaces the
// .config's value, so cube-hal passes both).
func TestFakeBuildKeepsTheUsersInstrumentationScripts(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	dir := t.TempDir()
	userLog := filepath.Join(dir, "user-events")
	script := filepath.Join(dir, "user-hook.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 $2 $3\" >>"+userLog+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "BR2_HAVE_DOT_CONFIG=y\nBR2_INSTRUMENTATION_SCRIPTS=\"" + script + "\"\n"
	if err := os.WriteFile(ws.ConfigFile(), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s := waitDone(t, mustStart(t, Options{Workspace: ws, Env: fakeEnv()}), "a build with the user's hook")
	if s.Phase != Succeeded || s.Done != 7 {
		t.Fatalf("phase %s, %d/%d", s.Phase, s.Done, s.Total)
	}
	got, err := os.ReadFile(userLog)
	if err != nil || !strings.Contains(string(got), "start download host-skeleton\n") || !strings.Contains(string(got), "end install-image linux\n") {
		t.Errorf("the user's hook saw: %q (%v)", got, err)
	}
	if cmd := strings.Join(s.Command, " "); !strings.Contains(cmd, "BR2_INSTRUMENTATION_SCRIPTS="+script+" /") {
		t.Errorf("command %q does not pass the user's script first", cmd)
	}
}

// make source: a package is done once downloaded.
func TestFakeBuildSource(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	b := mustStart(t, Options{Workspace: ws, Env: fakeEnv(), Targets: []string{"source"}})
	s := waitDone(t, b, "make source")
	if s.Phase != Succeeded || s.Total != 7 || s.Done != 7 || s.Percent != 100 {
		t.Fatalf("phase %s, %d/%d, %.0f%%", s.Phase, s.Done, s.Total, s.Percent)
	}
	for _, e := range b.Events(0) {
		if e.Kind == StepStarted && e.Step != "download" {
			t.Errorf("source ran a %s step of %s", e.Step, e.Package)
		}
	}
	for _, p := range s.Packages {
		if p.Counted && (p.StepsTotal != 1 || p.Status != Built) {
			t.Errorf("%s: %+v", p.Name, p)
		}
	}
	if fileExists(filepath.Join(ws.OutputDir, "build", "zlib-1.3.1", ".stamp_extracted")) {
		t.Error("source extracted a package")
	}
}

// One build at a time per output directory.
func TestSecondBuildInTheSameOutputIsRefused(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	b := mustStart(t, Options{Workspace: ws, Env: fakeEnv("FAKE_HANG=host-skeleton:build")})
	_, err := Start(Options{Workspace: ws, Env: fakeEnv()})
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), ws.OutputDir) || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("second Start: %v, want ErrBusy naming the directory and this process", err)
	}
	if _, err := os.Stat(filepath.Join(ws.OutputDir, LogName+".old")); err == nil {
		t.Error("the refused build rotated the running build's log")
	}
	b.Cancel()
	waitDone(t, b, "the first build, cancelled")
	b2 := mustStart(t, Options{Workspace: ws, Env: fakeEnv(), Targets: []string{"host-skeleton"}})
	if s := waitDone(t, b2, "the build after it"); s.Phase != Succeeded {
		t.Errorf("phase %s", s.Phase)
	}
}

// make missing: Start succeeds, the build fails with a hint.
func TestNoMakeProgram(t *testing.T) {
	t.Parallel()
	ws := fakeWorkspace(t)
	s := waitDone(t, mustStart(t, Options{Workspace: ws, Env: fakeEnv(), Make: "/nonexistent/gmake"}), "no make")
	if s.Phase != Failed || s.Failure == nil || !strings.Contains(s.Failure.Hint, "/nonexistent/gmake") || s.Failure.Cause != CauseMissingTool {
		t.Fatalf("phase %s, failure %+v", s.Phase, s.Failure)
	}
	_, trailer := logBody(t, s.LogPath)
	if !strings.Contains(trailer, "build failed") {
		t.Errorf("trailer %q", trailer)
	}
}

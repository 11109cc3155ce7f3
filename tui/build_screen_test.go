package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/build"
	"github.com/ultravioletrs/cube-hal/cubecfg"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// The build screen before any build: the workspace, and the validation
// that refuses a build of an invalid configuration.
func TestBuildScreenValidatesFirst(t *testing.T) {
	fb := newFakeBackends(t)
	fb.build.check.Problems = []cubecfg.Problem{{Symbol: "BR2_PACKAGE_CUBE_AGENT_PORT", Message: "Agent Port: 70000 is not in 1-65535"}}
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Build")
	l.shows("Build the image", "Buildroot   /br", "Output      /out", "The configuration has 1 problem", "Agent Port: 70000 is not in 1-65535")
	l.keys("b")
	l.shows("Refusing to build: the configuration has 1 problem")
	if n := len(fb.build.runs); n != 0 {
		t.Fatalf("%d builds started with an invalid configuration", n)
	}

	// Fixed (the check runs again for each build): the build starts.
	fb.build.mu.Lock()
	fb.build.check.Problems = nil
	fb.build.mu.Unlock()
	l.keys("b")
	r := fb.build.next(t, l)
	if r.targets != nil {
		t.Errorf("targets = %q, want none (the whole image)", r.targets)
	}
	if r.cols != 98 || r.rows < 10 {
		t.Errorf("pty %dx%d, want the log pane's inner size (98 wide)", r.cols, r.rows)
	}
}

// A build refused for missing certificates: the four files are listed,
// and what to do about them ('cube-hal certs') is said once.
func TestBuildScreenCertsHintOnce(t *testing.T) {
	fb := newFakeBackends(t)
	vals := cubecfg.Values{cubecfg.SymAgent: "y", cubecfg.SymOllama: "y"}
	fb.build.check.Problems = cubecfg.Validate(vals.Get, t.TempDir())
	if len(fb.build.check.Problems) != 4 {
		t.Fatalf("want the 4 certificate files missing, got %v", fb.build.check.Problems)
	}
	for _, w := range []int{60, 80, 120} {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			l := newLoop(t, fb.options(), w, 30)
			l.tab("Build")
			l.keys("b")
			s := l.shows("Refusing to build: the configuration has 4 problems", "The configuration has 4 problems",
				"Server CA Certificates File: ", "Server Key File: ", "run 'cube-hal certs' for development")
			if n := strings.Count(s, "cube-hal certs"); n != 1 {
				t.Errorf("'cube-hal certs' shown %d times, want once:\n%s", n, s)
			}
			if len(fb.build.runs) != 0 {
				t.Fatal("a build started without its certificates")
			}
		})
	}
}

func TestBuildScreenBlocked(t *testing.T) {
	fb := newFakeBackends(t)
	fb.build.check = BuildCheck{Blocker: "no Buildroot checkout to build with (standalone mode)", Hint: "start cube-hal with --buildroot DIR"}
	l := newLoop(t, fb.options(), 80, 24)
	l.tab("Build")
	l.shows("✗ no Buildroot checkout to build with", "start cube-hal with --buildroot DIR")
	l.keys("b")
	l.shows("Cannot build: no Buildroot checkout")
	if len(fb.build.runs) != 0 {
		t.Fatal("a build started in standalone mode")
	}
}

// Knotty-style progress: packages N of M, percent, ETA, warnings, the
// running packages with step and time, the live log.
func TestBuildScreenProgress(t *testing.T) {
	fb := newFakeBackends(t)
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Build")
	l.keys("b")
	r := fb.build.next(t, l)
	r.mu.Lock()
	r.holdCancel = true
	r.mu.Unlock()
	r.update(func(s *build.Snapshot, lines *[]string) {
		s.Done, s.Total, s.Percent, s.ETA, s.Elapsed, s.Warnings = 3, 7, 42.5, 20*time.Second, 12*time.Second, 2
		s.Active = []build.Package{
			{Name: "host-fakegcc", Version: "14.2.0", Step: "build", Label: "Building", Elapsed: 3 * time.Second, Expected: 9 * time.Second},
			{Name: "zlib", Version: "1.3.1", Step: "configure", Elapsed: time.Second},
		}
		for i := 0; i < 40; i++ {
			*lines = append(*lines, fmt.Sprintf("gcc -c file%02d.c", i))
		}
	})
	s := l.shows("Building the image", "3 of 7 packages · 42% · ETA 0:20 · 2 warnings", "running 0:12",
		"▸ host-fakegcc 14.2.0", "Building", "0:03 of ~0:09", "▸ zlib 1.3.1", "Configuring",
		"Log", "following", "gcc -c file39.c")
	if strings.Contains(s, "gcc -c file00.c") {
		t.Errorf("the log pane shows more lines than it has:\n%s", s)
	}

	// Scrolling up pauses the pane on what it showed; new output is not
	// drawn until f.
	l.keys("up", "up")
	l.shows("paused, 2 lines up", "gcc -c file37.c")
	l.lacks("gcc -c file39.c")
	r.update(func(s *build.Snapshot, lines *[]string) { *lines = append(*lines, "NEW LINE") })
	l.until("the frame with the new line", func() bool { return slices.Contains(l.buildScreen().live, "NEW LINE") })
	l.lacks("NEW LINE")
	l.keys("f")
	l.shows("following", "NEW LINE")

	// ctrl+c asks; n keeps building; the app does not quit.
	l.keys("ctrl+c")
	l.shows("Cancel the build?", "y cancel the build", "n keep building")
	l.keys("n")
	l.lacks("Cancel the build?")
	if r.wasCancelled() || l.quit {
		t.Fatal("answering no cancelled the build or quit")
	}
	l.keys("ctrl+c")
	l.shows("Cancel the build?")
	l.keys("y")
	l.until("Cancel", r.wasCancelled)
	l.shows("Cancelling the build")
	r.finish(func(s *build.Snapshot) { s.Phase = build.Cancelled; s.Elapsed = 15 * time.Second })
	l.shows("Build of the image cancelled after 0:15", "make and everything it started are gone")
	if l.quit {
		t.Fatal("cancelling the build quit the app")
	}
}

// A failed build names the package and step, shows the last lines, opens
// the full log and rebuilds the package.
func TestBuildScreenFailure(t *testing.T) {
	fb := newFakeBackends(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "cube-hal-build.log")
	var log strings.Builder
	log.WriteString("=== cube-hal: make\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&log, "\x1b[32mline %03d\x1b[0m\r\n", i)
	}
	log.WriteString("progress 10%\rprogress 100%\n")
	log.WriteString("In file included from " + strings.Repeat("/very/long/path", 8) + "/busybox.h:3: END OF THE LONG LINE\n")
	log.WriteString("busybox.c:12: error: expected ';'\n")
	os.WriteFile(logPath, []byte(log.String()), 0o644)

	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Build")
	l.keys("b")
	r := fb.build.next(t, l)
	r.finish(func(s *build.Snapshot) {
		s.Phase, s.ExitCode, s.Elapsed, s.Done, s.Total, s.LogPath = build.Failed, 2, 12*time.Second, 4, 7, logPath
		s.Failure = &build.Failure{Package: "busybox", Version: "1.38.0", Step: "build", Label: "Building",
			MakeError: "make: *** [package/pkg-generic.mk:283: /out/build/busybox-1.38.0/.stamp_built] Error 1",
			Lines:     []string{"CC busybox.o", "busybox.c:12: error: expected ';'"},
			Cause:     build.CauseCompile, Hint: "a compiler error in busybox: read the lines above", LogPath: logPath}
	})
	l.shows("✗ Build failed in busybox 1.38.0, step build after 0:12", "exit status 2",
		".stamp_built] Error 1", "hint: a compiler error in busybox", "Last lines of busybox 1.38.0, step build",
		"busybox.c:12: error: expected ';'", "r rebuild busybox", "l full log")

	// The full log, at its end, without escapes or carriage-return steps.
	l.keys("l")
	s := l.shows("Build log "+logPath, "busybox.c:12: error: expected ';'", "progress 100%")
	if strings.Contains(s, "progress 10%") || strings.Contains(s, "[32m") {
		t.Errorf("raw output in the log view:\n%s", s)
	}
	l.lacks("line 000")
	// A line longer than the screen wraps, as less shows it; w cuts it at
	// the edge; the layout follows the window.
	l.shows("END OF THE LONG LINE")
	l.keys("w")
	l.lacks("END OF THE LONG LINE")
	l.shows("w wrap long lines")
	l.send(windowSize(300, 30))
	l.shows("END OF THE LONG LINE")
	l.send(windowSize(100, 30))
	l.keys("w")
	l.shows("END OF THE LONG LINE", "w cut long lines")
	l.keys("/")
	l.typeText("LINE 005")
	l.keys("enter")
	l.shows(`"LINE 005" on line 7`, "line 005")
	l.keys("esc")
	l.shows("Last lines of busybox")

	l.keys("r")
	r2 := fb.build.next(t, l)
	if !slices.Equal(r2.targets, []string{"busybox-rebuild"}) {
		t.Fatalf("rebuild targets = %q", r2.targets)
	}
	l.shows("Building busybox-rebuild")
}

// A finished build lists its images; the launch screen is told.
func TestBuildScreenSuccessListsImages(t *testing.T) {
	fb := newFakeBackends(t)
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Build")
	l.keys("b")
	r := fb.build.next(t, l)
	fb.build.mu.Lock()
	fb.build.images = workspace.ImagesState{Dir: "/out/images", Files: []workspace.Image{
		{Name: "bzImage", Size: 5 << 20, ModTime: time.Date(2026, 5, 4, 12, 3, 0, 0, time.UTC)},
		{Name: "rootfs.cpio.gz", Size: 40 << 20, ModTime: time.Date(2026, 5, 4, 12, 4, 0, 0, time.UTC)},
	}}
	fb.build.mu.Unlock()
	fb.launch.mu.Lock()
	fb.launch.imgErr = fmt.Errorf("no kernel")
	fb.launch.mu.Unlock()
	r.finish(func(s *build.Snapshot) {
		s.Phase, s.Done, s.Total, s.Percent, s.Elapsed = build.Succeeded, 7, 7, 100, 25*time.Second
	})
	l.shows("✓ Built the image in 0:25", "7 of 7 packages · 100%", "Images in /out/images:",
		"bzImage", "5.0 MiB", "rootfs.cpio.gz", "40.0 MiB", "3 shows the Launch screen")
	fb.launch.mu.Lock()
	fb.launch.imgErr = nil
	fb.launch.mu.Unlock()
	l.until("the launch screen to look again", func() bool { return l.launchScreen().imagesErr == nil })
}

// Configure's unsaved changes are not in the build: ask first.
func TestBuildScreenUnsavedChanges(t *testing.T) {
	fb := newFakeBackends(t)
	l := newLoop(t, fb.options(), 100, 30)
	l.buildScreen().ses.unsaved = func() []string { return []string{"2 unsaved changes"} }
	l.tab("Build")
	l.keys("b")
	l.shows("Build with the saved configuration?", "Configure has 2 unsaved changes", "y build anyway")
	l.keys("n")
	l.deliver(50 * time.Millisecond)
	if len(fb.build.runs) != 0 {
		t.Fatal("built although the answer was no")
	}
	l.keys("b")
	l.shows("Build with the saved configuration?")
	l.keys("y")
	fb.build.next(t, l)
}

// Quitting during a build asks, and the build is cancelled on the way out.
func TestBuildScreenQuitCancels(t *testing.T) {
	fb := newFakeBackends(t)
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Build")
	l.keys("b")
	r := fb.build.next(t, l)
	l.tab("Configure")
	l.keys("ctrl+c")
	l.shows("Quit cube-hal?", "Build: a build is running: quitting cancels it", "y quit")
	l.keys("y")
	l.until("quit", func() bool { return l.quit })
	l.app.close()
	if !r.wasCancelled() {
		t.Fatal("the build was not cancelled on quit")
	}
}

func TestCleanLogLine(t *testing.T) {
	cases := map[string]string{
		"plain\n":          "plain",
		"a\r\n":            "a",
		"10%\r50%\r100%\n": "100%",
		"\x1b[7m>>> busybox Building\x1b[27m\r\n": ">>> busybox Building",
		"a\tb\n":   "a       b",
		"bell\a\n": "bell",
	}
	for in, want := range cases {
		if got := cleanLogLine([]byte(in)); got != want {
			t.Errorf("cleanLogLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadLogLinesKeepsTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "line %04d\n", i)
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	lines, truncated, err := readLogLines(path, 100)
	if err != nil || !truncated {
		t.Fatalf("err %v, truncated %v", err, truncated)
	}
	if lines[len(lines)-1] != "line 0999" || strings.HasPrefix(lines[0], "ine") || len(lines) > 10 {
		t.Fatalf("lines = %q", lines)
	}
}

package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"

	"github.com/ultravioletrs/cube-hal/build"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// fakeBuildroot returns the fake Buildroot of the build package's tests
// and a configured output directory.
func fakeBuildroot(t *testing.T) (br, out string) {
	t.Helper()
	testenv.Tool(t, "make", "bash", "tput")
	br, err := filepath.Abs(filepath.Join("build", "testdata", "fakebr"))
	if err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	if err := os.WriteFile(filepath.Join(out, ".config"), []byte("BR2_HAVE_DOT_CONFIG=y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CI", "")
	t.Setenv("FAKE_DELAY", "0.005")
	return br, out
}

func TestBuildPlainOutput(t *testing.T) {
	br, out := fakeBuildroot(t)
	code, stdout, stderr := runCLI(t, "--buildroot", br, "-O", out, "build", "--jobs", "2")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// One line per event, in order, with the count.
	for _, want := range []string{
		`(?m)^\[\d+:\d\d\] 0/7 host-skeleton: Extracting$`,
		`(?m)^\[\d+:\d\d\] 1/7 host-skeleton built in \d+:\d\d$`,
		`(?m)^\[\d+:\d\d\] 3/7 zlib: Building$`,
		`(?m)^\[\d+:\d\d\] 7/7 linux built in \d+:\d\d$`,
		`(?m)^\[\d+:\d\d\] Generating filesystem image rootfs.cpio$`,
		`(?m)^Finished \[=+\] 7/7  \d+:\d\d$`,
		`(?m)^log: ` + regexp.QuoteMeta(filepath.Join(out, build.LogName)) + `$`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("stdout does not match %s:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "\r") || strings.Contains(stdout, "\x1b") {
		t.Errorf("plain output holds CRs or escapes:\n%q", stdout)
	}
	log, err := os.ReadFile(filepath.Join(out, build.LogName))
	if err != nil || !strings.Contains(string(log), "make -j2 BR2_JLEVEL=2 O="+out) {
		t.Errorf("the log does not show the make command with --jobs: %v", err)
	}
}

func TestBuildFailureReport(t *testing.T) {
	br, out := fakeBuildroot(t)
	t.Setenv("FAKE_FAIL", "zlib:build")
	t.Setenv("FAKE_LINES", "5")
	code, stdout, stderr := runCLI(t, "--buildroot", br, "-O", out, "build")
	if code != 2 {
		t.Fatalf("exit %d, want make's 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"Build failed in zlib 1.3.1, step build after ",
		".stamp_built] Error 2",
		"Last lines of zlib 1.3.1, step build:\n  | >>> zlib 1.3.1 Building\n",
		"  | src/main.c:42:5: error: 'cube_token' undeclared",
		"Full log: " + filepath.Join(out, build.LogName),
		"cube-hal: build failed in zlib 1.3.1, step build\nhint: zlib failed to build",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestBuildRefusals(t *testing.T) {
	br, out := fakeBuildroot(t)
	noConfig := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		code  int
		msg   string
		hint  string
		valid func(*workspace.Workspace) error
	}{
		{"no Buildroot", []string{"-O", out, "build"}, exitFailed, "Buildroot checkout: none set", "BUILDROOT_DIR", nil},
		{"no .config", []string{"--buildroot", br, "-O", noConfig, "build"}, exitFailed, filepath.Join(noConfig, ".config") + " does not exist", "cube-hal defconfig", nil},
		{"interactive goal", []string{"--buildroot", br, "-O", out, "build", "menuconfig"}, exitUsage, `target "menuconfig" is interactive`, "build --help", nil},
		{"make options", []string{"--buildroot", br, "-O", out, "build", "--", "-k"}, exitUsage, `target "-k"`, "", nil},
		{"negative jobs", []string{"--buildroot", br, "-O", out, "build", "--jobs", "-1"}, exitUsage, "--jobs -1", "", nil},
		{"invalid config", []string{"--buildroot", br, "-O", out, "build"}, exitFailed,
			"refusing to build: overlay/etc/cube/certs/server.crt is missing", "cube-hal certs",
			func(*workspace.Workspace) error {
				return errors.New("overlay/etc/cube/certs/server.crt is missing (the agent's TLS certificate)")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BUILDROOT_DIR", "")
			if tc.valid != nil {
				orig := configValidator
				configValidator = tc.valid
				defer func() { configValidator = orig }()
			}
			code, _, stderr := runCLI(t, tc.args...)
			hint := stderr[strings.Index(stderr, "\nhint: ")+1:]
			if code != tc.code || !strings.Contains(stderr, tc.msg) || !strings.HasPrefix(hint, "hint: ") || !strings.Contains(hint, tc.hint) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant %q and a hint with %q", code, tc.code, stderr, tc.msg, tc.hint)
			}
			if _, err := os.Stat(filepath.Join(out, build.LogName)); err == nil {
				t.Errorf("a build started (there is a log)")
			}
		})
	}
	// The real validation: the agent is enabled and the overlay has none of
	// the certificates it needs.
	t.Run("missing certificate", func(t *testing.T) {
		cfgOut := t.TempDir()
		if err := os.WriteFile(filepath.Join(cfgOut, ".config"), []byte("BR2_HAVE_DOT_CONFIG=y\nBR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_OLLAMA=y\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		overlay := t.TempDir()
		code, _, stderr := runCLI(t, "--buildroot", br, "-O", cfgOut, "--overlay", overlay, "build")
		want := "refusing to build: Server CA Certificates File: " + filepath.Join(overlay, "etc/cube/certs/ca.pem") + " is missing; " +
			"Server Certificate File: " + filepath.Join(overlay, "etc/cube/certs/server.crt") + " is missing; "
		hint := "\nhint: run 'cube-hal certs' for development certificates, or set the Agent CA URL, then build again\n"
		if code != exitFailed || !strings.Contains(stderr, want) || !strings.HasSuffix(stderr, hint) {
			t.Errorf("exit %d, stderr:\n%s\nwant %q and the hint %q", code, stderr, want, hint)
		}
		// Four files are missing; what to do about it is said once.
		if n := strings.Count(stderr, "cube-hal certs"); n != 1 {
			t.Errorf("'cube-hal certs' said %d times, want once:\n%s", n, stderr)
		}
		if _, err := os.Stat(filepath.Join(cfgOut, build.LogName)); err == nil {
			t.Errorf("a build started (there is a log)")
		}

		// With a bad value as well, the hint names both fixes, each once.
		if err := os.WriteFile(filepath.Join(cfgOut, ".config"), []byte("BR2_HAVE_DOT_CONFIG=y\nBR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_OLLAMA=y\n"+
			"BR2_PACKAGE_CUBE_AGENT_HOST=\"10.0.0.300\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr = runCLI(t, "--buildroot", br, "-O", cfgOut, "--overlay", overlay, "build")
		want = `refusing to build: Agent Host: "10.0.0.300": 300 is not an IPv4 octet (0-255); Server CA Certificates File: `
		hint = "\nhint: fix the configuration ('cube-hal conf'); run 'cube-hal certs' for development certificates, or set the Agent CA URL, then build again\n"
		if code != exitFailed || !strings.Contains(stderr, want) || !strings.HasSuffix(stderr, hint) || strings.Count(stderr, "cube-hal certs") != 1 {
			t.Errorf("exit %d, stderr:\n%s\nwant %q and the hint %q, 'cube-hal certs' once", code, stderr, want, hint)
		}
	})
	// The validator is not consulted for goals that build nothing.
	orig := configValidator
	configValidator = func(*workspace.Workspace) error { return errors.New("invalid") }
	defer func() { configValidator = orig }()
	if code, _, stderr := runCLI(t, "--buildroot", br, "-O", out, "build", "clean"); code != exitOK {
		t.Errorf("clean refused: %d %s", code, stderr)
	}
}

// On a terminal: one progress line redrawn in place, at most every 100 ms,
// with finished packages printed above it.
func TestBuildLiveProgressLine(t *testing.T) {
	br, out := fakeBuildroot(t)
	t.Setenv("FAKE_DELAY", "0.05")
	t.Setenv("TERM", "xterm-256color")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: 100, Rows: 30}); err != nil {
		t.Fatal(err)
	}
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(read) }()
	var stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"--buildroot", br, "-O", out, "build"}, tty, &stderr)
	took := time.Since(start)
	tty.Close()
	<-read
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	s := strings.ReplaceAll(screen.String(), "\r\n", "\n")
	redraws := strings.Count(s, "\x1b[K") - strings.Count(s, "\r\x1b[K")
	if redraws < 5 {
		t.Errorf("only %d redraws of the progress line:\n%q", redraws, s)
	}
	if max := int(took/(100*time.Millisecond)) + 2; redraws > max {
		t.Errorf("%d redraws in %s: more than one per 100 ms", redraws, took)
	}
	plain := ansi.Strip(s)
	// Which steps a 100 ms redraw catches depends on the machine's load;
	// that it shows the count, a package and its step does not.
	if !regexp.MustCompile(`\rBuilding \[=*>? *\] [0-6]/7 [a-z-]+: [A-Z][a-z]+( to [a-z]+)?  \d+:\d\d`).MatchString(plain) {
		t.Errorf("no progress line with a package step:\n%q", plain)
	}
	// Finished packages on lines of their own above it, and the outcome.
	for _, want := range []string{
		`[\r\n]\[\d+:\d\d\] 2/7 host-tar built in \d+:\d\d\n`,
		`[\r\n]Finished \[={24}\] 7/7  \d+:\d\d\n`,
	} {
		if !regexp.MustCompile(want).MatchString(plain) {
			t.Errorf("terminal output does not match %s:\n%q", want, plain)
		}
	}
	if strings.Contains(plain, ": Extracting\n") {
		t.Errorf("step starts were printed as lines on a terminal:\n%s", plain)
	}
	for _, l := range strings.Split(plain, "\r") {
		for _, row := range strings.Split(l, "\n") {
			if ansi.StringWidth(row) > 99 {
				t.Errorf("a line wider than the terminal: %q", row)
			}
		}
	}
}

// With a real Buildroot tree (and the repository's Cube external tree), a
// real `cube-hal build` of a small defconfig fails at its first download
// (there is no network here) and says which package, the step, the log and
// what to do. The download directory is fresh, so nothing is cached.
func TestBuildRealBuildrootOffline(t *testing.T) {
	br := testenv.BuildrootDir(t)
	testenv.Tool(t, "make", "gcc", "g++", "wget", "rsync", "bc", "cpio", "unzip", "perl", "file", "patch")
	out := t.TempDir()
	t.Setenv("BR2_DL_DIR", t.TempDir())
	t.Setenv("CI", "")
	code, stdout, stderr := runCLI(t, "--buildroot", br, "-O", out, "build", "qemu_x86_64_defconfig")
	if code != exitOK {
		t.Fatalf("defconfig: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "--buildroot", br, "-O", out, "build")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 2 {
		t.Fatalf("exit %d, want make's 2", code)
	}
	for _, re := range []string{
		`(?m)^\[\d+:\d\d\] 1/6\d host-skeleton built in \d+:\d\d$`,
		`(?m)^\[\d+:\d\d\] 1/6\d (host-\S+): Downloading$`,
	} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("stdout does not match %s", re)
		}
	}
	m := regexp.MustCompile(`(?m)^Build failed in (\S+) \S+, step download after `).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("stderr does not name the failed package and the download step")
	}
	for _, want := range []string{
		"  | wget: unable to resolve host address",
		"/build/" + m[1] + "-",
		".stamp_downloaded] Error 1",
		"Full log: " + filepath.Join(out, build.LogName),
		"cube-hal: build failed in " + m[1],
		"hint: the download of " + m[1] + " failed and there seems to be no network",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	log, err := os.ReadFile(filepath.Join(out, build.LogName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "BR2_EXTERNAL=") || !strings.Contains(string(log), "failing package "+m[1]+", step download") {
		t.Errorf("the log lacks the make command with the external tree, or the failure trailer")
	}
}

// Ctrl-C on `cube-hal build` (SIGINT to cube-hal, as a terminal sends it),
// or the terminal going away (SIGHUP), cancels the build: make and
// everything it started are gone, the exit code is make's (killed by
// SIGINT: 130) and the log says it was cancelled. cube-hal runs as a real
// process: this test binary, re-executed.
func TestBuildCtrlC(t *testing.T) {
	if args := os.Getenv("CUBE_HAL_TEST_RUN_ARGS"); args != "" {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{
		{"Ctrl-C", syscall.SIGINT},
		{"terminal closed", syscall.SIGHUP},
	} {
		t.Run(tc.name, func(t *testing.T) { testBuildSignal(t, tc.sig) })
	}
}

func testBuildSignal(t *testing.T, sig syscall.Signal) {
	br, out := fakeBuildroot(t)
	pids := filepath.Join(t.TempDir(), "pids")
	cmd := exec.Command(os.Args[0], "-test.run=^TestBuildCtrlC$")
	cmd.Env = append(os.Environ(),
		"CUBE_HAL_TEST_RUN_ARGS="+strings.Join([]string{"--buildroot", br, "-O", out, "build"}, "\x1f"),
		"FAKE_HANG=busybox:build", "FAKE_PIDS="+pids)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Plain output (not a terminal): wait for busybox's build step.
	seen := make(chan string, 1)
	var all strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if strings.HasSuffix(sc.Text(), "busybox: Building") {
				seen <- sc.Text()
			}
		}
		close(seen)
	}()
	select {
	case _, ok := <-seen:
		if !ok {
			t.Fatalf("cube-hal ended before busybox's build step:\n%s\n%s", all.String(), stderr.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("busybox's build step never started")
	}
	// The hanging step's two processes write their PIDs once their traps
	// are set (the fake's FAKE_PIDS).
	for deadline := time.Now().Add(time.Minute); strings.Count(readFile(pids), "\n") < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the hanging step wrote no PIDs: %q", readFile(pids))
		}
	}
	session := makeSession(t, out)
	if len(procsIn(session)) < 3 {
		t.Fatalf("make's session %d: %v; want make and the hanging step", session, procsIn(session))
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(3 * time.Minute):
		t.Fatalf("cube-hal did not end after %s:\n%s", sig, stderr.String())
	}
	// cube-hal exits with make's status, as the log's trailer gives it:
	// 130, make killed by the SIGINT cube-hal sent, or 2 when GNU make 4.3
	// trips over its own SIGINT handling ("wait: No child processes.
	// Stop.", about 1 run in 20 with make alone in a session, no cube-hal).
	log := readFile(filepath.Join(out, build.LogName))
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("exit: %v, want make's status", err)
	}
	code := strconv.Itoa(ee.ExitCode())
	switch m := regexp.MustCompile(`=== cube-hal: build cancelled after .*; make exited with status (\d+)\n`).FindStringSubmatch(log); {
	case m == nil || m[1] != code:
		t.Errorf("exit status %s; the log's trailer does not say make exited with it:\n%s", code, tail(log, 1500))
	case code == "130":
	case code == "2" && strings.Contains(log, "\nmake: *** wait: No child processes.  Stop.\n"):
		t.Logf("make 4.3's SIGINT race: make exited with status 2")
	default:
		t.Errorf("exit status %s, want 130 (make killed by SIGINT)\nstderr:\n%s\nlog:\n%s", code, stderr.String(), tail(log, 1500))
	}
	for _, want := range []string{"cube-hal: cancelling the build (Ctrl-C again to kill it at once)", "cube-hal: build cancelled after "} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if left := procsIn(session); len(left) > 0 {
		t.Errorf("processes of the build's session %d survived: %v", session, left)
	}
}

// makeSession finds the make that builds into out (its argv names O=out)
// and returns its session ID, which is its PID: cube-hal starts make as a
// session leader.
func makeSession(t *testing.T, out string) int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		argv := strings.Split(readFile(filepath.Join("/proc", e.Name(), "cmdline")), "\x00")
		if argv[0] == "make" && slices.Contains(argv, "O="+out) {
			if st := statFields(e.Name()); len(st) > 3 && st[3] == e.Name() {
				pid, _ := strconv.Atoi(e.Name())
				return pid
			}
		}
	}
	t.Fatalf("no make with O=%s leading its own session", out)
	return 0
}

// procsIn lists the live (non-zombie) processes whose session or process
// group is id, as "PID (state)".
func procsIn(id int) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		f := statFields(e.Name())
		if len(f) < 4 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if f[2] == strconv.Itoa(id) || f[3] == strconv.Itoa(id) {
			out = append(out, e.Name()+" ("+f[0]+")")
		}
	}
	return out
}

// statFields are the fields of /proc/PID/stat after the command name:
// state, ppid, pgrp, session, ...
func statFields(pid string) []string {
	b := readFile(filepath.Join("/proc", pid, "stat"))
	i := strings.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(b[i+1:])
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

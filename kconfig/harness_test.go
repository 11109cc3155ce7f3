package kconfig

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// Differential testing harness: the same conf command line runs in two
// fresh working directories, once through a reference conf binary and
// once through RunConf in-process, and everything they produce (exit
// status, output, every file written) is compared byte for byte.

var (
	refOnce sync.Once
	refPath string
	refErr  error
	tmpRoot string
)

func TestMain(m *testing.M) {
	if os.Getenv("KCONFIG_TEST_RUN_CONF") == "1" {
		// The test binary as a plain conf, to measure the engine alone
		// (peak RSS, time) without the rest of cube-hal: see the README.
		os.Exit(RunConf("conf", os.Args[1:], ConfIO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
	}
	var err error
	tmpRoot, err = os.MkdirTemp("", "kconfig-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

// buildrootConf builds Buildroot's own conf from $BUILDROOT_DIR once per
// test run (skipping when BUILDROOT_DIR is unset).
func buildrootConf(t testing.TB) string {
	t.Helper()
	br := testenv.BuildrootDir(t)
	testenv.Tool(t, "make", "gcc")
	refOnce.Do(func() {
		obj := filepath.Join(tmpRoot, "refconf")
		if refErr = os.MkdirAll(obj, 0o755); refErr != nil {
			return
		}
		cmd := exec.Command("make", "-s", "-C", filepath.Join(br, "support", "kconfig"), "-f", "Makefile.br",
			"obj="+obj, "HOSTCC=gcc", "conf")
		out, err := cmd.CombinedOutput()
		if err != nil {
			refErr = fmt.Errorf("building Buildroot's conf: %v\n%s", err, out)
			return
		}
		refPath = filepath.Join(obj, "conf")
	})
	if refErr != nil {
		t.Fatal(refErr)
	}
	return refPath
}

// debianConf is Debian's kconfig-conf (Linux 4.11 kconfig).
func debianConf(t testing.TB) string {
	t.Helper()
	return testenv.Tool(t, "kconfig-conf")[0]
}

type runResult struct {
	rc      int
	stdout  string
	stderr  string
	files   map[string]string
	runaway bool // the reference did not stop (conf loops forever on some inputs at end of stdin)
}

// capWriter keeps the first max bytes and calls over once past them.
type capWriter struct {
	buf  bytes.Buffer
	max  int
	over func()
	done bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	if w.buf.Len() < w.max {
		w.buf.Write(p)
	} else if !w.done {
		w.done = true
		w.over()
	}
	return len(p), nil
}

// confCase is one conf invocation: the files to put in the working
// directory first, arguments, environment and standard input.
type confCase struct {
	tree  string            // srctree (the Kconfig tree)
	setup map[string]string // files created in the working directory
	args  []string
	env   map[string]string
	stdin string
}

func (c confCase) prepare(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range c.setup {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (c confCase) fullEnv() map[string]string {
	env := map[string]string{
		"srctree": c.tree, "CONFIG_": "", "BR2_CONFIG": ".config", "KCONFIG_CONFIG": ".config",
		"KCONFIG_AUTOCONFIG": "auto/auto.conf", "KCONFIG_AUTOHEADER": "auto/autoconf.h",
		"KCONFIG_TRISTATE": "auto/tristate.config", "LC_ALL": "C",
	}
	for k, v := range c.env {
		if v == "\x00unset" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return env
}

func collectFiles(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		data, _ := os.ReadFile(p)
		// conf names its temporary files after its pid
		if strings.HasPrefix(filepath.Base(rel), ".tmpconfig.") {
			rel = filepath.Join(filepath.Dir(rel), ".tmpconfig.PID")
		}
		files[rel] = string(data)
		return nil
	})
	return files
}

func runExternal(t testing.TB, bin string, c confCase, dir string) runResult {
	t.Helper()
	c.prepare(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, c.args...)
	cmd.Args[0] = "conf" // conf prints its argv[0] in messages
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range c.fullEnv() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(c.stdin)
	var overflow atomic.Bool // set by stdout's and stderr's copying goroutines
	so := &capWriter{max: 4 << 20, over: func() { overflow.Store(true); cancel() }}
	se := &capWriter{max: 4 << 20, over: func() { overflow.Store(true); cancel() }}
	cmd.Stdout, cmd.Stderr = so, se
	err := cmd.Run()
	runaway := overflow.Load() || ctx.Err() != nil
	rc := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok && !runaway {
			t.Fatalf("running %s: %v", bin, err)
		}
		if ok {
			rc = ee.ExitCode()
		}
	}
	return runResult{rc: rc, stdout: so.buf.String(), stderr: se.buf.String(), files: collectFiles(t, dir), runaway: runaway}
}

func runOurs(t testing.TB, c confCase, dir string) runResult {
	t.Helper()
	c.prepare(t, dir)
	env := c.fullEnv()
	var so, se bytes.Buffer
	rc := RunConf("conf", c.args, ConfIO{
		Stdin: strings.NewReader(c.stdin), Stdout: &so, Stderr: &se, Dir: dir,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	return runResult{rc: rc, stdout: so.String(), stderr: se.String(), files: collectFiles(t, dir)}
}

// diffResults describes the differences between a reference run and ours
// ("" when identical). what selects the parts compared.
func diffResults(ref, ours runResult, what compareWhat) string {
	if ref.runaway {
		// conf repeats a question forever once stdin is exhausted; we stop.
		if ours.rc != 0 && strings.Contains(ours.stderr, "End of input while asking") {
			return ""
		}
		return "the reference did not stop (endless question at end of input), and we did not give up\n"
	}
	var b strings.Builder
	if what.rc && ref.rc != ours.rc {
		fmt.Fprintf(&b, "exit status: reference %d, ours %d\n", ref.rc, ours.rc)
	}
	if what.stdout && ref.stdout != ours.stdout {
		fmt.Fprintf(&b, "stdout differs:\n%s", firstDiff(ref.stdout, ours.stdout))
	}
	if what.stderr && ref.stderr != ours.stderr {
		fmt.Fprintf(&b, "stderr differs:\n%s", firstDiff(ref.stderr, ours.stderr))
	}
	names := map[string]bool{}
	for n := range ref.files {
		names[n] = true
	}
	for n := range ours.files {
		names[n] = true
	}
	var sorted []string
	for n := range names {
		if what.files == nil || what.files[n] {
			sorted = append(sorted, n)
		}
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		r, rok := ref.files[n]
		o, ook := ours.files[n]
		switch {
		case rok && !ook:
			fmt.Fprintf(&b, "%s: written by the reference only\n", n)
		case !rok && ook:
			fmt.Fprintf(&b, "%s: written by us only\n", n)
		case r != o:
			fmt.Fprintf(&b, "%s differs:\n%s", n, firstDiff(r, o))
		}
	}
	return b.String()
}

type compareWhat struct {
	rc, stdout, stderr bool
	files              map[string]bool // nil: all files
}

var compareAll = compareWhat{rc: true, stdout: true, stderr: true}

// firstDiff shows the first differing line with a little context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y || i >= len(al) || i >= len(bl) {
			return fmt.Sprintf("  line %d:\n    reference: %q\n    ours:      %q\n", i+1, x, y)
		}
	}
	return "  (same lines, different bytes)\n"
}

// writeTree writes generated files into dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

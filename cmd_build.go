package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/ultravioletrs/cube-hal/build"
	"github.com/ultravioletrs/cube-hal/cubecfg"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// configValidator checks the workspace's configuration before a build and
// returns why the build would fail (a certificate the image needs is
// missing, an agent setting is invalid), so that cube-hal refuses to start
// a long build that is bound to fail. Tests replace it.
var configValidator = validateCubeConfig

// validateCubeConfig is the Cube external tree's validation
// (cubecfg.Validate) of the .config against the workspace's overlay. Only
// the Cube options are checked, and only when their packages are enabled.
func validateCubeConfig(w *workspace.Workspace) error {
	vals, err := cubecfg.ReadConfig(w.ConfigFile())
	if err != nil {
		return err
	}
	if ps := cubecfg.Validate(vals.Get, w.OverlayDir); len(ps) > 0 {
		return configProblems(ps)
	}
	return nil
}

// configProblems is why a configuration is not fit to build: its error is
// the problems' messages, and its hint says what to do about them, each
// thing once (four missing certificate files name 'cube-hal certs' once).
type configProblems []cubecfg.Problem

func (ps configProblems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Message
	}
	return strings.Join(msgs, "; ")
}

// hint is the problems' own hints, after a word for those without one.
func (ps configProblems) hint() string {
	var todo []string
	for _, p := range ps {
		if p.Hint == "" {
			todo = append(todo, "fix the configuration ('cube-hal conf')")
			break
		}
	}
	return strings.Join(append(todo, cubecfg.Hints(ps)...), "; ") + ", then build again"
}

// redrawEvery is how often the live progress line may be redrawn.
const redrawEvery = 100 * time.Millisecond

func newBuildCmd(g *globalFlags) *cobra.Command {
	var jobs int
	cmd := &cobra.Command{
		Use:   "build [--jobs N] [TARGET...]",
		Short: "Run Buildroot's make with live progress",
		Long: `Run Buildroot's make for the workspace (O=, BR2_EXTERNAL= and -j from it) in a
pty, with progress from Buildroot's own signals: the package list (make
show-info), step events from an instrumentation hook, stamps and earlier build
times for the ETA. The full output goes to <output>/cube-hal-build.log.

On a terminal one progress line is redrawn in place; otherwise (or with CI set)
one line is printed per event. On failure the failing package and step, the
last lines of that step, the log and a hint are shown. Ctrl-C cancels the build
cleanly (SIGINT, then SIGTERM and SIGKILL to make's processes); a second Ctrl-C
kills it at once. The exit code is make's.

TARGET is any make goal: none builds the image; also clean, distclean, source,
<pkg>, <pkg>-rebuild, <pkg>-reconfigure, ...`,
		Example: `  cube-hal build
  cube-hal build --jobs 8
  cube-hal build busybox-rebuild
  cube-hal build source        # download every source, then build offline
  cube-hal build clean`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if jobs < 0 {
				return usageErrorf("--jobs %d: must be 0 (the .config's BR2_JLEVEL) or more", jobs).withHint("leave --jobs out to use the .config's BR2_JLEVEL")
			}
			return runBuild(cmd, g, jobs, args)
		},
	}
	cmd.Flags().IntVarP(&jobs, "jobs", "j", 0, "parallel jobs: make -jN and BR2_JLEVEL=N (default: the .config's BR2_JLEVEL)")
	return cmd
}

func runBuild(cmd *cobra.Command, g *globalFlags, jobs int, targets []string) error {
	w, err := g.workspace()
	if err != nil {
		return err
	}
	w.Jobs = jobs
	if err := w.RequireBuildroot(); err != nil {
		return err
	}
	if err := build.CheckTargets(targets); err != nil {
		return usageErrorf("%s", err).withHint("run 'cube-hal build --help' for the goals it runs")
	}
	if configValidator != nil && needsConfigCheck(targets) {
		if _, err := os.Stat(w.ConfigFile()); err == nil {
			if err := configValidator(w); err != nil {
				hint := "fix the configuration ('cube-hal conf') or the files it names ('cube-hal certs'), then build again"
				var ps configProblems
				if errors.As(err, &ps) {
					hint = ps.hint()
				}
				return failf("refusing to build: %s", err).withHint("%s", hint)
			}
		}
	}

	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	cols, rows, live := terminalSize(stdout)
	if os.Getenv("CI") != "" || os.Getenv("TERM") == "dumb" {
		live = false
	}
	b, err := build.Start(build.Options{Workspace: w, Targets: targets, Cols: cols, Rows: rows})
	if errors.Is(err, build.ErrNoConfig) {
		return failf("%s", err).withHint("configure the workspace first: 'cube-hal defconfig cube_defconfig' (or 'cube-hal build <name>_defconfig')")
	}
	if errors.Is(err, build.ErrBusy) {
		return failf("%s", err).withHint("wait for that build to end, or stop it (Ctrl-C where it runs)")
	}
	if err != nil {
		return failf("%s", err)
	}

	// SIGHUP (the terminal closed, an ssh session dropped) cancels like
	// Ctrl-C: make runs in a session of its own, so without cube-hal it
	// would go on headless, its output lost and its log left without an
	// end.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGWINCH)
	defer signal.Stop(sigs)

	v := &buildView{out: stdout, live: live, width: cols}
	ticker := time.NewTicker(redrawEvery)
	defer ticker.Stop()
	updates := b.Updates()
	interrupts := 0
	for updates != nil {
		select {
		case _, ok := <-updates:
			if !ok {
				updates = nil
				continue
			}
			v.events(b)
		case <-ticker.C:
			// Redraw on the ticker only (at most every redrawEvery), and
			// only when the line changed.
			if v.live {
				v.draw(b.Snapshot())
			}
		case sig := <-sigs:
			switch sig {
			case syscall.SIGWINCH:
				if c, r, ok := terminalSize(stdout); ok {
					v.width = c
					b.Resize(c, r)
				}
			default:
				interrupts++
				v.clear()
				if interrupts == 1 {
					fmt.Fprintln(stderr, "cube-hal: cancelling the build (Ctrl-C again to kill it at once)")
					b.Cancel()
				} else {
					b.Kill()
				}
			}
		}
	}
	s := b.Wait()
	v.events(b)
	v.clear()
	return finishBuild(stdout, stderr, s)
}

// needsConfigCheck reports whether the goals build anything that the
// configuration's validity matters for.
func needsConfigCheck(targets []string) bool {
	for _, t := range targets {
		if t == "clean" || t == "distclean" || t == "source" || strings.HasSuffix(t, "-source") ||
			strings.HasSuffix(t, "_defconfig") || strings.HasSuffix(t, "savedefconfig") || strings.HasPrefix(t, "show-") {
			continue
		}
		return true
	}
	return len(targets) == 0
}

// finishBuild prints the outcome and maps it to the exit code: make's.
func finishBuild(stdout, stderr io.Writer, s build.Snapshot) error {
	switch s.Phase {
	case build.Succeeded:
		fmt.Fprintln(stdout, build.ProgressLine(s, 0, false))
		fmt.Fprintf(stdout, "log: %s\n", s.LogPath)
		return nil
	case build.Cancelled:
		code := s.ExitCode
		if code <= 0 || code > 255 {
			code = 130
		}
		return &cliError{code: code, msg: fmt.Sprintf("build cancelled after %s; log: %s", build.FormatDuration(s.Elapsed), s.LogPath)}
	}
	f := s.Failure
	code := s.ExitCode
	if code <= 0 || code > 255 {
		code = exitFailed
	}
	if f == nil {
		return &cliError{code: code, msg: "build failed; log: " + s.LogPath}
	}
	what := "the build"
	if f.Package != "" {
		what = f.Package
		if f.Version != "" {
			what += " " + f.Version
		}
		what += ", step " + f.Step
	} else if f.Step != "" {
		what = f.Step
	}
	fmt.Fprintf(stderr, "Build failed in %s after %s (make exited with status %d)\n", what, build.FormatDuration(s.Elapsed), s.ExitCode)
	if f.MakeError != "" && (len(f.Lines) == 0 || f.Lines[len(f.Lines)-1] != f.MakeError) {
		fmt.Fprintf(stderr, "  %s\n", f.MakeError)
	}
	if len(f.Lines) > 0 {
		fmt.Fprintf(stderr, "Last lines of %s:\n", what)
		for _, l := range f.Lines {
			fmt.Fprintf(stderr, "  | %s\n", l)
		}
	}
	fmt.Fprintf(stderr, "Full log: %s\n", f.LogPath)
	return &cliError{code: code, msg: "build failed in " + what, hint: f.Hint}
}

// buildView prints a build's progress to a terminal (one line redrawn in
// place, finished packages scrolling above it) or as plain lines.
type buildView struct {
	out   io.Writer
	live  bool
	width int
	shown string // the progress line on screen, "" if none
	next  int    // next journal entry to print
}

func (v *buildView) events(b *build.Build) {
	evs := b.Events(v.next)
	if len(evs) == 0 {
		return
	}
	v.next = evs[len(evs)-1].Seq + 1
	started := b.Snapshot().Started
	for _, e := range evs {
		if v.live && e.Kind == build.StepStarted {
			continue // the progress line shows it
		}
		line := build.EventLine(e, started)
		if line == "" {
			continue
		}
		v.clear()
		fmt.Fprintln(v.out, line)
	}
}

func (v *buildView) draw(s build.Snapshot) {
	line := build.ProgressLine(s, v.width-1, true)
	if line == v.shown {
		return
	}
	fmt.Fprint(v.out, "\r"+line+"\x1b[K")
	v.shown = line
}

func (v *buildView) clear() {
	if v.shown != "" {
		fmt.Fprint(v.out, "\r\x1b[K")
		v.shown = ""
	}
}

// terminalSize reports the size of the terminal w writes to, if it is one.
func terminalSize(w io.Writer) (cols, rows int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile {
		return 80, 24, false
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 80, 24, false
	}
	return int(ws.Col), int(ws.Row), true
}

// Package build runs Buildroot's make for a workspace and turns what it does
// into a progress model that the terminal UI and `cube-hal build` show.
//
// # Running
//
// Start runs make in the Buildroot tree with O=, BR2_EXTERNAL= and -jN
// (plus BR2_JLEVEL=N) from the workspace, inside a pty sized like the pane
// that shows it, as the leader of its own session and process group. The
// environment is cleaned first (CleanEnv: the current directory in PATH,
// PERL_MM_OPT, an outer make's MAKEFLAGS, ...), with a note for each change.
// Every byte make writes goes, unchanged, into <output>/cube-hal-build.log
// (between a header and a trailer of "=== " lines); the previous log is kept
// as cube-hal-build.log.old.
//
// # Where progress comes from
//
// Only from Buildroot's structured signals, never from guessing:
//   - the package list: `make -s show-info`, counting packages that are
//     neither virtual nor root filesystems (for <pkg> goals, the package
//     and what it depends on);
//   - packages already built: their .stamp_installed;
//   - step events: a BR2_INSTRUMENTATION_SCRIPTS hook cube-hal writes for
//     each build, which reports "start|end STEP PKG" over a FIFO (kept
//     alongside any scripts the .config already names);
//   - the ">>> pkg version Step" lines, which also tell which package the
//     following output lines belong to;
//   - make's "*** [.../.stamp_X] Error N" line, naming the failed step;
//   - earlier runs' build/build-time.log, for each package's expected
//     duration: the percentage is weighted by it and the ETA is made of it.
//
// # Using a Build
//
// A Build is safe for concurrent use. The pty is drained by its own
// goroutine whatever the consumer does; the consumer takes frames at its
// own pace:
//
//	b, err := build.Start(build.Options{Workspace: w, Targets: goals, Cols: 100, Rows: 30})
//	if err != nil { ... }          // a bad request: no Buildroot, no .config, an interactive goal
//	for range b.Updates() {         // one slot: a burst of changes is one wake-up; closed at the end
//		s := b.Snapshot()           // Phase, Done/Total, Percent, ETA, Active, Packages, Warnings, ...
//		rows := b.Screen(20)        // the last 20 rows of output, through a VT emulator
//		line := build.ProgressLine(s, width, true)
//	}
//	s := b.Wait()                   // final: Phase Succeeded/Failed/Cancelled, ExitCode, Failure
//
// In a Bubble Tea program the same loop is a command re-armed after each
// message (never call p.Send from the reader):
//
//	func waitFrame(b *build.Build) tea.Cmd {
//		return func() tea.Msg {
//			if _, ok := <-b.Updates(); !ok {
//				return buildDoneMsg{}
//			}
//			return buildFrameMsg{}
//		}
//	}
//
// Cancel stops the build (SIGINT to make's process group, SIGTERM and then
// SIGKILL after the grace period, then whatever is left of the session);
// Kill skips the waiting, for a second Ctrl-C. Resize follows the pane.
// Events(since) is the journal of step starts, finished packages, global
// steps and notes, for a line-per-event view (EventLine formats one).
//
// On failure, Snapshot().Failure names the package and step (from the
// step that started and never ended, and make's error line), the last 30
// lines of that step as a terminal shows them, the log path, and a hint
// for the common causes: no network for a download, a missing host tool,
// a full disk, a hash mismatch, the compiler killed for memory.
package build

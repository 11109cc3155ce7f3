package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/build"
	"github.com/ultravioletrs/cube-hal/cubecfg"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// buildScreen runs Buildroot's make with knotty-style progress: the
// overall bar with packages N of M and the ETA, the packages building now
// with their step and time, a live log pane (the build's own VT-rendered
// tail, scrollable), the warnings count; on failure the package, step and
// last lines, with keys for the full log and a rebuild of that package.
// The configuration is validated before any build starts.
type buildScreen struct {
	c   *Common
	ses *session

	width, height int

	check    *BuildCheck // the latest check of the workspace; nil before the first
	checkErr string
	images   workspace.ImagesState

	run     BuildRun // the current or last build; nil before the first
	seq     int      // id of run: messages of an older build are dropped
	doneSeq int      // the last build whose end was handled
	snap    build.Snapshot
	targets []string
	started bool // a build was started in this session
	// cancelling: the user cancelled the running build; another ctrl+c
	// kills it.
	cancelling bool

	// The log pane: live, it shows the end of the output; scrolled, a
	// frozen copy of the tail (new output is not shown until f).
	live          []string
	frozen        []string
	scroll        int
	pendingScroll int // scrolled before the frozen tail arrived

	confirm *confirmState
	viewer  *logViewer
	status  status

	home string // to shorten paths on screen
}

// confirmState is a yes/no question on the screen.
type confirmState struct {
	title string
	lines []string
	yes   key.Binding
	no    key.Binding
	onYes func() tea.Cmd
}

// Messages of the build screen's commands.
type (
	buildCheckedMsg struct {
		check BuildCheck
		// start, when set, are the goals to build once the check passes.
		start []string
		force bool // skip the unsaved-changes question
	}
	buildStartedMsg struct {
		seq     int
		run     BuildRun
		targets []string
		err     error
	}
	// buildFrameMsg is a change of the build, read off the UI goroutine:
	// its state and the end of its output, rows lines.
	buildFrameMsg struct {
		seq   int
		snap  build.Snapshot
		lines []string
		rows  int
		done  bool // the build is over
	}
	buildTickMsg struct {
		seq  int
		snap build.Snapshot
	}
	// logFrozenMsg is the output tail a paused log pane scrolls in.
	logFrozenMsg struct {
		seq   int
		lines []string
	}
	imagesMsg struct{ images workspace.ImagesState }
)

// buildFrameInterval bounds how often a build's progress is redrawn.
const buildFrameInterval = 50 * time.Millisecond

// frozenRows is how much of the output tail a scrolled log pane keeps.
const frozenRows = 2000

func newBuildScreen(c *Common, ses *session) *buildScreen {
	s := &buildScreen{c: c, ses: ses}
	s.home, _ = os.UserHomeDir()
	return s
}

func (s *buildScreen) Title() string { return "Build" }

func (s *buildScreen) Init() tea.Cmd { return tea.Batch(s.checkCmd(nil, false), s.imagesCmd()) }

// Activate re-reads the workspace: the configuration may have been saved
// since.
func (s *buildScreen) Activate() tea.Cmd {
	if s.running() {
		return nil
	}
	return tea.Batch(s.checkCmd(nil, false), s.imagesCmd())
}

func (s *buildScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	if s.viewer != nil {
		s.viewer.resize(w, h)
	}
	s.resizeRun()
	s.refreshLog()
}

func (s *buildScreen) Capturing() bool { return s.viewer != nil && s.viewer.searching }

// ClaimsKey takes ctrl+c while a build runs: it cancels the build (after
// asking) instead of quitting the app.
func (s *buildScreen) ClaimsKey(msg tea.KeyMsg) bool {
	return s.running() && key.Matches(msg, s.c.Keys.Build.Cancel)
}

func (s *buildScreen) QuitConcerns() []string {
	if s.running() {
		return []string{"a build is running: quitting cancels it"}
	}
	return nil
}

// Close cancels a running build and waits for make and its children to be
// gone (the runner escalates to SIGKILL after its grace period).
func (s *buildScreen) Close() {
	if s.run == nil {
		return
	}
	if !s.snap.Phase.Finished() {
		fmt.Fprintln(s.ses.notes, "cube-hal: cancelling the build (make and everything it started)…")
		s.run.Cancel()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case _, ok := <-s.run.Updates():
				if ok {
					continue
				}
			case <-deadline:
				s.run.Kill()
				for range s.run.Updates() {
				}
			}
			break
		}
	}
}

func (s *buildScreen) running() bool { return s.run != nil && !s.snap.Phase.Finished() }

func (s *buildScreen) checkCmd(start []string, force bool) tea.Cmd {
	be := s.ses.be.Build
	return func() tea.Msg { return buildCheckedMsg{check: be.Check(), start: start, force: force} }
}

func (s *buildScreen) imagesCmd() tea.Cmd {
	be := s.ses.be.Build
	return func() tea.Msg { return imagesMsg{images: be.Images()} }
}

func (s *buildScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return s.updateKey(msg)
	case buildCheckedMsg:
		return s.checked(msg)
	case buildStartedMsg:
		if msg.seq != s.seq {
			return nil
		}
		if msg.err != nil {
			s.setStatus(statusError, "Cannot start the build: "+msg.err.Error())
			return nil
		}
		s.run, s.targets, s.started, s.cancelling = msg.run, msg.targets, true, false
		s.snap = s.run.Snapshot()
		s.live, s.frozen, s.scroll = nil, nil, 0
		s.resizeRun()
		s.setStatus(statusInfo, "Building "+describeTargets(s.targets)+"; the full log is "+s.shortPath(s.snap.LogPath))
		return tea.Batch(s.waitBuild(), tickBuild(s.run, s.seq))
	case buildFrameMsg:
		if msg.seq != s.seq || s.run == nil {
			return nil
		}
		s.snap = msg.snap
		if _, rows := s.logSize(); rows == msg.rows {
			s.live = msg.lines
		} else {
			s.refreshLog() // resized meanwhile
		}
		if msg.done {
			return s.finished()
		}
		return tea.Batch(s.finished(), s.waitBuild())
	case buildTickMsg:
		if msg.seq != s.seq || !s.running() {
			return nil
		}
		s.snap.Elapsed = msg.snap.Elapsed
		if msg.snap.Phase.Finished() {
			return nil // the last frame brings the end
		}
		return tickBuild(s.run, s.seq)
	case logFrozenMsg:
		if msg.seq == s.seq && s.pendingScroll > 0 {
			s.frozen = msg.lines
			n := s.pendingScroll
			s.pendingScroll = 0
			s.scrollLog(n)
		}
	case imagesMsg:
		s.images = msg.images
	case logLoadedMsg:
		if s.viewer != nil && s.viewer.path == msg.path {
			s.viewer.loaded(msg)
		}
	}
	return nil
}

// finished says how the build ended, once, as soon as its snapshot says
// it is over, and tells the other screens.
func (s *buildScreen) finished() tea.Cmd {
	if !s.snap.Phase.Finished() || s.doneSeq == s.seq {
		return nil
	}
	s.doneSeq = s.seq
	s.confirm = nil
	switch s.snap.Phase {
	case build.Succeeded:
		s.setStatus(statusOK, "Build finished in "+clock(s.snap.Elapsed)+"; 3 shows the Launch screen")
	case build.Failed:
		s.setStatus(statusError, "Build failed: l opens the full log")
	case build.Cancelled:
		s.setStatus(statusInfo, "Build cancelled; make and everything it started are gone")
	}
	phase := s.snap.Phase
	return tea.Batch(s.imagesCmd(), func() tea.Msg { return buildFinishedMsg{phase: phase} })
}

// checked acts on a workspace check: shows it, and starts the build it
// was made for when nothing stands in the way.
func (s *buildScreen) checked(msg buildCheckedMsg) tea.Cmd {
	c := msg.check
	s.check = &c
	if msg.start == nil {
		return nil
	}
	switch {
	case c.Blocker != "":
		s.setStatus(statusError, "Cannot build: "+c.Blocker)
		return nil
	case len(c.Problems) > 0:
		s.setStatus(statusError, fmt.Sprintf("Refusing to build: the configuration has %s (fix them in Configure, 1)", plural(len(c.Problems), "problem", "problems")))
		return nil
	}
	if !msg.force && s.ses.unsaved != nil {
		if u := s.ses.unsaved(); len(u) > 0 {
			targets := msg.start
			s.confirm = &confirmState{
				title: "Build with the saved configuration?",
				lines: []string{"Configure has " + strings.Join(u, ", ") + ". The build uses the configuration saved on disk, without them."},
				yes:   withHelp(s.c.Keys.Confirm.Yes, "build anyway"),
				no:    withHelp(s.c.Keys.Confirm.No, "don't build"),
				onYes: func() tea.Cmd { return s.checkCmd(targets, true) },
			}
			return nil
		}
	}
	return s.startCmd(msg.start)
}

// withHelp is b with another description.
func withHelp(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

func (s *buildScreen) startCmd(targets []string) tea.Cmd {
	s.seq++
	seq, be := s.seq, s.ses.be.Build
	cols, rows := s.logSize()
	if len(targets) == 1 && targets[0] == "" {
		targets = nil
	}
	s.setStatus(statusInfo, "Starting "+describeTargets(targets)+"…")
	return func() tea.Msg {
		run, err := be.Start(targets, cols, rows)
		return buildStartedMsg{seq: seq, run: run, targets: targets, err: err}
	}
}

// waitBuild delivers the build's next change (or its end), at most one
// per buildFrameInterval (changes meanwhile wait in the one-slot
// channel), with the state and the output read here, off the UI
// goroutine: a VT render of the tail costs milliseconds.
func (s *buildScreen) waitBuild() tea.Cmd {
	run, seq := s.run, s.seq
	_, rows := s.logSize()
	return func() tea.Msg {
		_, ok := <-run.Updates()
		if ok {
			time.Sleep(buildFrameInterval)
		}
		return buildFrameMsg{seq: seq, snap: run.Snapshot(), lines: run.Screen(rows), rows: rows, done: !ok}
	}
}

// tickBuild keeps the elapsed time moving while make is quiet.
func tickBuild(run BuildRun, seq int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return buildTickMsg{seq: seq, snap: run.Snapshot()} })
}

func (s *buildScreen) updateKey(msg tea.KeyMsg) tea.Cmd {
	k := &s.c.Keys.Build
	if s.confirm != nil {
		switch {
		case key.Matches(msg, s.confirm.yes):
			f := s.confirm.onYes
			s.confirm = nil
			return f()
		case key.Matches(msg, s.confirm.no), key.Matches(msg, k.Cancel) && !s.running():
			s.confirm = nil
		case key.Matches(msg, k.Cancel):
			// A second ctrl+c while asking: cancel now.
			s.confirm = nil
			return s.cancel()
		}
		return nil
	}
	if s.viewer != nil {
		if s.viewer.update(msg, s.c.Keys) {
			s.viewer = nil
		}
		return nil
	}
	switch {
	case key.Matches(msg, s.c.Keys.Browse.Quit):
		return quitRequest
	case key.Matches(msg, k.Cancel) && s.running():
		if s.cancelling {
			s.run.Kill()
			s.setStatus(statusError, "Killing the build (SIGKILL)…")
			return nil
		}
		s.confirm = &confirmState{
			title: "Cancel the build?",
			lines: []string{"make and everything it started are stopped (SIGINT, then SIGTERM and SIGKILL); packages already built stay built."},
			yes:   withHelp(s.c.Keys.Confirm.Yes, "cancel the build"),
			no:    withHelp(s.c.Keys.Confirm.No, "keep building"),
			onYes: s.cancel,
		}
	case key.Matches(msg, k.Start) && !s.running():
		return s.checkCmd([]string{""}, false)
	case key.Matches(msg, k.Rebuild) && s.rebuildable() != "":
		return s.checkCmd([]string{s.rebuildable() + "-rebuild"}, false)
	case key.Matches(msg, k.Log) && s.run != nil:
		s.viewer = newLogViewer(s.snap.LogPath, s.c)
		s.viewer.resize(s.width, s.height)
		return s.viewer.load()
	case key.Matches(msg, k.Follow) && s.run != nil:
		if s.following() {
			s.setStatus(statusInfo, "Log paused: f follows it again")
			return s.freeze()
		}
		s.unfreeze()
	case key.Matches(msg, k.Up):
		return s.scrollLog(1)
	case key.Matches(msg, k.Down):
		return s.scrollLog(-1)
	case key.Matches(msg, k.PageUp):
		_, rows := s.logSize()
		return s.scrollLog(rows - 1)
	case key.Matches(msg, k.PageDown):
		_, rows := s.logSize()
		return s.scrollLog(-(rows - 1))
	case key.Matches(msg, k.Top):
		return s.scrollLog(frozenRows)
	case key.Matches(msg, k.Bottom):
		s.unfreeze()
	}
	return nil
}

func (s *buildScreen) cancel() tea.Cmd {
	if !s.running() {
		return nil
	}
	s.run.Cancel()
	s.cancelling = true
	s.setStatus(statusInfo, "Cancelling the build (ctrl+c again kills it at once)…")
	return nil
}

// rebuildable is the package a failed build broke, if there is one.
func (s *buildScreen) rebuildable() string {
	if s.run == nil || s.snap.Phase != build.Failed || s.snap.Failure == nil {
		return ""
	}
	return s.snap.Failure.Package
}

func (s *buildScreen) following() bool { return s.frozen == nil }

// freeze keeps the log pane on the output as it is now: the live lines
// at once, the longer tail to scroll in from a command.
func (s *buildScreen) freeze() tea.Cmd {
	if s.run == nil || s.frozen != nil {
		return nil
	}
	s.frozen = append([]string(nil), s.live...)
	s.scroll = 0
	run, seq := s.run, s.seq
	return func() tea.Msg { return logFrozenMsg{seq: seq, lines: run.Screen(frozenRows)} }
}

func (s *buildScreen) unfreeze() {
	s.frozen, s.scroll, s.pendingScroll = nil, 0, 0
	s.refreshLog()
}

// scrollLog moves the log pane n lines up (negative: down); scrolling up
// pauses it, scrolling back to the end follows again.
func (s *buildScreen) scrollLog(n int) tea.Cmd {
	if s.run == nil {
		return nil
	}
	if s.frozen == nil {
		if n <= 0 {
			return nil
		}
		cmd := s.freeze()
		s.pendingScroll = n // applied once the longer tail is read
		return cmd
	}
	if s.pendingScroll > 0 {
		s.pendingScroll = max(1, s.pendingScroll+n)
		return nil
	}
	_, rows := s.logSize()
	s.scroll = min(max(s.scroll+n, 0), max(0, len(s.frozen)-rows))
	if s.scroll == 0 && n < 0 {
		s.unfreeze()
	}
	return nil
}

// refreshLog takes the end of the output for the live log pane.
func (s *buildScreen) refreshLog() {
	if s.run == nil || s.frozen != nil {
		return
	}
	_, rows := s.logSize()
	s.live = s.run.Screen(rows)
}

// logLines are the log pane's lines now.
func (s *buildScreen) logLines() []string {
	if s.frozen == nil {
		return s.live
	}
	_, rows := s.logSize()
	end := len(s.frozen) - s.scroll
	return s.frozen[max(0, end-rows):max(0, end)]
}

// resizeRun gives the build's pty the log pane's size.
func (s *buildScreen) resizeRun() {
	if s.running() {
		cols, rows := s.logSize()
		s.run.Resize(cols, rows)
	}
}

// logSize is the log pane's inner size.
func (s *buildScreen) logSize() (cols, rows int) {
	v := s.view()
	top := v.top(s.c.Styles, s.width)
	return max(1, s.width-2), max(1, s.height-len(top)-1-2)
}

func (s *buildScreen) setStatus(k statusKind, text string) { s.status = status{text: text, kind: k} }

func (s *buildScreen) shortPath(p string) string { return shortenPath(p, s.home) }

// shortenPath writes a path under home as ~/...
func shortenPath(p, home string) string {
	if home != "" && home != "/" {
		if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join("~", rel)
		}
	}
	return p
}

// homeText writes the paths under home in a message as ~/...
func homeText(s, home string) string {
	if home == "" || home == "/" {
		return s
	}
	return strings.ReplaceAll(s, strings.TrimSuffix(home, "/")+"/", "~/")
}

func describeTargets(t []string) string {
	if len(t) == 0 {
		return "the image"
	}
	return strings.Join(t, " ")
}

func (s *buildScreen) ShortHelp() []key.Binding {
	k := s.c.Keys.Build
	if s.confirm != nil {
		return []key.Binding{s.confirm.yes, s.confirm.no}
	}
	if s.viewer != nil {
		return s.viewer.help(s.c.Keys)
	}
	var out []key.Binding
	if s.running() {
		out = append(out, k.Cancel)
	} else {
		out = append(out, k.Start)
	}
	if s.rebuildable() != "" {
		out = append(out, withHelp(k.Rebuild, "rebuild "+s.rebuildable()))
	}
	if s.run != nil {
		out = append(out, k.Log)
		if s.following() {
			out = append(out, withHelp(k.Follow, "pause log"), withHelp(k.Up, "scroll"))
		} else {
			out = append(out, withHelp(k.Follow, "follow"), k.Up, k.Down, k.PageUp)
		}
	}
	return append(out, s.c.Keys.Browse.Quit)
}

func (s *buildScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }

// view gathers what the screen draws.
func (s *buildScreen) view() buildView {
	v := buildView{
		check: s.check, images: s.images, started: s.started, snap: s.snap, targets: s.targets,
		following: s.following(), scroll: s.scroll, status: s.status, home: s.home,
	}
	return v
}

func (s *buildScreen) View() string {
	if s.width <= 0 || s.height <= 0 {
		return ""
	}
	if s.viewer != nil {
		return s.viewer.view(s.c.Styles)
	}
	if s.confirm != nil {
		return renderConfirm(s.c.Styles, s.confirm.title, s.confirm.lines, []key.Binding{s.confirm.yes, s.confirm.no}, s.width, s.height)
	}
	v := s.view()
	if s.run != nil {
		v.log = s.logLines()
	}
	return renderBuildView(s.c.Styles, v, s.width, s.height)
}

// buildView is everything the build screen draws, for the pure render
// function (and its goldens).
type buildView struct {
	check     *BuildCheck
	images    workspace.ImagesState
	started   bool
	snap      build.Snapshot
	targets   []string
	log       []string
	following bool
	scroll    int
	status    status
	home      string
}

// failLines styles the lines of a failure (make's, QEMU's) for a box w
// wide.
func failLines(st *Styles, lines []string, w int) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, st.Work.FailLine.Render(truncate(l, max(1, w-2))))
	}
	return out
}

// renderBuildView draws the build screen w x h.
func renderBuildView(st *Styles, v buildView, w, h int) string {
	top := v.top(st, w)
	rest := h - len(top) - 1
	var body []string
	switch {
	case !v.started:
	case v.snap.Phase == build.Failed && v.snap.Failure != nil && len(v.snap.Failure.Lines) > 0:
		f := v.snap.Failure
		lines := failLines(st, f.Lines[max(0, len(f.Lines)-max(1, rest-2)):], w)
		title := "Last lines of " + failureWhat(f)
		if rest >= 3 {
			body = renderBox(st, title, "l full log", lines, true, w, rest)
		}
	default:
		if rest >= 3 {
			right := "following"
			if !v.following {
				right = fmt.Sprintf("paused, %d lines up · f follows", v.scroll)
			}
			log := v.log
			if len(log) > rest-2 {
				log = log[len(log)-(rest-2):] // the end of the output
			}
			body = renderBox(st, "Log", right, log, false, w, rest)
		}
	}
	lines := append(top, body...)
	lines = fitLines(lines, w, h-1)
	lines = append(lines, renderStatus(st, v.status, w))
	return strings.Join(lines, "\n")
}

// renderStatus is the screen's bottom line.
func renderStatus(st *Styles, s status, w int) string {
	style := st.Status.Info
	switch s.kind {
	case statusError:
		style = st.Status.Error
	case statusOK:
		style = st.Status.OK
	}
	return fitLine(style.Render(truncate(s.text, w)), w)
}

// top is the part of the screen above the log pane.
func (v buildView) top(st *Styles, w int) []string {
	if !v.started {
		return v.idle(st, w)
	}
	s := v.snap
	var out []string
	title, right := v.title()
	ts := st.Work.Heading
	switch s.Phase {
	case build.Failed:
		ts = st.Work.Bad
	case build.Succeeded:
		ts = st.Work.OK
	}
	out = append(out, renderBar(ts, st.Work.Muted, title, right, w))
	out = append(out, progressLine(st, s, w))
	switch s.Phase {
	case build.Failed:
		out = append(out, failureLines(st, s, v.home, w)...)
	case build.Succeeded:
		out = append(out, imageLines(st, v.images, v.home, w, 8)...)
	case build.Cancelled:
		out = append(out, fitLine("  "+st.Work.Muted.Render(truncate("log: "+shortenPath(s.LogPath, v.home), w-2)), w))
	default:
		out = append(out, activeLines(st, s, w, 4)...)
	}
	return out
}

// title is the header of a started build: what and how it went.
func (v buildView) title() (string, string) {
	s := v.snap
	what := describeTargets(v.targets)
	switch s.Phase {
	case build.Preparing:
		return "Preparing to build " + what + ": reading the package list", "preparing"
	case build.Running:
		return "Building " + what, "running " + clock(s.Elapsed)
	case build.Succeeded:
		return "✓ Built " + what + " in " + clock(s.Elapsed), "succeeded"
	case build.Cancelled:
		return "Build of " + what + " cancelled after " + clock(s.Elapsed), "cancelled"
	}
	where := "the build"
	if s.Failure != nil {
		where = failureWhat(s.Failure)
	}
	return "✗ Build failed in " + where + " after " + clock(s.Elapsed), fmt.Sprintf("exit status %d", s.ExitCode)
}

// failureWhat names where a build failed: "busybox 1.38.0, step build".
func failureWhat(f *build.Failure) string {
	if f.Package == "" {
		if f.Step != "" {
			return f.Step
		}
		return "the build"
	}
	what := f.Package
	if f.Version != "" {
		what += " " + f.Version
	}
	step := f.Step
	if f.Label != "" && f.Label != build.StepLabel(f.Step) {
		step += " (" + f.Label + ")"
	}
	if step != "" {
		what += ", step " + step
	}
	return what
}

// progressLine is the overall bar: packages N of M, percent, ETA,
// warnings (the title line has the elapsed time).
func progressLine(st *Styles, s build.Snapshot, w int) string {
	frac := -1.0
	switch {
	case s.Percent >= 0 && s.Total > 0:
		frac = s.Percent / 100
	case s.Total > 0:
		frac = float64(s.Done) / float64(s.Total)
	}
	if s.Phase == build.Succeeded && frac < 0 {
		frac = 1
	}
	// The words, long and short: the short ones when the long do not fit.
	texts := func(short bool) (string, string) {
		var parts []string
		if s.Total > 0 {
			if short {
				parts = append(parts, fmt.Sprintf("%d/%d", s.Done, s.Total))
			} else {
				parts = append(parts, fmt.Sprintf("%d of %d packages", s.Done, s.Total))
			}
			if frac >= 0 {
				parts = append(parts, fmt.Sprintf("%d%%", int(frac*100)))
			}
		} else if s.Phase == build.Preparing {
			parts = append(parts, "counting packages")
		}
		if s.ETA >= 0 && !s.Phase.Finished() && s.Phase != build.Preparing {
			parts = append(parts, "ETA "+clock(s.ETA))
		}
		warn := ""
		if s.Warnings > 0 {
			if short {
				warn = fmt.Sprintf(" · %d warn", s.Warnings)
			} else {
				warn = " · " + plural(s.Warnings, "warning", "warnings")
			}
		}
		return strings.Join(parts, " · "), warn
	}
	barW := min(40, max(10, w/3))
	if w-barW-2 < 20 {
		barW = max(5, w-22)
	}
	text, warn := texts(false)
	if barW+1+len([]rune(text+warn)) > w {
		text, warn = texts(true)
	}
	return fitLine(renderProgressBar(st, frac, s.Elapsed, barW)+" "+st.Work.Value.Render(text)+st.Work.Warn.Render(warn), w)
}

// activeLines lists the packages building now, knotty-style: name, step,
// time in the step so far (and how long the package took last time).
func activeLines(st *Styles, s build.Snapshot, w, most int) []string {
	var out []string
	for i, p := range s.Active {
		if i == most-1 && len(s.Active) > most {
			out = append(out, fitLine(st.Work.Muted.Render(fmt.Sprintf("  … and %d more", len(s.Active)-i)), w))
			break
		}
		name := p.Name
		if p.Version != "" {
			name += " " + p.Version
		}
		step := p.Label
		if step == "" {
			step = build.StepLabel(p.Step)
		}
		t := clock(p.Elapsed)
		if p.Expected > 0 {
			t += " of ~" + clock(p.Expected)
		}
		nameW := min(30, max(12, w/3))
		stepW := max(8, w-nameW-ansi0(t)-8)
		line := "  " + st.Work.Running.Render("▸ ") + st.Work.Value.Render(padRight(truncate(name, nameW), nameW)) + " " +
			st.Work.Muted.Render(padRight(truncate(step, stepW), stepW)) + " " + st.Work.Muted.Render(t)
		out = append(out, fitLine(line, w))
	}
	if len(out) == 0 {
		what := s.Activity()
		if what == "" {
			what = s.LastLine
		}
		if what == "" {
			what = "waiting for make"
		}
		out = append(out, fitLine("  "+st.Work.Running.Render("▸ ")+st.Work.Muted.Render(truncate(what, w-4)), w))
	}
	return out
}

func ansi0(s string) int { return len([]rune(s)) }

// padRight pads plain text to n columns.
func padRight(s string, n int) string {
	if d := n - len([]rune(s)); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}

// failureLines explain a failed build above its last lines.
func failureLines(st *Styles, s build.Snapshot, home string, w int) []string {
	f := s.Failure
	if f == nil {
		return []string{fitLine("  "+st.Work.Bad.Render("make failed")+st.Work.Muted.Render(" · log: "+shortenPath(s.LogPath, home)), w)}
	}
	var out []string
	if f.MakeError != "" {
		out = append(out, fitLine("  "+st.Work.Bad.Render(truncate(homeText(f.MakeError, home), w-2)), w))
	}
	if f.Hint != "" {
		for i, l := range wrap("hint: "+homeText(f.Hint, home), w-2) {
			if i == 2 {
				break
			}
			out = append(out, fitLine("  "+st.Work.Warn.Render(l), w))
		}
	}
	out = append(out, fitLine("  "+st.Work.Muted.Render(truncate("full log: "+shortenPath(f.LogPath, home), w-2)), w))
	return out
}

// imageLines list the images a build left.
func imageLines(st *Styles, im workspace.ImagesState, home string, w, most int) []string {
	if len(im.Files) == 0 {
		return []string{fitLine("  "+st.Work.Muted.Render("no images in "+shortenPath(im.Dir, home)), w)}
	}
	out := []string{fitLine("  "+st.Work.Label.Render("Images in "+shortenPath(im.Dir, home)+":"), w)}
	nameW := 0
	for _, f := range im.Files {
		nameW = max(nameW, len([]rune(f.Name)))
	}
	nameW = min(nameW, max(10, w/2))
	for i, f := range im.Files {
		if i == most-1 && len(im.Files) > most {
			out = append(out, fitLine(st.Work.Muted.Render(fmt.Sprintf("    … and %d more", len(im.Files)-i)), w))
			break
		}
		line := "    " + st.Work.Value.Render(padRight(truncate(f.Name, nameW), nameW)) + "  " +
			st.Work.Muted.Render(fmt.Sprintf("%10s  %s", workspace.HumanSize(f.Size), f.ModTime.Format("2006-01-02 15:04")))
		out = append(out, fitLine(line, w))
	}
	return out
}

// idle is the screen before any build: the workspace and whether its
// configuration would build.
func (v buildView) idle(st *Styles, w int) []string {
	out := []string{renderBar(st.Work.Heading, st.Work.Muted, "Build the image", "", w), ""}
	c := v.check
	if c == nil {
		return append(out, fitLine("  "+st.Work.Muted.Render("Looking at the workspace…"), w))
	}
	lw := 10
	br := c.Buildroot
	if br == "" {
		br = "(none: standalone mode)"
	}
	out = append(out, kvLine(st, "Buildroot", st.Work.Value.Render(truncate(shortenPath(br, v.home), w-lw-4)), lw, w))
	if c.Output != "" {
		out = append(out, kvLine(st, "Output", st.Work.Value.Render(truncate(shortenPath(c.Output, v.home), w-lw-4)), lw, w))
	}
	if c.Config.Path != "" {
		cfg := shortenPath(c.Config.Path, v.home)
		if c.Config.Exists {
			if !c.Config.ModTime.IsZero() {
				cfg += ", saved " + c.Config.ModTime.Format("2006-01-02 15:04")
			}
		} else {
			cfg += " (missing)"
		}
		out = append(out, kvLine(st, "Config", st.Work.Value.Render(truncate(cfg, w-lw-4)), lw, w))
	}
	img := "none yet"
	if n := len(v.images.Files); n > 0 {
		img = plural(n, "file", "files") + " in " + shortenPath(v.images.Dir, v.home)
		if v.images.Stale {
			img += " (older than the configuration)"
		}
	}
	out = append(out, kvLine(st, "Images", st.Work.Value.Render(truncate(img, w-lw-4)), lw, w), "")
	switch {
	case c.Blocker != "":
		out = append(out, fitLine("  "+st.Work.Bad.Render("✗ ")+st.Work.Value.Render(truncate(c.Blocker, w-4)), w))
		for _, l := range wrap(c.Hint, max(10, w-4)) {
			out = append(out, fitLine("    "+st.Work.Muted.Render(l), w))
		}
	case len(c.Problems) > 0:
		out = append(out, fitLine("  "+st.Work.Bad.Render("✗ ")+st.Work.Value.Render(fmt.Sprintf("The configuration has %s; fix them in Configure (1):", plural(len(c.Problems), "problem", "problems"))), w))
		for i, p := range c.Problems {
			if i == 6 && len(c.Problems) > 7 {
				out = append(out, fitLine(st.Work.Muted.Render(fmt.Sprintf("    … and %d more", len(c.Problems)-i)), w))
				break
			}
			out = append(out, fitLine("    "+st.Work.Bad.Render("• ")+st.Work.Value.Render(truncate(homeText(p.Message, v.home), w-6)), w))
		}
		// What to do, once for the problems it is about (four missing
		// certificate files: one 'cube-hal certs').
		for _, h := range cubecfg.Hints(c.Problems) {
			for _, l := range wrap(h, max(10, w-4)) {
				out = append(out, fitLine("    "+st.Work.Muted.Render(l), w))
			}
		}
	default:
		out = append(out, fitLine("  "+st.Work.OK.Render("✓ ")+st.Work.Value.Render("The configuration is valid: b builds the image"), w))
	}
	return out
}

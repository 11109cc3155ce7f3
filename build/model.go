package build

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Phase is where a build is in its life.
type Phase int

const (
	// Preparing: checking the workspace and reading the package list
	// (make show-info takes several seconds on a real tree).
	Preparing Phase = iota
	// Running: make is running.
	Running
	// Succeeded: make exited 0.
	Succeeded
	// Failed: make exited non-zero (or could not be started); see Failure.
	Failed
	// Cancelled: Cancel was called; make and every process it started are gone.
	Cancelled
)

func (p Phase) String() string {
	switch p {
	case Preparing:
		return "preparing"
	case Running:
		return "running"
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Cancelled:
		return "cancelled"
	}
	return "unknown"
}

// Finished reports whether the build is over.
func (p Phase) Finished() bool { return p >= Succeeded }

// PackageStatus is where one package is in this build.
type PackageStatus int

const (
	Pending  PackageStatus = iota // not started yet
	Building                      // a step started
	Built                         // all its steps are done (in this build or an earlier one)
	Broken                        // the build failed in one of its steps
)

func (s PackageStatus) String() string {
	return [...]string{"pending", "building", "built", "failed"}[s]
}

// Package is the state of one package, as the UI shows it.
type Package struct {
	Name    string
	Version string
	Status  PackageStatus
	// AlreadyBuilt: its .stamp_installed existed before this build started,
	// so make skips it.
	AlreadyBuilt bool
	// Counted: it is part of Done/Total (planned, neither virtual nor a
	// root filesystem). Virtual packages still show up while they run.
	Counted bool
	Step    string // current or last instrumentation step: "download", "build", "install-target"
	Label   string // the last ">>>" message: "Building", "Installing to target"
	// StepStarted is when Step started (zero if no step ran in this build).
	StepStarted time.Time
	Started     time.Time     // first step of this build
	Finished    time.Time     // last install step of this build
	Elapsed     time.Duration // Finished-Started, or time so far while building
	// Expected is how long the package took in the latest earlier build
	// (from build-time.log); 0 when unknown.
	Expected   time.Duration
	StepsDone  int // distinct steps ended in this build
	StepsTotal int // steps a from-scratch build runs (download … install)
	Warnings   int // compiler/linker warnings in its output
}

// Failure explains a failed build.
type Failure struct {
	Package string // failing package ("host-pkgconf"); empty when no package step failed
	Version string
	// Step is the failing instrumentation step ("download", "build") or,
	// outside packages, the global step's message.
	Step string
	// Label is the step's ">>>" message ("Downloading"), when one was printed.
	Label string
	// MakeError is make's "*** [...] Error N" line naming the stamp.
	MakeError string
	// Lines are the last lines (at most 30) of the failing step's output,
	// as a terminal shows them (carriage-return progress collapsed, no
	// escapes).
	Lines   []string
	Cause   Cause  // a recognised common cause, or CauseUnknown
	Hint    string // what to do about it
	LogPath string // the full log
}

// EventKind says what an Event reports.
type EventKind int

const (
	StepStarted  EventKind = iota // a package step started
	StepEnded                     // a package step ended
	PackageBuilt                  // a counted package finished: Done went up
	GlobalStep                    // a ">>>" message outside packages (filesystem images, overlays)
	Note                          // a remark from cube-hal (environment cleaned, no package list, ...)
)

// Event is one entry of the build's journal (see Build.Events): what
// happened, in order, for a line-per-event view.
type Event struct {
	Seq     int
	Time    time.Time
	Kind    EventKind
	Package string
	Step    string        // instrumentation step, or the message for GlobalStep and Note
	Elapsed time.Duration // PackageBuilt: how long the package took
	Done    int           // counted packages built after this event
	Total   int           // counted packages (0: unknown)
}

// Snapshot is a consistent copy of a build's state, safe to keep and read
// from any goroutine.
type Snapshot struct {
	Phase   Phase
	Targets []string
	Command []string // make's argv
	LogPath string
	Notes   []string
	Started time.Time     // when Start was called
	Elapsed time.Duration // since Started (frozen when finished)
	// ETA is the estimated time left; negative when unknown.
	ETA time.Duration
	// Done and Total count packages (Counted ones); Total 0 means the
	// build's size is unknown (goals like clean, or no package list).
	Done, Total int
	// Percent is 0..100, weighted by how long each package took last time;
	// negative when unknown.
	Percent float64
	// Active are the packages with a step running now, oldest first.
	Active []Package
	// Current is the most recently started package step, kept between
	// steps so a status line never goes blank; empty before the first step.
	Current string
	// GlobalStep is the running ">>>" message outside packages, if any.
	GlobalStep string
	// Packages are the counted packages in build order, then any others
	// that ran (virtual packages).
	Packages []Package
	// LastLine is the last line of output as a terminal shows it (empty
	// lines skipped): something to show before the first package step.
	LastLine string
	// Cancelling: Cancel was called and the build is stopping (make and
	// its processes get the grace periods); Phase becomes Cancelled.
	Cancelling bool
	Warnings   int
	Bytes      int64 // output bytes so far (all of it is in the log)
	ExitCode   int   // make's exit status once finished; 128+N when killed by signal N
	// PID is make's process ID, which is also its process group and
	// session ID; 0 before make starts.
	PID     int
	Failure *Failure
}

const (
	ringLines    = 30   // lines kept per step for the failure report
	maxLineBytes = 4096 // bytes of one line kept for parsing and reports
	maxEvents    = 1 << 16
	maxMakeErrs  = 8
)

// lineRing keeps the last ringLines raw lines, reusing its buffers so that
// steady output allocates nothing.
type lineRing struct {
	lines [ringLines][]byte
	n     int
}

func (r *lineRing) add(b []byte) {
	if len(b) > maxLineBytes {
		b = b[len(b)-maxLineBytes:]
	}
	i := r.n % ringLines
	r.lines[i] = append(r.lines[i][:0], b...)
	r.n++
}

func (r *lineRing) reset() { r.n = 0 }

// text returns the lines oldest first, as a terminal shows them.
func (r *lineRing) text() []string {
	k := min(r.n, ringLines)
	out := make([]string, 0, k)
	for j := r.n - k; j < r.n; j++ {
		out = append(out, displayText(r.lines[j%ringLines]))
	}
	return out
}

// pkgState is the model's private record of a package.
type pkgState struct {
	Package
	info    *PackageInfo
	ended   map[string]bool
	open    map[string]time.Time
	ring    *lineRing
	lastRun time.Time // last step start, to order Active
}

// model is the build's progress state. Every field is guarded by mu: the
// pty reader, the instrumentation reader and the stamp poller write it;
// Snapshot, Screen and Events read it.
type model struct {
	mu sync.Mutex

	phase     Phase
	targets   []string
	command   []string
	logPath   string
	outputDir string
	notes     []string
	started   time.Time
	ended     time.Time
	exitCode  int
	pid       int

	pkgs           map[string]*pkgState
	info           map[string]*PackageInfo // from show-info; nil without a package list
	order          []string                // counted packages in build order
	planned        bool
	source         bool // make source: a package is done once downloaded
	history        *History
	weight         map[string]float64
	fallbackWeight float64

	current    string
	global     string
	globalRing lineRing
	attrib     *lineRing // where output lines go: the running step's ring
	attribPkg  *pkgState

	warnings int
	bytes    int64
	partial  []byte
	tail     tailBuffer
	makeErrs []MakeError
	makeStop string
	logErr   error

	events    []Event
	eventBase int // Seq of events[0]

	failure *Failure

	updates chan struct{}
}

func newModel(targets []string, logPath, outputDir string, now time.Time) *model {
	m := &model{
		targets:        targets,
		logPath:        logPath,
		outputDir:      outputDir,
		started:        now,
		pkgs:           map[string]*pkgState{},
		weight:         map[string]float64{},
		updates:        make(chan struct{}, 1),
		fallbackWeight: 1,
	}
	m.attrib = &m.globalRing
	return m
}

// notify wakes whoever waits on Updates, without ever blocking: the
// one-slot channel merges bursts and the last state is always the one read.
func (m *model) notify() {
	select {
	case m.updates <- struct{}{}:
	default:
	}
}

// setPlan installs the package list and history. Called before make starts.
func (m *model) setPlan(info map[string]*PackageInfo, spec planSpec, hist *History) {
	m.info = info
	m.history = hist
	m.source = spec.source
	m.order = buildOrder(info, spec.packages)
	m.planned = len(m.order) > 0
	var known []float64
	for _, n := range m.order {
		if d, ok := hist.Package(n); ok && d > 0 {
			known = append(known, d.Seconds())
		}
	}
	if len(known) > 0 {
		sort.Float64s(known)
		m.fallbackWeight = known[len(known)/2]
	}
	for _, n := range m.order {
		p := info[n]
		st := m.pkg(n)
		st.info = p
		st.Counted = true
		st.Version = p.Version
		st.StepsTotal = p.ExpectedSteps()
		if m.source {
			st.StepsTotal = 1
		}
		w := m.fallbackWeight
		if d, ok := hist.Package(n); ok {
			st.Expected = d
			if d > 0 {
				w = d.Seconds()
			}
		}
		m.weight[n] = w
		done := false
		if !spec.forced[n] {
			if m.source {
				done = stampExists(m.outputDir, p, ".stamp_downloaded")
			} else {
				done = stampInstalled(m.outputDir, p)
			}
		}
		if done {
			st.Status = Built
			st.AlreadyBuilt = true
		}
	}
}

// pkg returns the state of a package, creating an uncounted one for
// packages outside the plan.
func (m *model) pkg(name string) *pkgState {
	st, ok := m.pkgs[name]
	if !ok {
		st = &pkgState{Package: Package{Name: name}, ended: map[string]bool{}, open: map[string]time.Time{}}
		if p := m.info[name]; p != nil {
			st.info = p
			st.Version = p.Version
			st.StepsTotal = p.ExpectedSteps()
		}
		m.pkgs[name] = st
	}
	return st
}

func (m *model) event(now time.Time, kind EventKind, pkg, step string, elapsed time.Duration) {
	done, total := m.progressCounts()
	m.events = append(m.events, Event{Seq: m.eventBase + len(m.events), Time: now, Kind: kind, Package: pkg, Step: step, Elapsed: elapsed, Done: done, Total: total})
	if len(m.events) > maxEvents {
		drop := len(m.events) - maxEvents/2
		m.events = append(m.events[:0], m.events[drop:]...)
		m.eventBase += drop
	}
}

func (m *model) note(now time.Time, text string) {
	m.notes = append(m.notes, text)
	m.event(now, Note, "", text, 0)
}

func (m *model) progressCounts() (done, total int) {
	if !m.planned {
		return 0, 0
	}
	for _, n := range m.order {
		if m.pkgs[n].Status == Built {
			done++
		}
	}
	return done, len(m.order)
}

// stepEvent applies one instrumentation event.
func (m *model) stepEvent(ev StepEvent, now time.Time) {
	if ev.Package == "" {
		return
	}
	st := m.pkg(ev.Package)
	if ev.Start {
		if st.Status == Built {
			// make redoes a step of a package it had finished (a stamp was
			// removed by hand): it is no longer built.
			st.AlreadyBuilt = false
			st.ended = map[string]bool{}
			st.StepsDone = 0
		}
		if st.Status != Building {
			st.Status = Building
			if st.Started.IsZero() {
				st.Started = now
			}
		}
		st.Step = ev.Step
		st.StepStarted = now
		st.open[ev.Step] = now
		st.lastRun = now
		m.current = ev.Package
		m.event(now, StepStarted, ev.Package, ev.Step, 0)
		return
	}
	delete(st.open, ev.Step)
	if !st.ended[ev.Step] {
		st.ended[ev.Step] = true
		st.StepsDone++
	}
	m.event(now, StepEnded, ev.Package, ev.Step, 0)
	if st.Status == Building && len(st.open) == 0 && m.completes(st, ev.Step) {
		m.markBuilt(st, now)
	}
}

// completes reports whether ending step finishes the package.
func (m *model) completes(st *pkgState, step string) bool {
	if m.source && st.Counted {
		return step == "download"
	}
	if st.info == nil {
		return false
	}
	installs := st.info.InstallSteps()
	if len(installs) == 0 {
		return step == "build"
	}
	for _, s := range installs {
		if !st.ended[s] {
			return false
		}
	}
	return true
}

func (m *model) markBuilt(st *pkgState, now time.Time) {
	st.Status = Built
	st.Finished = now
	if !st.Started.IsZero() {
		st.Elapsed = now.Sub(st.Started)
	}
	if st.ring != nil && m.attrib != st.ring {
		st.ring = nil // its output is no longer needed for a failure report
	}
	if st.Counted {
		m.event(now, PackageBuilt, st.Name, st.Step, st.Elapsed)
	}
}

// pollStamps marks packages built whose final stamp appeared without the
// install step the plan predicted (or after make exits).
func (m *model) pollStamps(now time.Time, all bool) {
	for _, n := range m.order {
		st := m.pkgs[n]
		if st.Status == Built || st.info == nil || len(st.open) > 0 {
			continue
		}
		if st.Status == Pending && !all {
			continue
		}
		ok := false
		if m.source {
			ok = stampExists(m.outputDir, st.info, ".stamp_downloaded")
		} else {
			ok = stampInstalled(m.outputDir, st.info)
		}
		if ok {
			m.markBuilt(st, now)
		}
	}
}

// scan feeds raw output through the line parser. Called with mu held, by
// the pty reader only.
func (m *model) scan(b []byte) {
	m.bytes += int64(len(b))
	m.tail.write(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			m.partial = appendLine(m.partial, b)
			return
		}
		line := b[:i]
		if len(m.partial) > 0 {
			m.partial = appendLine(m.partial, line)
			line = m.partial
		}
		m.line(line)
		m.partial = m.partial[:0]
		b = b[i+1:]
	}
}

// appendLine adds src to a partial line, keeping at most maxLineBytes. When
// it overflows, only the text after the last carriage return is kept: that
// is what a terminal shows of a progress bar redrawn in place.
func appendLine(dst, src []byte) []byte {
	if len(dst)+len(src) <= maxLineBytes {
		return append(dst, src...)
	}
	if j := bytes.LastIndexByte(src, '\r'); j >= 0 {
		dst = append(dst[:0], src[j:]...)
	} else if k := bytes.LastIndexByte(dst, '\r'); k >= 0 {
		dst = append(dst[:0], dst[k:]...)
		dst = append(dst, src...)
	} else {
		dst = append(dst, src...)
	}
	if len(dst) > maxLineBytes {
		dst = dst[:maxLineBytes]
	}
	return dst
}

func (m *model) line(line []byte) {
	if sl, ok := ParseStepLine(line); ok {
		m.stepLine(sl)
	}
	m.attrib.add(line)
	if isWarning(line) {
		m.warnings++
		if m.attribPkg != nil {
			m.attribPkg.Warnings++
		}
		return
	}
	if !bytes.Contains(line, makeErrMarker) {
		return
	}
	if e, ok := ParseMakeError(line); ok {
		if len(m.makeErrs) == maxMakeErrs {
			copy(m.makeErrs, m.makeErrs[1:])
			m.makeErrs = m.makeErrs[:maxMakeErrs-1]
		}
		m.makeErrs = append(m.makeErrs, e)
	} else if s, ok := parseMakeStop(line); ok {
		m.makeStop = s
	}
}

// stepLine switches output attribution to the package (or global step) the
// ">>>" message announces; the message starts that step's line ring.
func (m *model) stepLine(sl StepLine) {
	if sl.Package == "" {
		m.global = sl.Label
		m.globalRing.reset()
		m.attrib, m.attribPkg = &m.globalRing, nil
		m.event(time.Now(), GlobalStep, "", sl.Label, 0)
		return
	}
	m.global = ""
	st := m.pkg(sl.Package)
	if sl.Version != "" {
		st.Version = sl.Version
	}
	st.Label = sl.Label
	if st.ring == nil {
		st.ring = &lineRing{}
	}
	st.ring.reset()
	m.attrib, m.attribPkg = st.ring, st
}

// fraction is how much of a package is done, 0..1.
func (m *model) fraction(st *pkgState, now time.Time) float64 {
	switch st.Status {
	case Built:
		return 1
	case Pending:
		return 0
	}
	if exp := st.Expected; exp > 0 {
		var done time.Duration
		for step := range st.ended {
			if d, ok := m.history.Step(st.Name, step); ok {
				done += d
			}
		}
		for step, since := range st.open {
			if d, ok := m.history.Step(st.Name, step); ok {
				done += min(now.Sub(since), d)
			}
		}
		return min(float64(done)/float64(exp), 0.99)
	}
	if st.StepsTotal == 0 {
		return 0
	}
	return min(float64(st.StepsDone)/float64(st.StepsTotal), 0.95)
}

// snapshot copies the state and computes the derived figures. mu held.
func (m *model) snapshot(now time.Time) Snapshot {
	s := Snapshot{
		Phase:      m.phase,
		Targets:    append([]string(nil), m.targets...),
		Command:    append([]string(nil), m.command...),
		LogPath:    m.logPath,
		Notes:      append([]string(nil), m.notes...),
		Started:    m.started,
		ETA:        -1,
		Percent:    -1,
		Current:    m.current,
		GlobalStep: m.global,
		Warnings:   m.warnings,
		Bytes:      m.bytes,
		ExitCode:   m.exitCode,
		PID:        m.pid,
	}
	end := now
	if m.phase.Finished() && !m.ended.IsZero() {
		end = m.ended
	}
	s.Elapsed = end.Sub(m.started)
	lines := strings.Split(string(m.tail.lastLines(3)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(displayText([]byte(lines[i]))); l != "" {
			s.LastLine = l
			break
		}
	}
	if m.failure != nil {
		f := *m.failure
		f.Lines = append([]string(nil), f.Lines...)
		s.Failure = &f
	}
	pub := func(st *pkgState) Package {
		p := st.Package
		if st.Status == Building && !st.Started.IsZero() {
			p.Elapsed = end.Sub(st.Started)
		}
		return p
	}
	for _, n := range m.order {
		s.Packages = append(s.Packages, pub(m.pkgs[n]))
	}
	var others, active []*pkgState
	for _, st := range m.pkgs {
		if !st.Counted {
			others = append(others, st)
		}
		if len(st.open) > 0 {
			active = append(active, st)
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].Started.Before(others[j].Started) })
	for _, st := range others {
		s.Packages = append(s.Packages, pub(st))
	}
	sort.Slice(active, func(i, j int) bool { return active[i].lastRun.Before(active[j].lastRun) })
	for _, st := range active {
		s.Active = append(s.Active, pub(st))
	}
	if !m.planned {
		return s
	}
	s.Done, s.Total = m.progressCounts()
	var sum, got float64
	for _, n := range m.order {
		w := m.weight[n]
		sum += w
		got += w * m.fraction(m.pkgs[n], end)
	}
	if sum > 0 {
		s.Percent = 100 * got / sum
	}
	switch {
	case m.phase == Succeeded:
		s.Percent, s.ETA = 100, 0
	case m.phase.Finished():
		s.ETA = 0
	case m.phase == Running:
		s.Percent = min(s.Percent, 99.9)
		s.ETA = m.eta(end, s.Percent, s.Elapsed)
	}
	return s
}

// eta estimates the time left. With a history, it is the expected time of
// what is left, scaled by how this build's finished packages compared with
// their history (a faster or slower machine, other -j); without one, it
// extrapolates the weighted percentage once there is enough to go on.
func (m *model) eta(now time.Time, percent float64, elapsed time.Duration) time.Duration {
	if m.history.Len() == 0 {
		if percent < 5 || elapsed < 20*time.Second {
			return -1
		}
		return time.Duration(float64(elapsed) * (100 - percent) / percent)
	}
	var left, actual, expected float64
	for _, n := range m.order {
		st := m.pkgs[n]
		exp := m.weight[n]
		switch st.Status {
		case Built:
			if !st.AlreadyBuilt && st.Expected > 0 && st.Elapsed > 0 {
				actual += st.Elapsed.Seconds()
				expected += st.Expected.Seconds()
			}
		case Pending:
			left += exp
		default:
			left += exp * (1 - m.fraction(st, now))
		}
	}
	factor := 1.0
	if expected > 30 { // enough finished work to judge the pace
		factor = min(max(actual/expected, 0.33), 3)
	}
	return time.Duration(left * factor * float64(time.Second))
}

// tailBuffer keeps the last output bytes (whole lines, at least tailKeep of
// them) for the screen view, copying only once every tailKeep bytes.
type tailBuffer struct{ buf []byte }

const tailKeep = 64 << 10

func (t *tailBuffer) write(b []byte) {
	if len(b) >= tailKeep {
		t.buf = append(t.buf[:0], b[len(b)-tailKeep:]...)
		return
	}
	t.buf = append(t.buf, b...)
	if len(t.buf) > 2*tailKeep {
		cut := len(t.buf) - tailKeep
		if i := bytes.IndexByte(t.buf[cut:], '\n'); i >= 0 && i < tailKeep/2 {
			cut += i + 1
		}
		n := copy(t.buf, t.buf[cut:])
		t.buf = t.buf[:n]
	}
}

// lastLines returns (a copy of) the tail holding the last n lines; a
// trailing newline does not start an extra empty line.
func (t *tailBuffer) lastLines(n int) []byte {
	b := t.buf
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	start := end
	for k := 0; k < n; k++ {
		i := bytes.LastIndexByte(b[:start], '\n')
		if i < 0 {
			start = 0
			break
		}
		start = i
		if k == n-1 {
			start = i + 1
		}
	}
	return append([]byte(nil), b[start:end]...)
}

// findByDir maps a build directory name from make's error line
// ("host-tar-1.35") to a package.
func (m *model) findByDir(dir string) *pkgState {
	for _, st := range m.pkgs {
		if st.info != nil && st.info.StampDir != "" && filepath.Base(st.info.StampDir) == dir {
			return st
		}
	}
	for _, st := range m.pkgs {
		if st.Name == dir || (st.Version != "" && st.Name+"-"+st.Version == dir) {
			return st
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

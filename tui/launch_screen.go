package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/ultravioletrs/cube-hal/launch"
)

// launchScreen launches the built image as an SEV-SNP, TDX or plain VM
// and keeps it in view: what the host can run and why not, the VM's state
// over QMP with its ports and uptime, its serial console streaming in a
// pane, and an SSH console inside the app (the system ssh client in a pty,
// rendered through x/vt; ctrl+] leaves it). x stops the VM (ACPI power
// button over QMP, then quit). Quitting with a VM running asks whether to
// leave it running or stop it.
type launchScreen struct {
	c   *Common
	ses *session

	width, height int

	facts     *launch.HostFacts
	verdicts  []launch.Verdict
	images    launch.Images
	imagesErr error

	settings launchSettings
	form     *launchForm

	// snp is the SEV-SNP launch digest of the images and settings (what
	// s would start); snpSeq numbers its computations, so a late one is
	// dropped.
	snp    *snpExpect
	snpSeq int

	// Starting a VM.
	startSeq  int
	starting  launch.Mode
	progress  string
	startFail []string // why the last start failed, with QEMU's words
	progCh    chan string

	// The session's VM (ses.vm) and what watches it.
	vmSeq    int // bumped for each VM: its commands' messages carry it
	vmCtx    context.Context
	vmCancel context.CancelFunc
	sshReady bool
	stopping bool
	// pendingConsole: the console was asked for before SSH answered.
	pendingConsole bool
	quitAfterStop  bool

	serial  *vtPane
	ssh     *vtPane
	closers sync.WaitGroup // panes being closed off the UI goroutine
	showSSH bool           // the pane shows the SSH console (else the serial console)
	focused bool           // the SSH console has the keys
	sshNote string

	info    *pagerState // host details
	confirm *confirmState
	status  status
	home    string
}

// launchSettings are the launch options the screen offers (the CLI's
// --name, --memory, --cpus and --append).
type launchSettings struct {
	Name     string
	MemoryMB int // 0: the mode's default
	CPUs     int // 0: the mode's default
	Append   string
}

// Messages of the launch screen's commands.
type (
	// hostFactsMsg and launchImagesMsg carry what was found, the
	// verdicts (nil: no facts yet) and the SEV-SNP digest (seq, snp: as
	// snpMsg), all worked out off the UI goroutine: assessing reads the
	// firmware, the digest hashes every file.
	hostFactsMsg struct {
		facts    launch.HostFacts
		images   launch.Images
		err      error
		verdicts []launch.Verdict
		snpMsg
	}
	launchImagesMsg struct {
		images   launch.Images
		err      error
		verdicts []launch.Verdict
		snpMsg
	}
	adoptVMMsg struct {
		vm  VM
		err error
	}
	launchProgressMsg struct {
		seq  int
		text string
	}
	launchedMsg struct {
		seq int
		vm  VM
		err error
	}
	vmStatusMsg struct {
		seq    int
		status launch.VMStatus
	}
	vmStatusTickMsg struct{ seq int }
	sshProbeMsg     struct {
		seq int
		err error
	}
	vmStoppedMsg struct {
		seq int
		res launch.StopResult
		err error
	}
	// stopThenQuitMsg is the quit dialog's "stop the VM, then quit".
	stopThenQuitMsg struct{}
	// consoleStartedMsg: the ssh client of console pane id started (in a
	// pty) or could not.
	consoleStartedMsg struct {
		id   int64
		cmd  *exec.Cmd
		ptmx *os.File
		err  error
	}
	// serialMsg: the serial console of VM seq to show in pane id.
	serialMsg struct {
		seq int
		id  int64
		rc  io.ReadCloser
		err error
	}
)

func newLaunchScreen(c *Common, ses *session) *launchScreen {
	s := &launchScreen{c: c, ses: ses, settings: launchSettings{Name: launch.DefaultName, Append: launch.DefaultAppend}}
	s.home, _ = os.UserHomeDir()
	return s
}

func (s *launchScreen) Title() string { return "Launch" }

func (s *launchScreen) Init() tea.Cmd {
	be := s.ses.be.Launch
	s.snpSeq++
	seq, set := s.snpSeq, s.settings
	return tea.Batch(
		func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			f := be.Facts(ctx)
			im, err := be.Images()
			msg := hostFactsMsg{facts: f, images: im, err: err, verdicts: assess(f, im)}
			if err == nil {
				msg.snpMsg = snpMsg{seq: seq, snp: expectSNP(im, set, "")}
			}
			return msg
		},
		func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			vm, err := be.Running(ctx)
			return adoptVMMsg{vm: vm, err: err}
		},
	)
}

// Activate looks for images again: a build may have made them.
func (s *launchScreen) Activate() tea.Cmd { return s.imagesCmd() }

func (s *launchScreen) imagesCmd() tea.Cmd {
	be := s.ses.be.Launch
	s.snpSeq++
	facts, seq, set, prev := s.facts, s.snpSeq, s.settings, ""
	if s.snp != nil {
		prev = s.snp.key
	}
	return func() tea.Msg {
		im, err := be.Images()
		msg := launchImagesMsg{images: im, err: err}
		if facts != nil {
			msg.verdicts = assess(*facts, im)
		}
		if err == nil {
			msg.snpMsg = snpMsg{seq: seq, snp: expectSNP(im, set, prev)}
		}
		return msg
	}
}

func (s *launchScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	cols, rows := s.paneSize()
	for _, p := range []*vtPane{s.serial, s.ssh} {
		if p != nil {
			p.Resize(cols, rows)
		}
	}
	if s.form != nil {
		s.form.width = w
	}
	if s.info != nil {
		s.info.offset = min(s.info.offset, max(0, len(s.info.lines(s.c.Styles, w))-(h-2)))
	}
}

func (s *launchScreen) Capturing() bool { return s.focused || s.form != nil }

// ClaimsKey: while the SSH console has the focus every key is the
// guest's, ctrl+c included, except the one that leaves the console.
func (s *launchScreen) ClaimsKey(tea.KeyMsg) bool { return s.focused }

func (s *launchScreen) vmRunning() bool {
	return s.ses.vm != nil && s.ses.vmStatus.Running
}

func (s *launchScreen) QuitConcerns() []string {
	if s.starting != "" {
		return []string{"a VM is starting: quitting stops it"}
	}
	if s.vmRunning() {
		return []string{fmt.Sprintf("VM %s is running (y leaves it, %s stops it)", s.ses.vm.Record().Name, s.c.Keys.Launch.QuitStop.Help().Key)}
	}
	return nil
}

func (s *launchScreen) QuitOptions() []quitOption {
	if !s.vmRunning() || s.stopping {
		return nil
	}
	return []quitOption{{Key: s.c.Keys.Launch.QuitStop, Msg: stopThenQuitMsg{}}}
}

// Close ends the SSH console and stops following the VM; the VM itself is
// left as the user chose.
func (s *launchScreen) Close() {
	if s.vmRunning() && !s.stopping {
		r := s.ses.vm.Record()
		fmt.Fprintf(s.ses.notes, "cube-hal: VM %s keeps running (ssh on 127.0.0.1:%d); 'cube-hal stop --name %s' stops it\n", r.Name, r.Ports.SSH, r.Name)
	}
	for _, p := range []*vtPane{s.ssh, s.serial} {
		if p != nil {
			p.Close()
		}
	}
	s.closers.Wait()
	if s.vmCancel != nil {
		s.vmCancel()
	}
}

// closeLater closes a pane off the UI goroutine: Close signals its child
// and waits for it. Close (the app's exit) waits for these.
func (s *launchScreen) closeLater(p *vtPane) {
	if p == nil || p.closing {
		return
	}
	p.closing = true
	s.closers.Add(1)
	go func() {
		defer s.closers.Done()
		p.Close()
	}()
}

func (s *launchScreen) setStatus(k statusKind, text string) { s.status = status{text: text, kind: k} }

func (s *launchScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return s.updateKey(msg)
	case hostFactsMsg:
		s.facts = &msg.facts
		s.images, s.imagesErr, s.verdicts = msg.images, msg.err, msg.verdicts
		s.takeSNP(msg.snpMsg)
	case launchImagesMsg:
		s.images, s.imagesErr = msg.images, msg.err
		if msg.verdicts != nil {
			s.verdicts = msg.verdicts
		}
		s.takeSNP(msg.snpMsg)
	case snpMsg:
		s.takeSNP(msg)
	case buildFinishedMsg:
		return s.imagesCmd()
	case adoptVMMsg:
		if msg.vm != nil && s.ses.vm == nil && s.startSeq == 0 {
			s.setStatus(statusInfo, "Found VM "+msg.vm.Record().Name+" running (started earlier)")
			return s.watch(msg.vm)
		}
	case launchProgressMsg:
		if msg.seq == s.startSeq && s.starting != "" {
			s.progress = msg.text
			return s.progressCmd()
		}
	case launchedMsg:
		if msg.seq != s.startSeq {
			return nil
		}
		mode := s.starting
		s.starting, s.progress = "", ""
		if msg.err != nil {
			s.startFail = startFailure(msg.err)
			s.setStatus(statusError, "Launch failed: "+firstLine(msg.err.Error()))
			return nil
		}
		s.startFail = nil
		s.setStatus(statusOK, fmt.Sprintf("VM %s started (%s); c opens the SSH console once the guest's SSH answers", msg.vm.Record().Name, modeName(mode)))
		return s.watch(msg.vm)
	case vmStatusMsg:
		if msg.seq != s.vmSeq || s.ses.vm == nil {
			return nil
		}
		was := s.ses.vmStatus.Running
		s.ses.vmStatus = msg.status
		if was && !msg.status.Running && !s.stopping {
			how := "exited"
			if msg.status.Exit != nil {
				how += " (" + msg.status.Exit.String() + ")"
			}
			s.setStatus(statusError, "VM "+msg.status.Name+" "+how)
			s.endVM()
			return func() tea.Msg { return vmChangedMsg{} }
		}
		if msg.status.Running {
			return s.statusTick()
		}
	case vmStatusTickMsg:
		if msg.seq != s.vmSeq || s.ses.vm == nil || !s.ses.vmStatus.Running {
			return nil
		}
		return s.statusCmd()
	case sshProbeMsg:
		if msg.seq != s.vmSeq || s.ses.vm == nil || !s.ses.vmStatus.Running {
			return nil
		}
		if msg.err != nil {
			return s.probeCmd(500 * time.Millisecond)
		}
		s.sshReady = true
		if s.pendingConsole {
			s.pendingConsole = false
			return s.openConsole()
		}
		if s.status.kind != statusError {
			s.setStatus(statusOK, "The guest's SSH server answers: c opens the SSH console")
		}
	case vmStoppedMsg:
		if msg.seq != s.vmSeq {
			return nil
		}
		s.stopping = false
		if msg.err != nil {
			s.setStatus(statusError, "Stopping the VM: "+msg.err.Error())
			s.quitAfterStop = false
			return s.statusCmd()
		}
		s.setStatus(statusOK, "VM stopped: "+msg.res.String())
		s.ses.vmStatus.Running = false
		s.endVM()
		s.ses.vm = nil
		cmds := []tea.Cmd{func() tea.Msg { return vmChangedMsg{} }}
		if s.quitAfterStop {
			cmds = append(cmds, quitNow)
		}
		return tea.Batch(cmds...)
	case stopThenQuitMsg:
		s.quitAfterStop = true
		return s.stop()
	case consoleStartedMsg:
		return s.consoleStarted(msg)
	case serialMsg:
		p := s.serial
		if msg.seq != s.vmSeq || p == nil || p.id != msg.id || p.closing {
			if msg.rc != nil {
				msg.rc.Close()
			}
			return nil
		}
		if msg.err != nil {
			s.setStatus(statusError, "Serial console: "+msg.err.Error())
			return nil
		}
		p.Follow(msg.rc)
		return p.wait()
	case vtFrameMsg:
		if p := s.pane(msg.id); p != nil {
			p.Apply(msg)
			return p.wait()
		}
	case vtEndMsg:
		if s.ssh != nil && msg.id == s.ssh.id {
			s.focused = false
			if s.stopping || !s.vmRunning() {
				// The VM went (as asked, or not): its status says so,
				// and ssh's own words (status 255) add nothing.
				s.sshNote = "ssh ended with the VM"
				return nil
			}
			s.sshNote = "ssh " + s.ssh.ExitStatus()
			if s.ses.vm != nil {
				if h := s.ses.vm.SSHHint(s.ssh.Text()); h != "" {
					s.sshNote += ": " + h
				}
			}
			kind := statusInfo
			if msg.err != nil {
				kind = statusError
			}
			s.setStatus(kind, "SSH console closed ("+s.sshNote+"); c opens a new one")
		}
	}
	return nil
}

// pane finds a pane by id.
func (s *launchScreen) pane(id int64) *vtPane {
	for _, p := range []*vtPane{s.serial, s.ssh} {
		if p != nil && p.id == id {
			return p
		}
	}
	return nil
}

// assess decides, from the host facts and the images, which modes can
// run (it reads the firmware: call it in a command).
func assess(f launch.HostFacts, im launch.Images) []launch.Verdict {
	fw := map[launch.Mode]string{launch.ModeSNP: im.Firmware, launch.ModeTDX: im.Firmware}
	return launch.AssessAll(f, fw)
}

// takeSNP keeps a computed SEV-SNP digest if it is the latest asked for
// (a nil one means the inputs had not changed).
func (s *launchScreen) takeSNP(m snpMsg) {
	if m.seq == s.snpSeq && m.snp != nil {
		s.snp = m.snp
	}
}

func (s *launchScreen) verdict(m launch.Mode) (launch.Verdict, bool) {
	for _, v := range s.verdicts {
		if v.Mode == m {
			return v, true
		}
	}
	return launch.Verdict{}, false
}

// watch makes vm the session's VM: its serial console in the pane, its
// status polled, its SSH server probed.
func (s *launchScreen) watch(vm VM) tea.Cmd {
	if s.vmCancel != nil {
		s.vmCancel()
	}
	s.closeLater(s.serial)
	s.closeLater(s.ssh)
	s.vmSeq++
	s.vmCtx, s.vmCancel = context.WithCancel(context.Background())
	s.ses.vm = vm
	rec := vm.Record()
	s.ses.vmStatus = launch.VMStatus{Name: rec.Name, Mode: rec.Mode, Accel: rec.Accel, State: rec.State, Running: true,
		PID: rec.PID, Ports: rec.Ports, Started: rec.Started}
	s.sshReady, s.pendingConsole, s.stopping, s.showSSH, s.focused, s.sshNote = false, false, false, false, false, ""
	s.ssh = nil
	cols, rows := s.paneSize()
	s.serial = newVTPane(cols, rows)
	seq, id, ctx := s.vmSeq, s.serial.id, s.vmCtx
	follow := func() tea.Msg {
		rc, err := vm.FollowSerial(ctx)
		return serialMsg{seq: seq, id: id, rc: rc, err: err}
	}
	return tea.Batch(follow, s.statusCmd(), s.probeCmd(0), func() tea.Msg { return vmChangedMsg{} })
}

// endVM stops watching a VM that is gone; its panes keep their last text.
func (s *launchScreen) endVM() {
	s.focused, s.sshReady, s.pendingConsole = false, false, false
	s.closeLater(s.ssh)
	if s.vmCancel != nil {
		s.vmCancel()
	}
}

func (s *launchScreen) statusCmd() tea.Cmd {
	vm, seq, ctx := s.ses.vm, s.vmSeq, s.vmCtx
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		st := vm.Status(c)
		if ctx.Err() != nil {
			return nil
		}
		return vmStatusMsg{seq: seq, status: st}
	}
}

// vmPoll is how often the VM's status is asked for.
const vmPoll = time.Second

func (s *launchScreen) statusTick() tea.Cmd {
	seq := s.vmSeq
	return tea.Tick(vmPoll, func(time.Time) tea.Msg { return vmStatusTickMsg{seq: seq} })
}

func (s *launchScreen) probeCmd(after time.Duration) tea.Cmd {
	vm, seq, ctx := s.ses.vm, s.vmSeq, s.vmCtx
	return func() tea.Msg {
		select {
		case <-time.After(after):
		case <-ctx.Done():
			return nil
		}
		c, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		return sshProbeMsg{seq: seq, err: vm.SSHReady(c)}
	}
}

func (s *launchScreen) updateKey(msg tea.KeyMsg) tea.Cmd {
	if s.focused {
		if key.Matches(msg, s.c.Keys.Term.Leave) {
			s.focused = false
			s.setStatus(statusInfo, "Left the SSH console (it stays open): c goes back to it")
			return nil
		}
		s.ssh.SendKey(msg)
		return nil
	}
	if s.form != nil {
		done, cfg := s.form.update(msg, s.c.Keys)
		if done {
			s.form = nil
			if cfg != nil {
				s.settings = *cfg
				s.setStatus(statusOK, "Launch settings changed: "+s.settingsText())
				return s.measureCmd()
			}
		}
		return nil
	}
	if s.confirm != nil {
		switch {
		case key.Matches(msg, s.confirm.yes):
			f := s.confirm.onYes
			s.confirm = nil
			return f()
		case key.Matches(msg, s.confirm.no):
			s.confirm = nil
		}
		return nil
	}
	if s.info != nil {
		p := s.c.Keys.Pager
		lines := s.info.lines(s.c.Styles, s.width)
		maxOff := max(0, len(lines)-(s.height-2))
		switch {
		case key.Matches(msg, p.Close), key.Matches(msg, s.c.Keys.Launch.Details):
			s.info = nil
		case key.Matches(msg, p.Up):
			s.info.offset = max(0, s.info.offset-1)
		case key.Matches(msg, p.Down):
			s.info.offset = min(maxOff, s.info.offset+1)
		case key.Matches(msg, p.PageUp):
			s.info.offset = max(0, s.info.offset-(s.height-2))
		case key.Matches(msg, p.PageDown):
			s.info.offset = min(maxOff, s.info.offset+(s.height-2))
		}
		return nil
	}
	k := &s.c.Keys.Launch
	switch {
	case key.Matches(msg, s.c.Keys.Browse.Quit):
		return quitRequest
	case key.Matches(msg, k.SNP):
		return s.launch(launch.ModeSNP)
	case key.Matches(msg, k.TDX):
		return s.launch(launch.ModeTDX)
	case key.Matches(msg, k.Plain):
		return s.launch(launch.ModePlain)
	case key.Matches(msg, k.Console):
		return s.console()
	case key.Matches(msg, k.Serial):
		if s.ssh != nil {
			s.showSSH = !s.showSSH
		}
	case key.Matches(msg, k.Stop):
		if s.vmRunning() && !s.stopping {
			name := s.ses.vm.Record().Name
			s.confirm = &confirmState{
				title: "Stop VM " + name + "?",
				lines: []string{"The guest gets the ACPI power button and 30 s to power off; then QEMU is told to quit (and is killed if it does not)."},
				yes:   withHelp(s.c.Keys.Confirm.Yes, "stop it"),
				no:    withHelp(s.c.Keys.Confirm.No, "keep it running"),
				onYes: s.stop,
			}
		}
	case key.Matches(msg, k.Settings):
		if s.starting == "" {
			s.form = newLaunchForm(s.settings, s.width)
		}
	case key.Matches(msg, k.Details):
		s.info = &pagerState{title: "Host and launch details", secs: s.details()}
	case key.Matches(msg, k.Up):
		s.shown().ScrollBy(1)
	case key.Matches(msg, k.Down):
		s.shown().ScrollBy(-1)
	case key.Matches(msg, k.PageUp):
		_, rows := s.paneSize()
		s.shown().ScrollBy(rows - 1)
	case key.Matches(msg, k.PageDown):
		_, rows := s.paneSize()
		s.shown().ScrollBy(-(rows - 1))
	case key.Matches(msg, k.Bottom):
		s.shown().ScrollToBottom()
	}
	return nil
}

// shown is the pane on screen (a blank one when there is none, so scroll
// keys need no checks).
func (s *launchScreen) shown() *vtPane {
	if s.showSSH && s.ssh != nil {
		return s.ssh
	}
	if s.serial != nil {
		return s.serial
	}
	return &vtPane{}
}

// launch starts a VM in mode, after checking that the host can run it
// and that there are images to boot.
func (s *launchScreen) launch(mode launch.Mode) tea.Cmd {
	switch {
	case s.starting != "":
		s.setStatus(statusInfo, "A VM is already starting")
		return nil
	case s.vmRunning():
		s.setStatus(statusError, fmt.Sprintf("VM %s is running: stop it first (x)", s.ses.vm.Record().Name))
		return nil
	case s.facts == nil:
		s.setStatus(statusInfo, "Still looking at the host…")
		return nil
	case s.imagesErr != nil:
		s.setStatus(statusError, "Nothing to boot: "+s.imagesErr.Error()+" (build first: 2)")
		return nil
	}
	if v, ok := s.verdict(mode); ok && !v.OK {
		s.setStatus(statusError, fmt.Sprintf("%s is not available here: %s (i shows why)", modeName(mode), firstOf(v.Reasons)))
		return nil
	}
	cfg := launchConfig(mode, s.images, s.settings)
	s.startSeq++
	s.starting, s.progress, s.startFail = mode, "preparing", nil
	s.progCh = make(chan string, 16)
	seq, be, ch := s.startSeq, s.ses.be.Launch, s.progCh
	s.setStatus(statusInfo, "Launching a "+modeName(mode)+" VM…")
	start := func() tea.Msg {
		vm, err := be.Start(context.Background(), cfg, func(p string) {
			select {
			case ch <- p:
			default: // the UI shows the latest; never block the launch
			}
		})
		close(ch) // Start has returned: no more progress
		return launchedMsg{seq: seq, vm: vm, err: err}
	}
	return tea.Batch(start, s.progressCmd())
}

// progressCmd delivers the next progress line of the start in flight.
func (s *launchScreen) progressCmd() tea.Cmd {
	ch, seq := s.progCh, s.startSeq
	return func() tea.Msg {
		if p, ok := <-ch; ok {
			return launchProgressMsg{seq: seq, text: p}
		}
		return nil
	}
}

// console opens (or goes back to) the SSH console.
func (s *launchScreen) console() tea.Cmd {
	switch {
	case s.ses.vm == nil || !s.vmRunning():
		s.setStatus(statusError, "No VM is running: launch one first (p for plain)")
		return nil
	case s.stopping:
		s.setStatus(statusInfo, "VM "+s.ses.vm.Record().Name+" is stopping")
		return nil
	case s.ssh != nil && !s.ssh.Ended():
		s.showSSH, s.focused = true, true
		return nil
	case !s.sshReady:
		s.pendingConsole = true
		s.setStatus(statusInfo, "Waiting for the guest's SSH server; the console opens when it answers…")
		return nil
	}
	return s.openConsole()
}

// openConsole shows a new SSH console with the focus at once (keys typed
// meanwhile wait for ssh) and starts ssh in a command: preparing its files
// and forking are I/O.
func (s *launchScreen) openConsole() tea.Cmd {
	s.closeLater(s.ssh)
	cols, rows := s.paneSize()
	p := newVTPane(cols, rows)
	p.TakeInput()
	s.ssh, s.showSSH, s.focused, s.sshNote = p, true, true, ""
	s.setStatus(statusInfo, fmt.Sprintf("SSH console to %s: every key goes to the guest; %s leaves", s.ses.vm.Record().Name, s.c.Keys.Term.Leave.Help().Key))
	vm, id := s.ses.vm, p.id
	return func() tea.Msg {
		cmd, err := vm.SSHCommand()
		if err != nil {
			return consoleStartedMsg{id: id, err: err}
		}
		ptmx, err := startPTY(cmd, cols, rows)
		return consoleStartedMsg{id: id, cmd: cmd, ptmx: ptmx, err: err}
	}
}

// consoleStarted attaches the console pane to its ssh client, or says why
// there is none. A client whose pane was closed meanwhile is ended.
func (s *launchScreen) consoleStarted(msg consoleStartedMsg) tea.Cmd {
	p := s.ssh
	if p == nil || p.id != msg.id || p.closing {
		if msg.err == nil {
			orphan := newVTPane(1, 1)
			orphan.Attach(msg.cmd, msg.ptmx)
			s.closeLater(orphan)
		}
		return nil
	}
	if msg.err != nil {
		s.ssh, s.showSSH, s.focused = nil, false, false
		s.closeLater(p)
		s.setStatus(statusError, "SSH console: "+msg.err.Error())
		return nil
	}
	p.Attach(msg.cmd, msg.ptmx)
	return p.wait()
}

// stop shuts the session's VM down.
func (s *launchScreen) stop() tea.Cmd {
	if !s.vmRunning() || s.stopping {
		if s.quitAfterStop {
			return quitNow
		}
		return nil
	}
	s.stopping = true
	s.focused = false
	vm, seq := s.ses.vm, s.vmSeq
	s.setStatus(statusInfo, "Stopping VM "+vm.Record().Name+": ACPI power button, then QEMU quit…")
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := vm.Stop(ctx, launch.StopOptions{PowerdownTimeout: 30 * time.Second})
		return vmStoppedMsg{seq: seq, res: res, err: err}
	}
}

// startFailure explains a failed start in lines: the error, then QEMU's
// own output and the serial console's last lines when there are some.
func startFailure(err error) []string {
	lines := strings.Split(err.Error(), "\n")
	var se *launch.StartError
	if errors.As(err, &se) {
		if se.QEMUOutput != "" {
			lines = append(lines, "", "QEMU said:")
			lines = append(lines, indentLines(se.QEMUOutput)...)
		}
		if se.SerialTail != "" {
			lines = append(lines, "", "Last lines of the serial console:")
			lines = append(lines, indentLines(se.SerialTail)...)
		}
		lines = append(lines, "", "Command line:", "  "+se.CommandLine, "", "Logs: "+se.RunDir)
	}
	var re *launch.RefusedError
	if errors.As(err, &re) {
		lines = []string{"This host cannot run " + modeName(re.Verdict.Mode) + ":"}
		for _, r := range re.Verdict.Reasons {
			lines = append(lines, "  • "+r)
		}
	}
	return lines
}

func indentLines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, "  "+l)
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func modeName(m launch.Mode) string {
	switch m {
	case launch.ModeSNP:
		return "SEV-SNP"
	case launch.ModeTDX:
		return "TDX"
	case launch.ModePlain:
		return "plain"
	}
	return string(m)
}

func (s *launchScreen) settingsText() string {
	mem, cpus := "default memory", "default vCPUs"
	if s.settings.MemoryMB > 0 {
		mem = launch.FormatMemory(s.settings.MemoryMB)
	}
	if s.settings.CPUs > 0 {
		cpus = plural(s.settings.CPUs, "vCPU", "vCPUs")
	}
	return fmt.Sprintf("%s · %s · %s · %q", s.settings.Name, mem, cpus, s.settings.Append)
}

// details are the host facts and every verdict in full, for the info pane.
func (s *launchScreen) details() []Section {
	var secs []Section
	if f := s.facts; f != nil {
		var l []string
		switch {
		case !f.QEMU.Found():
			l = append(l, "QEMU: "+f.QEMU.Name+" not found on PATH")
		default:
			l = append(l, fmt.Sprintf("QEMU %s (%s)", f.QEMU.Version, f.QEMU.Path))
		}
		if f.KVM.Usable {
			l = append(l, "KVM: usable")
		} else {
			l = append(l, "KVM: not usable: "+f.KVM.Why)
		}
		cpu := f.CPU.ModelName
		if cpu == "" {
			cpu = f.CPU.Vendor
		}
		l = append(l, fmt.Sprintf("CPU: %s (SEV-SNP host: %s, TDX host: %s)", cpu, yesNo(f.SEV.SNPHost), yesNo(f.TDX.Host)))
		fw := s.images.Firmware
		if fw == "" {
			fw = "none in the images directory"
		}
		l = append(l, "Firmware (SNP, TDX): "+fw)
		secs = append(secs, Section{Title: "Host", Lines: l})
	}
	for _, v := range s.verdicts {
		var l []string
		if v.OK {
			l = append(l, "available, with "+string(v.Accel))
		}
		for _, r := range v.Reasons {
			l = append(l, "✗ "+r)
		}
		for _, n := range v.Notes {
			l = append(l, "note: "+n)
		}
		secs = append(secs, Section{Title: modeName(v.Mode), Lines: l})
	}
	if s.ses.vm != nil && s.ses.vm.Record().ExpectedMeasurement != "" {
		secs = append(secs, Section{Title: "Expected SEV-SNP measurement of VM " + s.ses.vm.Record().Name,
			Lines: append(digestLines(s.ses.vm.Record().ExpectedMeasurement), "(the launch digest of the firmware, kernel, initrd, command line and vCPUs it booted with; Attest checks reports against it)")})
	}
	secs = append(secs, s.snpDetails()...)
	if len(s.startFail) > 0 {
		secs = append(secs, Section{Title: "Last launch failure", Lines: s.startFail})
	}
	return secs
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (s *launchScreen) ShortHelp() []key.Binding {
	k := s.c.Keys.Launch
	switch {
	case s.focused:
		return []key.Binding{s.c.Keys.Term.Leave}
	case s.form != nil:
		return s.form.help(s.c.Keys)
	case s.confirm != nil:
		return []key.Binding{s.confirm.yes, s.confirm.no}
	case s.info != nil:
		return []key.Binding{s.c.Keys.Pager.Close, s.c.Keys.Pager.Down, s.c.Keys.Pager.PageDown}
	}
	var out []key.Binding
	switch {
	case s.stopping:
		// Nothing to reach, stop or launch until the VM has stopped.
	case s.vmRunning():
		console := k.Console
		if s.ssh != nil && !s.ssh.Ended() {
			console = withHelp(console, "back to console")
		}
		out = append(out, console, k.Stop)
		if s.ssh != nil {
			out = append(out, k.Serial)
		}
	case s.starting == "":
		for _, m := range []struct {
			b    key.Binding
			mode launch.Mode
		}{{k.Plain, launch.ModePlain}, {k.SNP, launch.ModeSNP}, {k.TDX, launch.ModeTDX}} {
			if v, ok := s.verdict(m.mode); ok && v.OK {
				out = append(out, m.b)
			}
		}
		out = append(out, k.Settings)
	}
	out = append(out, k.Details)
	if s.serial != nil {
		out = append(out, k.Up)
	}
	return append(out, s.c.Keys.Browse.Quit)
}

func (s *launchScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }

// paneSize is the console pane's inner size.
func (s *launchScreen) paneSize() (cols, rows int) {
	top := s.view().top(s.c.Styles, s.width)
	return max(1, s.width-2), max(1, s.height-len(top)-1-2)
}

func (s *launchScreen) view() launchView {
	v := launchView{
		facts: s.facts, verdicts: s.verdicts, images: s.images, imagesErr: s.imagesErr,
		settings: s.settingsText(), starting: s.starting, progress: s.progress, startFail: s.startFail,
		status: s.status, home: s.home, sshReady: s.sshReady, stopping: s.stopping, snp: s.snp,
	}
	if s.ses.vm != nil {
		st := s.ses.vmStatus
		v.vm = &st
		v.expected = s.ses.vm.Record().ExpectedMeasurement
	}
	p := s.shown()
	if p.emu != nil {
		v.paneLines = p.Lines(s.focused && p == s.ssh)
		v.paneSSH = p == s.ssh
		v.paneFocused = s.focused && p == s.ssh
		v.paneScrolled = p.Scrolled()
		if p == s.ssh && p.Ended() {
			v.paneEnd = s.sshNote
		}
		if p == s.serial && p.Ended() {
			v.paneEnd = "the VM's console ended"
		}
	}
	v.sshOpen = s.ssh != nil && !s.ssh.Ended()
	return v
}

func (s *launchScreen) View() string {
	if s.width <= 0 || s.height <= 0 {
		return ""
	}
	switch {
	case s.form != nil:
		return s.form.view(s.c.Styles, s.width, s.height)
	case s.confirm != nil:
		return renderConfirm(s.c.Styles, s.confirm.title, s.confirm.lines, []key.Binding{s.confirm.yes, s.confirm.no}, s.width, s.height)
	case s.info != nil:
		return renderPager(s.c.Styles, s.info.title, s.info.lines(s.c.Styles, s.width), s.info.offset, s.width, s.height)
	}
	return renderLaunchView(s.c.Styles, s.view(), s.width, s.height)
}

// launchView is everything the launch screen draws, for the pure render
// function.
type launchView struct {
	facts     *launch.HostFacts
	verdicts  []launch.Verdict
	images    launch.Images
	imagesErr error
	settings  string
	starting  launch.Mode
	progress  string
	startFail []string

	vm       *launch.VMStatus
	expected string     // the SNP launch digest the running VM's reports must carry
	snp      *snpExpect // the SNP launch digest of the images and settings
	sshReady bool
	sshOpen  bool
	stopping bool

	paneLines    []string
	paneSSH      bool
	paneFocused  bool
	paneScrolled int
	paneEnd      string

	status status
	home   string
}

func renderLaunchView(st *Styles, v launchView, w, h int) string {
	top := v.top(st, w)
	rest := h - len(top) - 1
	var body []string
	if rest >= 3 {
		switch {
		case len(v.startFail) > 0 && v.vm == nil:
			body = renderBox(st, "Launch failed", "i shows it all", failLines(st, v.startFail, w), false, w, rest)
		case v.paneLines != nil:
			title, right := "Serial console", "following"
			if v.paneSSH {
				title = "SSH console"
				right = "c focuses it"
				if v.paneFocused {
					right = "ctrl+] leaves"
				}
			}
			if v.paneScrolled > 0 {
				right = fmt.Sprintf("%d lines up · G follows", v.paneScrolled)
			}
			if v.paneEnd != "" {
				right = v.paneEnd
			}
			body = renderBox(st, title, right, v.paneLines, v.paneFocused, w, rest)
		}
	}
	lines := fitLines(append(top, body...), w, h-1)
	lines = append(lines, renderStatus(st, v.status, w))
	return strings.Join(lines, "\n")
}

// top is the part above the console pane: the host panel, the images and
// settings, the VM.
func (v launchView) top(st *Styles, w int) []string {
	out := []string{renderBar(st.Work.Heading, st.Work.Muted, "Launch the image", "", w)}
	if v.facts == nil {
		return append(out, fitLine("  "+st.Work.Muted.Render("Looking at the host (CPU, KVM, SEV-SNP, TDX, QEMU)…"), w))
	}
	out = append(out, kvLine(st, "Host", st.Work.Value.Render(truncate(v.hostLine(), w-12)), 8, w))
	keys := map[launch.Mode]string{launch.ModeSNP: "s", launch.ModeTDX: "t", launch.ModePlain: "p"}
	for _, vd := range v.verdicts {
		head := "  " + st.Work.Label.Render(keys[vd.Mode]) + " " + st.Work.Value.Render(padRight(modeName(vd.Mode), 8)) + " "
		var text string
		if vd.OK {
			what := "ready"
			if vd.Mode == launch.ModePlain {
				what += " (" + string(vd.Accel) + ")"
			}
			text = st.Work.OK.Render("✓ "+what) + st.Work.Muted.Render(truncate(joinNonEmpty("", ifThen(len(vd.Notes) > 0, ": "+firstOf(vd.Notes))), max(0, w-24-len(what))))
		} else {
			more := ""
			if len(vd.Reasons) > 1 {
				more = fmt.Sprintf(" (+%d, i)", len(vd.Reasons)-1)
			}
			room := max(0, w-ansiWidth(head)-len("✗ unavailable: ")-len(more))
			text = st.Work.Bad.Render("✗ unavailable: ") + st.Work.Muted.Render(truncate(firstOf(vd.Reasons), room)+more)
		}
		out = append(out, fitLine(head+text, w))
	}
	lw := 8
	if v.imagesErr != nil {
		out = append(out, kvLine(st, "Images", st.Work.Bad.Render("✗ ")+st.Work.Value.Render(truncate(v.imagesErr.Error(), w-lw-6)), lw, w))
	} else {
		im := shortenPath(v.images.Kernel, v.home)
		if v.images.Initrd != "" {
			im += ", " + baseName(v.images.Initrd)
		}
		if v.images.Firmware != "" {
			im += ", " + baseName(v.images.Firmware)
		}
		out = append(out, kvLine(st, "Images", st.Work.Value.Render(truncate(im, w-lw-4)), lw, w))
	}
	out = append(out, kvLine(st, "Settings", st.Work.Value.Render(truncate(v.settings, w-lw-8))+st.Work.Muted.Render(" (e)"), lw, w))
	return append(out, v.vmLines(st, lw, w)...)
}

func ifThen(c bool, s string) string {
	if c {
		return s
	}
	return ""
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func ansiWidth(s string) int { return ansi.StringWidth(s) }

// hostLine is the host panel's facts: QEMU, KVM (and why not), firmware.
func (v launchView) hostLine() string {
	f := v.facts
	q := "QEMU: not found (install qemu-system-x86)"
	if f.QEMU.Found() {
		q = "QEMU " + f.QEMU.Version.String()
	}
	kvm := "KVM usable"
	if !f.KVM.Usable {
		kvm = "KVM not usable"
		if f.KVM.Why != "" {
			kvm += " (" + f.KVM.Why + ")"
		}
	}
	fw := "firmware: none in the images (SNP and TDX need OVMF.fd)"
	if v.images.Firmware != "" {
		fw = "firmware: " + baseName(v.images.Firmware)
	}
	return q + " · " + fw + " · " + kvm
}

// vmLines are the VM's state (how it runs, its uptime) and its ports.
func (v launchView) vmLines(st *Styles, lw, w int) []string {
	switch {
	case v.starting != "":
		return []string{kvLine(st, "VM", st.Work.Running.Render("◌ starting ("+modeName(v.starting)+")")+st.Work.Muted.Render(truncate(": "+v.progress, max(0, w-lw-24))), lw, w)}
	case v.vm == nil:
		out := []string{kvLine(st, "VM", st.Work.Muted.Render("none running: p launches a plain VM"), lw, w)}
		if l := v.snpLine(st, lw, w); l != "" {
			out = append(out, l)
		}
		return out
	}
	s := v.vm
	state := st.Work.OK.Render("● running")
	switch {
	case v.stopping:
		state = st.Work.Running.Render("◌ stopping")
	case !s.Running:
		what := "○ " + s.State
		if s.Exit != nil {
			what += " (" + s.Exit.String() + ")"
		}
		state = st.Work.Bad.Render(what)
	}
	mode := string(s.Mode)
	if s.Accel != "" {
		mode += "/" + string(s.Accel)
	}
	parts := []string{s.Name + " " + state, mode}
	if s.Running {
		parts = append(parts, fmt.Sprintf("pid %d", s.PID), "up "+clock(s.Uptime))
		if s.QMPStatus != "" {
			parts = append(parts, "QMP "+s.QMPStatus)
		}
	}
	out := []string{kvLine(st, "VM", st.Work.Value.Render(truncate(strings.Join(parts, " · "), w-lw-4)), lw, w)}
	switch {
	case v.expected != "":
		tail := " (Attest checks it)"
		out = append(out, kvLine(st, "Measure", st.Work.Value.Render(digestText(v.expected, max(8, w-lw-4-len(tail))))+st.Work.Muted.Render(tail), lw, w))
	case !s.Running:
		if l := v.snpLine(st, lw, w); l != "" {
			out = append(out, l)
		}
	}
	if s.Running {
		ssh := fmt.Sprintf("ssh 127.0.0.1:%d", s.Ports.SSH)
		switch {
		case v.sshOpen:
			ssh += " (console open)"
		case v.sshReady:
			ssh += " (ready)"
		default:
			ssh += " (waiting for the guest)"
		}
		ports := ssh + fmt.Sprintf(" · agent 127.0.0.1:%d", s.Ports.Agent)
		out = append(out, kvLine(st, "Ports", st.Work.Value.Render(truncate(ports, w-lw-4)), lw, w))
	}
	return out
}

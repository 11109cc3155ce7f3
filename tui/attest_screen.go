package tui

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
	"github.com/ultravioletrs/cube-hal/agent/verify"
	"github.com/ultravioletrs/cube-hal/launch"
)

// attestScreen fetches evidence from the session VM's agent, bound to a
// fresh nonce, verifies it and shows every check as passed or failed with
// the expected and the actual value: the signature chain, the report data
// binding, the measurement, VMPL, debug, TCB and policy.
//
// The expected measurement is the one the user sets (m), else, for a
// SEV-SNP VM this session launched, the launch digest computed from the
// very files and settings it booted with (launch.Config's
// ExpectedSNPMeasurement); otherwise the measurement is shown but not
// checked, and the screen says so.
type attestScreen struct {
	c   *Common
	ses *session

	width, height int

	testRoots   bool
	measurement []byte // set by the user; nil: from the launch, or unchecked
	vmpl        *int

	edit     *attestEdit
	running  bool
	seq      int
	result   *verify.Result
	err      error
	at       time.Time
	expected string // where the expected measurement came from, for the last run
	offset   int

	status status
}

// attestEdit is the input for an expected value.
type attestEdit struct {
	what  string // "measurement" or "vmpl"
	input textinput.Model
	err   string
}

type attestedMsg struct {
	seq    int
	res    *verify.Result
	err    error
	source string
}

func newAttestScreen(c *Common, ses *session) *attestScreen { return &attestScreen{c: c, ses: ses} }

func (s *attestScreen) Title() string { return "Attest" }

func (s *attestScreen) Init() tea.Cmd { return nil }

func (s *attestScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	if s.edit != nil {
		s.edit.input.Width = max(10, w-20)
	}
}

func (s *attestScreen) Capturing() bool { return s.edit != nil }

func (s *attestScreen) QuitConcerns() []string { return nil }

func (s *attestScreen) setStatus(k statusKind, text string) { s.status = status{text: text, kind: k} }

// agentURL is the session VM's agent, when a VM runs.
func (s *attestScreen) agentURL() string {
	if s.ses.vm == nil || !s.ses.vmStatus.Running || s.ses.vmStatus.Ports.Agent == 0 {
		return ""
	}
	return fmt.Sprintf("http://127.0.0.1:%d", s.ses.vmStatus.Ports.Agent)
}

func (s *attestScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return s.updateKey(msg)
	case vmChangedMsg:
		if s.ses.vm == nil && s.result != nil {
			s.setStatus(statusInfo, "The VM stopped; the result below is from before")
		}
	case attestedMsg:
		if msg.seq != s.seq {
			return nil
		}
		s.running = false
		s.result, s.err, s.at, s.expected, s.offset = msg.res, msg.err, time.Now(), msg.source, 0
		switch {
		case msg.err != nil:
			s.setStatus(statusError, "No evidence: "+msg.err.Error())
		case msg.res.Verified:
			s.setStatus(statusOK, msg.res.Verdict())
		default:
			hint := ""
			if msg.res.Fake && !s.testRoots {
				hint = " (the agent serves fake-TSM evidence: T trusts the test roots)"
			}
			s.setStatus(statusError, msg.res.Verdict()+hint)
		}
	}
	return nil
}

func (s *attestScreen) updateKey(msg tea.KeyMsg) tea.Cmd {
	if s.edit != nil {
		return s.updateEdit(msg)
	}
	k := s.c.Keys.Attest
	switch {
	case key.Matches(msg, s.c.Keys.Browse.Quit):
		return quitRequest
	case key.Matches(msg, k.Run):
		return s.attest()
	case key.Matches(msg, k.TestRoots):
		s.testRoots = !s.testRoots
		if s.testRoots {
			s.setStatus(statusInfo, "Trusting go-sev-guest's TEST roots: only for an agent with the fake TSM; proves nothing about hardware")
		} else {
			s.setStatus(statusInfo, "Trusting AMD's and Intel's real roots")
		}
	case key.Matches(msg, k.Measurement):
		v := ""
		if s.measurement != nil {
			v = hex.EncodeToString(s.measurement)
		}
		s.openEdit("measurement", v, "96 hex digits; empty: from the launch, or unchecked")
	case key.Matches(msg, k.VMPL):
		v := ""
		if s.vmpl != nil {
			v = strconv.Itoa(*s.vmpl)
		}
		s.openEdit("vmpl", v, "0 to 3; empty: not checked")
	case key.Matches(msg, s.c.Keys.Pager.Up):
		s.offset = max(0, s.offset-1)
	case key.Matches(msg, s.c.Keys.Pager.Down):
		s.offset++
	case key.Matches(msg, s.c.Keys.Pager.PageUp):
		s.offset = max(0, s.offset-(s.height-4))
	case key.Matches(msg, s.c.Keys.Pager.PageDown):
		s.offset += s.height - 4
	}
	return nil
}

func (s *attestScreen) openEdit(what, value, placeholder string) {
	in := newInput()
	in.SetValue(value)
	in.Placeholder = placeholder
	in.Width = max(10, s.width-20)
	in.Focus()
	s.edit = &attestEdit{what: what, input: in}
}

func (s *attestScreen) updateEdit(msg tea.KeyMsg) tea.Cmd {
	e := s.edit
	switch msg.Type {
	case tea.KeyEscape:
		s.edit = nil
		return nil
	case tea.KeyEnter:
		v := strings.TrimSpace(e.input.Value())
		switch e.what {
		case "measurement":
			m, err := parseMeasurement(v)
			if err != nil {
				e.err = err.Error()
				return nil
			}
			s.measurement = m
		case "vmpl":
			if v == "" {
				s.vmpl = nil
				break
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 3 {
				e.err = "want 0 to 3"
				return nil
			}
			s.vmpl = &n
		}
		s.edit = nil
		return nil
	}
	e.input, _ = e.input.Update(msg)
	e.err = ""
	return nil
}

// parseMeasurement reads 48 bytes of hex, tolerating a 0x prefix, colons
// and spaces (as tools print digests); empty means none.
func parseMeasurement(v string) ([]byte, error) {
	clean := strings.NewReplacer(":", "", " ", "").Replace(strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X"))
	if clean == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(clean)
	if err != nil {
		return nil, errors.New("not hex")
	}
	if len(b) != 48 {
		return nil, fmt.Errorf("%d bytes, want 48 (96 hex digits)", len(b))
	}
	return b, nil
}

// attest fetches and verifies in a command.
func (s *attestScreen) attest() tea.Cmd {
	agent := s.agentURL()
	if agent == "" {
		s.setStatus(statusError, "No VM is running: launch one first (3)")
		return nil
	}
	if s.running {
		return nil
	}
	s.running = true
	s.seq++
	seq, be := s.seq, s.ses.be.Attest
	userM, vmpl, test := s.measurement, s.vmpl, s.testRoots
	rec := s.ses.vm.Record()
	s.setStatus(statusInfo, "Asking "+agent+" for evidence bound to a fresh nonce…")
	return func() tea.Msg {
		var pol verify.Policy
		source := ""
		switch {
		case userM != nil:
			pol.Measurement, source = userM, "the Attest screen (m)"
		case rec.ExpectedMeasurement != "":
			if d, err := rec.Measurement(); err == nil {
				pol.Measurement, source = d, "the launch digest of the files and settings this VM booted with"
			}
		}
		pol.MeasurementSource = source
		pol.VMPL = vmpl
		opts := verify.Options{Agent: agent, Transport: verify.Endpoint, Policy: pol, Timeout: 30 * time.Second,
			Roots: verify.Roots{TestRoots: test}}
		if rec.Mode == launch.ModeSNP {
			opts.Mode = evidence.SNP
		}
		if dir, err := os.UserCacheDir(); err == nil {
			opts.Roots.CacheDir = filepath.Join(dir, "cube-hal", "certs")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		res, err := be.Attest(ctx, opts)
		return attestedMsg{seq: seq, res: res, err: err, source: source}
	}
}

func (s *attestScreen) ShortHelp() []key.Binding {
	k := s.c.Keys.Attest
	if s.edit != nil {
		return []key.Binding{s.c.Keys.Edit.Accept, s.c.Keys.Edit.Cancel}
	}
	roots := withHelp(k.TestRoots, "trust test roots")
	if s.testRoots {
		roots = withHelp(k.TestRoots, "trust real roots")
	}
	out := []key.Binding{k.Run, k.Measurement, k.VMPL, roots}
	if s.result != nil {
		out = append(out, s.c.Keys.Pager.Down)
	}
	return append(out, s.c.Keys.Browse.Quit)
}

func (s *attestScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }

func (s *attestScreen) View() string {
	if s.width <= 0 || s.height <= 0 {
		return ""
	}
	v := attestView{
		agent: s.agentURL(), testRoots: s.testRoots, running: s.running,
		result: s.result, err: s.err, at: s.at, source: s.expected, status: s.status,
	}
	if s.ses.vm != nil {
		st := s.ses.vmStatus
		v.vm = &st
	}
	switch {
	case s.measurement != nil:
		v.expectM = hex.EncodeToString(s.measurement) + " (set here)"
	case s.ses.vm != nil && s.ses.vm.Record().ExpectedMeasurement != "":
		v.expectM = s.ses.vm.Record().ExpectedMeasurement + " (the launch digest)"
	default:
		v.expectM = "not checked (m sets one)"
	}
	v.expectVMPL = "not checked (v sets one)"
	if s.vmpl != nil {
		v.expectVMPL = strconv.Itoa(*s.vmpl)
	}
	if s.edit != nil {
		v.editLabel = "Expected " + s.edit.what + ": "
		v.editInput = s.edit.input.View()
		v.editErr = s.edit.err
	}
	lines := v.lines(s.c.Styles, s.width)
	top := v.header(s.c.Styles, s.width)
	body := s.height - len(top) - 1
	s.offset = min(s.offset, max(0, len(lines)-body))
	return renderAttestView(s.c.Styles, top, lines, s.offset, s.status, s.width, s.height)
}

// attestView is what the attest screen draws.
type attestView struct {
	agent      string
	vm         *launch.VMStatus
	testRoots  bool
	expectM    string
	expectVMPL string
	running    bool
	result     *verify.Result
	err        error
	at         time.Time
	source     string
	status     status

	editLabel, editInput, editErr string
}

func renderAttestView(st *Styles, top, lines []string, offset int, stat status, w, h int) string {
	body := max(0, h-len(top)-1)
	out := append([]string(nil), top...)
	end := min(len(lines), offset+body)
	if offset < end {
		out = append(out, lines[offset:end]...)
	}
	out = fitLines(out, w, h-1)
	out = append(out, renderStatus(st, stat, w))
	return strings.Join(out, "\n")
}

// header is the fixed part: what is attested and against what.
func (v attestView) header(st *Styles, w int) []string {
	right := v.agent
	if right == "" {
		right = "no agent"
	}
	out := []string{renderBar(st.Work.Heading, st.Work.Muted, "Attest the VM", right, w)}
	lw := 12
	vm := st.Work.Muted.Render("none running: launch one on the Launch screen (3)")
	if v.vm != nil {
		state := "running"
		if !v.vm.Running {
			state = "not running"
		}
		vm = st.Work.Value.Render(fmt.Sprintf("%s (%s/%s, %s), agent on port %d", v.vm.Name, v.vm.Mode, v.vm.Accel, state, v.vm.Ports.Agent))
	}
	out = append(out, kvLine(st, "VM", vm, lw, w))
	out = append(out, kvLine(st, "Measurement", st.Work.Value.Render(truncate(v.expectM, w-lw-6)), lw, w))
	out = append(out, kvLine(st, "VMPL", st.Work.Value.Render(v.expectVMPL), lw, w))
	roots := "AMD's and Intel's real roots"
	if v.testRoots {
		roots = st.Work.Warn.Render("go-sev-guest's TEST roots (fake TSM only)")
	}
	out = append(out, kvLine(st, "Trust", roots, lw, w))
	if v.editLabel != "" {
		out = append(out, fitLine("  "+st.Input.Prompt.Render(v.editLabel)+v.editInput, w))
		if v.editErr != "" {
			out = append(out, fitLine("  "+st.Input.Error.Render("! "+v.editErr), w))
		}
	}
	return append(out, fitLine("", w))
}

var checkLabel = map[verify.Status]string{verify.Pass: "✓ pass", verify.Fail: "✗ FAIL", verify.Skip: "– skip", verify.Warn: "! warn"}

// lines is the result, scrollable: what was attested, then each check.
func (v attestView) lines(st *Styles, w int) []string {
	switch {
	case v.running:
		return []string{fitLine("  "+st.Work.Running.Render("Fetching and verifying…"), w)}
	case v.err != nil:
		var out []string
		for _, l := range wrap("No evidence ("+v.at.Format("15:04:05")+"): "+v.err.Error(), max(10, w-4)) {
			out = append(out, fitLine("  "+st.Work.Bad.Render(l), w))
		}
		return append(out, fitLine("  "+st.Work.Muted.Render("Is the agent up? The guest may still be booting; a tries again."), w))
	case v.result == nil:
		return []string{fitLine("  "+st.Work.Muted.Render("a fetches a report bound to a fresh nonce and checks it"), w)}
	}
	r := v.result
	tags := []string{verify.PlatformName(r.Platform)}
	if r.Fake {
		tags = append(tags, "fake TSM / test roots")
	}
	verdict := st.Work.OK.Render("✓ VERIFIED")
	if !r.Verified {
		verdict = st.Work.Bad.Render("✗ NOT VERIFIED")
	}
	out := []string{renderBar(st.Work.Heading, st.Work.Muted, "Result: "+strings.Join(tags, ", "), v.at.Format("15:04:05"), w-len("✓ NOT VERIFIED")-1) + " " + verdict}
	out[0] = fitLine(out[0], w)
	lw := 14
	kv := func(label, value string) {
		for i, l := range wrapHex(value, max(10, w-lw-4)) {
			if i == 0 {
				out = append(out, kvLine(st, label, st.Work.Value.Render(l), lw, w))
			} else {
				out = append(out, fitLine(strings.Repeat(" ", lw+4)+st.Work.Value.Render(l), w))
			}
		}
	}
	out = append(out, fitLine(st.Work.Heading.Render("Checks"), w))
	nameW := 0
	for _, c := range r.Checks {
		nameW = max(nameW, len(c.Name))
	}
	indent := 2 + 6 + 2 + nameW + 2
	for _, c := range r.Checks {
		ls := st.Work.OK
		switch c.Status {
		case verify.Fail:
			ls = st.Work.Bad
		case verify.Skip:
			ls = st.Work.Muted
		case verify.Warn:
			ls = st.Work.Warn
		}
		text := c.Detail
		if text == "" && c.Expected == "" {
			text = c.Actual
		}
		head := "  " + ls.Render(checkLabel[c.Status]) + "  " + st.Work.Label.Render(padRight(c.Name, nameW)) + "  "
		inline := text == "" && c.Expected != "" && len(c.Expected)+len(c.Actual) <= 40
		if inline {
			// Short values fit on the check's own line.
			text = "expected " + c.Expected + ", actual " + c.Actual
		}
		rest := wrap(text, max(10, w-indent))
		if len(rest) == 0 || text == "" {
			rest = []string{""}
		}
		out = append(out, fitLine(head+st.Work.Value.Render(rest[0]), w))
		for _, l := range rest[1:] {
			out = append(out, fitLine(strings.Repeat(" ", indent)+st.Work.Value.Render(l), w))
		}
		if c.Expected != "" && !inline {
			for i, l := range wrapHex(c.Expected, max(10, w-indent-10)) {
				label := ifThen(i == 0, "expected  ")
				out = append(out, fitLine(strings.Repeat(" ", indent)+st.Work.Muted.Render(padRight(label, 10))+st.Work.Value.Render(l), w))
			}
			for i, l := range wrapHex(c.Actual, max(10, w-indent-10)) {
				if c.Actual == "" {
					break
				}
				label := ifThen(i == 0, "actual    ")
				out = append(out, fitLine(strings.Repeat(" ", indent)+st.Work.Muted.Render(padRight(label, 10))+ls.Render(l), w))
			}
		}
	}
	out = append(out, fitLine("", w), fitLine(st.Work.Heading.Render("Report"), w))
	kv("measurement", r.Measurement)
	if v.source != "" {
		kv("expected from", v.source)
	}
	kv("nonce", r.Nonce)
	kv("report data", r.ReportData)
	d := r.Details
	switch r.Platform {
	case evidence.SNP:
		if d.VMPL != nil {
			kv("VMPL", strconv.Itoa(int(*d.VMPL)))
		}
		kv("guest policy", d.GuestPolicy)
		kv("reported TCB", d.ReportedTCB)
		if d.Product != "" {
			kv("product", d.Product)
		}
	case evidence.TDX:
		kv("TD attributes", d.TdAttributes)
		kv("TEE TCB SVN", d.TeeTcbSvn)
		kv("MRSEAM", d.MrSeam)
	}
	out = append(out, fitLine("", w))
	vs := st.Work.OK
	if !r.Verified {
		vs = st.Work.Bad
	}
	for _, l := range wrap(r.Verdict(), max(10, w-2)) {
		out = append(out, fitLine("  "+vs.Render(l), w))
	}
	return out
}

// wrapHex wraps a long hex string in chunks of a multiple of 8 digits, so
// an expected and an actual value line up digit for digit; other text is
// word-wrapped.
func wrapHex(s string, w int) []string {
	if len(s) <= w || strings.Trim(s, "0123456789abcdefABCDEF") != "" {
		return wrap(s, w)
	}
	n := max(8, w/8*8)
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

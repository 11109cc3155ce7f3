package tui

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/cubecfg"
)

// editState is the inline editor of a string, int or hex value.
type editState struct {
	input  textinput.Model
	row    row
	err    error // what is wrong with the text as typed (nil: fine)
	seq    int   // id of the latest file check, to drop stale answers
	reveal bool  // a secret is shown in clear while typed

	fileErr     error // the certificate file check's answer
	fileChecked bool
	fileCheck   bool // the value names a file that must be in the overlay
}

// open acts on the focused row: opens a menu or choice, edits a value,
// toggles a bool.
func (s *configScreen) open() tea.Cmd {
	r, ok := s.focused()
	if !ok {
		return nil
	}
	e := r.entry
	switch {
	case e.Kind == NodeMenu || e.Menuconfig:
		s.enterMenu(r.node)
	case e.Kind == NodeChoice:
		s.openChoice(r.node, nil)
	case e.Kind == NodeSymbol && e.Type.textual():
		return s.startEdit(r)
	case e.Kind == NodeSymbol && (e.Type == TypeBool || e.Type == TypeTristate):
		return s.toggle()
	}
	return nil
}

// toggle flips a bool (cycles a tristate); on other rows it opens them.
func (s *configScreen) toggle() tea.Cmd {
	r, ok := s.focused()
	if !ok {
		return nil
	}
	e := r.entry
	switch {
	case e.Kind == NodeSymbol && e.Type == TypeBool:
		if e.Value == "y" {
			return s.setBool("n")
		}
		return s.setBool("y")
	case e.Kind == NodeSymbol && e.Type == TypeTristate:
		next := map[string]string{"n": "m", "m": "y", "y": "n"}[e.Value]
		if next == "" {
			next = "y"
		}
		return s.setBool(next)
	case e.Kind == NodeSymbol && e.Type.textual():
		return s.startEdit(r)
	case opens(e):
		return s.open()
	}
	return nil
}

// setBool sets the focused bool or tristate to v.
func (s *configScreen) setBool(v string) tea.Cmd {
	r, ok := s.focused()
	if !ok || r.entry.Kind != NodeSymbol || !(r.entry.Type == TypeBool || r.entry.Type == TypeTristate) {
		return nil
	}
	if !r.entry.Changeable {
		s.setStatus(statusError, s.whyUnchangeable(r))
		return nil
	}
	if r.entry.Value == v {
		return nil
	}
	return s.apply(r.entry.Symbol, v)
}

// whyUnchangeable says why a value cannot be set from the list.
func (s *configScreen) whyUnchangeable(r row) string {
	e := r.entry
	name := e.Prompt
	if name == "" {
		name = e.Symbol
	}
	switch {
	case !e.Visible:
		why := s.eng.WhyHidden(r.node)
		if why == "" {
			why = "it has no prompt; other symbols set it"
		}
		return name + " cannot be set here: " + why
	case e.Forced:
		return name + " is forced to " + e.Value + " by a select; i shows who selects it"
	}
	return name + " cannot be changed now; i shows why"
}

// apply sets a symbol and reports what changed.
func (s *configScreen) apply(sym, v string) tea.Cmd {
	changes, err := s.eng.Set(sym, v)
	if err != nil {
		s.setStatus(statusError, err.Error())
		return nil
	}
	s.refresh()
	s.setStatus(statusOK, s.describeChanges(sym, changes))
	return s.revalidate()
}

// startEdit opens the inline editor on a text value.
func (s *configScreen) startEdit(r row) tea.Cmd {
	if !r.entry.Changeable {
		s.setStatus(statusError, s.whyUnchangeable(r))
		return nil
	}
	s.mode = modeEdit
	s.edit.row = r
	s.edit.reveal = false
	s.edit.input.SetValue(r.entry.Value)
	s.edit.input.CursorEnd()
	s.edit.input.Width = max(1, valueCols(s.width)-1)
	s.setEcho()
	s.status = status{}
	return tea.Batch(s.edit.input.Focus(), s.checkEdit())
}

// setEcho masks a secret as it is typed unless revealed.
func (s *configScreen) setEcho() {
	if s.isSecret(s.edit.row) && !s.edit.reveal {
		s.edit.input.EchoMode = textinput.EchoPassword
		s.edit.input.EchoCharacter = '*'
	} else {
		s.edit.input.EchoMode = textinput.EchoNormal
	}
}

func (s *configScreen) editKeys() struct{ Accept, Cancel, Clear, Reveal key.Binding } {
	k := s.c.Keys.Edit
	k.Reveal.SetEnabled(s.isSecret(s.edit.row))
	if s.edit.reveal {
		k.Reveal.SetHelp("ctrl+r", "hide")
	}
	k.Accept.SetEnabled(s.edit.err == nil)
	return k
}

func (s *configScreen) updateEdit(msg tea.KeyMsg) tea.Cmd {
	k := s.editKeys()
	switch {
	case key.Matches(msg, k.Cancel):
		s.endEdit()
		s.setStatus(statusInfo, "Not changed")
		return nil
	case msg.Type == tea.KeyEnter:
		if s.edit.err != nil {
			s.setStatus(statusError, "Not set: "+s.edit.err.Error())
			return nil
		}
		v := s.edit.input.Value()
		sym := s.edit.row.entry.Symbol
		s.endEdit()
		if v == s.edit.row.entry.Value {
			s.setStatus(statusInfo, "Not changed")
			return nil
		}
		return s.apply(sym, v)
	case key.Matches(msg, k.Reveal):
		s.edit.reveal = !s.edit.reveal
		s.setEcho()
		return nil
	}
	before := s.edit.input.Value()
	var cmd tea.Cmd
	s.edit.input, cmd = s.edit.input.Update(msg)
	if s.edit.input.Value() != before {
		s.status = status{} // a "Not set: ..." about the text before
		return tea.Batch(cmd, s.checkEdit())
	}
	return cmd
}

func (s *configScreen) endEdit() {
	s.mode = modeBrowse
	s.edit.input.Blur()
	s.edit.err, s.edit.fileErr = nil, nil
	s.edit.fileChecked, s.edit.fileCheck = false, false
}

// checkEdit validates the text as typed: the engine's type and range,
// then the Cube option's own check, and the ones that need other options.
// A certificate path is checked against the overlay by a command (it
// reads files).
func (s *configScreen) checkEdit() tea.Cmd {
	e := s.edit.row.entry
	v := s.edit.input.Value()
	s.edit.err = s.checkValue(e.Symbol, v)
	s.edit.seq++
	s.edit.fileErr, s.edit.fileChecked = nil, false
	s.edit.fileCheck = false
	if s.edit.err != nil || v == "" || s.eng.Value(cubecfg.SymCAURL) != "" {
		return nil
	}
	var check func(overlay, path string) error
	switch e.Symbol {
	case cubecfg.SymServerCA, cubecfg.SymServerCert, cubecfg.SymClientCA:
		check = cubecfg.ValidateCertFile
	case cubecfg.SymServerKey:
		check = cubecfg.ValidateKeyFile
	default:
		return nil
	}
	s.edit.fileCheck = true
	seq, overlay := s.edit.seq, s.opts.OverlayDir
	return func() tea.Msg { return fileCheckMsg{seq: seq, err: check(overlay, v)} }
}

// checkValue says what is wrong with value v for symbol sym, nil if fine.
// A Cube option's own check comes first: its messages speak the user's
// language ("70000 is not in 1-65535"); the engine then has the last word
// on type and range.
func (s *configScreen) checkValue(sym, v string) error {
	if err := s.checkCube(sym, v); err != nil {
		return err
	}
	return s.eng.Check(sym, v)
}

// checkCube applies cubecfg's checks to a Cube option (nil for others).
func (s *configScreen) checkCube(sym, v string) error {
	o, ok := cubecfg.Lookup(sym)
	if !ok || o.Symbol != sym {
		return nil
	}
	switch sym {
	case cubecfg.SymCertsToken:
		return cubecfg.ValidateToken(s.eng.Value(cubecfg.SymCAURL), v)
	case cubecfg.SymTargetURL:
		if v == "" && s.eng.Value(cubecfg.SymBackendCustom) == "y" {
			return errors.New("required with the custom backend")
		}
	}
	if o.Check != nil {
		return o.Check(v)
	}
	return nil
}

// editDetail is the detail line while editing: the problem with the text
// as typed, else a hint.
func (s *configScreen) editDetail() (string, bool) {
	switch {
	case s.edit.err != nil:
		return "! " + s.redact(s.edit.err.Error()), true
	case s.edit.fileErr != nil:
		msg := s.edit.fileErr.Error()
		if errors.Is(s.edit.fileErr, fs.ErrNotExist) {
			msg += "; " + cubecfg.CertsHint
		}
		return "! " + msg + " (you may still set it)", true
	case s.edit.fileCheck && !s.edit.fileChecked:
		return "checking the file in the overlay…", false
	case s.edit.fileCheck:
		return "ok: the file is in the overlay", false
	}
	e := s.edit.row.entry
	hint := "ok"
	if o, ok := cubecfg.Lookup(e.Symbol); ok && o.Kind == cubecfg.Int {
		hint = fmt.Sprintf("ok (%d-%d)", o.Min, o.Max)
	}
	return hint + " · enter sets, esc cancels", false
}

// revalidate checks the Cube options of the configuration as it is now,
// in a command (certificate files are read), and marks the rows with the
// problems found. Stale answers are dropped.
func (s *configScreen) revalidate() tea.Cmd {
	s.valSeq++
	seq := s.valSeq
	snap := map[string]string{}
	for _, o := range cubecfg.Options() {
		for _, sym := range []string{o.Symbol, o.Package, o.DependsOn} {
			if sym != "" {
				snap[sym] = s.eng.Value(sym)
			}
		}
		for _, m := range o.Members {
			snap[m.Symbol] = s.eng.Value(m.Symbol)
		}
	}
	overlay := s.opts.OverlayDir
	return func() tea.Msg {
		return problemsMsg{seq: seq, problems: cubecfg.Validate(func(sym string) string { return snap[sym] }, overlay)}
	}
}

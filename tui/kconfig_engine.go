package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ultravioletrs/cube-hal/kconfig"
)

// kconfigEngine answers the configurator's questions (Engine) from the
// Kconfig engine. It is the only file of the package that knows kconfig's
// types.
type kconfigEngine struct {
	k   *kconfig.Kconfig
	cfg KconfigFiles

	// pending are the symbols whose value differs from the one on disk
	// (at load, then at each save), kept up to date from what each Set
	// reports: comparing whole configurations after every key press would
	// cost a walk of the tree.
	pending map[string]*Change
	order   []string // pending's symbols in the order they first changed

	// defconfig is the Cube defconfig as on disk, for the standalone
	// in-place edit; planned is what the last SavePlan would write.
	defconfig []byte
	planned   []byte
	owned     func(*kconfig.Symbol) bool
}

// KconfigFiles says where a loaded configuration came from and where a
// save goes.
type KconfigFiles struct {
	// Source names what the values were read from, for the header.
	Source string
	// ConfigPath is the .config a save writes ("" in standalone mode).
	ConfigPath string
	// DefconfigPath is the defconfig a save writes on request (the Cube
	// defconfig, edited in place in standalone mode).
	DefconfigPath string
	// Standalone: no Buildroot tree; only DefconfigPath is written, and
	// only the lines of symbols Owned accepts change.
	Standalone bool
	// Defconfig is DefconfigPath's content at load (standalone mode).
	Defconfig []byte
	// Owned tells the symbols a standalone save may change in the
	// defconfig (those of the Cube tree); nil means all.
	Owned func(*kconfig.Symbol) bool
	// MinimalDefconfig computes the defconfig a save writes on request,
	// as 'make savedefconfig' leaves it (brenv.Session.DefconfigData);
	// nil means the engine's DefconfigText as it is.
	MinimalDefconfig func() []byte
	// Secrets computes the private file a save also writes, the secret
	// values kept out of defconfigs (brenv.Session.SecretsData); nil or
	// path "" means none.
	Secrets func() (path string, data []byte)
}

// NewKconfigEngine wraps a loaded configuration (values already read) for
// the configurator.
func NewKconfigEngine(k *kconfig.Kconfig, f KconfigFiles) Engine {
	e := &kconfigEngine{k: k, cfg: f, defconfig: f.Defconfig, owned: f.Owned}
	if e.owned == nil {
		e.owned = func(*kconfig.Symbol) bool { return true }
	}
	e.pending = map[string]*Change{}
	return e
}

func (e *kconfigEngine) menu(n Node) *kconfig.Menu { return n.(*kconfig.Menu) }

func (e *kconfigEngine) Title() string { return e.k.Title() }
func (e *kconfigEngine) Root() Node    { return e.k.Root() }

// Children flattens prompt-less groupings (if blocks) into their parent,
// as menuconfig shows them.
func (e *kconfigEngine) Children(n Node) []Node {
	var out []Node
	var add func(m *kconfig.Menu)
	add = func(m *kconfig.Menu) {
		for _, c := range m.Children() {
			if c.Kind() == kconfig.KindIf {
				add(c)
				continue
			}
			out = append(out, c)
		}
	}
	add(e.menu(n))
	return out
}

func (e *kconfigEngine) Parent(n Node) Node {
	p := e.menu(n).Parent()
	for p != nil && p.Kind() == kconfig.KindIf {
		p = p.Parent()
	}
	if p == nil {
		return nil
	}
	return p
}

func (e *kconfigEngine) Entry(n Node) Entry {
	m := e.menu(n)
	en := Entry{Prompt: m.Prompt(), Visible: m.Visible(), Menuconfig: m.IsMenuconfig()}
	switch m.Kind() {
	case kconfig.KindRoot, kconfig.KindMenu, kconfig.KindIf:
		en.Kind = NodeMenu
		return en
	case kconfig.KindComment:
		en.Kind = NodeComment
		return en
	}
	s := m.Symbol()
	en.Type = symType(s.Type())
	if s.IsChoice() {
		en.Kind = NodeChoice
		if sel := s.Selection(); sel != nil {
			en.Value = sel.Name()
		}
		if d := s.DefaultSelection(); d != nil {
			en.Default = d.Name()
		}
		en.Changeable = s.Visibility() != kconfig.No
		return en
	}
	en.Kind = NodeSymbol
	en.Symbol = s.Name()
	en.Value = s.Value()
	en.Default = s.Default()
	en.Changeable = s.Changeable()
	en.Member = s.Choice() != nil
	if en.Member {
		en.Default = "n"
		if d := s.Choice().DefaultSelection(); d == s {
			en.Default = "y"
		}
	}
	en.Forced = s.SelectedTo() != kconfig.No
	return en
}

func symType(t kconfig.Type) SymType {
	switch t {
	case kconfig.TypeBool:
		return TypeBool
	case kconfig.TypeTristate:
		return TypeTristate
	case kconfig.TypeString:
		return TypeString
	case kconfig.TypeInt:
		return TypeInt
	case kconfig.TypeHex:
		return TypeHex
	}
	return TypeUnknown
}

func (e *kconfigEngine) Help(n Node) string {
	m := e.menu(n)
	if h := m.Help(); h != "" {
		return h
	}
	if s := m.Symbol(); s != nil {
		return s.Help()
	}
	return ""
}

func (e *kconfigEngine) Lookup(sym string) Node {
	s := e.k.Lookup(sym)
	if s == nil {
		return nil
	}
	return bestMenu(s)
}

// bestMenu is the node a symbol is shown at: its first with a prompt.
func bestMenu(s *kconfig.Symbol) *kconfig.Menu {
	ms := s.Menus()
	for _, m := range ms {
		if m.Prompt() != "" {
			return m
		}
	}
	if len(ms) > 0 {
		return ms[0]
	}
	return nil
}

func (e *kconfigEngine) Value(sym string) string {
	s := e.k.Lookup(sym)
	if s == nil {
		return ""
	}
	v := s.Value()
	if (s.Type() == kconfig.TypeBool || s.Type() == kconfig.TypeTristate) && v == "n" {
		return ""
	}
	return v
}

// Check asks the engine whether Set would take the value (type, range,
// visibility, selects), without setting it.
func (e *kconfigEngine) Check(sym, v string) error {
	s := e.k.Lookup(sym)
	if s == nil {
		return fmt.Errorf("%s: %w", sym, kconfig.ErrUnknownSymbol)
	}
	if err := s.Check(v); err != nil {
		var se *kconfig.SetError
		if errors.As(err, &se) {
			return errors.New(se.Reason) // the row already names the symbol
		}
		return err
	}
	return nil
}

func (e *kconfigEngine) Set(sym, v string) ([]Change, error) {
	kc, err := e.k.Set(sym, v)
	if err != nil {
		// Without the value: it may be a secret, and the error goes on screen.
		var se *kconfig.SetError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("cannot set %s: %s", se.Name, se.Reason)
		}
		return nil, err
	}
	out := make([]Change, 0, len(kc))
	for _, c := range kc {
		ch := Change{Symbol: c.Name, Prompt: c.Prompt, Old: c.Old, New: c.New}
		// A symbol absent from .config counts as n (bool) or empty.
		absent := ""
		if t := c.Symbol.Type(); t == kconfig.TypeBool || t == kconfig.TypeTristate {
			absent = "n"
		}
		if !c.OldWritten {
			ch.Old = absent
		}
		if !c.NewWritten {
			ch.New = absent
		}
		e.note(ch)
		if ch.Old == ch.New && len(out) > 0 {
			// Only its line in .config came or went ("# X is not set"):
			// not a change of value to report.
			continue
		}
		out = append(out, ch)
	}
	return out, nil
}

// note folds one change into the pending ones.
func (e *kconfigEngine) note(c Change) {
	p, ok := e.pending[c.Symbol]
	if !ok {
		p = &Change{Symbol: c.Symbol, Prompt: c.Prompt, Old: c.Old}
		e.pending[c.Symbol] = p
		e.order = append(e.order, c.Symbol)
	}
	p.New = c.New
	if p.New == p.Old {
		delete(e.pending, c.Symbol)
	}
}

func (e *kconfigEngine) Explain(n Node) []Section {
	m := e.menu(n)
	var secs []Section
	if s := m.Symbol(); s != nil {
		x := e.k.Explain(s)
		lines := strings.Split(strings.TrimRight(x.Text(), "\n"), "\n")
		if s.IsChoice() {
			lines = append(choiceLines(m, s), lines[1:]...) // the first line speaks of a "<choice>" symbol
		}
		secs = append(secs, Section{Lines: lines})
		// Every select that can reach it, with where it is written, when
		// that says more than the text (which lists the active ones).
		var sel []string
		more := false
		for _, t := range x.SelectedBy {
			line := "- " + t.String()
			if t.Where.File != "" {
				line += " (" + t.Where.String() + ")"
				more = true
			}
			more = more || t.Value == kconfig.No
			sel = append(sel, line)
		}
		if more {
			secs = append(secs, Section{Title: "Selects that can reach it", Lines: sel})
		}
		return secs
	}
	var lines []string
	if hb := m.HiddenBy(); len(hb) > 0 {
		lines = append(lines, "Hidden because these dependencies are not met:")
		for _, t := range hb {
			lines = append(lines, "  - "+t.String())
		}
	}
	if d := m.Dependencies(); d != "" {
		lines = append(lines, "Depends on: "+d)
	}
	loc := m.Location()
	if loc.File != "" {
		l := "Defined at " + loc.String()
		for _, f := range loc.SourcedFrom {
			l += ", sourced from " + f.String()
		}
		lines = append(lines, l+".")
	}
	if len(lines) > 0 {
		secs = append(secs, Section{Lines: lines})
	}
	return secs
}

func (e *kconfigEngine) WhyHidden(n Node) string {
	m := e.menu(n)
	if m.Visible() {
		return ""
	}
	var terms []kconfig.Term
	if s := m.Symbol(); s != nil && !s.IsChoice() {
		if s.Prompt() == "" {
			return "no prompt: only defaults and selects set it"
		}
		// A member of a hidden choice is hidden by what hides the
		// choice (its own terms only name the choice: "<choice>").
		if c := s.Choice(); c != nil {
			for _, cm := range c.Menus() {
				if !cm.Visible() {
					terms = cm.HiddenBy()
					break
				}
			}
		}
		if len(terms) == 0 {
			terms = e.k.Explain(s).HiddenBy
		}
	}
	if len(terms) == 0 {
		terms = m.HiddenBy()
	}
	// A node under a hidden menu: say what hides the menu.
	for p := m.Parent(); len(terms) == 0 && p != nil; p = p.Parent() {
		if !p.Visible() {
			terms = p.HiddenBy()
		}
	}
	if len(terms) == 0 {
		return "its dependencies are not met"
	}
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.Detail
	}
	return "depends on " + strings.Join(parts, ", ")
}

func (e *kconfigEngine) Search(q string, max int) []Hit {
	res := e.k.Search(q)
	if len(res) > max {
		res = res[:max]
	}
	hits := make([]Hit, 0, len(res))
	for _, r := range res {
		m := r.Menu
		if r.Symbol != nil {
			if b := bestMenu(r.Symbol); b != nil {
				m = b
			}
		}
		hits = append(hits, Hit{Node: m})
	}
	return hits
}

func (e *kconfigEngine) Changes() []Change {
	out := make([]Change, 0, len(e.pending))
	kept := e.order[:0]
	for _, sym := range e.order {
		if p, ok := e.pending[sym]; ok {
			out = append(out, *p)
			kept = append(kept, sym)
		}
	}
	e.order = kept
	return out
}

func (e *kconfigEngine) SavePlan(defconfig bool) ([]FileWrite, error) {
	plan, err := e.savePlan(defconfig)
	if err != nil {
		return nil, err
	}
	if e.cfg.Secrets != nil {
		if path, data := e.cfg.Secrets(); path != "" {
			plan = append(plan, FileWrite{What: "secrets", Path: path, Data: data, Private: true})
		}
	}
	return plan, nil
}

func (e *kconfigEngine) savePlan(defconfig bool) ([]FileWrite, error) {
	if e.cfg.Standalone {
		if e.cfg.DefconfigPath == "" {
			return nil, errors.New("no defconfig to edit in standalone mode")
		}
		data, err := e.k.UpdateDefconfigText(e.defconfig, e.owned)
		if err != nil {
			return nil, err
		}
		e.planned = data
		return []FileWrite{{What: "defconfig", Path: e.cfg.DefconfigPath, Data: data}}, nil
	}
	plan := []FileWrite{{What: ".config", Path: e.cfg.ConfigPath, Data: e.k.ConfigText(), Backup: true}}
	if defconfig {
		data := e.k.DefconfigText
		if e.cfg.MinimalDefconfig != nil {
			data = e.cfg.MinimalDefconfig
		}
		plan = append(plan, FileWrite{What: "defconfig", Path: e.cfg.DefconfigPath, Data: data()})
	}
	return plan, nil
}

func (e *kconfigEngine) MarkSaved() {
	e.pending = map[string]*Change{}
	e.order = nil
	if e.cfg.Standalone && e.planned != nil {
		e.defconfig = e.planned
	}
	if !e.cfg.Standalone && e.cfg.ConfigPath != "" {
		// Every save writes the .config: the values are there now (the
		// header said "cube_defconfig (no .config yet)" after the first).
		e.cfg.Source = e.cfg.ConfigPath
	}
}

func (e *kconfigEngine) Kept(sym string) bool {
	if !e.cfg.Standalone {
		return true
	}
	s := e.k.Lookup(sym)
	return s != nil && e.owned(s)
}

func (e *kconfigEngine) Source() string        { return e.cfg.Source }
func (e *kconfigEngine) Standalone() bool      { return e.cfg.Standalone }
func (e *kconfigEngine) ConfigPath() string    { return e.cfg.ConfigPath }
func (e *kconfigEngine) DefconfigPath() string { return e.cfg.DefconfigPath }

// choiceLines say what a choice is: its selected and default entries and
// every entry, hidden ones marked.
func choiceLines(m *kconfig.Menu, cs *kconfig.Symbol) []string {
	label := func(s *kconfig.Symbol) string {
		if s == nil {
			return "none"
		}
		if p := s.Prompt(); p != "" {
			return p + " (" + s.Name() + ")"
		}
		return s.Name()
	}
	lines := []string{fmt.Sprintf("%s is a choice: exactly one of its entries is on.", m.Prompt()),
		fmt.Sprintf("Selected: %s; default: %s.", label(cs.Selection()), label(cs.DefaultSelection())),
		"Entries:"}
	for _, mem := range cs.Members() {
		l := "  - " + label(mem)
		if mem.Visibility() == kconfig.No {
			l += " (hidden)"
		}
		lines = append(lines, l)
	}
	return lines
}

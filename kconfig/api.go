package kconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// ---- the tree and its files ----

// Title is the main menu title, with $SYMBOL references expanded
// ("Buildroot 2026.08 Configuration").
func (k *Kconfig) Title() string { return k.root.prompt.text }

// Diagnostics are the warnings (and, after a failed read, errors) found so
// far, in the order conf prints them.
func (k *Kconfig) Diagnostics() []Diagnostic { return append([]Diagnostic(nil), k.diagnostics...) }

// Files lists every Kconfig file read, in reading order.
func (k *Kconfig) Files() []string {
	out := make([]string, len(k.files))
	for i, f := range k.files {
		out[i] = f.Name
	}
	return out
}

// Root is the top of the menu tree (the main menu).
func (k *Kconfig) Root() *Menu { return &k.root }

// Location is a place in a Kconfig file, and the chain of "source"
// statements that led there (innermost first).
type Location struct {
	File string
	Line int
	// SourcedFrom lists the source statements that included File: the
	// one in its parent first, the one in the top file last.
	SourcedFrom []Location
}

func (l Location) String() string { return fmt.Sprintf("%s:%d", l.File, l.Line) }

func menuLocation(m *Menu) Location {
	loc := Location{File: fileName(m.file), Line: int(m.line)}
	inc := m.inc
	// A node's inclusion record is the file being read when it was
	// created; walk up from there.
	for ; inc != nil && inc.parent != nil; inc = inc.parent {
		loc.SourcedFrom = append(loc.SourcedFrom, Location{File: inc.parent.file.Name, Line: inc.line})
	}
	return loc
}

// ---- menu nodes ----

// NodeKind tells what a menu node is.
type NodeKind int8

// Menu node kinds.
const (
	KindRoot    NodeKind = iota // the main menu
	KindMenu                    // menu ... endmenu
	KindSymbol                  // config or menuconfig
	KindChoice                  // choice ... endchoice
	KindComment                 // comment "..."
	KindIf                      // a prompt-less grouping (if block) kept by the tree
)

func (n NodeKind) String() string {
	return [...]string{"root", "menu", "symbol", "choice", "comment", "if"}[n]
}

// Kind is what the node is.
func (m *Menu) Kind() NodeKind {
	switch {
	case m.flags&menuRoot != 0:
		return KindRoot
	case m.sym != nil && m.sym.isChoice():
		return KindChoice
	case m.sym != nil:
		return KindSymbol
	case m.prompt != nil && m.prompt.typ == pComment:
		return KindComment
	case m.prompt != nil:
		return KindMenu
	}
	return KindIf
}

// Prompt is the text shown for the node ("" for prompt-less symbols).
func (m *Menu) Prompt() string {
	if m.prompt != nil {
		return m.prompt.text
	}
	return ""
}

// Symbol is the symbol or choice the node defines (nil for menus and
// comments).
func (m *Menu) Symbol() *Symbol { return m.sym }

// Parent is the enclosing node in the finalised tree (menus, and symbols
// for the automatic submenus under menuconfig or dependent entries).
func (m *Menu) Parent() *Menu { return m.parent }

// Children are the nodes directly under m, in file order. The empty
// markers that finalisation leaves where "if" blocks were (no symbol, no
// prompt, no children) are left out.
func (m *Menu) Children() []*Menu {
	var out []*Menu
	for c := m.list; c != nil; c = c.next {
		if c.sym == nil && c.prompt == nil && c.list == nil {
			continue
		}
		out = append(out, c)
	}
	return out
}

// IsMenuconfig reports a "menuconfig" symbol (shown as an enterable menu).
func (m *Menu) IsMenuconfig() bool { return m.sym != nil && m.prompt != nil && m.prompt.typ == pMenu }

// Visible reports whether the node shows in the configurator with the
// current values (conf's menu_is_visible).
func (m *Menu) Visible() bool {
	if m.flags&menuRoot != 0 {
		return true
	}
	return m.k.isVisible(m)
}

// Help is the node's help text as written (indentation normalised like
// conf does), or "".
func (m *Menu) Help() string { return m.help }

// Location is where the node is defined, with the source chain.
func (m *Menu) Location() Location {
	if m.flags&menuRoot != 0 {
		return Location{}
	}
	return menuLocation(m)
}

// Dependencies renders the node's full dependency expression (including
// those inherited from enclosing menus and ifs), or "" when none.
func (m *Menu) Dependencies() string {
	if m.dep == nil {
		return ""
	}
	return exprString(m.dep)
}

// ---- symbols ----

// Symbols returns every defined symbol (not choices, not constants) in the
// order of its first definition in the menu tree.
func (k *Kconfig) Symbols() []*Symbol {
	return append([]*Symbol(nil), k.defined()...)
}

// defined is Symbols without the copy, computed once (the tree does not
// change after loading).
func (k *Kconfig) defined() []*Symbol {
	if k.order == nil {
		seen := map[*Symbol]bool{}
		k.order = []*Symbol{}
		k.walkMenus(func(m *Menu) {
			if s := m.sym; s != nil && s.hasName && !s.isChoice() && !seen[s] {
				seen[s] = true
				s.idx = int32(len(k.order))
				k.order = append(k.order, s)
			}
		})
	}
	return k.order
}

// Lookup returns the symbol called name, or nil. It does not create
// symbols and does not return constants.
func (k *Kconfig) Lookup(name string) *Symbol {
	s := k.find(name)
	if s == nil || s.flags&symConst != 0 || s.typ == TypeOther {
		return nil
	}
	return s
}

// Find is Lookup that also accepts a Buildroot name without its "BR2_"
// prefix ("PACKAGE_BUSYBOX").
func (k *Kconfig) Find(name string) *Symbol {
	if s := k.Lookup(name); s != nil {
		return s
	}
	if !strings.HasPrefix(name, "BR2_") {
		return k.Lookup("BR2_" + name)
	}
	return nil
}

// Name is the symbol's name ("" for an unnamed choice).
func (s *Symbol) Name() string { return s.name }

// Type is the declared type.
func (s *Symbol) Type() Type { return s.typ }

// IsChoice reports a choice (its members are in Members).
func (s *Symbol) IsChoice() bool { return s.isChoice() }

// Choice returns the choice a member belongs to, or nil.
func (s *Symbol) Choice() *Symbol {
	if !s.isChoiceVal() {
		return nil
	}
	return s.choiceOf()
}

// Members lists a choice's members.
func (s *Symbol) Members() []*Symbol { return s.choiceMembers() }

// Selection is the member a choice currently selects (nil when the
// choice is off).
func (s *Symbol) Selection() *Symbol {
	s.k.evaluate(s)
	if s.curr.tri != Yes {
		return nil
	}
	return s.curr.choice
}

// Prompt is the first prompt of the symbol ("" when it has none, which
// makes it invisible: only defaults and selects set it).
func (s *Symbol) Prompt() string {
	for _, p := range s.props {
		if p.hasText {
			return p.text
		}
	}
	return ""
}

// Help is the help text of the first definition that has one.
func (s *Symbol) Help() string {
	for _, m := range s.Menus() {
		if m.flags&menuHasHelp != 0 {
			return m.help
		}
	}
	return ""
}

// Menus are the nodes defining the symbol, one per definition.
func (s *Symbol) Menus() []*Menu {
	var out []*Menu
	for _, p := range s.props {
		if p.typ == pSymbol && p.menu != nil {
			out = append(out, p.menu)
		}
	}
	return out
}

// Definitions are the places the symbol is defined.
func (s *Symbol) Definitions() []Location {
	var out []Location
	for _, m := range s.Menus() {
		out = append(out, menuLocation(m))
	}
	return out
}

// Value is the current value as it would be written (y/m/n for booleans,
// the unquoted text for strings).
func (s *Symbol) Value() string {
	s.k.evaluate(s)
	return s.k.valueText(s)
}

// Tristate is the current value of a bool or tristate (n otherwise).
func (s *Symbol) Tristate() Tristate {
	s.k.evaluate(s)
	return s.curr.tri
}

// UserValue is the value the configuration assigned (from .config, a
// defconfig or Set), which may differ from Value when dependencies
// override it.
func (s *Symbol) UserValue() (string, bool) {
	if !s.hasValue() {
		return "", false
	}
	switch s.typ {
	case TypeBool, TypeTristate:
		return s.user.tri.String(), true
	}
	if s.isChoice() {
		if c := s.user.choice; c != nil {
			return c.name, true
		}
	}
	return s.user.str, true
}

// Default is the value the symbol would have without a user value
// (selects and implies included).
func (s *Symbol) Default() string {
	s.k.evaluate(s)
	return s.k.defaultText(s)
}

// Range returns the active range of an int or hex symbol.
func (s *Symbol) Range() (lo, hi string, ok bool) {
	k := s.k
	k.evaluate(s)
	p := k.activeRange(s)
	if p == nil {
		return "", "", false
	}
	k.evaluate(p.expr.lsym())
	k.evaluate(p.expr.rsym())
	return k.valueText(p.expr.lsym()), k.valueText(p.expr.rsym()), true
}

// Visibility is how far the user can set the symbol from its prompts
// (n: hidden).
func (s *Symbol) Visibility() Tristate {
	s.k.evaluate(s)
	return s.visible
}

// Changeable reports whether the user can change the value at all (it is
// visible and not forced by a select).
func (s *Symbol) Changeable() bool {
	s.k.evaluate(s)
	return s.isChangeable()
}

// Assignable lists the values a bool or tristate accepts now.
func (s *Symbol) Assignable() []Tristate {
	k := s.k
	k.evaluate(s)
	var out []Tristate
	for _, v := range []Tristate{No, Mod, Yes} {
		if v == s.curr.tri || k.canTake(s, v) {
			if v == Mod && k.effectiveType(s) == TypeBool {
				continue
			}
			out = append(out, v)
		}
	}
	return out
}

// Written reports whether the symbol appears in .config (it is visible,
// or has a default or select giving it a value).
func (s *Symbol) Written() bool {
	s.k.evaluate(s)
	return s.flags&symWrite != 0
}

// EnvVariable is the environment variable an "option env" symbol takes
// its value from ("" for ordinary symbols). Such symbols are never written.
func (s *Symbol) EnvVariable() string {
	if p := s.firstProp(pEnv); p != nil {
		return propSymbol(p).name
	}
	return ""
}

// ---- reading and writing configurations ----

// ReadConfig loads a .config (conf_read): path, or $BR2_CONFIG / .config
// when empty. Bad lines give warnings (in Diagnostics), never errors; a
// missing file is an error wrapping fs.ErrNotExist and leaves every
// symbol at its default.
func (k *Kconfig) ReadConfig(path string) error {
	if !k.read(path) {
		if path == "" {
			path = k.ConfigName()
		}
		return &fs.PathError{Op: "read", Path: path, Err: fs.ErrNotExist}
	}
	return nil
}

// ReadDefconfig loads a defconfig the way "conf --defconfig" does: read
// it, then give every symbol it does not set its default.
func (k *Kconfig) ReadDefconfig(path string) error {
	if !k.read(path) {
		return &fs.PathError{Op: "read", Path: path, Err: fs.ErrNotExist}
	}
	_, err := k.fillUnset(defDefault)
	return err
}

// freshen makes sure a render sees up-to-date write flags: conf renders
// once per process (rendering clears them as it goes), this API may
// render many times.
func (k *Kconfig) freshen() {
	if k.writeStale {
		k.invalidateAll()
	}
}

// ConfigText is the .config WriteConfig would write.
func (k *Kconfig) ConfigText() []byte {
	k.freshen()
	b := k.formatConfig()
	k.setChangeCount(0)
	return b
}

// WriteConfig saves the configuration as conf does (header, menu
// comments, "is not set" lines): to path, or $BR2_CONFIG / .config when
// empty; atomically, keeping the previous file as .config.old.
func (k *Kconfig) WriteConfig(path string) error {
	k.freshen()
	err := k.write(path)
	k.dirty = false
	return err
}

// DefconfigText is the minimal configuration (savedefconfig).
func (k *Kconfig) DefconfigText() []byte {
	k.freshen()
	return k.formatMinimal()
}

// WriteDefconfig saves the minimal configuration to path, atomically.
func (k *Kconfig) WriteDefconfig(path string) error {
	k.freshen()
	return k.writeDefconfig(path)
}

// WriteAutoconf writes auto.conf, autoconf.h and tristate.config where
// KCONFIG_AUTOCONFIG, KCONFIG_AUTOHEADER and KCONFIG_TRISTATE say
// (syncconfig's outputs).
func (k *Kconfig) WriteAutoconf() error {
	k.freshen()
	return k.writeAutoconf()
}

// Dirty reports changes made with Set since the last WriteConfig.
func (k *Kconfig) Dirty() bool { return k.dirty }

// Values returns the value of every symbol that .config would contain
// (booleans that are "not set" as "n").
func (k *Kconfig) Values() map[string]string {
	k.invalidateAll()
	out := map[string]string{}
	k.walkMenus(func(m *Menu) {
		s := m.sym
		if s == nil || s.isChoice() || !s.hasName {
			return
		}
		k.evaluate(s)
		if s.flags&symWrite != 0 {
			out[s.name] = k.valueText(s)
		}
	})
	return out
}

// ---- changing values ----

// Change is one symbol whose value changed.
type Change struct {
	Symbol   *Symbol
	Name     string
	Prompt   string
	Old, New string // "" with Written false means absent from .config
	// OldWritten/NewWritten tell whether the symbol is in .config before
	// and after (a symbol can appear or disappear as dependencies change).
	OldWritten, NewWritten bool
}

func (c Change) String() string {
	show := func(v string, w bool) string {
		if !w {
			return "(absent)"
		}
		return v
	}
	old, new := c.Old, c.New
	if c.Symbol != nil && c.Symbol.Secret() {
		old, new = MaskSecret(old), MaskSecret(new)
	}
	return fmt.Sprintf("%s: %s -> %s", c.Name, show(old, c.OldWritten), show(new, c.NewWritten))
}

// SetError explains why Set refused a value.
type SetError struct {
	Name   string
	Value  string
	Reason string
}

func (e *SetError) Error() string {
	return fmt.Sprintf("cannot set %s=%s: %s", e.Name, e.Value, e.Reason)
}

// setError is Set's refusal, a secret value masked.
func (k *Kconfig) setError(s *Symbol, value string) *SetError {
	e := &SetError{Name: s.name, Value: value, Reason: k.refusal(s, value)}
	if s.Secret() {
		e.Value, e.Reason = MaskSecret(value), maskIn(e.Reason, value)
	}
	return e
}

// ErrUnknownSymbol is returned (wrapped) for names no Kconfig file defines.
var ErrUnknownSymbol = errors.New("unknown symbol")

// Set assigns a value as the configurator would (conf's
// sym_set_string_value): y/m/n for booleans (setting a choice member to y
// selects it), text for strings, a number in range for int and hex. It
// returns every symbol whose value changed as a consequence, the set one
// first. A refused value leaves everything unchanged and the error says
// why (hidden by a dependency, forced by a select, out of range, ...).
func (k *Kconfig) Set(name, value string) ([]Change, error) {
	s := k.Find(name)
	if s == nil {
		return nil, fmt.Errorf("%w %s", ErrUnknownSymbol, name)
	}
	if err := s.Check(value); err != nil {
		return nil, err
	}
	before := k.beginTracked()
	if !k.assignText(s, value) {
		k.track = false
		k.valsCurrent = false
		return nil, k.setError(s, value)
	}
	k.dirty = true
	return k.endTracked(before, s), nil
}

// Unset drops the user value of a symbol so it follows its default again.
func (k *Kconfig) Unset(name string) ([]Change, error) {
	s := k.Find(name)
	if s == nil {
		return nil, fmt.Errorf("%w %s", ErrUnknownSymbol, name)
	}
	before := k.beginTracked()
	s.flags &^= symDefUser
	s.user = value{} // so that setting the old value again is a change
	if s.isChoiceVal() {
		cs := s.choiceOf()
		if cs.user.choice == s {
			cs.user.choice = nil
		}
	}
	k.invalidateAfter(s)
	k.dirty = true
	return k.endTracked(before, s), nil
}

// Check reports whether Set would accept value for s now (type, range,
// visibility, selects), without setting it: nil, or a *SetError saying
// why not. User interfaces validate input with it as it is typed.
func (s *Symbol) Check(value string) error {
	k := s.k
	k.evaluate(s)
	ok := false
	switch {
	case s.visible == No:
		// conf's setter takes any string for a hidden string symbol
		// (the value then has no effect); refuse it like a hidden bool.
	case s.typ == TypeBool || s.typ == TypeTristate:
		if value != "" {
			switch value[0] {
			case 'y', 'Y':
				ok = s.curr.tri == Yes || k.canTake(s, Yes)
			case 'm', 'M':
				ok = s.curr.tri == Mod || k.canTake(s, Mod)
			case 'n', 'N':
				ok = s.curr.tri == No || k.canTake(s, No)
			}
		}
	default:
		ok = k.acceptsText(s, value)
	}
	if ok {
		return nil
	}
	return k.setError(s, value)
}

// DefaultSelection is the member a choice selects when the user picked
// none (its visible default, else its first visible member).
func (s *Symbol) DefaultSelection() *Symbol {
	if !s.isChoice() {
		return nil
	}
	s.k.evaluate(s)
	return s.k.choiceFallback(s)
}

// SelectedTo is the lowest value selects force on the symbol (n when
// nothing selects it): a configurator marks such options as locked.
func (s *Symbol) SelectedTo() Tristate {
	s.k.evaluate(s)
	if s.isChoice() {
		return No
	}
	return s.revDep.tri
}

// refusal says in words why value cannot be given to s now.
func (k *Kconfig) refusal(s *Symbol, value string) string {
	k.evaluate(s)
	if s.visible == No {
		e := k.Explain(s)
		if len(e.HiddenBy) > 0 {
			var parts []string
			for _, t := range e.HiddenBy {
				parts = append(parts, t.String())
			}
			return "it is hidden: " + strings.Join(parts, ", ")
		}
		if s.Prompt() == "" {
			return "it has no prompt: only defaults and selects set it"
		}
		return "it is hidden"
	}
	switch s.typ {
	case TypeBool, TypeTristate:
		if value == "" || !strings.ContainsRune("yYmMnN", rune(value[0])) {
			return "a " + s.typ.String() + " takes y or n"
		}
		if s.revDep.tri >= s.visible {
			e := k.Explain(s)
			var parts []string
			for _, t := range e.SelectedBy {
				parts = append(parts, t.Expr)
			}
			return "it is forced to " + s.revDep.tri.String() + " by select from " + strings.Join(parts, ", ")
		}
		if s.isChoiceVal() {
			return "a choice member can only be set to y (which selects it)"
		}
		if (value[0] == 'm' || value[0] == 'M') && k.effectiveType(s) == TypeBool {
			return "a bool takes y or n"
		}
		return fmt.Sprintf("allowed values now: %s", triList(s.Assignable()))
	case TypeInt, TypeHex:
		if !validText(s, value) {
			if s.typ == TypeInt {
				return "not a decimal integer"
			}
			return "not a hexadecimal number"
		}
		if lo, hi, ok := s.Range(); ok {
			return fmt.Sprintf("out of range [%s, %s]", lo, hi)
		}
	}
	return "invalid value"
}

func triList(ts []Tristate) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.String())
	}
	return strings.Join(s, "/")
}

// ---- diffs between configurations ----

// DiffEntry is one symbol that differs between two configurations.
type DiffEntry struct {
	Name   string
	Prompt string // from this tree ("" for symbols it does not define)
	Old    string // "" when absent
	New    string
	InOld  bool
	InNew  bool
	Secret bool // the symbol is marked secret: String masks the values
}

// String is "NAME: old -> new", "(absent)" for a side without the symbol.
func (d DiffEntry) String() string {
	show := func(v string, in bool) string {
		if !in {
			return "(absent)"
		}
		if d.Secret {
			return MaskSecret(v)
		}
		return v
	}
	return fmt.Sprintf("%s: %s -> %s", d.Name, show(d.Old, d.InOld), show(d.New, d.InNew))
}

// ParseConfig reads the assignments of a .config or defconfig text the
// way conf recognises them (NAME=VALUE, "# NAME is not set" as "n"),
// strings unquoted, later lines winning, anything else skipped as conf
// skips it. prefix is the CONFIG_ prefix ("" for Buildroot). For a strict
// reader that names bad lines, see ReadAssignments.
func ParseConfig(data []byte, prefix string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		l := parseConfigLine(line, prefix)
		switch {
		case l.kind == lineUnset && l.name != "":
			out[l.name] = "n"
		case l.kind == lineAssign && l.name != "":
			v := l.value
			if strings.HasPrefix(v, "\"") {
				v = unquote(v)
			}
			out[l.name] = v
		}
	}
	return out
}

func unquote(v string) string {
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		if c == '"' {
			break
		}
		if c == '\\' && i+1 < len(v) {
			i++
			c = v[i]
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Diff compares two configurations (as ParseConfig returns them) symbol
// by symbol, in menu order (symbols this tree does not define last, by
// name), with each symbol's prompt.
func (k *Kconfig) Diff(old, new map[string]string) []DiffEntry {
	var out []DiffEntry
	seen := map[string]bool{}
	add := func(name, prompt string) {
		if seen[name] {
			return
		}
		seen[name] = true
		o, inO := old[name]
		n, inN := new[name]
		if inO == inN && o == n {
			return
		}
		sec := false
		if s := k.find(name); s != nil {
			sec = k.secrets[s]
		}
		out = append(out, DiffEntry{Name: name, Prompt: prompt, Old: o, New: n, InOld: inO, InNew: inN, Secret: sec})
	}
	for _, s := range k.defined() {
		add(s.name, s.Prompt())
	}
	var rest []string
	for n := range old {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	for n := range new {
		if !seen[n] && old[n] == "" {
			if _, in := old[n]; !in {
				rest = append(rest, n)
			}
		}
	}
	sort.Strings(rest)
	for _, n := range rest {
		add(n, "")
	}
	return out
}

// DiffFiles compares two configuration files (see Diff).
func (k *Kconfig) DiffFiles(oldPath, newPath string) ([]DiffEntry, error) {
	a, err := os.ReadFile(oldPath)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(newPath)
	if err != nil {
		return nil, err
	}
	p := k.prefix()
	return k.Diff(ParseConfig(a, p), ParseConfig(b, p)), nil
}

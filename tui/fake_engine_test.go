package tui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ultravioletrs/cube-hal/cubecfg"
)

// fakeEngine is a small in-memory configuration for the screen tests: the
// Cube options of cubecfg's table in a "Target packages > Cube packages"
// menu, plus a toolchain menu whose BR2_USE_WCHAR hides vllm, and a
// prompt-less BR2_PACKAGE_HOST_GO selected by cube-agent. Dependencies
// are Go closures; it answers the Engine questions the way the kconfig
// adapter does, so the screens can be tested on their own.
type fakeEngine struct {
	root    *fnode
	syms    map[string]*fsym
	order   []*fsym
	saved   map[string]string
	dir     string // where SavePlan writes
	standal bool
	failSet error
}

type fnode struct {
	kind       NodeKind
	prompt     string
	sym        *fsym
	parent     *fnode
	children   []*fnode
	help       string
	menuconfig bool
	visible    func() bool // nil: always
	hiddenWhy  string
}

type fsym struct {
	name      string
	typ       SymType
	def       string
	user      *string
	lo, hi    int
	node      *fnode
	member    *fnode // the choice it belongs to
	selectBy  func() bool
	selectWho string
}

func newFakeEngine(dir string) *fakeEngine {
	f := &fakeEngine{syms: map[string]*fsym{}, dir: dir}
	f.root = &fnode{kind: NodeMenu, prompt: "Test Configuration"}
	tc := f.menu(f.root, "Toolchain")
	threads := f.sym(tc, "BR2_TOOLCHAIN_HAS_THREADS", TypeBool, "Thread library", "y", nil)
	threads.node.help = "Enable thread support in the toolchain."
	f.sym(tc, "BR2_USE_WCHAR", TypeBool, "Enable WCHAR support", "n", nil)
	host := f.sym(tc, "BR2_PACKAGE_HOST_GO", TypeBool, "", "n", nil)
	host.selectBy = func() bool { return f.Value(cubecfg.SymAgent) == "y" }
	host.selectWho = cubecfg.SymAgent

	tp := f.menu(f.root, "Target packages")
	cube := f.menu(tp, "Cube packages")
	parents := map[string]*fnode{}
	for _, o := range cubecfg.Options() {
		parent := cube
		if o.Package != "" {
			parent = parents[o.Package]
		}
		vis := f.optionVisible(o)
		switch o.Kind {
		case cubecfg.Choice:
			ch := &fnode{kind: NodeChoice, prompt: o.Label, parent: parent, visible: vis, help: o.Label + " choice."}
			parent.children = append(parent.children, ch)
			for _, m := range o.Members {
				def := "n"
				if m.Symbol == o.Default {
					def = "y"
				}
				s := f.sym(ch, m.Symbol, TypeBool, m.Label, def, vis)
				s.member = ch
			}
		default:
			t := map[cubecfg.Kind]SymType{cubecfg.Bool: TypeBool, cubecfg.String: TypeString, cubecfg.Int: TypeInt}[o.Kind]
			def := o.Default
			if t == TypeBool && def == "" {
				def = "n"
			}
			s := f.sym(parent, o.Symbol, t, o.Label, def, vis)
			s.lo, s.hi = o.Min, o.Max
			s.node.help = o.Label + " help.\nSecond line."
			if o.Package == "" {
				parents[o.Symbol] = s.node
			}
		}
	}
	// vllm needs WCHAR, like the real package needs a toolchain with it.
	vllm := f.syms[cubecfg.SymVLLM].node
	vllm.visible = func() bool { return f.Value("BR2_USE_WCHAR") == "y" }
	vllm.hiddenWhy = "depends on BR2_USE_WCHAR (n)"
	f.saved = f.values()
	return f
}

func (f *fakeEngine) optionVisible(o cubecfg.Option) func() bool {
	return func() bool {
		if o.Package != "" && f.Value(o.Package) != "y" {
			return false
		}
		if o.Package == cubecfg.SymVLLM && f.Value("BR2_USE_WCHAR") != "y" {
			return false
		}
		return o.DependsOn == "" || f.Value(o.DependsOn) == "y"
	}
}

func (f *fakeEngine) menu(parent *fnode, prompt string) *fnode {
	n := &fnode{kind: NodeMenu, prompt: prompt, parent: parent}
	parent.children = append(parent.children, n)
	return n
}

func (f *fakeEngine) sym(parent *fnode, name string, t SymType, prompt, def string, vis func() bool) *fsym {
	s := &fsym{name: name, typ: t, def: def}
	n := &fnode{kind: NodeSymbol, prompt: prompt, sym: s, parent: parent, visible: vis}
	if vis != nil {
		n.hiddenWhy = "depends on its package"
	}
	s.node = n
	parent.children = append(parent.children, n)
	f.syms[name] = s
	f.order = append(f.order, s)
	return s
}

func (f *fakeEngine) visible(n *fnode) bool {
	for a := n; a != nil; a = a.parent {
		if a.visible != nil && !a.visible() {
			return false
		}
	}
	return n.kind != NodeSymbol || n.prompt != ""
}

// value is the symbol's value: "y"/"n" for bools, text otherwise.
func (f *fakeEngine) value(s *fsym) string {
	if s.selectBy != nil && s.selectBy() {
		return "y"
	}
	if s.member != nil {
		sel := f.selection(s.member)
		if sel == s {
			return "y"
		}
		return "n"
	}
	if s.user != nil && f.visible(s.node) {
		return *s.user
	}
	return s.def
}

func (f *fakeEngine) selection(ch *fnode) *fsym {
	var def *fsym
	for _, c := range ch.children {
		if c.sym.user != nil && *c.sym.user == "y" {
			return c.sym
		}
		if c.sym.def == "y" {
			def = c.sym
		}
	}
	return def
}

func (f *fakeEngine) values() map[string]string {
	m := map[string]string{}
	for _, s := range f.order {
		m[s.name] = f.value(s)
	}
	return m
}

func (f *fakeEngine) Title() string { return f.root.prompt }
func (f *fakeEngine) Root() Node    { return f.root }

func (f *fakeEngine) Children(n Node) []Node {
	var out []Node
	for _, c := range n.(*fnode).children {
		out = append(out, c)
	}
	return out
}

func (f *fakeEngine) Parent(n Node) Node {
	if p := n.(*fnode).parent; p != nil {
		return p
	}
	return nil
}

func (f *fakeEngine) Entry(n Node) Entry {
	fn := n.(*fnode)
	e := Entry{Kind: fn.kind, Prompt: fn.prompt, Visible: f.visible(fn), Menuconfig: fn.menuconfig}
	switch fn.kind {
	case NodeSymbol:
		s := fn.sym
		e.Symbol, e.Type, e.Value, e.Default = s.name, s.typ, f.value(s), s.def
		e.Forced = s.selectBy != nil && s.selectBy()
		e.Changeable = e.Visible && !e.Forced
		e.Member = s.member != nil
	case NodeChoice:
		e.Type = TypeBool
		if sel := f.selection(fn); sel != nil {
			e.Value = sel.name
		}
		for _, c := range fn.children {
			if c.sym.def == "y" {
				e.Default = c.sym.name
			}
		}
		e.Changeable = e.Visible
	}
	return e
}

func (f *fakeEngine) Help(n Node) string { return n.(*fnode).help }

func (f *fakeEngine) Lookup(sym string) Node {
	if s, ok := f.syms[sym]; ok {
		return s.node
	}
	return nil
}

func (f *fakeEngine) Value(sym string) string {
	s, ok := f.syms[sym]
	if !ok {
		return ""
	}
	v := f.value(s)
	if s.typ == TypeBool && v == "n" {
		return ""
	}
	return v
}

func (f *fakeEngine) Check(sym, v string) error {
	s, ok := f.syms[sym]
	if !ok {
		return fmt.Errorf("%s: no such symbol", sym)
	}
	switch s.typ {
	case TypeInt:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a decimal number", v)
		}
		if s.hi > 0 && (n < s.lo || n > s.hi) {
			return fmt.Errorf("%d is not in %d-%d", n, s.lo, s.hi)
		}
	case TypeBool:
		if v != "y" && v != "n" {
			return fmt.Errorf("%q is not y or n", v)
		}
	}
	return nil
}

func (f *fakeEngine) Set(sym, v string) ([]Change, error) {
	if f.failSet != nil {
		return nil, f.failSet
	}
	if err := f.Check(sym, v); err != nil {
		return nil, err
	}
	s := f.syms[sym]
	before := f.values()
	if s.member != nil {
		for _, c := range s.member.children {
			c.sym.user = nil
		}
	}
	s.user = &v
	after := f.values()
	changes := []Change{}
	if before[sym] != after[sym] {
		changes = append(changes, Change{Symbol: sym, Prompt: s.node.prompt, Old: before[sym], New: after[sym]})
	}
	for _, o := range f.order {
		if o.name != sym && before[o.name] != after[o.name] {
			changes = append(changes, Change{Symbol: o.name, Prompt: o.node.prompt, Old: before[o.name], New: after[o.name]})
		}
	}
	return changes, nil
}

func (f *fakeEngine) Explain(n Node) []Section {
	fn := n.(*fnode)
	var secs []Section
	if fn.sym != nil {
		s := fn.sym
		secs = append(secs, Section{Title: "Value", Lines: []string{fmt.Sprintf("%s = %s (default %s)", s.name, f.value(s), s.def)}})
		if fn.hiddenWhy != "" {
			secs = append(secs, Section{Title: "Depends on", Lines: []string{fn.hiddenWhy}})
		}
		if s.selectWho != "" {
			secs = append(secs, Section{Title: "Selected by", Lines: []string{s.selectWho + " (" + f.Value(s.selectWho) + ")"}})
		}
	}
	secs = append(secs, Section{Title: "Defined at", Lines: []string{"fake/Config.in:1"}})
	return secs
}

func (f *fakeEngine) WhyHidden(n Node) string {
	for a := n.(*fnode); a != nil; a = a.parent {
		if a.visible != nil && !a.visible() {
			return a.hiddenWhy
		}
	}
	return ""
}

func (f *fakeEngine) Search(q string, limit int) []Hit {
	terms := strings.Fields(strings.ToLower(q))
	var hits []Hit
	for _, s := range f.order {
		hay := strings.ToLower(strings.TrimPrefix(s.name, "BR2_") + " " + s.node.prompt + " " + s.node.help)
		ok := true
		for _, t := range terms {
			if !strings.Contains(hay, strings.TrimPrefix(t, "br2_")) {
				ok = false
			}
		}
		if ok {
			hits = append(hits, Hit{Node: s.node})
		}
	}
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

func (f *fakeEngine) Changes() []Change {
	now := f.values()
	var out []Change
	for _, s := range f.order {
		if now[s.name] != f.saved[s.name] {
			out = append(out, Change{Symbol: s.name, Prompt: s.node.prompt, Old: f.saved[s.name], New: now[s.name]})
		}
	}
	return out
}

func (f *fakeEngine) SavePlan(defconfig bool) ([]FileWrite, error) {
	now := f.values()
	var names []string
	for n := range now {
		names = append(names, n)
	}
	sort.Strings(names)
	var cfg, def strings.Builder
	for _, n := range names {
		s := f.syms[n]
		v := now[n]
		line := n + "=" + v
		if s.typ == TypeString {
			line = n + "=" + strconv.Quote(v)
		}
		if s.typ == TypeBool && v == "n" {
			line = "# " + n + " is not set"
		}
		cfg.WriteString(line + "\n")
		if v != s.def {
			def.WriteString(line + "\n")
		}
	}
	var plan []FileWrite
	if !f.standal {
		plan = append(plan, FileWrite{What: ".config", Path: f.ConfigPath(), Data: []byte(cfg.String()), Backup: true})
	}
	if defconfig || f.standal {
		plan = append(plan, FileWrite{What: "defconfig", Path: f.DefconfigPath(), Data: []byte(def.String())})
	}
	return plan, nil
}

func (f *fakeEngine) MarkSaved()            { f.saved = f.values() }
func (f *fakeEngine) Source() string        { return "fake .config" }
func (f *fakeEngine) Standalone() bool      { return f.standal }
func (f *fakeEngine) ConfigPath() string    { return f.dir + "/output/.config" }
func (f *fakeEngine) DefconfigPath() string { return f.dir + "/configs/cube_defconfig" }

package kconfig

import (
	"fmt"
	"strings"
)

// Type is a symbol's type.
type Type int8

// Symbol types. TypeOther marks symbols only seen in an old auto.conf.
const (
	TypeUnknown Type = iota
	TypeBool
	TypeTristate
	TypeInt
	TypeHex
	TypeString
	TypeOther
)

// String is the name conf uses in messages ("bool", "integer", ...).
func (t Type) String() string {
	switch t {
	case TypeBool:
		return "bool"
	case TypeTristate:
		return "tristate"
	case TypeInt:
		return "integer"
	case TypeHex:
		return "hex"
	case TypeString:
		return "string"
	case TypeUnknown:
		return "unknown"
	}
	return "???"
}

// Keyword is the Kconfig keyword that declares the type ("int", not
// "integer"); empty for unknown.
func (t Type) Keyword() string {
	switch t {
	case TypeInt:
		return "int"
	case TypeUnknown, TypeOther:
		return ""
	}
	return t.String()
}

// Symbol flags, as in Buildroot's kconfig (the numeric values only matter
// for the def-flag shift).
const (
	symConst               = 0x0001
	symCheck               = 0x0008
	symChoice              = 0x0010
	symChoiceVal           = 0x0020
	symValid               = 0x0080
	symOptional            = 0x0100
	symWrite               = 0x0200
	symChanged             = 0x0400
	symAuto                = 0x1000
	symChecked             = 0x2000
	symWarned              = 0x8000
	symDef                 = 0x10000
	symDefUser             = 0x10000
	symDefAuto             = 0x20000
	symNeedSetChoiceValues = 0x100000
	symAllnoconfigY        = 0x200000
)

// Indexes of Symbol.def.
const (
	defUser = 0
	defAuto = 1
	defN    = 2
)

const symbolHashSize = 9973

// value is a computed or assigned value. str holds string/int/hex values
// (set tells an assigned empty string from none), choice the selected
// member of a choice, tri the tristate.
type value struct {
	str    string
	choice *Symbol
	set    bool
	tri    Tristate
}

type exprValue struct {
	expr *Expr
	tri  Tristate
}

// Symbol is a configuration symbol (or a choice, which Kconfig models as
// a nameless symbol with the choice flag).
type Symbol struct {
	next    *Symbol // next in the same hash bucket (newest first)
	name    string
	hasName bool
	typ     Type
	curr    value
	def     [defN]value
	visible Tristate
	flags   uint32
	props   []*Property
	dirDep  exprValue
	revDep  exprValue
	implied exprValue
	k       *Kconfig
	leaf    *Expr // the expression leaf naming this symbol (see newSymExpr)
	idx     int32 // position in definition order (see defined)
}

// propType is the kind of a property.
type propType uint8

const (
	pUnknown propType = iota
	pPrompt
	pComment
	pMenu
	pDefault
	pChoice
	pSelect
	pImply
	pRange
	pEnv
	pSymbol
)

func (t propType) String() string {
	switch t {
	case pPrompt:
		return "prompt"
	case pEnv:
		return "env"
	case pComment:
		return "comment"
	case pMenu:
		return "menu"
	case pDefault:
		return "default"
	case pChoice:
		return "choice"
	case pSelect:
		return "select"
	case pImply:
		return "imply"
	case pRange:
		return "range"
	case pSymbol:
		return "symbol"
	}
	return "unknown"
}

// Property is one attribute of a symbol or menu node: a prompt, default,
// select, range, ...; with its condition (visible) and where it was written.
type Property struct {
	sym     *Symbol
	text    string
	visible exprValue
	expr    *Expr
	menu    *Menu
	file    *File
	cond    *Expr // the "if" condition as written (visible.expr also has inherited dependencies)
	line    int32
	typ     propType
	hasText bool
}

func (k *Kconfig) initConstants() {
	k.symYes = &Symbol{name: "y", hasName: true, curr: value{str: "y", tri: Yes}, flags: symConst | symValid, k: k}
	k.symMod = &Symbol{name: "m", hasName: true, curr: value{str: "m", tri: Mod}, flags: symConst | symValid, k: k}
	k.symNo = &Symbol{name: "n", hasName: true, curr: value{str: "n", tri: No}, flags: symConst | symValid, k: k}
	k.symEmpty = &Symbol{name: "", hasName: true, curr: value{str: "", tri: No}, flags: symValid, k: k}
}

// forAllSymbols visits symbols in Buildroot's hash-table order (bucket by
// bucket, newest first), which decides the order of auto.conf and of
// randconfig's random draws.
func (k *Kconfig) forAllSymbols(fn func(*Symbol)) {
	for i := range k.hash {
		for s := k.hash[i]; s != nil; s = s.next {
			if s.typ != TypeOther {
				fn(s)
			}
		}
	}
}

func strhash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(int32(int8(s[i])))) * 0x01000193
	}
	return h
}

func (k *Kconfig) constFor(name string) *Symbol {
	if len(name) == 1 {
		switch name[0] {
		case 'y':
			return k.symYes
		case 'm':
			return k.symMod
		case 'n':
			return k.symNo
		}
	}
	return nil
}

// lookup finds or creates a symbol. flags selects const or choice symbols;
// 0 finds ordinary symbols only.
func (k *Kconfig) lookup(name string, hasName bool, flags uint32) *Symbol {
	var h uint32
	if hasName {
		if c := k.constFor(name); c != nil {
			return c
		}
		h = strhash(name) % symbolHashSize
		for s := k.hash[h]; s != nil; s = s.next {
			if !s.hasName || s.name != name {
				continue
			}
			if flags != 0 {
				if s.flags&flags != 0 {
					return s
				}
			} else if s.flags&(symConst|symChoice) == 0 {
				return s
			}
		}
	}
	s := &Symbol{name: name, hasName: hasName, typ: TypeUnknown, flags: flags, k: k}
	s.next = k.hash[h]
	k.hash[h] = s
	k.nsyms++
	return s
}

// find returns the non-constant symbol called name, or nil.
func (k *Kconfig) find(name string) *Symbol {
	if c := k.constFor(name); c != nil {
		return c
	}
	h := strhash(name) % symbolHashSize
	for s := k.hash[h]; s != nil; s = s.next {
		if s.hasName && s.name == name && s.flags&symConst == 0 {
			return s
		}
	}
	return nil
}

func (s *Symbol) isChoice() bool    { return s.flags&symChoice != 0 }
func (s *Symbol) isChoiceVal() bool { return s.flags&symChoiceVal != 0 }
func (s *Symbol) isOptional() bool  { return s.flags&symOptional != 0 }
func (s *Symbol) hasValue() bool    { return s.flags&symDefUser != 0 }

func (s *Symbol) displayName() string {
	if s.hasName {
		return s.name
	}
	return "<choice>"
}

func (s *Symbol) firstProp(t propType) *Property {
	for _, p := range s.props {
		if p.typ == t {
			return p
		}
	}
	return nil
}

func (s *Symbol) choiceProp() *Property { return s.firstProp(pChoice) }

func propSymbol(p *Property) *Symbol {
	if p != nil && p.expr != nil && p.expr.typ == eSymbol {
		return p.expr.sym
	}
	return nil
}

// choiceOf returns the choice a choice value belongs to.
func (s *Symbol) choiceOf() *Symbol { return propSymbol(s.choiceProp()) }

// choiceMembers lists a choice's values in order.
func (s *Symbol) choiceMembers() []*Symbol {
	p := s.choiceProp()
	if p == nil {
		return nil
	}
	var out []*Symbol
	for e := p.expr; e != nil && e.sym != nil; e = e.left {
		out = append(out, e.sym)
	}
	return out
}

// expandRefs replaces $NAME with the value of symbol NAME (unknown
// names expand to nothing), as source paths and mainmenu titles are.
func (k *Kconfig) expandRefs(in string) string {
	if !strings.Contains(in, "$") {
		return in
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(in, '$')
		if i < 0 {
			break
		}
		b.WriteString(in[:i])
		j := i + 1
		for j < len(in) && (isAlnum(in[j]) || in[j] == '_') {
			j++
		}
		name := in[i+1 : j]
		if s := k.find(name); s != nil {
			k.evaluate(s)
			b.WriteString(k.valueText(s))
		}
		in = in[j:]
	}
	b.WriteString(in)
	return b.String()
}

// escapeString quotes a string value for .config: "..." with \ and "
// escaped.
func escapeString(in string) string {
	var b strings.Builder
	b.Grow(len(in) + 2)
	b.WriteByte('"')
	for i := 0; i < len(in); i++ {
		if in[i] == '"' || in[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(in[i])
	}
	b.WriteByte('"')
	return b.String()
}

// ---- recursive dependency detection ----

type depStack struct {
	sym  *Symbol
	prop *Property
	expr *Expr
}

func (k *Kconfig) depPush(s *Symbol) *depStack {
	d := &depStack{sym: s}
	k.checkStack = append(k.checkStack, d)
	return d
}

func (k *Kconfig) depPop() { k.checkStack = k.checkStack[:len(k.checkStack)-1] }

func fileName(f *File) string {
	if f == nil {
		return "<none>"
	}
	return f.Name
}

func (k *Kconfig) reportCycle(last *Symbol) {
	var cv *depStack
	if last.isChoiceVal() {
		cv = k.depPush(last)
		last = last.choiceOf()
	}
	i := len(k.checkStack) - 1
	for ; i >= 0; i-- {
		if k.checkStack[i].sym == last {
			break
		}
	}
	if i < 0 {
		k.eprint("unexpected recursive dependency error\n")
		return
	}
	var b strings.Builder
	var menu *Menu
	var cycle []string
	firstFile, firstLine := "", 0
	for ; i < len(k.checkStack); i++ {
		st := k.checkStack[i]
		sym := st.sym
		next := last
		if i+1 < len(k.checkStack) {
			next = k.checkStack[i+1].sym
		}
		prop := st.prop
		if prop == nil && len(sym.props) > 0 {
			prop = sym.props[0]
		}
		if sym.isChoice() || sym.isChoiceVal() {
			prop = nil
			for _, p := range sym.props {
				menu = p.menu
				if p.menu != nil {
					prop = p
					break
				}
			}
		}
		pf, pl := "<none>", 0
		if prop != nil {
			pf, pl = fileName(prop.file), int(prop.line)
		}
		if sym == last {
			fmt.Fprintf(&b, "%s:%d:error: recursive dependency detected!\n", pf, pl)
			firstFile, firstLine = pf, pl
		}
		cycle = append(cycle, sym.displayName())
		switch {
		case st.expr != nil:
			fmt.Fprintf(&b, "%s:%d:\tsymbol %s %s value contains %s\n", pf, pl, sym.displayName(), prop.typ, next.displayName())
		case st.prop != nil:
			fmt.Fprintf(&b, "%s:%d:\tsymbol %s depends on %s\n", pf, pl, sym.displayName(), next.displayName())
		case sym.isChoice():
			fmt.Fprintf(&b, "%s:%d:\tchoice %s contains symbol %s\n", fileName(menu.file), menu.line, sym.displayName(), next.displayName())
		case sym.isChoiceVal():
			fmt.Fprintf(&b, "%s:%d:\tsymbol %s is part of choice %s\n", fileName(menu.file), menu.line, sym.displayName(), next.displayName())
		default:
			fmt.Fprintf(&b, "%s:%d:\tsymbol %s is selected by %s\n", pf, pl, sym.displayName(), next.displayName())
		}
	}
	b.WriteString("For a resolution refer to Documentation/kbuild/kconfig-language.txt\n" +
		"subsection \"Kconfig recursive dependency limitations\"\n\n")
	k.eprint(b.String())
	// conf 4.17 reports the cycle and carries on (its check only fails
	// when the cycle closes on another symbol), so this is not an error.
	k.diagnostics = append(k.diagnostics, Diagnostic{Severity: SeverityWarning, File: firstFile, Line: firstLine,
		Msg: "recursive dependency: " + strings.Join(cycle, "; ")})
	if cv != nil && len(k.checkStack) > 0 && k.checkStack[len(k.checkStack)-1] == cv {
		k.depPop()
	}
}

func (k *Kconfig) cycleInExpr(e *Expr) *Symbol {
	if e == nil {
		return nil
	}
	switch e.typ {
	case eOr, eAnd:
		if s := k.cycleInExpr(e.left); s != nil {
			return s
		}
		return k.cycleInExpr(e.right)
	case eNot:
		return k.cycleInExpr(e.left)
	case eEqual, eGeq, eGth, eLeq, eLth, eUnequal:
		if s := k.findCycle(e.lsym()); s != nil {
			return s
		}
		return k.findCycle(e.rsym())
	case eSymbol:
		return k.findCycle(e.sym)
	}
	k.eprint(fmt.Sprintf("Oops! How to check %d?\n", e.typ))
	return nil
}

func (k *Kconfig) cycleInSymbol(s *Symbol) *Symbol {
	st := k.depPush(s)
	defer k.depPop()
	if s2 := k.cycleInExpr(s.revDep.expr); s2 != nil {
		return s2
	}
	for _, p := range s.props {
		if p.typ == pChoice || p.typ == pSelect {
			continue
		}
		st.prop = p
		if s2 := k.cycleInExpr(p.visible.expr); s2 != nil {
			return s2
		}
		if p.typ != pDefault || s.isChoice() {
			continue
		}
		st.expr = p.expr
		if s2 := k.cycleInExpr(p.expr); s2 != nil {
			return s2
		}
		st.expr = nil
	}
	return nil
}

func (k *Kconfig) cycleInChoice(choice *Symbol) *Symbol {
	k.depPush(choice)
	members := choice.choiceMembers()
	for _, m := range members {
		m.flags |= symCheck | symChecked
	}
	choice.flags |= symCheck | symChecked
	s2 := k.cycleInSymbol(choice)
	choice.flags &^= symCheck
	if s2 == nil {
		for _, m := range members {
			if s2 = k.cycleInSymbol(m); s2 != nil {
				break
			}
		}
	}
	for _, m := range members {
		m.flags &^= symCheck
	}
	if s2 != nil && s2.isChoiceVal() && s2.choiceOf() == choice {
		s2 = choice
	}
	k.depPop()
	return s2
}

// findCycle reports a recursive dependency through s (printing the cycle
// like conf) and returns the symbol closing it.
func (k *Kconfig) findCycle(s *Symbol) *Symbol {
	if s.flags&symCheck != 0 {
		k.reportCycle(s)
		return s
	}
	if s.flags&symChecked != 0 {
		return nil
	}
	var s2 *Symbol
	switch {
	case s.isChoiceVal():
		k.depPush(s)
		s2 = k.findCycle(s.choiceOf())
		k.depPop()
	case s.isChoice():
		s2 = k.cycleInChoice(s)
	default:
		s.flags |= symCheck | symChecked
		s2 = k.cycleInSymbol(s)
		s.flags &^= symCheck
	}
	if s2 == s {
		s2 = nil
	}
	return s2
}

// propAlloc creates a property at the parser's current position and
// appends it to sym's list.
func (k *Kconfig) propAlloc(t propType, sym *Symbol) *Property {
	p := &Property{typ: t, sym: sym, file: k.curFile(), line: int32(k.curLine())}
	if sym != nil {
		sym.props = append(sym.props, p)
	}
	return p
}

func (k *Kconfig) addDefault(s *Symbol, def string) {
	p := k.propAlloc(pDefault, s)
	p.expr = newSymExpr(k.lookup(def, true, symConst))
}

func (k *Kconfig) addEnv(env string) {
	s := k.currentEntry.sym
	s.flags |= symAuto
	for _, p := range s.props {
		if p.typ == pEnv {
			if s2 := propSymbol(p); s2.name != env {
				k.menuWarn(k.currentEntry, "redefining environment symbol from %s", s2.name)
			}
			return
		}
	}
	p := k.propAlloc(pEnv, s)
	p.expr = newSymExpr(k.lookup(env, true, symConst))
	k.envSyms = append(k.envSyms, s)
	if v, ok := k.lookupEnv(env); ok {
		k.addDefault(s, v)
	} else {
		k.menuWarn(k.currentEntry, "environment variable %s undefined", env)
	}
}

package kconfig

import (
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

// Slots a configuration file is read into: the user's values (.config,
// a defconfig) or the values of the previous auto.conf (syncconfig).
const (
	defUser = 0
	defAuto = 1
)

// slot is where values read into slot def are kept: the symbol's user
// value, or for auto.conf (only syncconfig reads one) an entry on the
// side, so that no symbol carries room for it.
func (s *Symbol) slot(def int) *value {
	if def == defUser {
		return &s.user
	}
	k := s.k
	v := k.autoVals[s]
	if v == nil {
		if k.autoVals == nil {
			k.autoVals = map[*Symbol]*value{}
		}
		v = &value{}
		k.autoVals[s] = v
	}
	return v
}

// autoValue is the value read for s from the previous auto.conf.
func (k *Kconfig) autoValue(s *Symbol) value {
	if v := k.autoVals[s]; v != nil {
		return *v
	}
	return value{}
}

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
	curr    value
	user    value // the value read from .config or set (values read from auto.conf are kept aside, see slot)
	flags   uint32
	idx     int32 // position in definition order (see defined)
	hasName bool
	typ     Type
	visible Tristate
	props   []*Property
	dirDep  exprValue
	revDep  exprValue
	implied exprValue
	k       *Kconfig
	leaf    *Expr // the expression leaf naming this symbol (see newSymExpr)
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
// select, range, ...; with its condition (visExpr) and where it was written.
type Property struct {
	sym     *Symbol
	text    string
	visExpr *Expr // when the property applies (its "if" and inherited dependencies)
	expr    *Expr
	menu    *Menu
	file    *File
	cond    *Expr // the "if" condition as written (visExpr also has inherited dependencies)
	line    int32
	typ     propType
	hasText bool
	visTri  Tristate // visExpr's value
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
	if !hasName {
		return k.addSymbol("", false, flags, 0)
	}
	if c := k.constFor(name); c != nil {
		return c
	}
	h := strhash(name) % symbolHashSize
	if s := k.inBucket(h, name, flags); s != nil {
		return s
	}
	return k.addSymbol(name, true, flags, h)
}

// lookupBytes is lookup for a name still in the file's bytes: no string
// is made unless the symbol is new.
func (k *Kconfig) lookupBytes(b []byte, flags uint32) *Symbol {
	if len(b) == 1 {
		if c := k.constFor(string(b)); c != nil {
			return c
		}
	}
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(int32(int8(c)))) * 0x01000193
	}
	h %= symbolHashSize
	for s := k.hash[h]; s != nil; s = s.next {
		if s.hasName && s.name == string(b) && flagsMatch(s, flags) {
			return s
		}
	}
	return k.addSymbol(string(b), true, flags, h)
}

func flagsMatch(s *Symbol, flags uint32) bool {
	if flags != 0 {
		return s.flags&flags != 0
	}
	return s.flags&(symConst|symChoice) == 0
}

func (k *Kconfig) inBucket(h uint32, name string, flags uint32) *Symbol {
	for s := k.hash[h]; s != nil; s = s.next {
		if s.hasName && s.name == name && flagsMatch(s, flags) {
			return s
		}
	}
	return nil
}

// addSymbol creates a symbol at the head of bucket h (the hash order
// decides the order of auto.conf and of randconfig's draws).
func (k *Kconfig) addSymbol(name string, hasName bool, flags, h uint32) *Symbol {
	s := k.newSymbol()
	*s = Symbol{name: name, hasName: hasName, typ: TypeUnknown, flags: flags, k: k}
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
			k.resolveLateFor(s)
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

func fileName(f *File) string {
	if f == nil {
		return "<none>"
	}
	return f.Name
}

// propAlloc creates a property at the parser's current position and
// appends it to sym's list.
func (k *Kconfig) propAlloc(t propType, sym *Symbol) *Property {
	p := k.newProperty()
	*p = Property{typ: t, sym: sym, file: k.curFile(), line: int32(k.curLine())}
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
	if k.isLateEnv(env) {
		k.deferEnv(s, env)
		return
	}
	if v, ok := k.lookupEnv(env); ok {
		k.addDefault(s, v)
	} else {
		k.menuWarn(k.currentEntry, "environment variable %s undefined", env)
	}
}

package kconfig

import (
	"fmt"
	"strings"
)

// How a symbol gets its value.
//
// A value is worked out on demand and cached (symValid) until the next
// assignment invalidates everything. Working it out reads other symbols,
// so the cache also breaks dependency loops: a symbol reached again while
// it is being worked out shows its provisional value (n, or "").
//
// While evaluating, a symbol also learns whether .config lists it
// (symWrite): it is listed when its prompt is visible or when a default,
// an imply or a select gives it a value.

// effectiveType is the type a symbol behaves as: a tristate acts as a bool
// without module support, and as a radio button inside a choice that is y.
func (k *Kconfig) effectiveType(s *Symbol) Type {
	if s.typ != TypeTristate {
		return s.typ
	}
	if (s.isChoiceVal() && s.visible == Yes) || k.modulesVal == No {
		return TypeBool
	}
	return TypeTristate
}

// activeDefault is the first default whose condition holds.
func (k *Kconfig) activeDefault(s *Symbol) *Property {
	return k.firstActive(s, pDefault)
}

// activeRange is the first range whose condition holds.
func (k *Kconfig) activeRange(s *Symbol) *Property {
	return k.firstActive(s, pRange)
}

func (k *Kconfig) firstActive(s *Symbol, t propType) *Property {
	for _, p := range s.props {
		if p.typ != t {
			continue
		}
		if p.visTri = k.evalExpr(p.visExpr); p.visTri != No {
			return p
		}
	}
	return nil
}

// rangeBound reads one end of a range: a number, or a symbol's value read
// in that symbol's own base.
func (k *Kconfig) rangeBound(s *Symbol, base int) int64 {
	k.evaluate(s)
	if s.typ == TypeInt {
		base = 10
	} else if s.typ == TypeHex {
		base = 16
	}
	return strtoll(s.curr.str, base)
}

func numberBase(t Type) int {
	if t == TypeHex {
		return 16
	}
	return 10
}

// clampToRange replaces an int or hex value outside its active range by
// the bound it crossed.
func (k *Kconfig) clampToRange(s *Symbol) {
	if s.typ != TypeInt && s.typ != TypeHex {
		return
	}
	r := k.activeRange(s)
	if r == nil {
		return
	}
	base := numberBase(s.typ)
	v := strtoll(s.curr.str, base)
	lo := k.rangeBound(r.expr.lsym(), base)
	bound := lo
	if v >= lo {
		hi := k.rangeBound(r.expr.rsym(), base)
		if v <= hi {
			return
		}
		bound = hi
	}
	if s.typ == TypeInt {
		s.curr.str = fmt.Sprintf("%d", bound)
	} else {
		s.curr.str = fmt.Sprintf("0x%x", uint64(bound))
	}
	s.curr.set = true
}

func (s *Symbol) setChanged() { s.flags |= symChanged }

// setTri stores a freshly computed tristate, noting when it moved.
func (s *Symbol) setTri(dst *Tristate, t Tristate) {
	if *dst != t {
		*dst = t
		s.setChanged()
	}
}

// promptVisibility is how far the user may set s: the best of its
// prompts' conditions (m counts as y unless s is a tristate with modules).
func (k *Kconfig) promptVisibility(s *Symbol) Tristate {
	var choice *Symbol
	if s.isChoiceVal() {
		choice = s.choiceOf()
	}
	best := No
	for _, p := range s.props {
		if !p.hasText {
			continue
		}
		p.visTri = k.evalExpr(p.visExpr)
		// In a choice set to y, a tristate member is either y or n.
		if choice != nil && s.typ == TypeTristate && p.visTri == Mod && choice.curr.tri == Yes {
			p.visTri = No
		}
		best = triOr(best, p.visTri)
	}
	if best == Mod && (s.typ != TypeTristate || k.modulesVal == No) {
		best = Yes
	}
	return best
}

// depTri evaluates one of a symbol's dependency expressions (empty when
// there is none); for a symbol acting as a bool, m counts as y.
func (k *Kconfig) depTri(s *Symbol, e *Expr, empty Tristate) Tristate {
	t := empty
	if e != nil {
		t = k.evalExpr(e)
	}
	if t == Mod && k.effectiveType(s) == TypeBool {
		t = Yes
	}
	return t
}

// updateVisibility refreshes what limits s: its prompts' visibility and,
// outside choices, its direct dependencies, the selects that force it and
// the implies that suggest it (only heard while its dependencies hold).
func (k *Kconfig) updateVisibility(s *Symbol) {
	s.setTri(&s.visible, k.promptVisibility(s))
	if s.isChoiceVal() {
		return
	}
	s.setTri(&s.dirDep.tri, k.depTri(s, s.dirDep.expr, Yes))
	s.setTri(&s.revDep.tri, k.depTri(s, s.revDep.expr, No))
	var implied *Expr
	if s.dirDep.tri != No {
		implied = s.implied.expr
	}
	s.setTri(&s.implied.tri, k.depTri(s, implied, No))
}

// choiceFallback is the member a choice picks without a user pick: its
// first visible default, else its first visible member.
func (k *Kconfig) choiceFallback(c *Symbol) *Symbol {
	for _, p := range c.props {
		if p.typ != pDefault {
			continue
		}
		if p.visTri = k.evalExpr(p.visExpr); p.visTri == No {
			continue
		}
		if m := propSymbol(p); m.visible != No {
			return m
		}
	}
	for _, m := range c.choiceMembers() {
		if m.visible != No {
			return m
		}
	}
	return nil
}

// pickChoiceMember decides which member a choice that is y selects: the
// user's pick if it is visible, else the fallback. A choice only keeps
// counting as set by the user while every visible member does too (new
// members make it "new" again).
func (k *Kconfig) pickChoiceMember(c *Symbol) *Symbol {
	allSet := true
	for _, m := range c.choiceMembers() {
		k.updateVisibility(m)
		if m.visible != No && m.flags&symDefUser == 0 {
			allSet = false
		}
	}
	if !allSet {
		if c.flags&symDefUser != 0 {
			k.dropped = append(k.dropped, c)
		}
		c.flags &^= symDefUser
	}
	if m := c.user.choice; m != nil && m.visible != No {
		return m
	}
	m := k.choiceFallback(c)
	if m == nil {
		c.curr.tri = No
	}
	return m
}

func (k *Kconfig) warnSelectedDespiteDeps(s *Symbol) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nWARNING: unmet direct dependencies detected for %s\n", s.name)
	level := 'n'
	if s.dirDep.tri == Mod {
		level = 'm'
	}
	fmt.Fprintf(&b, "  Depends on [%c]: ", level)
	k.gstrPrint(&b, s.dirDep.expr)
	b.WriteString("\n")
	k.gstrPrintRevdep(&b, s.revDep.expr, Yes, "  Selected by [y]:\n")
	k.gstrPrintRevdep(&b, s.revDep.expr, Mod, "  Selected by [m]:\n")
	k.eprint(b.String())
	k.noteUnmet(s)
}

// evaluate brings s's value up to date (see the comment at the top).
func (k *Kconfig) evaluate(s *Symbol) {
	if s == nil || s.flags&symValid != 0 {
		return
	}
	if s.isChoiceVal() && s.flags&symNeedSetChoiceValues != 0 {
		// the choice is being given defaults: settle it first
		s.flags &^= symNeedSetChoiceValues
		k.evaluate(s.choiceOf())
	}
	s.flags |= symValid
	prev := s.curr
	var next value
	switch s.typ {
	case TypeBool, TypeTristate:
		k.startEvaluation(s, k.symNo.curr)
		next = k.symNo.curr
		next.tri = k.tristateOf(s)
	case TypeInt, TypeHex, TypeString:
		k.startEvaluation(s, k.symEmpty.curr)
		next = k.textOf(s)
	default:
		// referenced but never defined, or a constant: its name
		s.curr = value{str: s.name, set: true}
		return
	}
	s.curr = next
	if s.isChoice() && next.tri == Yes {
		s.curr.choice = k.pickChoiceMember(s)
	}
	k.clampToRange(s)
	if prev != s.curr {
		s.setChanged()
		if s == k.modulesSym {
			k.forAllSymbols(func(x *Symbol) { x.setChanged() })
			k.modulesVal = s.curr.tri
		}
	}
	k.finishEvaluation(s)
}

// startEvaluation refreshes what limits s, decides from its prompt whether
// it is written, and sets the provisional value loops will see.
func (k *Kconfig) startEvaluation(s *Symbol, provisional value) {
	s.flags &^= symWrite
	k.updateVisibility(s)
	if s.visible != No {
		s.flags |= symWrite
	}
	s.curr = provisional
}

// finishEvaluation passes a choice's state to its members and keeps
// environment symbols out of .config.
func (k *Kconfig) finishEvaluation(s *Symbol) {
	if s.isChoice() {
		for _, m := range s.choiceMembers() {
			if s.flags&symWrite != 0 && m.visible != No {
				m.flags |= symWrite
			}
			if s.flags&symChanged != 0 {
				m.setChanged()
			}
		}
	}
	if s.flags&symAuto != 0 {
		s.flags &^= symWrite
	}
	if s.flags&symNeedSetChoiceValues != 0 {
		k.settleChoice(s)
	}
}

// tristateOf works out a bool or tristate: a choice member shown as a
// radio button follows the choice; otherwise the user's value while the
// prompt allows it, else the defaults; selects then raise it.
func (k *Kconfig) tristateOf(s *Symbol) Tristate {
	var t Tristate
	if s.isChoiceVal() && s.visible == Yes {
		if s.choiceOf().curr.choice == s {
			t = Yes
		}
	} else {
		if s.visible != No && s.hasValue() {
			t = triAnd(s.user.tri, s.visible)
		} else {
			t = k.tristateWithoutUser(s)
		}
		if s.dirDep.tri < s.revDep.tri {
			k.warnSelectedDespiteDeps(s)
		}
		t = triOr(t, s.revDep.tri)
	}
	if t == Mod && (k.effectiveType(s) == TypeBool || s.implied.tri == Yes) {
		t = Yes
	}
	return t
}

// tristateWithoutUser is the value defaults and implies give; whatever
// gives s a value also puts it in .config.
func (k *Kconfig) tristateWithoutUser(s *Symbol) Tristate {
	if s.revDep.tri != No {
		s.flags |= symWrite
	}
	if s.isChoice() {
		return No
	}
	t := No
	if p := k.activeDefault(s); p != nil {
		if t = triAnd(k.evalExpr(p.expr), p.visTri); t != No {
			s.flags |= symWrite
		}
	}
	if s.implied.tri != No {
		s.flags |= symWrite
		t = triOr(t, s.implied.tri)
	}
	return t
}

// textOf works out a string, int or hex: the user's value while the
// prompt is visible, else the active default's.
func (k *Kconfig) textOf(s *Symbol) value {
	v := k.symEmpty.curr
	if s.visible != No && s.hasValue() {
		v.str, v.set = s.user.str, s.user.set
		return v
	}
	if p := k.activeDefault(s); p != nil {
		if from := propSymbol(p); from != nil {
			s.flags |= symWrite
			k.evaluate(from)
			v.str, v.set = from.curr.str, true
		}
	}
	return v
}

// invalidateAll forgets every computed value (after any assignment).
func (k *Kconfig) invalidateAll() {
	k.forAllSymbols(func(s *Symbol) { s.flags &^= symValid })
	k.writeStale = false
	k.canonical = false
	k.addChangeCount(1)
	k.evaluate(k.modulesSym)
}

// canTake reports whether a bool or tristate accepts v from the user now.
func (k *Kconfig) canTake(s *Symbol, v Tristate) bool {
	t := k.effectiveType(s)
	switch {
	case s.visible == No, t != TypeBool && t != TypeTristate:
		return false
	case t == TypeBool && v == Mod:
		return false
	case s.visible <= s.revDep.tri:
		return false // selects already force as much as the prompt allows
	case s.implied.tri == Yes && v == Mod:
		return false
	case s.isChoiceVal() && s.visible == Yes:
		return v == Yes // a radio button is only ever switched on
	}
	return v >= s.revDep.tri && v <= s.visible
}

// assignTristate records the user's value for a bool or tristate (a
// member of a choice set to y becomes the choice's pick).
func (k *Kconfig) assignTristate(s *Symbol, v Tristate) bool {
	old := s.curr.tri
	if v != old && !k.canTake(s, v) {
		return false
	}
	if s.flags&symDefUser == 0 {
		s.flags |= symDefUser
		s.setChanged()
	}
	if s.isChoiceVal() && v == Yes {
		c := s.choiceOf()
		c.user.choice = s
		c.flags |= symDefUser
		for _, m := range c.choiceMembers() {
			if m.visible != No {
				m.flags |= symDefUser
			}
		}
	}
	s.user.tri = v
	if v != old {
		k.invalidateAfter(s)
	}
	return true
}

func isDecimal(str string) bool {
	str = strings.TrimPrefix(str, "-")
	if str == "" || (str[0] == '0' && len(str) > 1) {
		return false
	}
	for i := 0; i < len(str); i++ {
		if !isDigit(str[i]) {
			return false
		}
	}
	return true
}

func isHexNumber(str string) bool {
	if len(str) >= 2 && str[0] == '0' && (str[1] == 'x' || str[1] == 'X') {
		str = str[2:]
	}
	if str == "" {
		return false
	}
	for i := 0; i < len(str); i++ {
		if !isXDigit(str[i]) {
			return false
		}
	}
	return true
}

// validText reports whether str is a well-formed value for s's type.
func validText(s *Symbol, str string) bool {
	switch s.typ {
	case TypeString:
		return true
	case TypeInt:
		return isDecimal(str)
	case TypeHex:
		return isHexNumber(str)
	case TypeBool, TypeTristate:
		return str != "" && strings.IndexByte("yYmMnN", str[0]) >= 0
	}
	return false
}

// acceptsText reports whether the user may give s the value str now:
// well formed, inside the active range, allowed for a boolean.
func (k *Kconfig) acceptsText(s *Symbol, str string) bool {
	switch s.typ {
	case TypeString:
		return true
	case TypeInt, TypeHex:
		if !validText(s, str) {
			return false
		}
		r := k.activeRange(s)
		if r == nil {
			return true
		}
		base := numberBase(s.typ)
		v := strtoll(str, base)
		return v >= k.rangeBound(r.expr.lsym(), base) && v <= k.rangeBound(r.expr.rsym(), base)
	case TypeBool, TypeTristate:
		if t, ok := parseTristate(str); ok {
			return k.canTake(s, t)
		}
	}
	return false
}

// parseTristate reads y/m/n by the first letter, as conf does.
func parseTristate(str string) (Tristate, bool) {
	if str == "" {
		return No, false
	}
	switch str[0] {
	case 'y', 'Y':
		return Yes, true
	case 'm', 'M':
		return Mod, true
	case 'n', 'N':
		return No, true
	}
	return No, false
}

// assignText records a user value given as text (conf's string setter):
// booleans by their first letter, hex with a 0x prefix added.
func (k *Kconfig) assignText(s *Symbol, str string) bool {
	if s.typ == TypeBool || s.typ == TypeTristate {
		t, ok := parseTristate(str)
		return ok && k.assignTristate(s, t)
	}
	if !k.acceptsText(s, str) {
		return false
	}
	if s.flags&symDefUser == 0 {
		s.flags |= symDefUser
		s.setChanged()
	}
	old := s.user
	if s.typ == TypeHex && !(len(str) >= 2 && str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
		str = "0x" + str
	} else if old.set && old.str == str {
		return true // the same value: nothing to recompute
	}
	s.user.str, s.user.set = str, true
	k.invalidateAfter(s)
	return true
}

// defaultText is what s would be without a user value: the active default,
// raised by selects and implies.
func (k *Kconfig) defaultText(s *Symbol) string {
	k.updateVisibility(s)
	k.evaluate(k.modulesSym)
	t, text := No, ""
	if p := k.activeDefault(s); p != nil {
		if s.typ == TypeBool || s.typ == TypeTristate {
			t = triAnd(k.evalExpr(p.expr), p.visTri)
		} else if from := propSymbol(p); from != nil {
			k.evaluate(from)
			text = from.curr.str
		}
	}
	t = triOr(t, s.revDep.tri)
	if t == Mod && !s.isChoiceVal() && k.modulesSym.curr.tri == No {
		t = Yes
	}
	if s.typ == TypeBool && t == Mod {
		t = Yes
	}
	t = triOr(t, s.implied.tri)
	switch s.typ {
	case TypeBool, TypeTristate:
		return t.String()
	case TypeInt, TypeHex, TypeString:
		return text
	}
	return ""
}

// valueText is s's value as .config spells it (m reads as n without
// module support).
func (k *Kconfig) valueText(s *Symbol) string {
	if s.typ != TypeBool && s.typ != TypeTristate {
		return s.curr.str
	}
	if s.curr.tri == Mod {
		k.evaluate(k.modulesSym)
		if k.modulesSym.curr.tri == No {
			return "n"
		}
	}
	return s.curr.tri.String()
}

// isChangeable: the prompt lets the user go beyond what selects force.
func (s *Symbol) isChangeable() bool { return s.visible > s.revDep.tri }

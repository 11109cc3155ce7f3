package kconfig

import (
	"fmt"
	"strings"
)

// Dependency cycles.
//
// After finalising, every symbol's dependencies are walked depth first:
// through its reverse dependencies (selects), the conditions of its
// properties and the values of its defaults. Reaching a symbol that is
// still on the path closes a cycle, which is reported the way conf 4.17
// reports it; like conf, loading then carries on (the cycle is a warning
// for our callers). A choice and its members count as one node.

// pathStep is one symbol on the walk, with the property (and default
// value) being followed from it.
type pathStep struct {
	sym  *Symbol
	prop *Property
	expr *Expr
}

func (k *Kconfig) pushStep(s *Symbol) *pathStep {
	st := &pathStep{sym: s}
	k.walk = append(k.walk, st)
	return st
}

func (k *Kconfig) popStep() { k.walk = k.walk[:len(k.walk)-1] }

// findCycle walks from s and returns the symbol that closes a cycle
// through s's dependencies (nil when none, or when it closes on s itself,
// which is reported but not passed up).
func (k *Kconfig) findCycle(s *Symbol) *Symbol {
	if s.flags&symCheck != 0 {
		k.reportCycle(s)
		return s
	}
	if s.flags&symChecked != 0 {
		return nil
	}
	var hit *Symbol
	switch {
	case s.isChoiceVal():
		k.pushStep(s)
		hit = k.findCycle(s.choiceOf()) // members are checked with their choice
		k.popStep()
	case s.isChoice():
		hit = k.cycleInChoice(s)
	default:
		s.flags |= symCheck | symChecked
		hit = k.cycleInSymbol(s)
		s.flags &^= symCheck
	}
	if hit == s {
		return nil
	}
	return hit
}

// cycleInSymbol follows s's selects, then each property's condition and
// (for defaults of symbols) value.
func (k *Kconfig) cycleInSymbol(s *Symbol) *Symbol {
	step := k.pushStep(s)
	defer k.popStep()
	if hit := k.cycleInExpr(s.revDep.expr); hit != nil {
		return hit
	}
	for _, p := range s.props {
		if p.typ == pChoice || p.typ == pSelect {
			continue
		}
		step.prop = p
		if hit := k.cycleInExpr(p.visExpr); hit != nil {
			return hit
		}
		if p.typ == pDefault && !s.isChoice() {
			step.expr = p.expr
			if hit := k.cycleInExpr(p.expr); hit != nil {
				return hit
			}
			step.expr = nil
		}
	}
	return nil
}

// cycleInChoice walks a choice and then each member, with all of them
// marked as on the path.
func (k *Kconfig) cycleInChoice(c *Symbol) *Symbol {
	k.pushStep(c)
	defer k.popStep()
	members := c.choiceMembers()
	for _, m := range members {
		m.flags |= symCheck | symChecked
	}
	c.flags |= symCheck | symChecked
	hit := k.cycleInSymbol(c)
	c.flags &^= symCheck
	for _, m := range members {
		if hit != nil {
			break
		}
		hit = k.cycleInSymbol(m)
	}
	for _, m := range members {
		m.flags &^= symCheck
	}
	if hit != nil && hit.isChoiceVal() && hit.choiceOf() == c {
		hit = c
	}
	return hit
}

func (k *Kconfig) cycleInExpr(e *Expr) *Symbol {
	if e == nil {
		return nil
	}
	var syms []*Symbol
	switch e.typ {
	case eOr, eAnd:
		if hit := k.cycleInExpr(e.left); hit != nil {
			return hit
		}
		return k.cycleInExpr(e.right)
	case eNot:
		return k.cycleInExpr(e.left)
	case eSymbol:
		syms = []*Symbol{e.sym}
	case eEqual, eGeq, eGth, eLeq, eLth, eUnequal:
		syms = []*Symbol{e.lsym(), e.rsym()}
	default:
		k.eprint(fmt.Sprintf("Oops! How to check %d?\n", e.typ))
		return nil
	}
	for _, s := range syms {
		if hit := k.findCycle(s); hit != nil {
			return hit
		}
	}
	return nil
}

// stepWhere is the place a step is reported at: its property, or for a
// choice and its members their first definition.
func stepWhere(st *pathStep) (prop *Property, menu *Menu) {
	s := st.sym
	if s.isChoice() || s.isChoiceVal() {
		for _, p := range s.props {
			menu = p.menu
			if p.menu != nil {
				return p, menu
			}
		}
		return nil, menu
	}
	prop = st.prop
	if prop == nil && len(s.props) > 0 {
		prop = s.props[0]
	}
	return prop, nil
}

// reportCycle prints the cycle that closes on last: every step from
// last's place on the path to the top, saying why each leads to the next.
func (k *Kconfig) reportCycle(last *Symbol) {
	var member *pathStep
	if last.isChoiceVal() {
		member = k.pushStep(last)
		last = last.choiceOf()
	}
	from := len(k.walk) - 1
	for from >= 0 && k.walk[from].sym != last {
		from--
	}
	if from < 0 {
		k.eprint("unexpected recursive dependency error\n")
		return
	}
	var b strings.Builder
	var names []string
	var where *Location
	var menu *Menu
	for i := from; i < len(k.walk); i++ {
		st := k.walk[i]
		s := st.sym
		next := last
		if i+1 < len(k.walk) {
			next = k.walk[i+1].sym
		}
		prop, m := stepWhere(st)
		if s.isChoice() || s.isChoiceVal() {
			menu = m
		}
		pf, pl := "<none>", 0
		if prop != nil {
			pf, pl = fileName(prop.file), int(prop.line)
		}
		if s == last {
			fmt.Fprintf(&b, "%s:%d:error: recursive dependency detected!\n", pf, pl)
			where = &Location{File: pf, Line: pl}
		}
		names = append(names, s.displayName())
		who, whom := s.displayName(), next.displayName()
		switch {
		case st.expr != nil:
			fmt.Fprintf(&b, "%s:%d:\tsymbol %s %s value contains %s\n", pf, pl, who, prop.typ, whom)
		case st.prop != nil:
			fmt.Fprintf(&b, "%s:%d:\tsymbol %s depends on %s\n", pf, pl, who, whom)
		case s.isChoice():
			fmt.Fprintf(&b, "%s:%d:\tchoice %s contains symbol %s\n", fileName(menu.file), menu.line, who, whom)
		case s.isChoiceVal():
			fmt.Fprintf(&b, "%s:%d:\tsymbol %s is part of choice %s\n", fileName(menu.file), menu.line, who, whom)
		default:
			fmt.Fprintf(&b, "%s:%d:\tsymbol %s is selected by %s\n", pf, pl, who, whom)
		}
	}
	b.WriteString("For a resolution refer to Documentation/kbuild/kconfig-language.txt\n" +
		"subsection \"Kconfig recursive dependency limitations\"\n\n")
	k.eprint(b.String())
	d := Diagnostic{Severity: SeverityWarning, Msg: "recursive dependency: " + strings.Join(names, " -> ")}
	if where != nil {
		d.File, d.Line = where.File, where.Line
	}
	k.diagnostics = append(k.diagnostics, d)
	if member != nil && len(k.walk) > 0 && k.walk[len(k.walk)-1] == member {
		k.popStep()
	}
}

package kconfig

import (
	"fmt"
	"strings"
)

// Term is one part of a dependency expression with its current value,
// e.g. Expr "BR2_PACKAGE_PYTHON3", Detail "BR2_PACKAGE_PYTHON3 [=n]",
// Value n.
type Term struct {
	Expr   string   // the sub-expression as Kconfig syntax
	Detail string   // the same with every symbol's current value: "A [=y] && B [=n]"
	Value  Tristate // what the sub-expression evaluates to now
	// Where is the file and line the term comes from, when it belongs to
	// one property (a select, a default); empty otherwise.
	Where Location
}

func (t Term) String() string { return fmt.Sprintf("%s is %s", t.Detail, t.Value) }

// Reference is a relation to another symbol: what this one selects or
// implies, with the condition written in the Kconfig file.
type Reference struct {
	Target    string
	Condition string // "" when unconditional
	Active    bool   // the relation currently applies (this symbol is set and the condition holds)
	Where     Location
}

// DefaultInfo is the default that currently gives a symbol its value.
type DefaultInfo struct {
	Value     string // the default expression, e.g. "y" or "\"/dev/ttyS0\""
	Condition string // its "if" condition as written, "" when none
	Where     Location
}

// Explanation says in plain terms why a symbol has its value and whether
// the user can change it.
type Explanation struct {
	Name, Prompt string
	Type         Type
	Value        string
	UserValue    string
	HasUserValue bool
	Visibility   Tristate
	Written      bool
	// DependsOn are the terms of the symbol's direct dependencies ("depends
	// on" and those of enclosing menus and ifs), each with its value.
	DependsOn []Term
	// HiddenBy are the terms that are n and so hide the prompt.
	HiddenBy []Term
	// SelectedBy are the selects that target the symbol; those with a
	// value other than n force it to at least that value.
	SelectedBy []Term
	ImpliedBy  []Term
	// Default is the default that applies now (nil when none does).
	Default *DefaultInfo
	Selects []Reference
	Implies []Reference
	// Range is the active range of an int or hex ("[1, 10]").
	Range string
	// UnmetDependencies: selected although its own dependencies are not
	// met (conf warns about this).
	UnmetDependencies bool
	Choice            string // the choice's prompt, for choice members
	ChoiceSelection   string // the member the choice selects
	Env               string // environment variable of an "option env" symbol
	Definitions       []Location
}

// andTerms splits e at its top-level &&.
func andTerms(e *Expr) []*Expr {
	if e == nil {
		return nil
	}
	if e.typ == eAnd {
		return append(andTerms(e.left), andTerms(e.right)...)
	}
	return []*Expr{e}
}

func orTerms(e *Expr) []*Expr {
	if e == nil {
		return nil
	}
	if e.typ == eOr {
		return append(orTerms(e.left), orTerms(e.right)...)
	}
	return []*Expr{e}
}

func (k *Kconfig) term(e *Expr) Term {
	var b strings.Builder
	k.gstrPrint(&b, e)
	return Term{Expr: exprString(e), Detail: b.String(), Value: k.evalExpr(e)}
}

func propLocation(p *Property) Location {
	if p.menu != nil {
		loc := menuLocation(p.menu)
		loc.File, loc.Line = fileName(p.file), int(p.line)
		return loc
	}
	return Location{File: fileName(p.file), Line: int(p.line)}
}

// Explain gathers why s has its value: dependencies with their values,
// what hides it, who selects it, which default applies, what it selects.
func (k *Kconfig) Explain(s *Symbol) *Explanation {
	k.evaluate(s)
	e := &Explanation{
		Name: s.name, Prompt: s.Prompt(), Type: s.typ, Value: k.shownValue(s),
		Visibility: s.visible, Written: s.flags&symWrite != 0, Env: s.EnvVariable(),
		Definitions: s.Definitions(),
	}
	e.UserValue, e.HasUserValue = s.UserValue()
	if s.Secret() {
		e.UserValue = MaskSecret(e.UserValue)
	}
	seen := map[string]bool{}
	for _, t := range andTerms(s.dirDep.expr) {
		tt := k.term(t)
		if !seen[tt.Expr] {
			seen[tt.Expr] = true
			e.DependsOn = append(e.DependsOn, tt)
		}
	}
	if s.visible == No {
		seen = map[string]bool{}
		for _, p := range s.props {
			if !p.hasText {
				continue
			}
			for _, t := range andTerms(p.visExpr) {
				tt := k.term(t)
				if tt.Value == No && !seen[tt.Expr] {
					seen[tt.Expr] = true
					e.HiddenBy = append(e.HiddenBy, tt)
				}
			}
		}
	}
	for _, t := range orTerms(s.revDep.expr) {
		if k.exprHasMod(t) {
			continue // a choice's own "visible && m" guard
		}
		tt := k.term(t)
		tt.Where = k.selectWhere(t, s, pSelect)
		e.SelectedBy = append(e.SelectedBy, tt)
	}
	for _, t := range orTerms(s.implied.expr) {
		tt := k.term(t)
		tt.Where = k.selectWhere(t, s, pImply)
		e.ImpliedBy = append(e.ImpliedBy, tt)
	}
	if !s.isChoice() {
		if p := k.activeDefault(s); p != nil {
			d := &DefaultInfo{Value: exprQuoted(p.expr), Where: propLocation(p)}
			if p.cond != nil {
				d.Condition = exprQuoted(p.cond)
			}
			e.Default = d
		}
	}
	on := s.curr.tri != No
	for _, p := range s.props {
		if p.typ != pSelect && p.typ != pImply {
			continue
		}
		r := Reference{Target: propSymbol(p).name, Where: propLocation(p)}
		if p.cond != nil {
			r.Condition = exprQuoted(p.cond)
		}
		r.Active = on && k.evalExpr(p.visExpr) != No
		if p.typ == pSelect {
			e.Selects = append(e.Selects, r)
		} else {
			e.Implies = append(e.Implies, r)
		}
	}
	if s.typ == TypeInt || s.typ == TypeHex {
		if lo, hi, ok := s.Range(); ok {
			e.Range = fmt.Sprintf("[%s, %s]", lo, hi)
		}
	}
	e.UnmetDependencies = s.dirDep.tri < s.revDep.tri
	if cs := s.Choice(); cs != nil {
		e.Choice = cs.Prompt()
		if sel := cs.Selection(); sel != nil {
			e.ChoiceSelection = sel.name
		}
	}
	return e
}

// selectWhere finds the select (or imply) statement behind a reverse
// dependency term "SELECTOR && condition".
func (k *Kconfig) selectWhere(t *Expr, target *Symbol, typ propType) Location {
	for t != nil && t.typ == eAnd {
		t = t.left
	}
	if t == nil || t.typ != eSymbol {
		return Location{}
	}
	for _, p := range t.sym.props {
		if p.typ == typ && propSymbol(p) == target {
			return propLocation(p)
		}
	}
	return Location{}
}

// exprHasMod reports the constant m in e (only the choice guard uses it in
// Buildroot trees).
func (k *Kconfig) exprHasMod(e *Expr) bool {
	if e == nil {
		return false
	}
	switch e.typ {
	case eSymbol:
		return e.sym == k.symMod
	case eAnd, eOr:
		return k.exprHasMod(e.left) || k.exprHasMod(e.right)
	case eNot:
		return k.exprHasMod(e.left)
	}
	return false
}

// Text is the explanation in plain words, several lines.
func (e *Explanation) Text() string {
	var b strings.Builder
	title := e.Name
	if title == "" {
		title = "<choice>"
	}
	if e.Prompt != "" {
		title += " (" + e.Prompt + ")"
	}
	fmt.Fprintf(&b, "%s is %s", title, showValue(e.Type, e.Value))
	if !e.Written {
		b.WriteString(" and is not written to .config")
	}
	b.WriteString(".\n")
	if e.Env != "" {
		fmt.Fprintf(&b, "Its value comes from the environment variable %s.\n", e.Env)
	}
	if e.HasUserValue && e.UserValue != e.Value {
		fmt.Fprintf(&b, "The configuration asks for %s, but that is overridden:\n", showValue(e.Type, e.UserValue))
	} else if e.HasUserValue {
		b.WriteString("The value was set in the configuration.\n")
	}
	switch {
	case e.Visibility == No && e.Prompt == "":
		b.WriteString("It has no prompt, so only defaults and selects give it a value.\n")
	case e.Visibility == No:
		b.WriteString("It is hidden because these dependencies are not met:\n")
		for _, t := range e.HiddenBy {
			fmt.Fprintf(&b, "  - %s\n", t)
		}
	}
	var active []Term
	for _, t := range e.SelectedBy {
		if t.Value != No {
			active = append(active, t)
		}
	}
	if len(active) > 0 {
		b.WriteString("It is forced on by select from:\n")
		for _, t := range active {
			fmt.Fprintf(&b, "  - %s\n", t.Detail)
		}
		if e.UnmetDependencies {
			b.WriteString("  (selected although its own dependencies are not met)\n")
		}
	}
	for _, t := range e.ImpliedBy {
		if t.Value != No {
			fmt.Fprintf(&b, "It is implied (suggested) by %s.\n", t.Detail)
		}
	}
	if e.Choice != "" {
		fmt.Fprintf(&b, "It is a member of the choice %q", e.Choice)
		if e.ChoiceSelection != "" {
			fmt.Fprintf(&b, ", which selects %s", e.ChoiceSelection)
		}
		b.WriteString(".\n")
	}
	if e.Default != nil && !e.HasUserValue {
		fmt.Fprintf(&b, "Its default is %s", e.Default.Value)
		if e.Default.Condition != "" {
			fmt.Fprintf(&b, " (if %s)", e.Default.Condition)
		}
		fmt.Fprintf(&b, ", from %s.\n", e.Default.Where)
	}
	if e.Range != "" {
		fmt.Fprintf(&b, "It must lie in %s.\n", e.Range)
	}
	if len(e.DependsOn) > 0 && e.Visibility != No {
		b.WriteString("It depends on:\n")
		for _, t := range e.DependsOn {
			fmt.Fprintf(&b, "  - %s\n", t)
		}
	}
	for _, r := range e.Selects {
		state := "inactive"
		if r.Active {
			state = "active"
		}
		if r.Condition != "" {
			fmt.Fprintf(&b, "It selects %s if %s (%s).\n", r.Target, r.Condition, state)
		} else {
			fmt.Fprintf(&b, "It selects %s (%s).\n", r.Target, state)
		}
	}
	for _, r := range e.Implies {
		fmt.Fprintf(&b, "It implies %s.\n", r.Target)
	}
	for _, d := range e.Definitions {
		fmt.Fprintf(&b, "Defined at %s", d)
		for _, f := range d.SourcedFrom {
			fmt.Fprintf(&b, ", sourced from %s", f)
		}
		b.WriteString(".\n")
	}
	return b.String()
}

func showValue(t Type, v string) string {
	if t == TypeString {
		return escapeString(v)
	}
	return v
}

// HiddenBy returns the dependency terms that hide a menu or comment (or a
// symbol's node), each with its value; empty when the node is visible.
func (m *Menu) HiddenBy() []Term {
	k := m.k
	if m.prompt == nil || k.isVisible(m) {
		return nil
	}
	var out []Term
	for _, t := range andTerms(m.prompt.visExpr) {
		if tt := k.term(t); tt.Value == No {
			out = append(out, tt)
		}
	}
	if m.visibility != nil && k.evalExpr(m.visibility) == No {
		for _, t := range andTerms(m.visibility) {
			if tt := k.term(t); tt.Value == No {
				out = append(out, tt)
			}
		}
	}
	return out
}

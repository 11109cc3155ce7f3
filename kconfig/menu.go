package kconfig

import (
	"fmt"
	"strings"
)

// Menu is a node of the menu tree: a menu, a symbol or choice definition,
// a comment, or an if block (which finalisation flattens away). A symbol
// defined in several places has one node per definition.
type Menu struct {
	next       *Menu
	parent     *Menu
	list       *Menu
	sym        *Symbol
	prompt     *Property
	visibility *Expr
	dep        *Expr
	flags      uint32
	line       int32
	help       string
	file       *File
	inc        *inclusion
	k          *Kconfig
}

const (
	menuRoot     = 0x0002
	menuHelpSeen = 0x0004 // a help text was read (even when not kept)
	menuHasHelp  = 0x0008 // help holds the (last) help text
)

func (k *Kconfig) menuInit() {
	k.root.flags = menuRoot
	k.root.k = k
	k.currentEntry = &k.root
	k.currentMenu = &k.root
	k.lastEntry = &k.root.list
}

func (k *Kconfig) menuAddEntry(sym *Symbol) {
	m := k.newMenu()
	*m = Menu{sym: sym, parent: k.currentMenu, file: k.curFile(), line: int32(k.curLine()), k: k}
	if k.lex != nil {
		m.inc = k.lex.curInc()
	}
	*k.lastEntry = m
	k.lastEntry = &m.next
	k.currentEntry = m
	if sym != nil {
		k.menuAddSymbol(pSymbol, sym, nil)
	}
}

func (k *Kconfig) menuAddMenu() *Menu {
	k.lastEntry = &k.currentEntry.list
	k.currentMenu = k.currentEntry
	return k.currentMenu
}

func (k *Kconfig) menuEndMenu() {
	k.lastEntry = &k.currentMenu.next
	k.currentMenu = k.currentMenu.parent
}

// guardMod turns "m" into "m && MODULES" so that m means n without modules.
func (k *Kconfig) guardMod(e *Expr) *Expr {
	if e == nil {
		return e
	}
	switch e.typ {
	case eNot:
		e.left = k.guardMod(e.left)
	case eOr, eAnd:
		e.left = k.guardMod(e.left)
		e.right = k.guardMod(e.right)
	case eSymbol:
		if e.sym == k.symMod {
			return exprAnd(e, newSymExpr(k.modulesSym))
		}
	}
	return e
}

func (k *Kconfig) menuAddDep(dep *Expr) {
	k.currentEntry.dep = exprAnd(k.currentEntry.dep, dep)
}

func (k *Kconfig) menuSetType(t Type) {
	s := k.currentEntry.sym
	if s.typ == t {
		return
	}
	if s.typ == TypeUnknown {
		s.typ = t
		return
	}
	k.menuWarn(k.currentEntry, "ignoring type redefinition of '%s' from '%s' to '%s'",
		s.displayName(), s.typ, t)
}

func (k *Kconfig) menuAddProp(t propType, prompt string, hasPrompt bool, expr, dep *Expr) *Property {
	p := k.propAlloc(t, k.currentEntry.sym)
	p.menu = k.currentEntry
	p.expr = expr
	p.visExpr = dep
	p.cond = dep.copy()
	if hasPrompt {
		if prompt != "" && isCSpace(prompt[0]) {
			k.propWarn(p, "leading whitespace ignored")
			for prompt != "" && isCSpace(prompt[0]) {
				prompt = prompt[1:]
			}
		}
		if k.currentEntry.prompt != nil && k.currentEntry != &k.root {
			k.propWarn(p, "prompt redefined")
		}
		if t == pPrompt {
			for m := k.currentEntry.parent; m != nil; m = m.parent {
				if m.visibility == nil {
					continue
				}
				p.visExpr = exprAnd(p.visExpr, m.visibility.copy())
			}
		}
		k.currentEntry.prompt = p
		p.text = prompt
		p.hasText = true
	}
	return p
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func (k *Kconfig) menuAddPrompt(t propType, prompt string, dep *Expr) *Property {
	return k.menuAddProp(t, prompt, true, nil, dep)
}

func (k *Kconfig) menuAddVisibility(e *Expr) {
	k.currentEntry.visibility = exprAnd(k.currentEntry.visibility, e)
}

func (k *Kconfig) menuAddExpr(t propType, e, dep *Expr) {
	k.menuAddProp(t, "", false, e, dep)
}

func (k *Kconfig) menuAddSymbol(t propType, s *Symbol, dep *Expr) {
	k.menuAddProp(t, "", false, newSymExpr(s), dep)
}

// option names accepted by "option NAME[=ARG]".
const (
	optModules = iota + 1
	optDefconfigList
	optEnv
	optAllnoconfigY
)

func (k *Kconfig) menuAddOption(opt int, arg string) {
	switch opt {
	case optModules:
		if k.modulesSym != nil {
			k.parseError(fmt.Sprintf("symbol '%s' redefines option 'modules' already defined by symbol '%s'",
				k.currentEntry.sym.name, k.modulesSym.name))
		}
		k.modulesSym = k.currentEntry.sym
	case optDefconfigList:
		if k.defconfigL == nil {
			k.defconfigL = k.currentEntry.sym
		} else if k.defconfigL != k.currentEntry.sym {
			k.parseError("trying to redefine defconfig symbol")
		}
		k.defconfigL.flags |= symAuto
	case optEnv:
		k.addEnv(arg)
	case optAllnoconfigY:
		k.currentEntry.sym.flags |= symAllnoconfigY
	}
}

func (k *Kconfig) validateNumber(s, s2 *Symbol) bool {
	return s2.typ == TypeInt || s2.typ == TypeHex || (s2.typ == TypeUnknown && validText(s, s2.name))
}

func (k *Kconfig) checkProps(s *Symbol) {
	for _, p := range s.props {
		switch p.typ {
		case pDefault:
			if (s.typ == TypeString || s.typ == TypeInt || s.typ == TypeHex) && p.expr.typ != eSymbol {
				k.propWarn(p, "default for config symbol '%s' must be a single symbol", s.name)
			}
			if p.expr.typ != eSymbol {
				break
			}
			s2 := propSymbol(p)
			if s.typ == TypeHex || s.typ == TypeInt {
				if !k.validateNumber(s, s2) {
					k.propWarn(p, "'%s': number is invalid", s.name)
				}
			}
			if s.isChoice() {
				cp := s2.choiceProp()
				if cp == nil || propSymbol(cp) != s {
					k.propWarn(p, "choice default symbol '%s' is not contained in the choice", s2.name)
				}
			}
		case pSelect, pImply:
			use := "select"
			if p.typ == pImply {
				use = "imply"
			}
			s2 := propSymbol(p)
			if s.typ != TypeBool && s.typ != TypeTristate {
				k.propWarn(p, "config symbol '%s' uses %s, but is not bool or tristate", s.name, use)
			} else if s2.typ != TypeUnknown && s2.typ != TypeBool && s2.typ != TypeTristate {
				k.propWarn(p, "'%s' has wrong type. '%s' only accept arguments of bool and tristate type", s2.name, use)
			}
		case pRange:
			if s.typ != TypeInt && s.typ != TypeHex {
				k.propWarn(p, "range is only allowed for int or hex symbols")
			}
			if !k.validateNumber(s, p.expr.lsym()) || !k.validateNumber(s, p.expr.rsym()) {
				k.propWarn(p, "range is invalid")
			}
		}
	}
}

// isVisible reports whether the node shows in a menu (conf's
// menu_is_visible, including its side effect on invisible menuconfig
// symbols with visible children).
func (k *Kconfig) isVisible(m *Menu) bool {
	if m.prompt == nil {
		return false
	}
	if m.visibility != nil && k.evalExpr(m.visibility) == No {
		return false
	}
	var vis Tristate
	s := m.sym
	if s != nil {
		k.evaluate(s)
		vis = m.prompt.visTri
	} else {
		m.prompt.visTri = k.evalExpr(m.prompt.visExpr)
		vis = m.prompt.visTri
	}
	if vis != No {
		return true
	}
	if s == nil || s.curr.tri == No {
		return false
	}
	for c := m.list; c != nil; c = c.next {
		if k.isVisible(c) {
			s.flags |= symDefUser
			return true
		}
	}
	return false
}

func (m *Menu) promptText() (string, bool) {
	if m.prompt != nil {
		return m.prompt.text, true
	}
	if m.sym != nil {
		return m.sym.name, m.sym.hasName
	}
	return "", false
}

func (k *Kconfig) parentMenu(m *Menu) *Menu {
	for ; m != &k.root; m = m.parent {
		if m.prompt != nil && m.prompt.typ == pMenu {
			break
		}
	}
	return m
}

// ---- help text, as conf's "?" shows it ----

func (k *Kconfig) promptStr(b *strings.Builder, p *Property) {
	fmt.Fprintf(b, "Prompt: %s\n", p.text)
	var sub []*Menu
	for m := p.menu.parent; m != &k.root && len(sub) < 8; m = m.parent {
		k.isVisible(m)
		sub = append(sub, m)
	}
	if len(sub) > 0 {
		b.WriteString("  Location:\n")
		j := 4
		for i := len(sub) - 1; i >= 0; i-- {
			m := sub[i]
			t, _ := m.promptText()
			fmt.Fprintf(b, "%*c-> %s", j, ' ', t)
			if m.sym != nil {
				fmt.Fprintf(b, " (%s [=%s])", m.sym.displayName(), k.shownValue(m.sym))
			}
			b.WriteString("\n")
			j += 2
		}
	}
}

func (k *Kconfig) symbolPropsStr(b *strings.Builder, s *Symbol, t propType, prefix string) {
	hit := false
	for _, p := range s.props {
		if p.typ != t {
			continue
		}
		if !hit {
			b.WriteString(prefix)
			hit = true
		} else {
			b.WriteString(" && ")
		}
		k.gstrPrint(b, p.expr)
	}
	if hit {
		b.WriteString("\n")
	}
}

func (k *Kconfig) symbolStr(b *strings.Builder, s *Symbol) {
	if s.hasName {
		fmt.Fprintf(b, "Symbol: %s [=%s]\n", s.name, k.shownValue(s))
		fmt.Fprintf(b, "Type  : %s\n", s.typ)
		if s.typ == TypeInt || s.typ == TypeHex {
			if p := k.activeRange(s); p != nil {
				b.WriteString("Range : ")
				k.gstrPrint(b, p.expr)
				b.WriteString("\n")
			}
		}
	}
	for _, p := range s.props {
		if p.hasText {
			k.promptStr(b, p)
		}
	}
	if p := s.firstProp(pSymbol); p != nil {
		fmt.Fprintf(b, "  Defined at %s:%d\n", fileName(p.menu.file), p.menu.line)
		if !k.exprIsYes(p.visExpr) {
			b.WriteString("  Depends on: ")
			k.gstrPrint(b, p.visExpr)
			b.WriteString("\n")
		}
	}
	k.symbolPropsStr(b, s, pSelect, "  Selects: ")
	if s.revDep.expr != nil {
		k.gstrPrintRevdep(b, s.revDep.expr, Yes, "  Selected by [y]:\n")
		k.gstrPrintRevdep(b, s.revDep.expr, Mod, "  Selected by [m]:\n")
		k.gstrPrintRevdep(b, s.revDep.expr, No, "  Selected by [n]:\n")
	}
	k.symbolPropsStr(b, s, pImply, "  Implies: ")
	if s.implied.expr != nil {
		k.gstrPrintRevdep(b, s.implied.expr, Yes, "  Implied by [y]:\n")
		k.gstrPrintRevdep(b, s.implied.expr, Mod, "  Implied by [m]:\n")
		k.gstrPrintRevdep(b, s.implied.expr, No, "  Implied by [n]:\n")
	}
	b.WriteString("\n\n")
}

// extHelp is the text conf prints for "?": the help, then the symbol's
// relations.
func (k *Kconfig) extHelp(m *Menu) string {
	var b strings.Builder
	text := "There is no help available for this option."
	if m.flags&menuHasHelp != 0 {
		if m.sym.hasName {
			fmt.Fprintf(&b, "%s%s:\n\n", k.prefix(), m.sym.name)
		}
		text = m.help
	}
	fmt.Fprintf(&b, "%s\n", text)
	if m.sym != nil {
		k.symbolStr(&b, m.sym)
	}
	return b.String()
}

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
	help       string
	hasHelp    bool
	file       *File
	line       int
	inc        *inclusion
	k          *Kconfig
}

const (
	menuRoot     = 0x0002
	menuHelpSeen = 0x0004 // a help text was read (even when not kept)
)

func (k *Kconfig) menuInit() {
	k.root.flags = menuRoot
	k.root.k = k
	k.currentEntry = &k.root
	k.currentMenu = &k.root
	k.lastEntry = &k.root.list
}

func (k *Kconfig) menuAddEntry(sym *Symbol) {
	m := &Menu{sym: sym, parent: k.currentMenu, file: k.curFile(), line: k.curLine(), k: k}
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
	p.visible.expr = dep
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
				p.visible.expr = exprAnd(p.visible.expr, m.visibility.copy())
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

// finalize propagates menu, if and choice dependencies to their children,
// builds reverse dependencies from selects and implies, creates the
// automatic submenus and flattens if blocks, exactly like conf.
func (k *Kconfig) finalize(parent *Menu) {
	sym := parent.sym
	if parent.list != nil {
		var parentdep *Expr
		if sym != nil && sym.isChoice() {
			if sym.typ == TypeUnknown {
				k.currentEntry = parent
				for m := parent.list; m != nil; m = m.next {
					if m.sym != nil && m.sym.typ != TypeUnknown {
						k.menuSetType(m.sym.typ)
						break
					}
				}
			}
			for m := parent.list; m != nil; m = m.next {
				k.currentEntry = m
				if m.sym != nil && m.sym.typ == TypeUnknown {
					k.menuSetType(sym.typ)
				}
			}
			parentdep = newSymExpr(sym)
		} else if parent.prompt != nil {
			parentdep = parent.prompt.visible.expr
		} else {
			parentdep = parent.dep
		}

		for m := parent.list; m != nil; m = m.next {
			basedep := k.guardMod(m.dep)
			basedep = k.simplify(basedep)
			basedep = exprAnd(parentdep.copy(), basedep)
			basedep = k.mergeDuplicates(basedep)
			m.dep = k.intern(basedep)
			basedep = m.dep

			var props []*Property
			if m.sym != nil {
				props = m.sym.props
			} else if m.prompt != nil {
				props = []*Property{m.prompt}
			}
			for _, p := range props {
				if p.menu != m {
					continue
				}
				dep := k.guardMod(p.visible.expr)
				dep = k.simplify(dep)
				dep = exprAnd(basedep.copy(), dep)
				dep = k.mergeDuplicates(dep)
				if m.sym != nil && m.sym.typ != TypeTristate {
					dep = k.dropNotNo(dep)
				}
				dep = k.intern(dep)
				p.visible.expr = dep
				// Finished dependencies are never modified again, so the
				// reverse dependencies share them instead of copying.
				switch p.typ {
				case pSelect:
					es := propSymbol(p)
					es.revDep.expr = exprOr(es.revDep.expr, exprAnd(newSymExpr(m.sym), dep))
				case pImply:
					es := propSymbol(p)
					es.implied.expr = exprOr(es.implied.expr, exprAnd(newSymExpr(m.sym), dep))
				}
			}
		}
		for m := parent.list; m != nil; m = m.next {
			k.finalize(m)
		}
	} else if sym != nil {
		// Automatic submenu: the following entries that depend on sym
		// become its children.
		var basedep *Expr
		if parent.prompt != nil {
			basedep = parent.prompt.visible.expr
		}
		basedep = k.compareEach(basedep, eUnequal, k.symNo)
		basedep = k.mergeDuplicates(k.simplify(basedep))
		var last *Menu
		for m := parent.next; m != nil; m = m.next {
			var dep *Expr
			if m.prompt != nil {
				dep = m.prompt.visible.expr
			} else {
				dep = m.dep
			}
			if !exprContainsSymbol(dep, sym) {
				break
			}
			if !k.exprDependsSymbol(dep, sym) {
				dep = k.compareEach(dep, eUnequal, k.symNo)
				dep = k.mergeDuplicates(k.simplify(dep))
				dep2 := basedep.copy()
				k.cancelCommon(&dep, &dep2)
				if !k.exprIsYes(dep2) {
					break
				}
			}
			k.finalize(m)
			m.parent = parent
			last = m
		}
		if last != nil {
			parent.list = parent.next
			parent.next = last.next
			last.next = nil
		}
		sym.dirDep.expr = exprOr(sym.dirDep.expr, parent.dep)
	}

	for m := parent.list; m != nil; m = m.next {
		if sym != nil && sym.isChoice() && m.sym != nil && !m.sym.isChoiceVal() {
			k.currentEntry = m
			m.sym.flags |= symChoiceVal
			if m.prompt == nil {
				k.menuWarn(m, "choice value must have a prompt")
			}
			for _, p := range m.sym.props {
				if p.typ == pDefault {
					k.propWarn(p, "defaults for choice values not supported")
				}
				if p.menu == m {
					continue
				}
				if p.typ == pPrompt && p.menu.parent.sym != sym {
					k.propWarn(p, "choice value used outside its choice group")
				}
			}
			if sym.typ == TypeTristate && m.sym.typ != TypeTristate {
				basedep := newCompExpr(eEqual, sym, k.symYes)
				m.dep = exprAnd(basedep, m.dep)
				for _, p := range m.sym.props {
					if p.menu != m {
						continue
					}
					p.visible.expr = exprAnd(basedep.copy(), p.visible.expr)
				}
			}
			k.menuAddSymbol(pChoice, sym, nil)
			cp := sym.choiceProp()
			ep := &cp.expr
			for *ep != nil {
				ep = &(*ep).left
			}
			*ep = &Expr{typ: eList, sym: m.sym}
		}

		// Flatten if blocks and submenus under prompt-less symbols.
		if m.list != nil && (m.prompt == nil || !m.prompt.hasText) {
			last := m.list
			for {
				last.parent = parent
				if last.next == nil {
					break
				}
				last = last.next
			}
			last.next = m.next
			m.next = m.list
			m.list = nil
		}
	}

	if sym != nil && sym.flags&symWarned == 0 {
		if sym.typ == TypeUnknown {
			k.menuWarn(parent, "config symbol defined without type")
		}
		if sym.isChoice() && parent.prompt == nil {
			k.menuWarn(parent, "choice must have a prompt")
		}
		k.checkProps(sym)
		sym.flags |= symWarned
	}

	if sym != nil && !sym.isOptional() && parent.prompt != nil {
		sym.revDep.expr = exprOr(sym.revDep.expr, exprAnd(parent.prompt.visible.expr, newSymExpr(k.symMod)))
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
		vis = m.prompt.visible.tri
	} else {
		m.prompt.visible.tri = k.evalExpr(m.prompt.visible.expr)
		vis = m.prompt.visible.tri
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
				fmt.Fprintf(b, " (%s [=%s])", m.sym.displayName(), k.valueText(m.sym))
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
		fmt.Fprintf(b, "Symbol: %s [=%s]\n", s.name, k.valueText(s))
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
		if !k.exprIsYes(p.visible.expr) {
			b.WriteString("  Depends on: ")
			k.gstrPrint(b, p.visible.expr)
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
	if m.hasHelp {
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

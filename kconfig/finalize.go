package kconfig

// Finalising the tree.
//
// The parser leaves every entry with only its own dependencies. Before
// anything is evaluated, each node below a menu, an if or a choice takes
// on its parent's dependencies, and so does each of its properties
// (prompts, defaults, selects...). Selects and implies are turned around
// into the reverse dependencies of their targets. Entries that follow a
// symbol and depend on it become its children (the submenus menuconfig
// shows under an option), if blocks are dissolved into their parent, and
// the members of each choice are enlisted.
//
// The dependency expressions are simplified on the way exactly as
// Buildroot's kconfig simplifies them: their shape decides which entries
// become submenus and how warnings print.

// finalize prepares parent's subtree (see above).
func (k *Kconfig) finalize(parent *Menu) {
	switch {
	case parent.list != nil:
		if c := parent.sym; c != nil && c.isChoice() {
			k.typeChoice(parent)
		}
		k.inheritDependencies(parent)
		for m := parent.list; m != nil; m = m.next {
			k.finalize(m)
		}
	case parent.sym != nil:
		k.adoptDependents(parent)
	}
	k.settleChildren(parent)
	k.checkDefinition(parent)
	k.guardChoiceMode(parent)
}

// typeChoice gives a choice without a type the type of its first typed
// member, and members without a type the choice's.
func (k *Kconfig) typeChoice(node *Menu) {
	c := node.sym
	if c.typ == TypeUnknown {
		k.currentEntry = node
		for m := node.list; m != nil; m = m.next {
			if m.sym != nil && m.sym.typ != TypeUnknown {
				k.menuSetType(m.sym.typ)
				break
			}
		}
	}
	for m := node.list; m != nil; m = m.next {
		k.currentEntry = m
		if m.sym != nil && m.sym.typ == TypeUnknown {
			k.menuSetType(c.typ)
		}
	}
}

// inherited is what a node's children inherit: a choice's mode (which
// caps its members), a menu's visibility, an if block's condition.
func (k *Kconfig) inherited(node *Menu) *Expr {
	switch {
	case node.sym != nil && node.sym.isChoice():
		return newSymExpr(node.sym)
	case node.prompt != nil:
		return node.prompt.visExpr
	}
	return node.dep
}

// withInherited combines an entry's own (simplified) dependency with what
// it inherits, and removes the duplicates that creates. The inherited
// expression is finished and shared, so it is copied only when merging
// will rewrite it (most often nothing merges, and the copy was garbage).
// The result may share nodes with inherited: callers never rewrite it in
// place.
func (k *Kconfig) withInherited(inherited, own *Expr) *Expr {
	own = k.simplify(k.guardMod(own))
	if e := exprAnd(inherited, own); !k.mergesDuplicates(e) {
		return e
	}
	return k.mergeDuplicates(exprAnd(inherited.copy(), own))
}

// inheritDependencies passes node's dependencies down to its children and
// to their properties, and turns their selects and implies around.
// Finished expressions are never rewritten again, so a child's expressions
// share their parent's nodes rather than copy them.
func (k *Kconfig) inheritDependencies(node *Menu) {
	from := k.inherited(node)
	for m := node.list; m != nil; m = m.next {
		m.dep = k.withInherited(from, m.dep)
		for _, p := range nodeProps(m) {
			if p.menu != m {
				continue // another definition's property, or an option
			}
			dep := k.withInherited(m.dep, p.visExpr)
			if m.sym != nil && m.sym.typ != TypeTristate {
				dep = k.dropNotNo(dep)
			}
			p.visExpr = dep
			switch p.typ {
			case pSelect:
				t := propSymbol(p)
				t.revDep.expr = exprOr(t.revDep.expr, exprAnd(newSymExpr(m.sym), p.visExpr))
			case pImply:
				t := propSymbol(p)
				t.implied.expr = exprOr(t.implied.expr, exprAnd(newSymExpr(m.sym), p.visExpr))
			}
		}
	}
}

// nodeProps are the properties to finish for a node: a symbol's (all
// definitions', filtered by the caller), else the node's prompt.
func nodeProps(m *Menu) []*Property {
	if m.sym != nil {
		return m.sym.props
	}
	if m.prompt != nil {
		return []*Property{m.prompt}
	}
	return nil
}

// adoptDependents makes the entries after a symbol that depend on it its
// children: those whose dependencies name it as a condition that must hold,
// or that contain it and require at least what its own prompt requires.
// The symbol's direct dependencies are recorded on the way.
func (k *Kconfig) adoptDependents(node *Menu) {
	s := node.sym
	var own *Expr
	if node.prompt != nil {
		own = node.prompt.visExpr
	}
	own = k.mergeDuplicates(k.simplify(k.compareEach(own, eUnequal, k.symNo)))
	var last *Menu
	for m := node.next; m != nil; m = m.next {
		dep := m.dep
		if m.prompt != nil {
			dep = m.prompt.visExpr
		}
		if !exprContainsSymbol(dep, s) {
			break
		}
		if !k.exprDependsSymbol(dep, s) && !k.requiresAtLeast(dep, own) {
			break
		}
		k.finalize(m)
		m.parent = node
		last = m
	}
	if last != nil {
		node.list = node.next
		node.next = last.next
		last.next = nil
	}
	s.dirDep.expr = exprOr(s.dirDep.expr, node.dep)
}

// requiresAtLeast reports whether dep (as a "!= n" test) includes every
// condition of base: removing their common part leaves nothing of base.
func (k *Kconfig) requiresAtLeast(dep, base *Expr) bool {
	dep = k.mergeDuplicates(k.simplify(k.compareEach(dep, eUnequal, k.symNo)))
	rest := base.copy()
	k.cancelCommon(&dep, &rest)
	return k.exprIsYes(rest)
}

// settleChildren enlists the members of a choice and dissolves prompt-less
// groupings (if blocks, submenus of prompt-less symbols) into the parent.
func (k *Kconfig) settleChildren(parent *Menu) {
	c := parent.sym
	for m := parent.list; m != nil; m = m.next {
		if c != nil && c.isChoice() && m.sym != nil && !m.sym.isChoiceVal() {
			k.enlist(c, m)
		}
		if m.list != nil && (m.prompt == nil || !m.prompt.hasText) {
			k.dissolve(parent, m)
		}
	}
}

// enlist makes the symbol of node m a member of choice c.
func (k *Kconfig) enlist(c *Symbol, m *Menu) {
	k.currentEntry = m
	m.sym.flags |= symChoiceVal
	if m.prompt == nil {
		k.menuWarn(m, "choice value must have a prompt")
	}
	for _, p := range m.sym.props {
		if p.typ == pDefault {
			k.propWarn(p, "defaults for choice values not supported")
		}
		if p.menu != m && p.typ == pPrompt && p.menu.parent.sym != c {
			k.propWarn(p, "choice value used outside its choice group")
		}
	}
	// A bool in a tristate choice only shows when the choice is y.
	if c.typ == TypeTristate && m.sym.typ != TypeTristate {
		onlyY := newCompExpr(eEqual, c, k.symYes)
		m.dep = exprAnd(onlyY, m.dep)
		for _, p := range m.sym.props {
			if p.menu == m {
				p.visExpr = exprAnd(onlyY.copy(), p.visExpr)
			}
		}
	}
	k.menuAddSymbol(pChoice, c, nil)
	list := &c.choiceProp().expr
	for *list != nil {
		list = &(*list).left
	}
	*list = &Expr{typ: eList, sym: m.sym}
}

// dissolve moves m's children up to follow m under parent.
func (k *Kconfig) dissolve(parent, m *Menu) {
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

// checkDefinition warns, once per symbol, about definitions that cannot
// work as written.
func (k *Kconfig) checkDefinition(node *Menu) {
	s := node.sym
	if s == nil || s.flags&symWarned != 0 {
		return
	}
	if s.typ == TypeUnknown {
		k.menuWarn(node, "config symbol defined without type")
	}
	if s.isChoice() && node.prompt == nil {
		k.menuWarn(node, "choice must have a prompt")
	}
	k.checkProps(s)
	s.flags |= symWarned
}

// guardChoiceMode keeps a visible choice that is not optional from being
// switched off: like a select of "visible && m" on the choice itself.
func (k *Kconfig) guardChoiceMode(node *Menu) {
	s := node.sym
	if s == nil || s.isOptional() || node.prompt == nil {
		return
	}
	s.revDep.expr = exprOr(s.revDep.expr, exprAnd(node.prompt.visExpr, newSymExpr(k.symMod)))
}

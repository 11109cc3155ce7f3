package kconfig

// Rewriting dependency expressions.
//
// While the tree is finalised every dependency is simplified the way
// Buildroot's kconfig simplifies it. The results must have the same shape,
// not just the same value: the shape decides which entries become
// submenus and how warnings print. The rewrites happen in place on trees
// that belong to one property; shared leaves are never changed.

// third is the one of y, m, n that is neither a nor b (nil unless a and b
// are two different ones of them).
func (k *Kconfig) third(a, b *Symbol) *Symbol {
	if a == b {
		return nil
	}
	var sum int
	for _, s := range []*Symbol{a, b} {
		switch s {
		case k.symNo:
			sum += 0
		case k.symMod:
			sum += 1
		case k.symYes:
			sum += 2
		default:
			return nil
		}
	}
	return [...]*Symbol{k.symYes, k.symMod, k.symNo}[sum-1] // 0+1, 0+2, 1+2
}

func isAndOr(t exprType) bool { return t == eAnd || t == eOr }

// identity is the leaf a removed operand of an op level becomes: y under
// &&, n under ||.
func (k *Kconfig) identity(op exprType) *Expr {
	if op == eAnd {
		return newSymExpr(k.symYes)
	}
	return newSymExpr(k.symNo)
}

// cancelPairs visits every pair (leaf of *a, leaf of *b) at one level of
// op and replaces equal pairs on both sides by op's identity.
func (k *Kconfig) cancelPairs(op exprType, a, b **Expr) {
	if (*a).typ == op {
		k.cancelPairs(op, &(*a).left, b)
		k.cancelPairs(op, &(*a).right, b)
		return
	}
	if (*b).typ == op {
		k.cancelPairs(op, a, &(*b).left)
		k.cancelPairs(op, a, &(*b).right)
		return
	}
	x, y := *a, *b
	if x.typ == eSymbol && y.typ == eSymbol && x.sym == y.sym && (x.sym == k.symYes || x.sym == k.symNo) {
		return
	}
	if !k.sameExpr(x, y) {
		return
	}
	k.rewrites++
	*a, *b = k.identity(op), k.identity(op)
}

// cancelCommon removes from two expressions the operands they share.
func (k *Kconfig) cancelCommon(a, b **Expr) {
	if *a == nil || *b == nil {
		return
	}
	if isAndOr((*a).typ) {
		k.cancelPairs((*a).typ, a, b)
	}
	if (*a).typ != (*b).typ && isAndOr((*b).typ) {
		k.cancelPairs((*b).typ, a, b)
	}
	*a = k.foldConstants(*a)
	*b = k.foldConstants(*b)
}

// sameExpr reports whether two expressions are equal, taking the operands
// of && and || in any order.
func (k *Kconfig) sameExpr(a, b *Expr) bool {
	if a.typ != b.typ {
		return false
	}
	switch a.typ {
	case eEqual, eGeq, eGth, eLeq, eLth, eUnequal:
		return a.lsym() == b.lsym() && a.rsym() == b.rsym()
	case eSymbol:
		return a.sym == b.sym
	case eNot:
		return k.sameExpr(a.left, b.left)
	case eAnd, eOr:
		x, y := a.copy(), b.copy()
		saved := k.rewrites
		k.cancelCommon(&x, &y)
		k.rewrites = saved
		return x.typ == eSymbol && y.typ == eSymbol && x.sym == y.sym
	}
	return false
}

// foldConstants removes y and n operands from && and || (x && y is x,
// x && n is n, x || n is x, x || y is y), in place.
func (k *Kconfig) foldConstants(e *Expr) *Expr {
	if e == nil || !isAndOr(e.typ) {
		return e
	}
	e.left = k.foldConstants(e.left)
	e.right = k.foldConstants(e.right)
	absorbing, neutral := k.symNo, k.symYes
	if e.typ == eOr {
		absorbing, neutral = k.symYes, k.symNo
	}
	for _, side := range [2]*Expr{e.left, e.right} {
		if side.typ != eSymbol || (side.sym != absorbing && side.sym != neutral) {
			continue
		}
		if side.sym == absorbing {
			*e = Expr{typ: eSymbol, sym: absorbing}
		} else if side == e.left {
			*e = *e.right
		} else {
			*e = *e.left
		}
		return e
	}
	return e
}

// dropNotNo turns "T != n" into "T" for tristate T (in a dependency of a
// symbol that is not tristate, where m counts as y anyway). e may be
// shared: the nodes on a changed path are new, the others kept.
func (k *Kconfig) dropNotNo(e *Expr) *Expr {
	if e == nil {
		return nil
	}
	switch e.typ {
	case eAnd, eOr:
		l, r := k.dropNotNo(e.left), k.dropNotNo(e.right)
		if l != e.left || r != e.right {
			return newTwoExpr(e.typ, l, r)
		}
	case eNot:
		if l := k.dropNotNo(e.left); l != e.left {
			return newOneExpr(eNot, l)
		}
	case eUnequal:
		if l := e.lsym(); l.typ == TypeTristate && e.rsym() == k.symNo {
			return newSymExpr(l)
		}
	}
	return e
}

func isTestOf(t exprType) bool { return t == eEqual || t == eUnequal || t == eSymbol || t == eNot }

// testedSymbol finds the one bool or tristate that two simple tests both
// look at (the first may negate a comparison, the second only a symbol).
func testedSymbol(a, b *Expr) (*Symbol, bool) {
	if !isTestOf(a.typ) || !isTestOf(b.typ) {
		return nil, false
	}
	var sa, sb *Symbol
	if a.typ == eNot {
		if !isTestOf(a.left.typ) || a.left.typ == eNot {
			return nil, false
		}
		sa = a.left.lsym()
	} else {
		sa = a.lsym()
	}
	if b.typ == eNot {
		if b.left.typ != eSymbol {
			return nil, false
		}
		sb = b.left.sym
	} else {
		sb = b.lsym()
	}
	if sa != sb || (sa.typ != TypeBool && sa.typ != TypeTristate) {
		return nil, false
	}
	return sa, true
}

func isNegatedSymbol(e *Expr) bool { return e.typ == eNot && e.left.typ == eSymbol }

// mergeOr returns one expression equivalent to "a || b" when the two
// tests combine, else nil.
func (k *Kconfig) mergeOr(a, b *Expr) *Expr {
	if k.sameExpr(a, b) {
		return a.copy()
	}
	s, ok := testedSymbol(a, b)
	if !ok {
		return nil
	}
	if s.typ == TypeTristate && a.typ == eEqual && b.typ == eEqual {
		// two of the three values: "not the third"
		if r := k.third(a.rsym(), b.rsym()); r != nil {
			return newCompExpr(eUnequal, s, r)
		}
	}
	if s.typ == TypeBool && ((isNegatedSymbol(a) && b.typ == eSymbol) || (isNegatedSymbol(b) && a.typ == eSymbol)) {
		return newSymExpr(k.symYes) // A || !A
	}
	return nil
}

// mergeAnd returns one expression equivalent to "a && b" when the two
// tests combine, else nil.
func (k *Kconfig) mergeAnd(a, b *Expr) *Expr {
	if k.sameExpr(a, b) {
		return a.copy()
	}
	s, ok := testedSymbol(a, b)
	if !ok {
		return nil
	}
	// "A" beside a comparison of A
	plain, cmp := a, b
	if b.typ == eSymbol {
		plain, cmp = b, a
	}
	if plain.typ == eSymbol && (cmp.typ == eEqual || cmp.typ == eUnequal) {
		switch r := cmp.rsym(); {
		case cmp.typ == eEqual && r == k.symYes:
			return newCompExpr(eEqual, s, k.symYes)
		case cmp.typ == eUnequal && r == k.symNo:
			return newSymExpr(s)
		case cmp.typ == eUnequal && r == k.symMod:
			return newCompExpr(eEqual, s, k.symYes)
		}
	}
	if s.typ != TypeTristate {
		return nil
	}
	eq, ne := a, b
	if a.typ == eUnequal && b.typ == eEqual {
		eq, ne = b, a
	}
	if eq.typ == eEqual && ne.typ == eUnequal && eq.rsym().flags&symConst != 0 && ne.rsym().flags&symConst != 0 {
		if eq.rsym() == ne.rsym() {
			return newSymExpr(k.symNo) // A=v && A!=v
		}
		return newCompExpr(eEqual, s, eq.rsym())
	}
	if a.typ == eUnequal && b.typ == eUnequal {
		// ruling out two values leaves the third
		if r := k.third(a.rsym(), b.rsym()); r != nil {
			return newCompExpr(eEqual, s, r)
		}
	}
	return nil
}

// mergePairs visits every pair of leaves at one level of op and merges
// the pairs that combine (the first becomes op's identity).
func (k *Kconfig) mergePairs(op exprType, a, b **Expr) {
	if k.dryMerge && k.rewrites > 0 {
		return
	}
	if (*a).typ == op {
		k.mergePairs(op, &(*a).left, b)
		k.mergePairs(op, &(*a).right, b)
		return
	}
	if (*b).typ == op {
		k.mergePairs(op, a, &(*b).left)
		k.mergePairs(op, a, &(*b).right)
		return
	}
	if a == b {
		return // the same operand
	}
	if isAndOr((*a).typ) {
		k.mergePairs((*a).typ, a, a) // tidy the nested level first
	}
	var merged *Expr
	if op == eOr {
		merged = k.mergeOr(*a, *b)
	} else {
		merged = k.mergeAnd(*a, *b)
	}
	if merged != nil && k.dryMerge {
		k.rewrites++
	} else if merged != nil {
		*a, *b = k.identity(op), merged
		k.rewrites++
	}
}

// mergesDuplicates reports whether mergeDuplicates would rewrite e,
// without changing it.
func (k *Kconfig) mergesDuplicates(e *Expr) bool {
	if e == nil || !isAndOr(e.typ) {
		return false
	}
	saved := k.rewrites
	k.rewrites, k.dryMerge = 0, true
	k.mergePairs(e.typ, &e, &e)
	n := k.rewrites
	k.rewrites, k.dryMerge = saved, false
	return n > 0
}

// mergeDuplicates merges duplicate and redundant operands until nothing
// changes (A || B || A is A || B; A && B && A=y is A=y && B), in place.
func (k *Kconfig) mergeDuplicates(e *Expr) *Expr {
	if e == nil {
		return e
	}
	saved := k.rewrites
	for {
		k.rewrites = 0
		if isAndOr(e.typ) {
			k.mergePairs(e.typ, &e, &e)
		}
		if k.rewrites == 0 {
			break
		}
		e = k.foldConstants(e)
	}
	k.rewrites = saved
	return e
}

// simplify applies the logical rewrites conf applies to every dependency
// read from a file: bool tests against y/n become plain symbols, negations
// are pushed inwards (De Morgan), double negations disappear.
func (k *Kconfig) simplify(e *Expr) *Expr {
	if e == nil {
		return nil
	}
	switch e.typ {
	case eAnd, eOr:
		e.left = k.simplify(e.left)
		e.right = k.simplify(e.right)
	case eNot:
		e.left = k.simplify(e.left)
		return k.pushNot(e)
	case eEqual, eUnequal:
		if e.lsym().typ == TypeBool {
			k.simplifyBoolTest(e)
		}
	}
	return e
}

// simplifyBoolTest rewrites a test of a bool against a constant: "A=y" is
// "A", "A=n" is "!A" (and the other way round for !=); a test for m is
// constant, and said so.
func (k *Kconfig) simplifyBoolTest(e *Expr) {
	l := e.lsym()
	positive := e.typ == eEqual
	switch e.rsym() {
	case k.symYes:
	case k.symNo:
		positive = !positive
	case k.symMod:
		if e.typ == eEqual {
			k.printf("boolean symbol %s tested for 'm'? test forced to 'n'\n", l.name)
			*e = Expr{typ: eSymbol, sym: k.symNo}
		} else {
			k.printf("boolean symbol %s tested for 'm'? test forced to 'y'\n", l.name)
			*e = Expr{typ: eSymbol, sym: k.symYes}
		}
		return
	default:
		return
	}
	if positive {
		*e = Expr{typ: eSymbol, sym: l}
	} else {
		*e = Expr{typ: eNot, left: newSymExpr(l)}
	}
}

var negatedComparison = map[exprType]exprType{
	eEqual: eUnequal, eUnequal: eEqual, eLeq: eGth, eGeq: eLth, eLth: eGeq, eGth: eLeq,
}

// pushNot simplifies "!x" given a simplified x.
func (k *Kconfig) pushNot(e *Expr) *Expr {
	x := e.left
	switch x.typ {
	case eNot:
		return k.simplify(x.left)
	case eEqual, eUnequal, eLeq, eGeq, eLth, eGth:
		x.typ = negatedComparison[x.typ]
		return x
	case eAnd, eOr:
		// !(a || b) is !a && !b; !(a && b) is !a || !b
		if x.typ == eOr {
			e.typ = eAnd
		} else {
			e.typ = eOr
		}
		e.right = newOneExpr(eNot, x.right)
		x.typ = eNot
		x.right = nil
		return k.simplify(e)
	case eSymbol:
		switch x.sym {
		case k.symYes:
			return newSymExpr(k.symNo)
		case k.symMod:
			return newSymExpr(k.symMod)
		case k.symNo:
			return newSymExpr(k.symYes)
		}
	}
	return e
}

// exprContainsSymbol reports whether e mentions sym anywhere.
func exprContainsSymbol(e *Expr, sym *Symbol) bool {
	if e == nil {
		return false
	}
	switch e.typ {
	case eAnd, eOr:
		return exprContainsSymbol(e.left, sym) || exprContainsSymbol(e.right, sym)
	case eNot:
		return exprContainsSymbol(e.left, sym)
	case eSymbol:
		return e.sym == sym
	case eEqual, eGeq, eGth, eLeq, eLth, eUnequal:
		return e.lsym() == sym || e.rsym() == sym
	}
	return false
}

// exprDependsSymbol reports whether e can only hold when sym is on: one of
// its top-level && operands is sym, sym=y, sym=m or sym!=n.
func (k *Kconfig) exprDependsSymbol(e *Expr, sym *Symbol) bool {
	if e == nil {
		return false
	}
	switch e.typ {
	case eAnd:
		return k.exprDependsSymbol(e.left, sym) || k.exprDependsSymbol(e.right, sym)
	case eSymbol:
		return e.sym == sym
	case eEqual:
		return e.lsym() == sym && (e.rsym() == k.symYes || e.rsym() == k.symMod)
	case eUnequal:
		return e.lsym() == sym && e.rsym() == k.symNo
	}
	return false
}

// compareEach rewrites e (a fresh tree) as explicit tests against sym:
// with op != and sym n, "A" becomes "A!=n", "!A" becomes "A=n", and && or
// || become the negation of the other operator over the tests.
func (k *Kconfig) compareEach(e *Expr, op exprType, sym *Symbol) *Expr {
	if e == nil {
		r := newSymExpr(sym)
		if op == eUnequal {
			r = newOneExpr(eNot, r)
		}
		return r
	}
	switch e.typ {
	case eAnd, eOr:
		l := k.compareEach(e.left, eEqual, sym)
		r := k.compareEach(e.right, eEqual, sym)
		res := e
		switch sym {
		case k.symYes:
			res = newTwoExpr(e.typ, l, r)
		case k.symNo:
			flipped := eAnd
			if e.typ == eAnd {
				flipped = eOr
			}
			res = newTwoExpr(flipped, l, r)
		}
		if op == eUnequal {
			res = newOneExpr(eNot, res)
		}
		return res
	case eNot:
		if op == eEqual {
			return k.compareEach(e.left, eUnequal, sym)
		}
		return k.compareEach(e.left, eEqual, sym)
	case eEqual, eUnequal, eLth, eLeq, eGth, eGeq:
		// the comparison itself is y or n
		same := op == eEqual
		switch sym {
		case k.symYes:
			if same {
				return e.copy()
			}
			return newOneExpr(eNot, e.copy())
		case k.symMod:
			if same {
				return newSymExpr(k.symNo)
			}
			return newSymExpr(k.symYes)
		case k.symNo:
			if same {
				return newOneExpr(eNot, e.copy())
			}
			return e.copy()
		}
	case eSymbol:
		return newCompExpr(op, e.sym, sym)
	}
	return nil
}

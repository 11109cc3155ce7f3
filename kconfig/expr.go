package kconfig

import (
	"math"
	"strconv"
	"strings"
)

// Tristate is a Kconfig truth value: n, m or y. Booleans use only n and y.
// The order matters: "and" is the minimum, "or" the maximum.
type Tristate int8

// The three tristate values.
const (
	No Tristate = iota
	Mod
	Yes
)

func (t Tristate) String() string {
	switch t {
	case Mod:
		return "m"
	case Yes:
		return "y"
	}
	return "n"
}

func triAnd(a, b Tristate) Tristate {
	if a < b {
		return a
	}
	return b
}

func triOr(a, b Tristate) Tristate {
	if a > b {
		return a
	}
	return b
}

func triNot(a Tristate) Tristate { return 2 - a }

// exprType is the kind of an expression node. The order is the one the
// printer's parenthesis rules are written against.
type exprType uint8

const (
	eNone exprType = iota
	eOr
	eAnd
	eNot
	eEqual
	eUnequal
	eLth
	eLeq
	eGth
	eGeq
	eList
	eSymbol
	eRange
)

// Expr is a node of a dependency expression. Which fields are used depends
// on the kind: && and || use left and right, ! uses left; a symbol
// reference (a leaf) uses sym; comparisons and ranges hold two leaves in
// left and right; choice lists chain through left and hold their member in
// sym.
//
// Expressions are rewritten in place during finalisation exactly as
// Buildroot's kconfig does, because the rewritten shapes decide which menus
// become submenus and how warnings print. Leaves are never modified, so
// each symbol has one leaf that every expression shares (the trees are
// large: Buildroot's copies every menu dependency into every property).
type Expr struct {
	typ         exprType
	left, right *Expr
	sym         *Symbol
}

// newSymExpr returns the (shared, immutable) leaf referring to s.
func newSymExpr(s *Symbol) *Expr {
	if s.leaf == nil {
		s.leaf = &Expr{typ: eSymbol, sym: s}
	}
	return s.leaf
}

func newOneExpr(t exprType, e *Expr) *Expr { return &Expr{typ: t, left: e} }

func newTwoExpr(t exprType, a, b *Expr) *Expr { return &Expr{typ: t, left: a, right: b} }

func newCompExpr(t exprType, a, b *Symbol) *Expr {
	return &Expr{typ: t, left: newSymExpr(a), right: newSymExpr(b)}
}

type exprKey struct {
	typ         exprType
	left, right *Expr
	sym         *Symbol
}

// intern returns the one shared copy of a finished expression (no longer
// rewritten): Buildroot's tree copies every menu's dependencies into each
// property beneath it, and most of those copies are alike.
func (k *Kconfig) intern(e *Expr) *Expr {
	if e == nil {
		return nil
	}
	switch e.typ {
	case eSymbol:
		return newSymExpr(e.sym)
	case eAnd, eOr:
		e.left = k.intern(e.left)
		e.right = k.intern(e.right)
	case eNot:
		e.left = k.intern(e.left)
	case eEqual, eUnequal, eLth, eLeq, eGth, eGeq, eRange:
		e.left = newSymExpr(e.left.sym)
		e.right = newSymExpr(e.right.sym)
	default:
		return e
	}
	key := exprKey{e.typ, e.left, e.right, e.sym}
	if x, ok := k.interned[key]; ok {
		return x
	}
	if k.interned == nil {
		k.interned = map[exprKey]*Expr{}
	}
	k.interned[key] = e
	return e
}

// lsym is the symbol of a leaf, or the left operand of a comparison or
// range.
func (e *Expr) lsym() *Symbol {
	if e.typ == eSymbol {
		return e.sym
	}
	return e.left.sym
}

// rsym is the right operand of a comparison or range, or a choice list's
// member.
func (e *Expr) rsym() *Symbol {
	if e.typ == eList {
		return e.sym
	}
	return e.right.sym
}

func exprAnd(a, b *Expr) *Expr {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return newTwoExpr(eAnd, a, b)
}

func exprOr(a, b *Expr) *Expr {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return newTwoExpr(eOr, a, b)
}

func isComparison(t exprType) bool {
	switch t {
	case eEqual, eUnequal, eLth, eLeq, eGth, eGeq:
		return true
	}
	return false
}

// copy returns a deep copy of e; leaves are shared (they never change).
func (e *Expr) copy() *Expr {
	if e == nil {
		return nil
	}
	if e.typ == eSymbol {
		return e
	}
	n := *e
	switch e.typ {
	case eNot:
		n.left = e.left.copy()
	case eAnd, eOr:
		n.left = e.left.copy()
		n.right = e.right.copy()
	case eList:
		n.left = e.left.copy()
	}
	return &n
}

func (k *Kconfig) exprIsYes(e *Expr) bool {
	return e == nil || (e.typ == eSymbol && e.sym == k.symYes)
}

func (k *Kconfig) exprIsNo(e *Expr) bool {
	return e != nil && e.typ == eSymbol && e.sym == k.symNo
}

// cancelCommonLeaves walks two trees of the same operator and replaces equal
// leaves on both sides by the operator's neutral element.
func (k *Kconfig) cancelCommonLeaves(t exprType, ep1, ep2 **Expr) {
	if (*ep1).typ == t {
		k.cancelCommonLeaves(t, &(*ep1).left, ep2)
		k.cancelCommonLeaves(t, &(*ep1).right, ep2)
		return
	}
	if (*ep2).typ == t {
		k.cancelCommonLeaves(t, ep1, &(*ep2).left)
		k.cancelCommonLeaves(t, ep1, &(*ep2).right)
		return
	}
	e1, e2 := *ep1, *ep2
	if e1.typ == eSymbol && e2.typ == eSymbol && e1.sym == e2.sym &&
		(e1.sym == k.symYes || e1.sym == k.symNo) {
		return
	}
	if !k.sameExpr(e1, e2) {
		return
	}
	k.rewrites++
	switch t {
	case eOr:
		*ep1 = newSymExpr(k.symNo)
		*ep2 = newSymExpr(k.symNo)
	case eAnd:
		*ep1 = newSymExpr(k.symYes)
		*ep2 = newSymExpr(k.symYes)
	}
}

// cancelCommon removes the operands common to both expressions.
func (k *Kconfig) cancelCommon(ep1, ep2 **Expr) {
	if *ep1 == nil || *ep2 == nil {
		return
	}
	switch (*ep1).typ {
	case eOr, eAnd:
		k.cancelCommonLeaves((*ep1).typ, ep1, ep2)
	}
	if (*ep1).typ != (*ep2).typ {
		switch (*ep2).typ {
		case eOr, eAnd:
			k.cancelCommonLeaves((*ep2).typ, ep1, ep2)
		}
	}
	*ep1 = k.foldConstants(*ep1)
	*ep2 = k.foldConstants(*ep2)
}

// sameExpr reports whether two expressions are equal after simplification
// (operands of && and || in any order).
func (k *Kconfig) sameExpr(e1, e2 *Expr) bool {
	if e1.typ != e2.typ {
		return false
	}
	switch e1.typ {
	case eEqual, eGeq, eGth, eLeq, eLth, eUnequal:
		return e1.lsym() == e2.lsym() && e1.rsym() == e2.rsym()
	case eSymbol:
		return e1.sym == e2.sym
	case eNot:
		return k.sameExpr(e1.left, e2.left)
	case eAnd, eOr:
		c1, c2 := e1.copy(), e2.copy()
		old := k.rewrites
		k.cancelCommon(&c1, &c2)
		res := c1.typ == eSymbol && c2.typ == eSymbol && c1.sym == c2.sym
		k.rewrites = old
		return res
	}
	return false
}

// foldConstants simplifies "x && n", "x && y", "x || n", "x || y" in place.
func (k *Kconfig) foldConstants(e *Expr) *Expr {
	if e == nil {
		return e
	}
	switch e.typ {
	case eAnd:
		e.left = k.foldConstants(e.left)
		e.right = k.foldConstants(e.right)
		if e.left.typ == eSymbol {
			if e.left.sym == k.symNo {
				*e = Expr{typ: eSymbol, sym: k.symNo}
				return e
			} else if e.left.sym == k.symYes {
				*e = *e.right
				return e
			}
		}
		if e.right.typ == eSymbol {
			if e.right.sym == k.symNo {
				*e = Expr{typ: eSymbol, sym: k.symNo}
				return e
			} else if e.right.sym == k.symYes {
				*e = *e.left
				return e
			}
		}
	case eOr:
		e.left = k.foldConstants(e.left)
		e.right = k.foldConstants(e.right)
		if e.left.typ == eSymbol {
			if e.left.sym == k.symNo {
				*e = *e.right
				return e
			} else if e.left.sym == k.symYes {
				*e = Expr{typ: eSymbol, sym: k.symYes}
				return e
			}
		}
		if e.right.typ == eSymbol {
			if e.right.sym == k.symNo {
				*e = *e.left
				return e
			} else if e.right.sym == k.symYes {
				*e = Expr{typ: eSymbol, sym: k.symYes}
				return e
			}
		}
	}
	return e
}

// dropNotNo rewrites "FOO!=n" into "FOO" for tristate FOO, in place.
func (k *Kconfig) dropNotNo(e *Expr) *Expr {
	if e == nil {
		return nil
	}
	switch e.typ {
	case eAnd, eOr:
		e.left = k.dropNotNo(e.left)
		e.right = k.dropNotNo(e.right)
	case eNot:
		e.left = k.dropNotNo(e.left)
	case eUnequal:
		if l := e.lsym(); l.typ == TypeTristate && e.rsym() == k.symNo {
			*e = Expr{typ: eSymbol, sym: l}
		}
	}
	return e
}

// mergeOr tries to merge "e1 || e2" into one simpler expression.
func (k *Kconfig) mergeOr(e1, e2 *Expr) *Expr {
	if k.sameExpr(e1, e2) {
		return e1.copy()
	}
	okType := func(t exprType) bool { return t == eEqual || t == eUnequal || t == eSymbol || t == eNot }
	if !okType(e1.typ) || !okType(e2.typ) {
		return nil
	}
	var sym1, sym2 *Symbol
	if e1.typ == eNot {
		tmp := e1.left
		if tmp.typ != eEqual && tmp.typ != eUnequal && tmp.typ != eSymbol {
			return nil
		}
		sym1 = tmp.lsym()
	} else {
		sym1 = e1.lsym()
	}
	if e2.typ == eNot {
		if e2.left.typ != eSymbol {
			return nil
		}
		sym2 = e2.left.sym
	} else {
		sym2 = e2.lsym()
	}
	if sym1 != sym2 {
		return nil
	}
	if sym1.typ != TypeBool && sym1.typ != TypeTristate {
		return nil
	}
	y, m, n := k.symYes, k.symMod, k.symNo
	if sym1.typ == TypeTristate {
		if e1.typ == eEqual && e2.typ == eEqual {
			a, b := e1.rsym(), e2.rsym()
			if (a == y && b == m) || (a == m && b == y) {
				return newCompExpr(eUnequal, sym1, n)
			}
			if (a == y && b == n) || (a == n && b == y) {
				return newCompExpr(eUnequal, sym1, m)
			}
			if (a == m && b == n) || (a == n && b == m) {
				return newCompExpr(eUnequal, sym1, y)
			}
		}
	}
	if sym1.typ == TypeBool && sym1 == sym2 {
		if (e1.typ == eNot && e1.left.typ == eSymbol && e2.typ == eSymbol) ||
			(e2.typ == eNot && e2.left.typ == eSymbol && e1.typ == eSymbol) {
			return newSymExpr(y)
		}
	}
	return nil
}

// mergeAnd tries to merge "e1 && e2" into one simpler expression.
func (k *Kconfig) mergeAnd(e1, e2 *Expr) *Expr {
	if k.sameExpr(e1, e2) {
		return e1.copy()
	}
	okType := func(t exprType) bool { return t == eEqual || t == eUnequal || t == eSymbol || t == eNot }
	if !okType(e1.typ) || !okType(e2.typ) {
		return nil
	}
	var sym1, sym2 *Symbol
	if e1.typ == eNot {
		tmp := e1.left
		if tmp.typ != eEqual && tmp.typ != eUnequal && tmp.typ != eSymbol {
			return nil
		}
		sym1 = tmp.lsym()
	} else {
		sym1 = e1.lsym()
	}
	if e2.typ == eNot {
		if e2.left.typ != eSymbol {
			return nil
		}
		sym2 = e2.left.sym
	} else {
		sym2 = e2.lsym()
	}
	if sym1 != sym2 {
		return nil
	}
	if sym1.typ != TypeBool && sym1.typ != TypeTristate {
		return nil
	}
	y, m, n := k.symYes, k.symMod, k.symNo
	if (e1.typ == eSymbol && e2.typ == eEqual && e2.rsym() == y) ||
		(e2.typ == eSymbol && e1.typ == eEqual && e1.rsym() == y) {
		return newCompExpr(eEqual, sym1, y)
	}
	if (e1.typ == eSymbol && e2.typ == eUnequal && e2.rsym() == n) ||
		(e2.typ == eSymbol && e1.typ == eUnequal && e1.rsym() == n) {
		return newSymExpr(sym1)
	}
	if (e1.typ == eSymbol && e2.typ == eUnequal && e2.rsym() == m) ||
		(e2.typ == eSymbol && e1.typ == eUnequal && e1.rsym() == m) {
		return newCompExpr(eEqual, sym1, y)
	}
	if sym1.typ == TypeTristate {
		if e1.typ == eEqual && e2.typ == eUnequal {
			s2 := e1.rsym()
			if e2.rsym().flags&symConst != 0 && s2.flags&symConst != 0 {
				if s2 != e2.rsym() {
					return newCompExpr(eEqual, sym1, s2)
				}
				return newSymExpr(n)
			}
		}
		if e1.typ == eUnequal && e2.typ == eEqual {
			s2 := e2.rsym()
			if e1.rsym().flags&symConst != 0 && s2.flags&symConst != 0 {
				if s2 != e1.rsym() {
					return newCompExpr(eEqual, sym1, s2)
				}
				return newSymExpr(n)
			}
		}
		if e1.typ == eUnequal && e2.typ == eUnequal {
			a, b := e1.rsym(), e2.rsym()
			if (a == y && b == n) || (a == n && b == y) {
				return newCompExpr(eEqual, sym1, m)
			}
			if (a == y && b == m) || (a == m && b == y) {
				return newCompExpr(eEqual, sym1, n)
			}
			if (a == m && b == n) || (a == n && b == m) {
				return newCompExpr(eEqual, sym1, y)
			}
		}
	}
	return nil
}

// mergeLeaves compares every leaf of one operator level with every other
// and joins the pairs that simplify.
func (k *Kconfig) mergeLeaves(t exprType, ep1, ep2 **Expr) {
	if (*ep1).typ == t {
		k.mergeLeaves(t, &(*ep1).left, ep2)
		k.mergeLeaves(t, &(*ep1).right, ep2)
		return
	}
	if (*ep2).typ == t {
		k.mergeLeaves(t, ep1, &(*ep2).left)
		k.mergeLeaves(t, ep1, &(*ep2).right)
		return
	}
	// conf compares node pointers here, which in its trees means "the
	// same position"; leaves are shared in ours, so compare positions.
	if ep1 == ep2 {
		return
	}
	switch (*ep1).typ {
	case eOr, eAnd:
		k.mergeLeaves((*ep1).typ, ep1, ep1)
	}
	e1 := *ep1
	switch t {
	case eOr:
		if tmp := k.mergeOr(e1, *ep2); tmp != nil {
			*ep1 = newSymExpr(k.symNo)
			*ep2 = tmp
			k.rewrites++
		}
	case eAnd:
		if tmp := k.mergeAnd(e1, *ep2); tmp != nil {
			*ep1 = newSymExpr(k.symYes)
			*ep2 = tmp
			k.rewrites++
		}
	}
}

// mergeDuplicates removes duplicate and redundant operands, in place.
func (k *Kconfig) mergeDuplicates(e *Expr) *Expr {
	if e == nil {
		return e
	}
	old := k.rewrites
	for {
		k.rewrites = 0
		switch e.typ {
		case eOr, eAnd:
			k.mergeLeaves(e.typ, &e, &e)
		}
		if k.rewrites == 0 {
			break
		}
		e = k.foldConstants(e)
	}
	k.rewrites = old
	return e
}

// transform applies the logical simplifications Buildroot's kconfig applies
// to every dependency while finalising the menu tree.
func (k *Kconfig) simplify(e *Expr) *Expr {
	if e == nil {
		return nil
	}
	switch e.typ {
	case eEqual, eGeq, eGth, eLeq, eLth, eUnequal, eSymbol, eList:
	default:
		e.left = k.simplify(e.left)
		e.right = k.simplify(e.right)
	}
	switch e.typ {
	case eEqual:
		l := e.lsym()
		if l.typ != TypeBool {
			break
		}
		switch e.rsym() {
		case k.symNo:
			*e = Expr{typ: eNot, left: newSymExpr(l)}
		case k.symMod:
			k.printf("boolean symbol %s tested for 'm'? test forced to 'n'\n", l.name)
			*e = Expr{typ: eSymbol, sym: k.symNo}
		case k.symYes:
			*e = Expr{typ: eSymbol, sym: l}
		}
	case eUnequal:
		l := e.lsym()
		if l.typ != TypeBool {
			break
		}
		switch e.rsym() {
		case k.symNo:
			*e = Expr{typ: eSymbol, sym: l}
		case k.symMod:
			k.printf("boolean symbol %s tested for 'm'? test forced to 'y'\n", l.name)
			*e = Expr{typ: eSymbol, sym: k.symYes}
		case k.symYes:
			*e = Expr{typ: eNot, left: newSymExpr(l)}
		}
	case eNot:
		switch e.left.typ {
		case eNot:
			e = k.simplify(e.left.left)
		case eEqual, eUnequal:
			tmp := e.left
			if tmp.typ == eEqual {
				tmp.typ = eUnequal
			} else {
				tmp.typ = eEqual
			}
			e = tmp
		case eLeq, eGeq:
			tmp := e.left
			if tmp.typ == eLeq {
				tmp.typ = eGth
			} else {
				tmp.typ = eLth
			}
			e = tmp
		case eLth, eGth:
			tmp := e.left
			if tmp.typ == eLth {
				tmp.typ = eGeq
			} else {
				tmp.typ = eLeq
			}
			e = tmp
		case eOr, eAnd:
			tmp := e.left
			if tmp.typ == eOr {
				e.typ = eAnd
			} else {
				e.typ = eOr
			}
			e.right = newOneExpr(eNot, tmp.right)
			tmp.typ = eNot
			tmp.right = nil
			e = k.simplify(e)
		case eSymbol:
			// conf rewrites the leaf in place; leaves are shared here.
			switch e.left.sym {
			case k.symYes:
				e = newSymExpr(k.symNo)
			case k.symMod:
				e = newSymExpr(k.symMod)
			case k.symNo:
				e = newSymExpr(k.symYes)
			}
		}
	}
	return e
}

func exprContainsSymbol(dep *Expr, sym *Symbol) bool {
	if dep == nil {
		return false
	}
	switch dep.typ {
	case eAnd, eOr:
		return exprContainsSymbol(dep.left, sym) || exprContainsSymbol(dep.right, sym)
	case eSymbol:
		return dep.sym == sym
	case eEqual, eGeq, eGth, eLeq, eLth, eUnequal:
		return dep.lsym() == sym || dep.rsym() == sym
	case eNot:
		return exprContainsSymbol(dep.left, sym)
	}
	return false
}

func (k *Kconfig) exprDependsSymbol(dep *Expr, sym *Symbol) bool {
	if dep == nil {
		return false
	}
	switch dep.typ {
	case eAnd:
		return k.exprDependsSymbol(dep.left, sym) || k.exprDependsSymbol(dep.right, sym)
	case eSymbol:
		return dep.sym == sym
	case eEqual:
		if dep.lsym() == sym && (dep.rsym() == k.symYes || dep.rsym() == k.symMod) {
			return true
		}
	case eUnequal:
		if dep.lsym() == sym && dep.rsym() == k.symNo {
			return true
		}
	}
	return false
}

// compareEach inserts explicit comparisons against sym into e (a new tree).
func (k *Kconfig) compareEach(e *Expr, t exprType, sym *Symbol) *Expr {
	if e == nil {
		r := newSymExpr(sym)
		if t == eUnequal {
			r = newOneExpr(eNot, r)
		}
		return r
	}
	switch e.typ {
	case eAnd, eOr:
		e1 := k.compareEach(e.left, eEqual, sym)
		e2 := k.compareEach(e.right, eEqual, sym)
		// Comparing with y keeps the operator, with n swaps it (De
		// Morgan); with m the node itself is kept.
		r := e
		same, swapped := eAnd, eOr
		if e.typ == eOr {
			same, swapped = eOr, eAnd
		}
		if sym == k.symYes {
			r = newTwoExpr(same, e1, e2)
		}
		if sym == k.symNo {
			r = newTwoExpr(swapped, e1, e2)
		}
		if t == eUnequal {
			r = newOneExpr(eNot, r)
		}
		return r
	case eNot:
		if t == eEqual {
			return k.compareEach(e.left, eUnequal, sym)
		}
		return k.compareEach(e.left, eEqual, sym)
	case eUnequal, eLth, eLeq, eGth, eGeq, eEqual:
		if t == eEqual {
			switch sym {
			case k.symYes:
				return e.copy()
			case k.symMod:
				return newSymExpr(k.symNo)
			case k.symNo:
				return newOneExpr(eNot, e.copy())
			}
		} else {
			switch sym {
			case k.symYes:
				return newOneExpr(eNot, e.copy())
			case k.symMod:
				return newSymExpr(k.symYes)
			case k.symNo:
				return e.copy()
			}
		}
	case eSymbol:
		return newCompExpr(t, e.sym, sym)
	}
	return nil
}

type valueKind int8

const (
	kString valueKind = iota
	kSigned
	kUnsigned
	kInvalid
)

// parseNumber reads str the way strtoll/strtoull do with base (0, 10 or
// 16): optional blanks and sign, prefix, digits; it reports how much was
// consumed and whether the value overflowed.
func parseNumber(str string, base int, unsigned bool) (s int64, u uint64, end int, overflow bool) {
	i := 0
	for i < len(str) && isSpace(str[i]) {
		i++
	}
	neg := false
	if i < len(str) && (str[i] == '+' || str[i] == '-') {
		neg = str[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+1 < len(str) && str[i] == '0' && (str[i+1] == 'x' || str[i+1] == 'X') &&
		i+2 < len(str) && isXDigit(str[i+2]) {
		i += 2
		base = 16
	} else if base == 0 {
		if i < len(str) && str[i] == '0' {
			base = 8
		} else {
			base = 10
		}
	}
	start := i
	var acc uint64
	for i < len(str) {
		d := digitVal(str[i])
		if d < 0 || d >= base {
			break
		}
		if !overflow {
			if acc > (math.MaxUint64-uint64(d))/uint64(base) {
				overflow = true
			} else {
				acc = acc*uint64(base) + uint64(d)
			}
		}
		i++
	}
	if i == start {
		return 0, 0, 0, false // no digits: nothing consumed
	}
	end = i
	if unsigned {
		if overflow {
			return 0, math.MaxUint64, end, true
		}
		if neg {
			acc = -acc
		}
		return int64(acc), acc, end, false
	}
	if neg {
		if overflow || acc > 1<<63 {
			return math.MinInt64, 0, end, true
		}
		return -int64(acc), 0, end, false
	}
	if overflow || acc > math.MaxInt64 {
		return math.MaxInt64, 0, end, true
	}
	return int64(acc), 0, end, false
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isXDigit(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// strtoll is C's strtoll(str, NULL, base) without errno.
func strtoll(str string, base int) int64 {
	s, _, _, _ := parseNumber(str, base, false)
	return s
}

// parseValue classifies a symbol's string value for comparisons.
func parseValue(str string, t Type) (valueKind, int64, uint64) {
	var (
		s    int64
		u    uint64
		end  int
		ovf  bool
		kind valueKind
	)
	switch t {
	case TypeBool, TypeTristate:
		switch str {
		case "n":
			return kSigned, 0, 0
		case "m":
			return kSigned, 1, 0
		case "y":
			return kSigned, 2, 0
		}
		return kSigned, -1, 0
	case TypeInt:
		s, _, end, ovf = parseNumber(str, 10, false)
		kind = kSigned
	case TypeHex:
		_, u, end, ovf = parseNumber(str, 16, true)
		kind = kUnsigned
	case TypeString, TypeUnknown:
		s, _, end, ovf = parseNumber(str, 0, false)
		kind = kSigned
	default:
		return kInvalid, 0, 0
	}
	if !ovf && end == len(str) && end > 0 && isXDigit(str[end-1]) {
		return kind, s, u
	}
	return kString, s, u
}

// calc evaluates e with the current symbol values (nil is y).
func (k *Kconfig) evalExpr(e *Expr) Tristate {
	if e == nil {
		return Yes
	}
	switch e.typ {
	case eSymbol:
		k.evaluate(e.sym)
		return e.sym.curr.tri
	case eAnd:
		a := k.evalExpr(e.left)
		b := k.evalExpr(e.right)
		return triAnd(a, b)
	case eOr:
		a := k.evalExpr(e.left)
		b := k.evalExpr(e.right)
		return triOr(a, b)
	case eNot:
		return triNot(k.evalExpr(e.left))
	case eEqual, eGeq, eGth, eLeq, eLth, eUnequal:
	default:
		k.printf("expr_calc_value: %d?\n", e.typ)
		return No
	}
	l, r := e.left.sym, e.right.sym
	k.evaluate(l)
	k.evaluate(r)
	str1 := k.valueText(l)
	str2 := k.valueText(r)
	k1, k2 := kString, kString
	var ls, rs int64
	var lu, ru uint64
	if l.typ != TypeString || r.typ != TypeString {
		k1, ls, lu = parseValue(str1, l.typ)
		k2, rs, ru = parseValue(str2, r.typ)
	}
	var res int
	switch {
	case k1 == kString || k2 == kString:
		res = strings.Compare(str1, str2)
	case k1 == kInvalid || k2 == kInvalid:
		if e.typ != eEqual && e.typ != eUnequal {
			k.printf("Cannot compare \"%s\" and \"%s\"\n", str1, str2)
			return No
		}
		res = strings.Compare(str1, str2)
	case k1 == kUnsigned || k2 == kUnsigned:
		// A signed operand is reinterpreted as unsigned, like the C union.
		if k1 != kUnsigned {
			lu = uint64(ls)
		}
		if k2 != kUnsigned {
			ru = uint64(rs)
		}
		res = cmpU(lu, ru)
	default:
		res = cmpS(ls, rs)
	}
	b := func(c bool) Tristate {
		if c {
			return Yes
		}
		return No
	}
	switch e.typ {
	case eEqual:
		return b(res == 0)
	case eGeq:
		return b(res >= 0)
	case eGth:
		return b(res > 0)
	case eLeq:
		return b(res <= 0)
	case eLth:
		return b(res < 0)
	case eUnequal:
		return b(res != 0)
	}
	return No
}

func cmpU(a, b uint64) int {
	switch {
	case a > b:
		return 1
	case a < b:
		return -1
	}
	return 0
}

func cmpS(a, b int64) int {
	switch {
	case a > b:
		return 1
	case a < b:
		return -1
	}
	return 0
}

// compareType tells the printer whether an operand of kind t2 under an
// operator of kind t1 needs parentheses (> 0).
func compareType(t1, t2 exprType) int {
	if t1 == t2 {
		return 0
	}
	switch t1 {
	case eLeq, eLth, eGeq, eGth:
		if t2 == eEqual || t2 == eUnequal {
			return 1
		}
		fallthrough
	case eEqual, eUnequal:
		if t2 == eNot {
			return 1
		}
		fallthrough
	case eNot:
		if t2 == eAnd {
			return 1
		}
		fallthrough
	case eAnd:
		if t2 == eOr {
			return 1
		}
		fallthrough
	case eOr:
		if t2 == eList {
			return 1
		}
		fallthrough
	case eList:
		if t2 == eNone {
			return 1
		}
	}
	return -1
}

// printExpr renders e in Kconfig syntax, calling fn for each token; sym is
// set for tokens naming a symbol (so callers can annotate values).
func printExpr(e *Expr, fn func(sym *Symbol, s string), prev exprType) {
	if e == nil {
		fn(nil, "y")
		return
	}
	paren := compareType(prev, e.typ) > 0
	if paren {
		fn(nil, "(")
	}
	lname := func() {
		if l := e.lsym(); l.hasName {
			fn(l, l.name)
		} else {
			fn(nil, "<choice>")
		}
	}
	switch e.typ {
	case eSymbol:
		lname()
	case eNot:
		fn(nil, "!")
		printExpr(e.left, fn, eNot)
	case eEqual:
		lname()
		fn(nil, "=")
		fn(e.rsym(), e.rsym().name)
	case eLeq, eLth:
		lname()
		if e.typ == eLeq {
			fn(nil, "<=")
		} else {
			fn(nil, "<")
		}
		fn(e.rsym(), e.rsym().name)
	case eGeq, eGth:
		lname()
		if e.typ == eGeq {
			fn(nil, ">=")
		} else {
			fn(nil, ">")
		}
		fn(e.rsym(), e.rsym().name)
	case eUnequal:
		lname()
		fn(nil, "!=")
		fn(e.rsym(), e.rsym().name)
	case eOr:
		printExpr(e.left, fn, eOr)
		fn(nil, " || ")
		printExpr(e.right, fn, eOr)
	case eAnd:
		printExpr(e.left, fn, eAnd)
		fn(nil, " && ")
		printExpr(e.right, fn, eAnd)
	case eList:
		fn(e.rsym(), e.rsym().name)
		if e.left != nil {
			fn(nil, " ^ ")
			printExpr(e.left, fn, eList)
		}
	case eRange:
		fn(nil, "[")
		fn(e.lsym(), e.lsym().name)
		fn(nil, " ")
		fn(e.rsym(), e.rsym().name)
		fn(nil, "]")
	default:
		fn(nil, "<unknown type "+strconv.Itoa(int(e.typ))+">")
	}
	if paren {
		fn(nil, ")")
	}
}

// exprString renders e plainly ("A && (B || !C)").
func exprString(e *Expr) string {
	var b strings.Builder
	printExpr(e, func(_ *Symbol, s string) { b.WriteString(s) }, eNone)
	return b.String()
}

// exprQuoted renders e with constant strings quoted ("A = \"x\""), for
// showing values to people.
func exprQuoted(e *Expr) string {
	var b strings.Builder
	printExpr(e, func(s *Symbol, str string) {
		if s != nil && s.flags&symConst != 0 && len(str) != 1 {
			str = escapeString(str)
		}
		b.WriteString(str)
	}, eNone)
	return b.String()
}

// gstrPrint renders e with each symbol's current value, as conf prints
// dependencies in warnings and help: "A [=y] && B [=n]".
func (k *Kconfig) gstrPrint(b *strings.Builder, e *Expr) {
	printExpr(e, func(sym *Symbol, s string) {
		b.WriteString(s)
		if sym != nil && sym.typ != TypeUnknown {
			b.WriteString(" [=")
			b.WriteString(k.valueText(sym))
			b.WriteString("]")
		}
	}, eNone)
}

// gstrPrintRevdep prints the top-level || terms of e whose value is prType,
// one per line, preceded once by title.
func (k *Kconfig) gstrPrintRevdep(b *strings.Builder, e *Expr, prType Tristate, title string) {
	k.printRevdep(b, e, prType, &title)
}

func (k *Kconfig) printRevdep(b *strings.Builder, e *Expr, prType Tristate, title *string) {
	if e.typ == eOr {
		k.printRevdep(b, e.left, prType, title)
		k.printRevdep(b, e.right, prType, title)
		return
	}
	if k.evalExpr(e) == prType {
		if *title != "" {
			b.WriteString(*title)
			*title = ""
		}
		b.WriteString("  - ")
		k.gstrPrint(b, e)
		b.WriteString("\n")
	}
}

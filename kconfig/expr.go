package kconfig

import (
	"math"
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

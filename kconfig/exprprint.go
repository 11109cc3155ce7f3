package kconfig

import (
	"strconv"
	"strings"
)

// Printing expressions, as conf prints them in warnings and help: binary
// operators spaced, comparisons tight ("A=y"), parentheses only where an
// operand binds more loosely than its operator.

// bindRank orders the operators from tightest to loosest (comparisons,
// = and !=, !, &&, ||, choice lists, top level); -1 for leaves.
func bindRank(t exprType) int {
	switch t {
	case eLeq, eLth, eGeq, eGth:
		return 0
	case eEqual, eUnequal:
		return 1
	case eNot:
		return 2
	case eAnd:
		return 3
	case eOr:
		return 4
	case eList:
		return 5
	case eNone:
		return 6
	}
	return -1
}

// needsParens reports whether an operand of kind inner under outer is
// printed in parentheses.
func needsParens(outer, inner exprType) bool {
	o, i := bindRank(outer), bindRank(inner)
	return outer != inner && o >= 0 && i > o
}

// printExpr renders e, calling fn for each token; sym is set for tokens
// that name a symbol (so callers can add its value).
func printExpr(e *Expr, fn func(sym *Symbol, s string), outer exprType) {
	if e == nil {
		fn(nil, "y")
		return
	}
	paren := needsParens(outer, e.typ)
	if paren {
		fn(nil, "(")
	}
	name := func(s *Symbol) {
		if s.hasName {
			fn(s, s.name)
		} else {
			fn(nil, "<choice>")
		}
	}
	ops := map[exprType]string{eEqual: "=", eUnequal: "!=", eLth: "<", eLeq: "<=", eGth: ">", eGeq: ">="}
	switch e.typ {
	case eSymbol:
		name(e.sym)
	case eNot:
		fn(nil, "!")
		printExpr(e.left, fn, eNot)
	case eEqual, eUnequal, eLth, eLeq, eGth, eGeq:
		name(e.lsym())
		fn(nil, ops[e.typ])
		fn(e.rsym(), e.rsym().name)
	case eOr, eAnd:
		sep := " && "
		if e.typ == eOr {
			sep = " || "
		}
		printExpr(e.left, fn, e.typ)
		fn(nil, sep)
		printExpr(e.right, fn, e.typ)
	case eList:
		fn(e.sym, e.sym.name)
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

// gstrPrint renders e with each symbol's current value, as conf does in
// warnings and help: "A [=y] && B [=n]".
func (k *Kconfig) gstrPrint(b *strings.Builder, e *Expr) {
	printExpr(e, func(sym *Symbol, s string) {
		b.WriteString(s)
		if sym != nil && sym.typ != TypeUnknown {
			b.WriteString(" [=")
			b.WriteString(k.shownValue(sym))
			b.WriteString("]")
		}
	}, eNone)
}

// gstrPrintRevdep lists the top-level || operands of e whose value is
// want, one per line ("  - A [=y] && B [=y]"), after title (printed once,
// and only when something is listed).
func (k *Kconfig) gstrPrintRevdep(b *strings.Builder, e *Expr, want Tristate, title string) {
	for _, t := range orTerms(e) {
		if k.evalExpr(t) != want {
			continue
		}
		b.WriteString(title)
		title = ""
		b.WriteString("  - ")
		k.gstrPrint(b, t)
		b.WriteString("\n")
	}
}

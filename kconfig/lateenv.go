package kconfig

import (
	"maps"
	"slices"
)

// Late environment variables (Options.LateEnv, Options.LateDefaults).
//
// conf reads an "option env" variable when it parses the symbol and adds
// its value as a default. For a late variable the default property is
// added at the same place, with its value left open, and filled in once
// the whole tree is parsed (or when a $SYMBOL reference in a source
// statement needs a symbol whose value could depend on it). A
// LateDefaults symbol's constant defaults are opened the same way, at
// those two moments, and filled in with the variable's value.

type lateEnv struct {
	sym   *Symbol
	prop  *Property // the default, its value open until resolved
	env   string
	entry *Menu   // for the warning when the variable is undefined
	tree  *Symbol // LateDefaults: the tree's value, kept when env is undefined
}

func (k *Kconfig) isLateEnv(name string) bool {
	for _, n := range k.opts.LateEnv {
		if n == name {
			return true
		}
	}
	return false
}

// deferEnv adds s's default from env, to be filled in by resolveLate.
func (k *Kconfig) deferEnv(s *Symbol, env string) {
	p := k.propAlloc(pDefault, s)
	p.expr = &Expr{typ: eSymbol} // not the shared leaf: it gets its symbol later
	k.late = append(k.late, lateEnv{sym: s, prop: p, env: env, entry: k.currentEntry})
}

// deferDefaults opens the constant defaults of the LateDefaults symbols
// defined so far, to be filled in by resolveLate. It opens only the
// parser's own constants (a symbol's shared leaf): one filled in gets a
// leaf of its own, so it is never opened again (a $SYMBOL expanded
// after the parse must not reopen it).
func (k *Kconfig) deferDefaults() {
	if len(k.opts.LateDefaults) == 0 {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(k.opts.LateDefaults)) {
		s := k.find(name)
		if s == nil || s.flags&symConst != 0 {
			continue
		}
		for _, p := range s.props {
			c := p.expr
			if p.typ != pDefault || c == nil || c.typ != eSymbol || c.sym == nil || c.sym.flags&symConst == 0 || c != c.sym.leaf {
				continue
			}
			k.late = append(k.late, lateEnv{sym: s, prop: p, env: k.opts.LateDefaults[name], tree: p.expr.sym})
			p.expr = &Expr{typ: eSymbol} // open: not the shared leaf
		}
	}
}

// resolveLate fills in every open default, in the order they were met.
func (k *Kconfig) resolveLate() {
	k.deferDefaults()
	late := k.late
	k.late = nil
	for _, l := range late {
		v, ok := k.lookupEnv(l.env)
		if l.tree != nil {
			l.prop.expr.sym = l.tree
			if ok {
				l.prop.expr.sym = k.lookup(v, true, symConst)
			}
			continue
		}
		if ok {
			l.prop.expr.sym = k.lookup(v, true, symConst)
			continue
		}
		// As conf: no default, and a warning.
		props := l.sym.props[:0]
		for _, p := range l.sym.props {
			if p != l.prop {
				props = append(props, p)
			}
		}
		l.sym.props = props
		k.menuWarn(l.entry, "environment variable %s undefined", l.env)
	}
}

// resolveLateFor resolves the open defaults before s is evaluated while
// parsing, if s's value could depend on one of them.
func (k *Kconfig) resolveLateFor(s *Symbol) {
	k.deferDefaults()
	if len(k.late) == 0 {
		return
	}
	open := map[*Symbol]bool{}
	for _, l := range k.late {
		open[l.sym] = true
	}
	seen := map[*Symbol]bool{}
	var reaches func(s *Symbol) bool
	var inExpr func(e *Expr) bool
	inExpr = func(e *Expr) bool {
		for ; e != nil; e = e.left {
			if e.sym != nil && reaches(e.sym) {
				return true
			}
			if e.right != nil && inExpr(e.right) {
				return true
			}
		}
		return false
	}
	reaches = func(s *Symbol) bool {
		if s == nil || seen[s] {
			return false
		}
		seen[s] = true
		if open[s] {
			return true
		}
		for _, p := range s.props {
			if inExpr(p.visExpr) || inExpr(p.expr) {
				return true
			}
		}
		return inExpr(s.dirDep.expr) || inExpr(s.revDep.expr) || inExpr(s.implied.expr)
	}
	if reaches(s) {
		k.resolveLate()
	}
}

package kconfig

// Late environment variables (Options.LateEnv).
//
// conf reads an "option env" variable when it parses the symbol and adds
// its value as a default. For a late variable the default property is
// added at the same place, with its value left open, and filled in once
// the whole tree is parsed (or when a $SYMBOL reference in a source
// statement needs a symbol whose value could depend on it).

type lateEnv struct {
	sym   *Symbol
	prop  *Property // the default, its value open until resolved
	env   string
	entry *Menu // for the warning when the variable is undefined
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

// resolveLate fills in every open default, in the order they were met.
func (k *Kconfig) resolveLate() {
	late := k.late
	k.late = nil
	for _, l := range late {
		if v, ok := k.lookupEnv(l.env); ok {
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

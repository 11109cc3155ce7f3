package kconfig

import "sort"

// Incremental re-evaluation for Set and Unset.
//
// conf forgets every computed value after an assignment; a configurator
// setting one option at a time only needs to recompute what the option
// can reach. Every symbol lists the symbols whose evaluation reads it (its
// readers: through dependencies, prompt conditions, defaults, ranges,
// selects, implies and choice membership); after Set, only the readers'
// closure is forgotten, re-evaluated and compared. Values form a function
// of the inputs that does not depend on the order of evaluation (the tree
// has no dependency loops; Load refuses them), so the result is the one
// a full re-evaluation gives. That holds except inside loops: a choice
// and its members read each other, which is harmless, but where members
// also depend on each other (or a loop runs through other symbols)
// evaluation shows provisional values and the result depends on the
// order, as in conf: a tree with such a loop (Buildroot's has none) is
// always re-evaluated in full. So is a change that reaches the modules
// symbol (which every tristate reads), or one that comes when a render
// has cleared the write flags.

// readerGraph returns, for each symbol, the symbols whose evaluation reads
// it (built on first use; the tree never changes after Load).
func (k *Kconfig) readerGraph() map[*Symbol][]*Symbol {
	if k.readers != nil {
		return k.readers
	}
	g := map[*Symbol][]*Symbol{}
	var walk func(e *Expr, to *Symbol)
	walk = func(e *Expr, to *Symbol) {
		for ; e != nil; e = e.left {
			if s := e.sym; s != nil && s != to && s.flags&symConst == 0 {
				g[s] = append(g[s], to)
			}
			if e.right != nil {
				walk(e.right, to)
			}
		}
	}
	k.forAllSymbols(func(s *Symbol) {
		if s.flags&symConst != 0 {
			return
		}
		for _, p := range s.props {
			switch p.typ {
			case pSelect, pImply:
				continue // read by the target, through its revDep/implied
			case pEnv, pSymbol:
				continue
			}
			walk(p.visExpr, s)
			if p.typ == pDefault || p.typ == pRange || p.typ == pChoice {
				// values, bounds, choice membership (both ways)
				walk(p.expr, s)
			}
		}
		walk(s.dirDep.expr, s)
		walk(s.revDep.expr, s)
		walk(s.implied.expr, s)
	})
	k.readers = g
	k.loopy = loopySymbols(g)
	return g
}

// loopySymbols finds the symbols on dependency loops other than a choice
// with its members (Tarjan's strongly connected components).
func loopySymbols(g map[*Symbol][]*Symbol) map[*Symbol]bool {
	index := map[*Symbol]int{}
	low := map[*Symbol]int{}
	on := map[*Symbol]bool{}
	var stack []*Symbol
	loopy := map[*Symbol]bool{}
	next := 0
	var visit func(v *Symbol)
	visit = func(v *Symbol) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		on[v] = true
		for _, w := range g[v] {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []*Symbol
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			on[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		if len(comp) > 1 && !choiceOnly(g, comp) {
			for _, w := range comp {
				loopy[w] = true
			}
		}
	}
	// Visit in a fixed order (map iteration is random; the result is not).
	var all []*Symbol
	for v := range g {
		all = append(all, v)
	}
	for _, v := range all {
		if _, seen := index[v]; !seen {
			visit(v)
		}
	}
	return loopy
}

// choiceOnly: the loop is one choice and its members, each edge between
// the choice and a member.
func choiceOnly(g map[*Symbol][]*Symbol, comp []*Symbol) bool {
	var c *Symbol
	in := map[*Symbol]bool{}
	for _, s := range comp {
		in[s] = true
		if s.isChoice() {
			if c != nil {
				return false
			}
			c = s
		}
	}
	if c == nil {
		return false
	}
	for _, s := range comp {
		if s != c && (!s.isChoiceVal() || s.choiceOf() != c) {
			return false
		}
		for _, w := range g[s] {
			if in[w] && s != c && w != c {
				return false
			}
		}
	}
	return true
}

// reach is the closure of seeds under the reader graph; ok is false when
// it contains the modules symbol.
func (k *Kconfig) reach(seeds []*Symbol) (closure []*Symbol, ok bool) {
	g := k.readerGraph()
	seen := map[*Symbol]bool{}
	for _, s := range seeds {
		if !seen[s] {
			seen[s] = true
			closure = append(closure, s)
		}
	}
	for i := 0; i < len(closure); i++ {
		s := closure[i]
		if s == k.modulesSym {
			return nil, false
		}
		for _, r := range g[s] {
			if !seen[r] {
				seen[r] = true
				closure = append(closure, r)
			}
		}
	}
	return closure, true
}

// invalidateAfter forgets the values an assignment to s can change: all
// of them, unless an incremental Set or Unset is in progress (k.track).
func (k *Kconfig) invalidateAfter(s *Symbol) {
	if !k.track {
		k.invalidateAll()
		return
	}
	k.track = false
	seeds := []*Symbol{s}
	if s.isChoiceVal() {
		// the pick and the members' user flags changed with it
		c := s.choiceOf()
		seeds = append(append(seeds, c), c.choiceMembers()...)
	}
	closure, ok := k.reach(seeds)
	if !ok || len(k.loopy) > 0 {
		k.invalidateAll()
		return
	}
	for _, x := range closure {
		x.flags &^= symValid
	}
	k.addChangeCount(1)
	k.touched = closure
}

type valSnap struct {
	v string
	w bool
}

func (k *Kconfig) snap(s *Symbol) valSnap {
	k.evaluate(s)
	return valSnap{k.valueText(s), s.flags&symWrite != 0}
}

// fullPass forgets every value and evaluates every defined symbol in
// definition order, recording the values. Evaluating a choice can take
// away its "set by the user" flag (when a visible member has no user
// value), which changes the choice's value the next time; the pass is
// repeated until that no longer happens, so a change shows at once rather
// than with the next one.
func (k *Kconfig) fullPass(into []valSnap) []valSnap {
	for i := 0; ; i++ {
		k.invalidateAll()
		k.dropped = nil
		into = into[:0]
		for _, s := range k.defined() {
			into = append(into, k.snap(s))
		}
		if len(k.dropped) == 0 || i == 8 {
			break
		}
	}
	k.dropped = nil
	k.canonical = true
	return into
}

// beginTracked prepares an assignment that may invalidate incrementally,
// returning the values before it. It starts from the canonical state, the
// one a full pass leaves: after anything else evaluated from scratch
// (ReadConfig, a render, ...) it makes a full pass first.
func (k *Kconfig) beginTracked() []valSnap {
	if !k.valsCurrent || !k.canonical || k.writeStale {
		k.vals = k.fullPass(k.vals)
	}
	k.valsCurrent = false
	k.track = !k.noIncremental
	k.touched = nil
	k.dropped = nil
	return k.vals
}

// endTracked reports the changes of an assignment begun by beginTracked:
// every defined symbol whose value or presence in .config changed, first
// the one assigned.
func (k *Kconfig) endTracked(before []valSnap, first *Symbol) []Change {
	k.track = false
	touched := k.touched
	k.touched = nil
	order := k.defined()
	var idx []int
	var after []valSnap
	switch {
	case touched != nil:
		if !k.settle(touched) {
			return k.endTracked(before, first) // fell back to a full pass
		}
		for _, x := range k.touched {
			i := int(x.idx)
			if i >= len(order) || order[i] != x {
				continue // a choice, or not in the menus
			}
			if a := k.snap(x); a != before[i] {
				idx = append(idx, i)
				after = append(after, a)
			}
		}
		k.touched = nil
	case !k.canonical:
		// everything was forgotten
		now := k.fullPass(k.spare)
		for i := range now {
			if now[i] != before[i] {
				idx = append(idx, i)
				after = append(after, now[i])
			}
		}
		k.spare = now
	}
	// (otherwise nothing was forgotten: nothing changed)
	newAt := make(map[int]valSnap, len(idx))
	for j, i := range idx {
		newAt[i] = after[j]
	}
	sort.Ints(idx)
	var out []Change
	for _, i := range idx {
		s, b, a := order[i], before[i], newAt[i]
		c := Change{Symbol: s, Name: s.name, Prompt: s.Prompt(), Old: b.v, New: a.v, OldWritten: b.w, NewWritten: a.w}
		if s == first {
			out = append([]Change{c}, out...)
		} else {
			out = append(out, c)
		}
		before[i] = a
	}
	k.vals = before
	k.valsCurrent = true
	k.canonical = true
	return out
}

// settle evaluates the forgotten symbols in the order a full pass takes
// (definition order; choices come with their first member), and again the
// reach of any choice that gave up its user flag meanwhile. The union of
// what was evaluated is left in k.touched. It reports false after falling
// back to forgetting everything.
func (k *Kconfig) settle(touched []*Symbol) bool {
	in := make(map[*Symbol]bool, len(touched))
	for _, x := range touched {
		in[x] = true
	}
	all := touched
	for round := 0; ; round++ {
		sort.Slice(touched, func(a, b int) bool { return k.evalRank(touched[a]) < k.evalRank(touched[b]) })
		k.dropped = nil
		for _, x := range touched {
			k.evaluate(x)
		}
		if len(k.dropped) == 0 {
			break
		}
		var seeds []*Symbol
		for _, c := range k.dropped {
			seeds = append(append(seeds, c), c.choiceMembers()...)
		}
		k.dropped = nil
		closure, ok := k.reach(seeds)
		if !ok || round == 8 {
			k.invalidateAll()
			return false
		}
		for _, x := range closure {
			x.flags &^= symValid
			if !in[x] {
				in[x] = true
				all = append(all, x)
			}
		}
		touched = closure
	}
	k.touched = all
	return true
}

// evalRank orders symbols as snapshotValues evaluates them: by definition
// order, anything outside it (choices, symbols without menus) last.
func (k *Kconfig) evalRank(s *Symbol) int {
	order := k.defined()
	if i := int(s.idx); i < len(order) && order[i] == s {
		return i
	}
	return len(order)
}

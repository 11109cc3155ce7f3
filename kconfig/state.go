package kconfig

// state is a copy of everything that reading, evaluating and writing a
// configuration changes, so a loaded tree can go back to an earlier point
// without being parsed again (tests, "what if" questions, undo).
type state struct {
	heads       [symbolHashSize]*Symbol
	nsyms       int
	syms        []symState
	props       []Tristate
	changeCount int
	modulesVal  int8
	ndiag       int
	unmet       map[*Symbol]bool
	rand        *glibcRand
	auto        map[*Symbol]value
}

type symState struct {
	s       *Symbol
	typ     Type
	curr    value
	user    value
	visible Tristate
	flags   uint32
	dir     Tristate
	rev     Tristate
	implied Tristate
}

func (k *Kconfig) snapshot() *state {
	st := &state{heads: k.hash, nsyms: k.nsyms, changeCount: k.changeCount, modulesVal: int8(k.modulesVal),
		ndiag: len(k.diagnostics)}
	st.syms = make([]symState, 0, k.nsyms+4)
	add := func(s *Symbol) {
		st.syms = append(st.syms, symState{s: s, typ: s.typ, curr: s.curr, user: s.user, visible: s.visible, flags: s.flags,
			dir: s.dirDep.tri, rev: s.revDep.tri, implied: s.implied.tri})
		for _, p := range s.props {
			st.props = append(st.props, p.visTri)
		}
	}
	for _, s := range []*Symbol{k.symYes, k.symMod, k.symNo, k.symEmpty} {
		add(s)
	}
	for i := range k.hash {
		for s := k.hash[i]; s != nil; s = s.next {
			add(s)
		}
	}
	if k.unmet != nil {
		st.unmet = make(map[*Symbol]bool, len(k.unmet))
		for s := range k.unmet {
			st.unmet[s] = true
		}
	}
	if k.rand != nil {
		r := *k.rand
		st.rand = &r
	}
	if k.autoVals != nil {
		st.auto = make(map[*Symbol]value, len(k.autoVals))
		for s, v := range k.autoVals {
			st.auto[s] = *v
		}
	}
	return st
}

func (k *Kconfig) restore(st *state) {
	k.valsCurrent = false
	k.hash = st.heads
	k.nsyms = st.nsyms
	pi := 0
	for i := range st.syms {
		ss := &st.syms[i]
		s := ss.s
		s.typ, s.curr, s.user, s.visible, s.flags = ss.typ, ss.curr, ss.user, ss.visible, ss.flags
		s.dirDep.tri, s.revDep.tri, s.implied.tri = ss.dir, ss.rev, ss.implied
		for _, p := range s.props {
			p.visTri = st.props[pi]
			pi++
		}
	}
	// Symbols created after the snapshot were pushed at bucket heads, so
	// restoring the heads forgets them.
	k.changeCount = st.changeCount
	k.modulesVal = Tristate(st.modulesVal)
	k.diagnostics = k.diagnostics[:st.ndiag]
	k.unmet = nil
	if st.unmet != nil {
		k.unmet = make(map[*Symbol]bool, len(st.unmet))
		for s := range st.unmet {
			k.unmet[s] = true
		}
	}
	k.autoVals = nil
	for s, v := range st.auto {
		*s.slot(defAuto) = v
	}
	k.rand = nil
	if st.rand != nil {
		r := *st.rand
		k.rand = &r
	}
}

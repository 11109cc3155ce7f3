package kconfig

// glibcRand reproduces glibc's rand() (the TYPE_3 additive feedback
// generator behind random()), so that --randconfig with a given
// KCONFIG_SEED draws exactly the numbers Buildroot's conf draws on glibc.
type glibcRand struct {
	r    [31]int32
	f, b int
}

func newGlibcRand(seed uint32) *glibcRand {
	g := &glibcRand{}
	if seed == 0 {
		seed = 1
	}
	g.r[0] = int32(seed)
	word := int64(int32(seed)) // glibc keeps the seed in an int32_t
	for i := 1; i < 31; i++ {
		hi := word / 127773
		lo := word % 127773
		word = 16807*lo - 2836*hi
		if word < 0 {
			word += 2147483647
		}
		g.r[i] = int32(word)
	}
	g.f, g.b = 3, 0
	for i := 0; i < 310; i++ {
		g.next()
	}
	return g
}

// next is one call of rand(): a value in [0, 2^31).
func (g *glibcRand) next() int32 {
	v := uint32(g.r[g.f]) + uint32(g.r[g.b])
	g.r[g.f] = int32(v)
	res := int32(v >> 1)
	g.f++
	if g.f >= len(g.r) {
		g.f = 0
		g.b++
	} else {
		g.b++
		if g.b >= len(g.r) {
			g.b = 0
		}
	}
	return res
}

// intn is rand() % n.
func (g *glibcRand) intn(n int) int { return int(g.next()) % n }

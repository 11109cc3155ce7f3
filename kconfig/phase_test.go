package kconfig

import (
	"testing"
	"time"
)

// parseOnly runs the parser alone (what k.parse does before finishing the
// tree), for the phase benchmarks.
func parseOnly(k *Kconfig) {
	l := &lexer{k: k}
	k.lex = l
	l.initScan("Config.in")
	k.symInit()
	k.menuInit()
	p := &parser{k: k, l: l}
	p.parse()
	if l.pf != nil {
		l.pf.stop()
	}
}

// BenchmarkBuildrootPhases reports where a Buildroot olddefconfig's time
// goes: parse, finishing the tree, the cycle check, reading the .config
// and formatting it (ms per phase, each a metric).
func BenchmarkBuildrootPhases(b *testing.B) {
	e := buildrootBench(b)
	var tot [5]time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		k := newKconfig(Options{Dir: e.br, LookupEnv: e.lookup})
		parseOnly(k)
		t1 := time.Now()
		k.modulesSym = k.find("n")
		k.root.prompt.text = k.expandRefs(k.root.prompt.text)
		k.finalize(&k.root)
		t2 := time.Now()
		k.forAllSymbols(func(s *Symbol) { k.findCycle(s) })
		t3 := time.Now()
		k.read(e.config)
		t4 := time.Now()
		k.formatConfig()
		t5 := time.Now()
		for j, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4)} {
			tot[j] += d
		}
	}
	for j, name := range []string{"parse", "finalize", "cycles", "read", "write"} {
		b.ReportMetric(float64(tot[j].Microseconds())/1000/float64(b.N), name+"-ms/op")
	}
}

// BenchmarkParseNoIO is the parser alone on Buildroot's tree held in
// memory: the parse without the file reads.
func BenchmarkParseNoIO(b *testing.B) {
	e := buildrootBench(b)
	k0 := newKconfig(Options{Dir: e.br, LookupEnv: e.lookup})
	k0.parse("Config.in")
	virt := map[string][]byte{}
	for _, f := range k0.files {
		if d, err := k0.readKconfigFile(f.Name); err == nil {
			virt[f.Name] = d
		}
	}
	virt["Config.in"], _ = k0.readKconfigFile("Config.in")
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := newKconfig(Options{Dir: e.br, LookupEnv: e.lookup})
		k.virtual = virt
		parseOnly(k)
	}
}

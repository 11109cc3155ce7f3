package kconfig

import (
	"os"
	"testing"
	"time"
)

func TestPhases(t *testing.T) {
	if os.Getenv("BUILDROOT_DIR") == "" {
		t.Skip()
	}
	e := buildrootBench(&testing.B{})
	var tot [6]time.Duration
	n := 8
	for i := 0; i < n; i++ {
		t0 := time.Now()
		k := newKconfig(Options{Dir: e.br, LookupEnv: e.lookup})
		l := &lexer{k: k}
		k.lex = l
		l.initScan("Config.in")
		k.symInit()
		k.menuInit()
		p := &parser{k: k, l: l}
		p.parse()
		l.pf.stop()
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
		for j, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4), t5.Sub(t0)} {
			tot[j] += d
		}
	}
	t.Logf("parse %v finalize %v cycles %v read %v write %v total %v", tot[0]/time.Duration(n), tot[1]/time.Duration(n), tot[2]/time.Duration(n), tot[3]/time.Duration(n), tot[4]/time.Duration(n), tot[5]/time.Duration(n))
}

func TestParseNoIO(t *testing.T) {
	if os.Getenv("BUILDROOT_DIR") == "" {
		t.Skip()
	}
	e := buildrootBench(&testing.B{})
	// record every file once
	k0 := newKconfig(Options{Dir: e.br, LookupEnv: e.lookup})
	k0.parse("Config.in")
	virt := map[string][]byte{}
	for _, f := range k0.files {
		d, err := k0.readKconfigFile(f.Name)
		if err == nil {
			virt[f.Name] = d
		}
	}
	virt["Config.in"], _ = k0.readKconfigFile("Config.in")
	n := 8
	var tot time.Duration
	for i := 0; i < n; i++ {
		k := newKconfig(Options{Dir: e.br, LookupEnv: e.lookup})
		k.virtual = virt
		t0 := time.Now()
		l := &lexer{k: k}
		k.lex = l
		l.initScan("Config.in")
		k.symInit()
		k.menuInit()
		p := &parser{k: k, l: l}
		p.parse()
		tot += time.Since(t0)
	}
	t.Logf("parse without I/O: %v (%d files)", tot/time.Duration(n), len(virt))
}

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
		l := &lexer{k: k}
		k.lex = l
		l.initScan("Config.in")
		k.symInit()
		k.menuInit()
		p := &parser{k: k, l: l}
		p.parse()
	}
}

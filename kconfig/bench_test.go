package kconfig

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// Benchmarks. The headline one is BenchmarkBuildrootOlddefconfig: what
// "conf --olddefconfig Config.in" does on the whole Buildroot tree (load
// every Kconfig file, read a .config, evaluate, write .config), to set
// beside BenchmarkBuildrootConfReference, Buildroot's own conf doing the
// same on the same machine.

// buildrootBenchEnv prepares a Buildroot environment (as make sets it) and
// a .config (qemu_x86_64_defconfig) to run olddefconfig on.
type benchEnv struct {
	br, out, config string
	env             map[string]string
}

var (
	benchOnce sync.Once
	benchB    *benchEnv
	benchErr  error
)

func buildrootBench(b *testing.B) *benchEnv {
	br := testenv.BuildrootDir(b)
	benchOnce.Do(func() {
		out := filepath.Join(tmpRoot, "bench")
		os.MkdirAll(out, 0o755)
		cmd := exec.Command("support/scripts/br2-external", "-d", out)
		cmd.Dir = br
		if o, err := cmd.CombinedOutput(); err != nil {
			benchErr = fmt.Errorf("br2-external: %v %s", err, o)
			return
		}
		e := &benchEnv{br: br, out: out, config: filepath.Join(out, "qemu.config"), env: map[string]string{
			"srctree": br, "CONFIG_": "", "BR2_VERSION": "bench", "BR2_VERSION_FULL": "bench", "HOSTARCH": "x86_64",
			"HOST_GCC_VERSION": "12", "BR2_HIDE_SECONDARY_TARGET_OPTIONS": "n", "BASE_DIR": out, "SKIP_LEGACY": "",
			"BR2_DEFCONFIG": "", "BR2_EXTERNAL_NAMES": "", "BR2_CONFIG": filepath.Join(out, ".config"),
		}}
		var so strings.Builder
		rc := RunConf("conf", []string{"--defconfig=configs/qemu_x86_64_defconfig", "Config.in"}, ConfIO{
			Dir: br, Stdout: &so, Stderr: &so, LookupEnv: e.lookup})
		if rc != 0 {
			benchErr = fmt.Errorf("defconfig: %s", so.String())
			return
		}
		data, _ := os.ReadFile(e.env["BR2_CONFIG"])
		os.WriteFile(e.config, data, 0o644)
		benchB = e
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchB
}

func (e *benchEnv) lookup(n string) (string, bool) { v, ok := e.env[n]; return v, ok }

func BenchmarkBuildrootOlddefconfig(b *testing.B) {
	e := buildrootBench(b)
	data, _ := os.ReadFile(e.config)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		os.WriteFile(e.env["BR2_CONFIG"], data, 0o644)
		if rc := RunConf("conf", []string{"-s", "--olddefconfig", "Config.in"}, ConfIO{Dir: e.br, LookupEnv: e.lookup}); rc != 0 {
			b.Fatal("olddefconfig failed")
		}
	}
}

// BenchmarkBuildrootConfReference runs Buildroot's own conf (built from
// BUILDROOT_DIR) on the same input, for the side-by-side figure.
func BenchmarkBuildrootConfReference(b *testing.B) {
	e := buildrootBench(b)
	ref := buildrootConf(b)
	data, _ := os.ReadFile(e.config)
	for i := 0; i < b.N; i++ {
		os.WriteFile(e.env["BR2_CONFIG"], data, 0o644)
		cmd := exec.Command(ref, "-s", "--olddefconfig", "Config.in")
		cmd.Dir = e.br
		for k, v := range e.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v %s", err, out)
		}
	}
}

// genBigTree writes a deterministic tree of n symbols in nested menus,
// ifs, choices and sourced files: the "10k-symbol" benchmark input.
func genBigTree(dir string, n int) {
	r := rand.New(rand.NewSource(42))
	files := map[string]*strings.Builder{}
	top := &strings.Builder{}
	top.WriteString("mainmenu \"Generated tree\"\n\n")
	files["Kconfig"] = top
	sym := 0
	for f := 0; sym < n; f++ {
		name := fmt.Sprintf("pkg/p%d/Config.in", f)
		fmt.Fprintf(top, "source %q\n", name)
		w := &strings.Builder{}
		files[name] = w
		fmt.Fprintf(w, "menu \"Group %d\"\n", f)
		for j := 0; j < 50 && sym < n; j++ {
			dep := ""
			if sym > 10 {
				dep = fmt.Sprintf("\tdepends on S%d || S%d\n", r.Intn(sym), r.Intn(sym))
			}
			switch {
			case j%17 == 0 && sym+3 < n:
				fmt.Fprintf(w, "choice\n\tprompt \"choice %d\"\n\tdefault S%d\n", sym, sym+1)
				for c := 0; c < 3; c++ {
					fmt.Fprintf(w, "config S%d\n\tbool \"member %d\"\n", sym, sym)
					sym++
				}
				w.WriteString("endchoice\n")
			case j%5 == 0:
				fmt.Fprintf(w, "config S%d\n\tstring \"string %d\"\n%s\tdefault \"v%d\"\n\thelp\n\t  Help text of symbol %d.\n\n", sym, sym, dep, sym, sym)
				sym++
			default:
				fmt.Fprintf(w, "config S%d\n\tbool \"bool %d\"\n%s", sym, sym, dep)
				if sym > 0 && r.Intn(4) == 0 {
					fmt.Fprintf(w, "\tselect S%d\n", sym+1+r.Intn(20))
				}
				if r.Intn(3) == 0 {
					w.WriteString("\tdefault y\n")
				}
				w.WriteString("\n")
				sym++
			}
		}
		w.WriteString("endmenu\n")
	}
	for name, w := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(w.String()), 0o644)
	}
}

var (
	bigOnce sync.Once
	bigDir  string
)

func bigTree(b *testing.B) string {
	bigOnce.Do(func() {
		bigDir = filepath.Join(tmpRoot, "big")
		genBigTree(bigDir, 10000)
	})
	return bigDir
}

// BenchmarkGenerated10k: load + olddefconfig + write on a generated tree
// of 10,000 symbols (always runs, no Buildroot needed).
func BenchmarkGenerated10k(b *testing.B) {
	dir := bigTree(b)
	env := map[string]string{"BR2_CONFIG": filepath.Join(dir, ".config")}
	lookup := func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if rc := RunConf("conf", []string{"-s", "--olddefconfig", "Kconfig"}, ConfIO{Dir: dir, LookupEnv: lookup}); rc != 0 {
			b.Fatal("olddefconfig failed")
		}
	}
}

func benchTree(b *testing.B) *Kconfig {
	if os.Getenv("BUILDROOT_DIR") != "" {
		e := buildrootBench(b)
		k, err := Load("Config.in", Options{Dir: e.br, LookupEnv: e.lookup})
		if err != nil {
			b.Fatal(err)
		}
		k.ReadConfig(e.config)
		return k
	}
	k, err := Load("Kconfig", Options{Dir: bigTree(b)})
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkSearch: a three-term query over every symbol, prompt and help
// text (Buildroot's tree with BUILDROOT_DIR, else the generated one).
func BenchmarkSearch(b *testing.B) {
	k := benchTree(b)
	k.Search("warm up")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.Search("ssh server package")
	}
}

// BenchmarkExplain: the explanation of a symbol with dependencies and
// selects.
func BenchmarkExplain(b *testing.B) {
	k := benchTree(b)
	s := k.Find("BR2_PACKAGE_OPENSSH_SERVER")
	if s == nil {
		s = k.Lookup("S9000")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = k.Explain(s).Text()
	}
}

// BenchmarkSet: one toggle with its change report (what a configurator
// does on each key press).
func BenchmarkSet(b *testing.B) {
	k := benchTree(b)
	name := "BR2_PACKAGE_OPENSSH"
	if k.Lookup(name) == nil {
		syms := k.Symbols()
		for i := len(syms) - 1; i >= 0; i-- {
			s := syms[i]
			if s.Type() == TypeBool && s.Check("y") == nil && s.Check("n") == nil && s.Choice() == nil {
				name = s.Name()
				break
			}
		}
	}
	k.Set(name, "y")
	vals := []string{"n", "y"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := k.Set(name, vals[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

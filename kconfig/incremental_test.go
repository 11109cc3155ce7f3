package kconfig

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Set and Unset re-evaluate incrementally; a second model of the same tree
// re-evaluates everything after each assignment. Both must report the same
// changes and end with the same values, on random trees and on the Cube
// trees (and Buildroot's with BUILDROOT_DIR).

func compareModels(t *testing.T, inc, full *Kconfig, r *rand.Rand, steps int, label string) (fails int) {
	t.Helper()
	syms := inc.Symbols()
	var cands []string
	for _, s := range syms {
		if !s.IsChoice() {
			cands = append(cands, s.Name())
		}
	}
	if len(cands) == 0 {
		return 0
	}
	values := func(s *Symbol) []string {
		switch s.Type() {
		case TypeBool:
			return []string{"y", "n"}
		case TypeTristate:
			return []string{"y", "m", "n"}
		case TypeInt:
			return []string{"0", "1", "7", "100", "-3", "65536"}
		case TypeHex:
			return []string{"0x0", "0x10", "ff", "0xFFFF"}
		}
		return []string{"", "a", "hello world"}
	}
	for step := 0; step < steps; step++ {
		name := cands[r.Intn(len(cands))]
		var ci, cf []Change
		var ei, ef error
		op := ""
		if r.Intn(8) == 0 {
			op = "unset " + name
			ci, ei = inc.Unset(name)
			cf, ef = full.Unset(name)
		} else {
			vs := values(inc.Lookup(name))
			v := vs[r.Intn(len(vs))]
			op = "set " + name + "=" + v
			ci, ei = inc.Set(name, v)
			cf, ef = full.Set(name, v)
		}
		if os.Getenv("KC_TRACE") == label {
			t.Logf("step %d %s -> %v / %v", step, op, changeList(inc, ci), changeList(full, cf))
		}
		if fmt.Sprint(ei) != fmt.Sprint(ef) {
			t.Errorf("%s step %d %s: error %v, with full re-evaluation %v", label, step, op, ei, ef)
			fails++
			continue
		}
		if a, b := changeList(inc, ci), changeList(full, cf); a != b {
			t.Errorf("%s step %d %s: changes\n%s\nwith full re-evaluation\n%s", label, step, op, a, b)
			fails++
		}
		fsyms := full.Symbols()
		for i, s := range inc.Symbols() {
			f := fsyms[i]
			if s.Value() != f.Value() || (s.Written() != f.Written() && !orderDependent(f)) || s.Visibility() != f.Visibility() {
				t.Errorf("%s step %d %s: %s = %q written %v, with full re-evaluation %q written %v", label, step, op,
					s.Name(), s.Value(), s.Written(), f.Value(), f.Written())
				fails++
				break
			}
		}
		if step%10 == 9 {
			if a, b := configWithout(inc), configWithout(full); a != b {
				t.Errorf("%s step %d: .config differs", label, step)
				fails++
			}
		}
		if fails > 3 {
			t.FailNow()
		}
	}
	return fails
}

// orderDependent: whether a hidden choice member is written depends on
// the order conf happens to evaluate in (the choice marks its visible
// members as written using their visibility at that moment); a full pass
// and an incremental update may disagree, with no effect on any value.
func orderDependent(s *Symbol) bool {
	return s.Choice() != nil && s.Visibility() == No
}

func changeList(k *Kconfig, cs []Change) string {
	s := ""
	for _, c := range cs {
		if c.Old == c.New && orderDependent(c.Symbol) {
			continue
		}
		s += c.String() + "\n"
	}
	return s
}

// configWithout is the .config without the lines of hidden choice members.
func configWithout(k *Kconfig) string {
	var out []string
	for _, l := range strings.Split(string(k.ConfigText()), "\n") {
		if name, _, ok := assignment(l, ""); ok {
			if s := k.Lookup(name); s != nil && orderDependent(s) {
				continue
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestIncrementalSetRandomTrees(t *testing.T) {
	n := *randomTrees
	pass, loops := 0, 0
	for seed := int64(1); seed <= int64(n); seed++ {
		files, syms := genTree(seed+5000, seed%3 == 0, false)
		tree := filepath.Join(t.TempDir(), "tree")
		writeTree(t, tree, files)
		writeTree(t, tree, map[string]string{".config": genConfig(seed*17, syms, "")})
		env := map[string]string{"RANDVER": "1.0", "SUBDIR": "sub", "srctree": tree}
		load := func() *Kconfig {
			k, err := Load("Kconfig", Options{Dir: tree, Stderr: ioDiscard{}, Stdout: ioDiscard{},
				LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }})
			if err != nil {
				return nil
			}
			k.ReadConfig(filepath.Join(tree, ".config"))
			return k
		}
		inc, full := load(), load()
		if inc == nil {
			continue // a tree conf refuses too
		}
		if inc.readerGraph(); len(inc.loopy) > 0 {
			loops++
		}
		full.noIncremental = true
		if compareModels(t, inc, full, rand.New(rand.NewSource(seed)), 60, fmt.Sprintf("tree %d", seed)) == 0 {
			pass++
		}
	}
	t.Logf("incremental Set on random trees: %d trees agree (%d with loops, re-evaluated in full)", pass, loops)
}

func TestIncrementalSetCubeAndBuildroot(t *testing.T) {
	for name, dir := range cubeTrees(t) {
		inc, full := loadCubeDir(t, dir), loadCubeDir(t, dir)
		if inc.readerGraph(); len(inc.loopy) > 0 {
			t.Errorf("%s: %d symbols on dependency loops", name, len(inc.loopy))
		}
		full.noIncremental = true
		compareModels(t, inc, full, rand.New(rand.NewSource(1)), 300, name)
	}
	if os.Getenv("BUILDROOT_DIR") == "" {
		return
	}
	e := buildrootBench(&testing.B{})
	load := func() *Kconfig {
		k, err := Load("Config.in", Options{Dir: e.br, LookupEnv: e.lookup, Stderr: ioDiscard{}})
		if err != nil {
			t.Fatal(err)
		}
		k.ReadConfig(e.config)
		return k
	}
	inc, full := load(), load()
	if inc.readerGraph(); len(inc.loopy) > 0 {
		t.Errorf("buildroot: %d symbols on dependency loops", len(inc.loopy))
	}
	full.noIncremental = true
	compareModels(t, inc, full, rand.New(rand.NewSource(2)), 500, "buildroot")
}

func loadCubeDir(t *testing.T, dir string) *Kconfig {
	k, err := LoadStandalone(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ReadDefconfig(filepath.Join(dir, "configs", "cube_defconfig")); err != nil {
		t.Fatal(err)
	}
	return k
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

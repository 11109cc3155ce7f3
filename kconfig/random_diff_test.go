package kconfig

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var randomTrees = flag.Int("random-trees", 60, "number of random Kconfig trees in the differential tests")

type diffMode struct {
	name  string
	args  []string
	setup func(cfg, def string) map[string]string
	env   map[string]string
	stdin string
	what  compareWhat
}

func withConfig(cfg, _ string) map[string]string { return map[string]string{".config": cfg} }
func withDef(_, def string) map[string]string    { return map[string]string{"def": def} }
func nothing(_, _ string) map[string]string      { return nil }

// randomModes are the conf invocations compared on every random tree.
func randomModes(seed int64, buildroot bool) []diffMode {
	modes := []diffMode{
		{name: "olddefconfig", args: []string{"--olddefconfig", "Kconfig"}, setup: withConfig},
		{name: "defconfig", args: []string{"--defconfig=def", "Kconfig"}, setup: withDef},
		{name: "savedefconfig", args: []string{"--savedefconfig=saved", "Kconfig"}, setup: withConfig},
		{name: "alldefconfig", args: []string{"--alldefconfig", "Kconfig"}, setup: nothing},
		{name: "allyesconfig", args: []string{"--allyesconfig", "Kconfig"}, setup: nothing},
		{name: "allnoconfig", args: []string{"--allnoconfig", "Kconfig"}, setup: nothing},
	}
	if buildroot {
		modes = append(modes,
			diffMode{name: "randconfig", args: []string{"--randconfig", "Kconfig"}, setup: nothing,
				env: map[string]string{"KCONFIG_SEED": strconv.FormatInt(seed, 10)}},
			diffMode{name: "randconfig-p", args: []string{"--randconfig", "Kconfig"}, setup: nothing,
				env: map[string]string{"KCONFIG_SEED": fmt.Sprintf("0x%x", seed*7919), "KCONFIG_PROBABILITY": "20:30"}},
			diffMode{name: "listnewconfig", args: []string{"--listnewconfig", "Kconfig"}, setup: withConfig},
			diffMode{name: "syncconfig", args: []string{"--syncconfig", "Kconfig"}, setup: func(cfg, _ string) map[string]string {
				return map[string]string{".config": cfg, "auto/.keep": ""}
			}},
			diffMode{name: "oldconfig", args: []string{"--oldconfig", "Kconfig"}, setup: withConfig, stdin: "y\n\n2\nn\nhello\n"},
			diffMode{name: "oldaskconfig", args: []string{"--oldaskconfig", "Kconfig"}, setup: withConfig, stdin: "\n?\ny\nm\n1\nfoo\n"},
			diffMode{name: "prefix", args: []string{"-s", "--olddefconfig", "Kconfig"}, setup: withConfig,
				env: map[string]string{"CONFIG_": "CONFIG_"}},
		)
	}
	for i := range modes {
		if buildroot {
			modes[i].what = compareAll
		} else {
			// Debian's kconfig-conf prints other messages; compare files.
			modes[i].what = compareWhat{rc: true, files: map[string]bool{".config": true, "saved": true}}
		}
	}
	return modes
}

// diffRandomTrees runs every mode on random trees with bin and with
// RunConf and reports the outcome as "N passed, M failed".
func diffRandomTrees(t *testing.T, bin string, buildroot bool, n int, seedBase int64) {
	pass, fail, known := 0, 0, 0
	shown := 0
	for i := 0; i < n; i++ {
		seed := seedBase + int64(i)
		files, syms := genTree(seed, buildroot && seed%3 == 0, !buildroot)
		tree := filepath.Join(t.TempDir(), "tree")
		writeTree(t, tree, files)
		cfg := genConfig(seed*31+1, syms, "")
		def := genConfig(seed*31+2, syms, "")
		for _, m := range randomModes(seed, buildroot) {
			base := filepath.Join(t.TempDir(), m.name)
			env := map[string]string{"RANDVER": "1.0", "SUBDIR": "sub"}
			for k, v := range m.env {
				env[k] = v
			}
			if m.name == "prefix" {
				// the same tree, but every symbol spelled with CONFIG_
				m.setup = func(_, _ string) map[string]string {
					return map[string]string{".config": genConfig(seed*31+3, syms, "CONFIG_")}
				}
			}
			c := confCase{tree: tree, setup: m.setup(cfg, def), args: m.args, env: env, stdin: m.stdin}
			ref := runExternal(t, bin, c, base+"-ref")
			ours := runOurs(t, c, base+"-ours")
			if !buildroot {
				ignore411(t, tree, env, ref, ours)
			}
			if d := diffResults(ref, ours, m.what); d != "" {
				if !buildroot && os.Getenv("BUILDROOT_DIR") != "" {
					// Is it a 4.11/4.17 difference? Ask Buildroot's 4.17.
					br := runExternal(t, buildrootConf(t), c, base+"-br")
					if diffResults(br, ours, m.what) == "" {
						known++
						if os.Getenv("KCONFIG_SHOW411") != "" {
							t.Logf("seed %d %s: 4.11 differs from 4.17, we match 4.17:\n%s", seed, m.name, d)
						}
						continue
					}
				}
				fail++
				if shown < 5 {
					shown++
					t.Errorf("seed %d, %s:\n%s", seed, m.name, d)
					if os.Getenv("KCONFIG_KEEP") != "" {
						keep := filepath.Join(os.Getenv("KCONFIG_KEEP"), fmt.Sprintf("seed%d-%s", seed, m.name))
						writeTree(t, keep, files)
						writeTree(t, keep, c.setup)
						t.Logf("kept in %s", keep)
					}
				}
				continue
			}
			pass++
		}
	}
	t.Logf("random trees: %d passed, %d failed", pass, fail)
	if known > 0 {
		t.Logf("%d more differ from Linux 4.11 where Buildroot's 4.17 agrees with us", known)
	}
}

// ignore411 removes from Debian's .config the lines where Linux 4.11's
// kconfig (Debian's kconfig-conf) knowingly differs from 4.17
// (Buildroot's): 4.11 writes "# X is not set" for a bool that cannot be
// set (no visible prompt) but has a default that is n; 4.17 leaves it
// out. Which symbols those are is read from our result.
func ignore411(t *testing.T, tree string, env map[string]string, ref, ours runResult) {
	rc, ok1 := ref.files[".config"]
	oc, ok2 := ours.files[".config"]
	if !ok1 || !ok2 || rc == oc {
		return
	}
	have := map[string]bool{}
	for _, l := range strings.Split(oc, "\n") {
		have[l] = true
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{".config": oc})
	k, err := Load("Kconfig", Options{Dir: dir, LookupEnv: func(n string) (string, bool) {
		if n == "srctree" {
			return tree, true
		}
		v, ok := env[n]
		return v, ok
	}})
	if err != nil {
		return
	}
	k.ReadConfig(filepath.Join(dir, ".config"))
	var keep []string
	for _, l := range strings.SplitAfter(rc, "\n") {
		line := strings.TrimSuffix(l, "\n")
		if !have[line] && strings.HasPrefix(line, "# ") && strings.HasSuffix(line, " is not set") {
			s := k.Lookup(strings.TrimSuffix(strings.TrimPrefix(line, "# "), " is not set"))
			if s != nil && s.Visibility() == No && s.firstProp(pDefault) != nil {
				continue
			}
		}
		keep = append(keep, l)
	}
	ref.files[".config"] = strings.Join(keep, "")
}

// TestRandomTreesDebian compares with Debian's kconfig-conf (in CI).
// kconfig-conf is Linux 4.11 kconfig: it is only compared on the files it
// writes, and only on constructs where 4.11 and 4.17 agree.
func TestRandomTreesDebian(t *testing.T) {
	bin := debianConf(t)
	diffRandomTrees(t, bin, false, *randomTrees, 1000)
}

// TestRandomTreesBuildroot compares everything (files, output, warnings,
// exit status) with Buildroot's own conf, on every mode including
// randconfig and the interactive ones.
func TestRandomTreesBuildroot(t *testing.T) {
	bin := buildrootConf(t)
	diffRandomTrees(t, bin, true, *randomTrees, 1)
}

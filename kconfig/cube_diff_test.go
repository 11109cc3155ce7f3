package kconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// The Cube external trees (the upstream one from the shared test vectors
// and the repository's own buildroot/) in standalone form, the built-in
// base written out as a Kconfig file, compared with Debian's kconfig-conf
// (in CI) and Buildroot's conf (BUILDROOT_DIR) in every mode, on
// cube_defconfig and perturbed copies of it.

// cubeTrees are the Cube external trees to test with.
func cubeTrees(t *testing.T) map[string]string {
	t.Helper()
	trees := map[string]string{"upstream": cubeExternal(t)}
	if _, err := os.Stat(filepath.Join("..", "buildroot", "external.desc")); err == nil {
		trees["repository"] = filepath.Join("..", "buildroot")
	}
	return trees
}

// cubeStandaloneTree writes the standalone tree LoadStandalone builds for
// a Cube external tree to a directory, with Kconfig as its top file.
func cubeStandaloneTree(t *testing.T, dir string) (tree, defconfig, config string) {
	t.Helper()
	ext, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, err := LoadStandalone(ext, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	types := map[string]Type{}
	for _, s := range k.Symbols() {
		if s.StandIn() {
			names = append(names, s.Name())
			types[s.Name()] = s.Type()
		}
	}
	sort.Strings(names)
	desc, err := ReadExternalDesc(ext)
	if err != nil {
		t.Fatal(err)
	}
	tree = filepath.Join(t.TempDir(), "tree")
	writeTree(t, tree, map[string]string{"Kconfig": string(standaloneText(ext, desc, names, types))})
	def, err := os.ReadFile(filepath.Join(ext, "configs", "cube_defconfig"))
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ReadDefconfig(filepath.Join(ext, "configs", "cube_defconfig")); err != nil {
		t.Fatal(err)
	}
	cfg := k.ConfigText()
	return tree, string(def), string(cfg)
}

func diffCubeStandalone(t *testing.T, bin string, buildroot bool) {
	for name, dir := range cubeTrees(t) {
		t.Run(name, func(t *testing.T) { diffCubeStandaloneTree(t, bin, buildroot, dir) })
	}
}

func diffCubeStandaloneTree(t *testing.T, bin string, buildroot bool, dir string) {
	tree, def, cfg := cubeStandaloneTree(t, dir)
	pass, fail := 0, 0
	for s := int64(0); s < 12; s++ {
		c, d := cfg, def
		if s > 0 {
			c, d = perturb(cfg, s), perturb(def, s+100)
		}
		for _, m := range randomModes(s+1, buildroot) {
			if m.name == "prefix" {
				continue // the tree's symbols are spelled with BR2_
			}
			base := filepath.Join(t.TempDir(), m.name)
			cc := confCase{tree: tree, setup: m.setup(c, d), args: m.args, env: m.env, stdin: m.stdin}
			ref := runExternal(t, bin, cc, base+"-ref")
			ours := runOurs(t, cc, base+"-ours")
			if !buildroot {
				ignore411(t, tree, nil, ref, ours)
			}
			if diff := diffResults(ref, ours, m.what); diff != "" {
				fail++
				if fail <= 5 {
					t.Errorf("perturbation %d, %s:\n%s", s, m.name, diff)
				}
				continue
			}
			pass++
		}
	}
	t.Logf("Cube external tree (standalone base): %s", fmt.Sprintf("%d passed, %d failed", pass, fail))
}

func TestCubeStandaloneDebian(t *testing.T) {
	diffCubeStandalone(t, debianConf(t), false)
}

func TestCubeStandaloneBuildroot(t *testing.T) {
	diffCubeStandalone(t, buildrootConf(t), true)
}

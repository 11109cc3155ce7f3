package kconfig

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// The comparisons against Buildroot's own conf on Buildroot's own tree
// (BUILDROOT_DIR): every defconfig (or an even sample of them unless
// KCONFIG_ALL_DEFCONFIGS=1), all*config, randconfig outputs fed back
// through olddefconfig and savedefconfig, and perturbed .config files.
// The tree is parsed once per environment and reset between runs.

type brTree struct {
	br   string
	ref  string
	out  string // BASE_DIR, with the generated .br2-external.in.* files
	env  map[string]string
	k    *Kconfig
	st   *state
	so   bytes.Buffer
	se   bytes.Buffer
	runs int
}

var brVersion = regexp.MustCompile(`(?m)^export BR2_VERSION := (.*)$`)

// setupBuildroot prepares the environment make gives conf and loads the
// tree with it (skipLegacy: SKIP_LEGACY=y as for all*config/randconfig).
func setupBuildroot(t *testing.T, externals []string, skipLegacy bool) *brTree {
	t.Helper()
	return setupBuildrootDefconfig(t, externals, skipLegacy, "")
}

// setupBuildrootDefconfig is setupBuildroot with BR2_DEFCONFIG naming
// defconfig (read once at load time, as conf reads option env), Buildroot's
// qemu_x86_64_defconfig if empty.
func setupBuildrootDefconfig(t *testing.T, externals []string, skipLegacy bool, defconfig string) *brTree {
	t.Helper()
	br := testenv.BuildrootDir(t)
	ref := buildrootConf(t)
	testenv.Tool(t, "bash", "git", "sed")
	out := t.TempDir()
	args := append([]string{"-d", out}, externals...)
	cmd := exec.Command("support/scripts/br2-external", args...)
	cmd.Dir = br
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("br2-external: %v\n%s", err, o)
	}
	mk, err := os.ReadFile(filepath.Join(br, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := brVersion.FindSubmatch(mk)
	if m == nil {
		t.Fatal("no BR2_VERSION in Buildroot's Makefile")
	}
	env := map[string]string{
		"srctree": br, "CONFIG_": "", "LC_ALL": "C", "TZ": "UTC",
		"BR2_VERSION": string(m[1]), "BR2_VERSION_FULL": string(m[1]), "HOSTARCH": "x86_64", "HOST_GCC_VERSION": "12",
		"BR2_HIDE_SECONDARY_TARGET_OPTIONS": "n", "BASE_DIR": out, "SKIP_LEGACY": "",
		"BR2_DEFCONFIG":      filepath.Join(br, "configs", "qemu_x86_64_defconfig"),
		"BR2_EXTERNAL_NAMES": "",
	}
	if defconfig != "" {
		env["BR2_DEFCONFIG"] = defconfig
	}
	if skipLegacy {
		env["SKIP_LEGACY"] = "y"
	}
	var names []string
	for _, e := range externals {
		d, err := ReadExternalDesc(e)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, d.Name)
		abs, _ := filepath.Abs(e)
		env["BR2_EXTERNAL_"+d.Name+"_PATH"] = abs
		env["BR2_EXTERNAL_"+d.Name+"_DESC"] = d.Desc
		env["BR2_EXTERNAL_"+d.Name+"_VERSION"] = ""
	}
	env["BR2_EXTERNAL_NAMES"] = strings.Join(names, " ")
	b := &brTree{br: br, ref: ref, out: out, env: env}
	b.k, err = Load("Config.in", Options{Dir: br, LookupEnv: b.lookup, Stdout: &b.so, Stderr: &b.se})
	if err != nil {
		t.Fatal(err)
	}
	b.st = b.k.snapshot()
	return b
}

func (b *brTree) lookup(n string) (string, bool) {
	v, ok := b.env[n]
	return v, ok
}

type brRun struct {
	args  []string
	env   map[string]string // on top of the tree's
	setup map[string]string // files in the run directory
}

// runDir creates a fresh run directory with the setup files.
func (b *brTree) runDir(t *testing.T, r brRun, tag string) string {
	b.runs++
	dir := filepath.Join(b.out, fmt.Sprintf("run%d-%s", b.runs, tag))
	writeTree(t, dir, r.setup)
	os.MkdirAll(filepath.Join(dir, "build"), 0o755)
	return dir
}

func (b *brTree) runEnv(dir string, extra map[string]string) map[string]string {
	env := map[string]string{}
	for k, v := range b.env {
		env[k] = v
	}
	env["BR2_CONFIG"] = filepath.Join(dir, ".config")
	env["KCONFIG_CONFIG"] = env["BR2_CONFIG"]
	env["KCONFIG_AUTOCONFIG"] = filepath.Join(dir, "build", "auto.conf")
	env["KCONFIG_AUTOHEADER"] = filepath.Join(dir, "build", "autoconf.h")
	env["KCONFIG_TRISTATE"] = filepath.Join(dir, "build", "tristate.config")
	for k, v := range extra {
		env[k] = strings.ReplaceAll(v, "$RUN", dir)
	}
	return env
}

func expandArgs(args []string, dir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "$RUN", dir)
	}
	return out
}

// runRef runs Buildroot's conf in the Buildroot tree, as make does.
func (b *brTree) runRef(t *testing.T, r brRun) runResult {
	dir := b.runDir(t, r, "ref")
	env := b.runEnv(dir, r.env)
	cmd := exec.Command(b.ref, expandArgs(r.args, dir)...)
	cmd.Dir = b.br
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	rc := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		rc = ee.ExitCode()
	}
	res := runResult{rc: rc, stdout: strings.ReplaceAll(so.String(), dir, "$RUN"),
		stderr: strings.ReplaceAll(se.String(), dir, "$RUN"), files: collectFiles(t, dir)}
	os.RemoveAll(dir)
	return res
}

// runOurs runs the same conf command line on the already loaded tree.
func (b *brTree) runOurs(t *testing.T, r brRun) runResult {
	dir := b.runDir(t, r, "ours")
	env := b.runEnv(dir, r.env)
	saved := b.env
	b.env = env
	defer func() { b.env = saved }()
	b.k.restore(b.st)
	b.so.Reset()
	b.se.Reset()
	cr := &confRun{io: ConfIO{Stdin: strings.NewReader(""), Stdout: &b.so, Stderr: &b.se, Dir: b.br, LookupEnv: b.lookup},
		prog: "conf", indent: 1}
	if !cr.parseArgs(expandArgs(r.args, dir)) {
		t.Fatalf("bad conf arguments %q", r.args)
	}
	rc := cr.execute(b.k)
	res := runResult{rc: rc, stdout: strings.ReplaceAll(b.so.String(), dir, "$RUN"),
		stderr: strings.ReplaceAll(b.se.String(), dir, "$RUN"), files: collectFiles(t, dir)}
	os.RemoveAll(dir)
	return res
}

// compare runs r on both and reports a difference as a test error.
func (b *brTree) compare(t *testing.T, name string, r brRun) (runResult, bool) {
	ref := b.runRef(t, r)
	ours := b.runOurs(t, r)
	if d := diffResults(ref, ours, compareAll); d != "" {
		t.Errorf("%s: differs from Buildroot's conf:\n%s", name, d)
		return ref, false
	}
	return ref, true
}

// perturb damages a .config the ways hand-edited files are damaged.
func perturb(cfg string, seed int64) string {
	r := rand.New(rand.NewSource(seed))
	lines := strings.Split(strings.TrimSuffix(cfg, "\n"), "\n")
	for n := 5 + r.Intn(20); n > 0; n-- {
		i := r.Intn(len(lines))
		l := lines[i]
		name, val, isAssign := assignment(l, "")
		switch r.Intn(11) {
		case 0, 1: // flip a boolean
			if isAssign && val == "y" {
				lines[i] = "# " + name + " is not set"
			} else if isAssign && val == "n" {
				lines[i] = name + "=y"
			}
		case 2: // drop a line
			lines = append(lines[:i], lines[i+1:]...)
		case 3: // assign twice
			if isAssign {
				lines = append(lines, name+"=y")
			}
		case 4: // odd string values
			if isAssign && strings.HasPrefix(l, name+"=\"") {
				lines[i] = name + "=" + []string{"\"a \\\"quoted\\\" \\\\ value\"", "\"unterminated", "noquotes", "\"x\" trailing"}[r.Intn(4)]
			}
		case 5: // numbers out of range or malformed
			if isAssign && val != "" && isDigit(val[0]) {
				lines[i] = name + "=" + []string{"99999999", "-1", "12x", "0x10", "ff", "007"}[r.Intn(6)]
			}
		case 6:
			lines = append(lines[:i], append([]string{[]string{"garbage", "BR2_NOT_A_SYMBOL=y", "# BR2_NOT_A_SYMBOL is not set",
				"BR2_PACKAGE_BUSYBOX=m", "#BR2_PACKAGE_BUSYBOX is not set", "BR2_PACKAGE_BUSYBOX = y"}[r.Intn(6)]}, lines[i:]...)...)
		case 7: // =m on a bool
			if isAssign && val == "y" {
				lines[i] = name + "=m"
			}
		case 8: // CRLF
			lines[i] = l + "\r"
		case 9: // enable a random known symbol
			lines = append(lines, []string{"BR2_PACKAGE_OPENSSH=y", "BR2_PACKAGE_PYTHON3=y", "BR2_TOOLCHAIN_BUILDROOT_CXX=y",
				"BR2_PACKAGE_QT6=y", "BR2_arm=y", "BR2_INIT_SYSTEMD=y", "BR2_LINUX_KERNEL=y", "BR2_TARGET_ROOTFS_EXT2=y"}[r.Intn(8)])
		case 10: // swap two lines
			j := r.Intn(len(lines))
			lines[i], lines[j] = lines[j], lines[i]
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func selectedDefconfigs(t *testing.T, br string) []string {
	all, err := filepath.Glob(filepath.Join(br, "configs", "*_defconfig"))
	if err != nil || len(all) == 0 {
		t.Fatalf("no defconfigs in %s/configs", br)
	}
	sort.Strings(all)
	if os.Getenv("KCONFIG_ALL_DEFCONFIGS") == "1" {
		return all
	}
	var out []string
	for i := 0; i < len(all); i += 10 {
		out = append(out, all[i])
	}
	return out
}

// TestBuildrootDefconfigs: defconfig, savedefconfig of the result, and
// olddefconfig of a perturbed copy, for Buildroot's defconfigs.
func TestBuildrootDefconfigs(t *testing.T) {
	b := setupBuildroot(t, nil, false)
	pass, fail := 0, 0
	for i, f := range selectedDefconfigs(t, b.br) {
		name := filepath.Base(f)
		ref, ok := b.compare(t, name+" defconfig", brRun{args: []string{"--defconfig=" + f, "Config.in"}})
		count(ok, &pass, &fail)
		cfg := ref.files[".config"]
		_, ok = b.compare(t, name+" savedefconfig", brRun{args: []string{"--savedefconfig=$RUN/defconfig", "Config.in"},
			setup: map[string]string{".config": cfg}})
		count(ok, &pass, &fail)
		_, ok = b.compare(t, name+" perturbed olddefconfig", brRun{args: []string{"--olddefconfig", "Config.in"},
			setup: map[string]string{".config": perturb(cfg, int64(i))}})
		count(ok, &pass, &fail)
	}
	t.Logf("Buildroot defconfigs: %d passed, %d failed", pass, fail)
}

// followUp feeds cfg (what an all*config or randconfig wrote) through
// make's olddefconfig and then savedefconfig, comparing each with conf.
func (b *brTree) followUp(t *testing.T, name, cfg string, pass, fail *int) {
	ref, ok := b.compare(t, name+" then olddefconfig", brRun{args: []string{"--olddefconfig", "Config.in"},
		setup: map[string]string{".config": cfg}})
	count(ok, pass, fail)
	_, ok = b.compare(t, name+" then savedefconfig", brRun{args: []string{"--savedefconfig=$RUN/defconfig", "Config.in"},
		setup: map[string]string{".config": ref.files[".config"]}})
	count(ok, pass, fail)
}

func count(ok bool, pass, fail *int) {
	if ok {
		*pass++
	} else {
		*fail++
	}
}

// TestBuildrootAllAndRand: all*config and randconfig (SKIP_LEGACY=y, as
// make runs them) followed by make's olddefconfig and a savedefconfig.
func TestBuildrootAllAndRand(t *testing.T) {
	skip := setupBuildroot(t, nil, true)
	norm := setupBuildroot(t, nil, false)
	pass, fail := 0, 0
	followUp := func(name, cfg string) { norm.followUp(t, name, cfg, &pass, &fail) }
	for _, mode := range []string{"allyesconfig", "allnoconfig", "alldefconfig"} {
		ref, ok := skip.compare(t, mode, brRun{args: []string{"--" + mode, "Config.in"}})
		count(ok, &pass, &fail)
		followUp(mode, ref.files[".config"])
	}
	seeds := 4
	if os.Getenv("KCONFIG_ALL_DEFCONFIGS") == "1" {
		seeds = 40
	}
	for s := 1; s <= seeds; s++ {
		env := map[string]string{"KCONFIG_SEED": strconv.Itoa(s * 7777)}
		if s%4 == 0 {
			env["KCONFIG_PROBABILITY"] = strconv.Itoa(s % 100)
		}
		ref, ok := skip.compare(t, fmt.Sprintf("randconfig seed %d", s*7777), brRun{args: []string{"--randconfig", "Config.in"}, env: env})
		count(ok, &pass, &fail)
		followUp(fmt.Sprintf("randconfig seed %d", s*7777), ref.files[".config"])
	}
	t.Logf("Buildroot all*config and randconfig: %d passed, %d failed", pass, fail)
}

// TestBuildrootCubeExternal: the Cube external trees (upstream, from the
// shared test vectors, and the repository's own) loaded as a BR2_EXTERNAL
// with Buildroot's tree: cube_defconfig and a sample of Buildroot's
// defconfigs through defconfig, savedefconfig and perturbed olddefconfig,
// then all*config and randconfig followed by olddefconfig and
// savedefconfig.
func TestBuildrootCubeExternal(t *testing.T) {
	testenv.BuildrootDir(t)
	for name, dir := range cubeTrees(t) {
		t.Run(name, func(t *testing.T) { diffBuildrootCube(t, dir) })
	}
}

func diffBuildrootCube(t *testing.T, ext string) {
	ext, _ = filepath.Abs(ext)
	cube := filepath.Join(ext, "configs", "cube_defconfig")
	// BR2_DEFCONFIG names cube_defconfig throughout, as after make
	// cube_defconfig; the Buildroot defconfigs are loaded under that name.
	b := setupBuildrootDefconfig(t, []string{ext}, false, cube)
	skip := setupBuildrootDefconfig(t, []string{ext}, true, cube)
	pass, fail := 0, 0
	defconfigs := []string{cube}
	all := selectedDefconfigs(t, b.br)
	for i := 0; i < len(all); i += 4 {
		defconfigs = append(defconfigs, all[i])
	}
	for i, f := range defconfigs {
		name := filepath.Base(f)
		ref, ok := b.compare(t, name+" defconfig", brRun{args: []string{"--defconfig=" + f, "Config.in"}})
		count(ok, &pass, &fail)
		cfg := ref.files[".config"]
		_, ok = b.compare(t, name+" savedefconfig", brRun{args: []string{"--savedefconfig=$RUN/defconfig", "Config.in"},
			setup: map[string]string{".config": cfg}})
		count(ok, &pass, &fail)
		seeds := 1
		if f == cube {
			seeds = 10
		}
		for s := 0; s < seeds; s++ {
			_, ok = b.compare(t, fmt.Sprintf("%s perturbed olddefconfig %d", name, s), brRun{args: []string{"--olddefconfig", "Config.in"},
				setup: map[string]string{".config": perturb(cfg, int64(1000*i+s))}})
			count(ok, &pass, &fail)
		}
	}
	followUp := func(name, cfg string) { b.followUp(t, name, cfg, &pass, &fail) }
	for _, mode := range []string{"allyesconfig", "allnoconfig", "alldefconfig"} {
		ref, ok := skip.compare(t, mode, brRun{args: []string{"--" + mode, "Config.in"}})
		count(ok, &pass, &fail)
		followUp(mode, ref.files[".config"])
	}
	for s := 1; s <= 8; s++ {
		env := map[string]string{"KCONFIG_SEED": strconv.Itoa(s * 4242)}
		ref, ok := skip.compare(t, fmt.Sprintf("randconfig seed %d", s*4242), brRun{args: []string{"--randconfig", "Config.in"}, env: env})
		count(ok, &pass, &fail)
		followUp(fmt.Sprintf("randconfig seed %d", s*4242), ref.files[".config"])
	}
	t.Logf("Buildroot + Cube external: %d passed, %d failed", pass, fail)
}

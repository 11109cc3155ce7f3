// Package brenv reproduces what Buildroot's make gives its Kconfig tool:
// the generated BR2_EXTERNAL fragments in the output directory (as
// support/scripts/br2-external writes them) and the environment conf runs
// with (BR2_VERSION_FULL, HOSTARCH, HOST_GCC_VERSION, BASE_DIR,
// BR2_EXTERNAL_<NAME>_PATH, KCONFIG_AUTOCONFIG, ...). With it, cube-hal's
// defconfig, olddefconfig, savedefconfig, get and set do what the make
// targets do, without make (whose savedefconfig takes 14-31 s because it
// parses every package makefile first).
package brenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
	"github.com/ultravioletrs/cube-hal/kconfig"
)

// External is one BR2_EXTERNAL tree.
type External struct {
	Name    string // from external.desc
	Desc    string
	Path    string // absolute, canonical
	Version string // support/scripts/setlocalversion of the tree ("" outside git); after PrepareLate, once Wait returns
}

// Env is a Buildroot tree and output directory prepared like make does.
type Env struct {
	Topdir    string // the Buildroot tree (TOPDIR)
	Output    string // BASE_DIR: O=, canonical
	ConfigDir string // where .config lives: TOPDIR for O=TOPDIR/output, else O
	Externals []External
	// Vars is the environment make gives conf, on top of the process's.
	// After PrepareLate, the variables the helpers compute (see LateEnv)
	// are only in it once Wait returns.
	Vars map[string]string

	lookup func(string) (string, bool)
	// pending are the variables the helpers are still computing
	// (PrepareLate), by name; nil once Wait has put them in Vars.
	pending map[string]*lateVar
}

// lateVar is a variable a helper computes: val is set before done is
// closed.
type lateVar struct {
	done chan struct{}
	val  string
}

// Options tune Prepare for tests and special setups.
type Options struct {
	// Run executes a helper (setlocalversion, gcc) and returns its
	// standard output; default: os/exec in dir. It is called from
	// several goroutines at once.
	Run func(dir string, name string, args ...string) (string, error)
	// LookupEnv is the user's environment; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

var versionLine = regexp.MustCompile(`(?m)^export BR2_VERSION := *(.*?)\s*$`)

// Prepare validates the external trees, writes the .br2-external.mk and
// .br2-external.in.* files into output, and computes the environment.
func Prepare(topdir, output string, externals []string, o Options) (*Env, error) {
	e, err := prepare(topdir, output, externals, o, false)
	if err != nil {
		return nil, err
	}
	if err := e.Wait(); err != nil {
		return nil, err
	}
	return e, nil
}

// PrepareLate is Prepare that returns while the helpers make runs
// (Buildroot's and each external's setlocalversion, git over the whole
// tree; gcc -v and gcc --version) are still computing their variables:
// BR2_VERSION_FULL, HOSTARCH, HOST_GCC_VERSION and each
// BR2_EXTERNAL_<NAME>_VERSION. LookupEnv waits for the one it is asked,
// so a Kconfig load given LateEnv and LateDefaults as its Options runs
// meanwhile and gets the values make would give it. Until Wait returns,
// the fragments may carry the versions the previous run wrote (the load
// replaces them); Wait writes the final ones. Call Wait before reading
// Vars or the Externals' versions.
func PrepareLate(topdir, output string, externals []string, o Options) (*Env, error) {
	return prepare(topdir, output, externals, o, true)
}

// LateEnv names the environment variables still being computed after
// PrepareLate (for kconfig.Options.LateEnv); nil after Wait.
func (e *Env) LateEnv() []string {
	var names []string
	for n := range e.pending {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LateDefaults maps the BR2_EXTERNAL_<NAME>_VERSION symbols, whose
// defaults the generated .br2-external.in.paths gives, to the variables
// delivering the versions after PrepareLate (for
// kconfig.Options.LateDefaults); nil after Wait.
func (e *Env) LateDefaults() map[string]string {
	if e.pending == nil {
		return nil
	}
	m := map[string]string{}
	for _, x := range e.Externals {
		n := externalVersionVar(x.Name)
		m[n] = n
	}
	return m
}

func externalVersionVar(name string) string { return "BR2_EXTERNAL_" + name + "_VERSION" }

// Wait waits for the helpers PrepareLate left running, puts their
// variables in Vars and the versions in Externals, and writes the
// fragments with them (only the files that change). Once it has returned
// it does nothing.
func (e *Env) Wait() error {
	if e.pending == nil {
		return nil
	}
	for n, v := range e.pending {
		<-v.done
		e.Vars[n] = v.val
	}
	e.pending = nil
	for i := range e.Externals {
		e.Externals[i].Version = e.Vars[externalVersionVar(e.Externals[i].Name)]
	}
	return e.writeFragments()
}

func prepare(topdir, output string, externals []string, o Options, late bool) (*Env, error) {
	if o.Run == nil {
		o.Run = runCmd
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	top, err := filepath.Abs(topdir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(output, 0o755); err != nil {
		return nil, fmt.Errorf("output directory %s: %w", output, err)
	}
	out, err := filepath.EvalSymlinks(output)
	if err != nil {
		return nil, err
	}
	if out, err = filepath.Abs(out); err != nil {
		return nil, err
	}
	e := &Env{Topdir: top, Output: out, ConfigDir: out, pending: map[string]*lateVar{}}
	if real, err := filepath.EvalSymlinks(top); err == nil && out == filepath.Join(real, "output") {
		e.ConfigDir = top
	}
	mk, err := os.ReadFile(filepath.Join(top, "Makefile"))
	if err != nil {
		return nil, fmt.Errorf("%s is not a Buildroot tree: %w", top, err)
	}
	m := versionLine.FindSubmatch(mk)
	if m == nil {
		return nil, fmt.Errorf("%s/Makefile: no 'export BR2_VERSION :=' line", top)
	}
	version := string(m[1])
	seen := map[string]string{}
	for _, dir := range externals {
		ext, err := validate(dir, seen)
		if err != nil {
			return nil, err
		}
		e.Externals = append(e.Externals, ext)
	}

	// The helpers are slow-ish processes (git, gcc); run them together,
	// each delivering its variable when done.
	setlocalversion := filepath.Join(top, "support", "scripts", "setlocalversion")
	helper := func(name string, compute func() string) {
		v := &lateVar{done: make(chan struct{})}
		e.pending[name] = v
		go func() {
			v.val = compute()
			close(v.done)
		}()
	}
	helper("BR2_VERSION_FULL", func() string {
		if v, _ := o.Run(top, setlocalversion); v != "" {
			return v
		}
		return version
	})
	helper("HOSTARCH", func() string {
		v, _ := o.Run(top, "gcc", "-v")
		return HostArch(v)
	})
	helper("HOST_GCC_VERSION", func() string {
		v, _ := o.Run(top, "gcc", "--version")
		return HostGCCVersion(v)
	})
	for _, x := range e.Externals {
		helper(externalVersionVar(x.Name), func() string {
			v, _ := o.Run(top, setlocalversion, x.Path)
			return v
		})
	}

	build := filepath.Join(out, "build", "buildroot-config")
	v := map[string]string{
		"BR2_VERSION": version, "BASE_DIR": out, "SKIP_LEGACY": "",
		"BR2_CONFIG":         filepath.Join(e.ConfigDir, ".config"),
		"KCONFIG_AUTOCONFIG": filepath.Join(build, "auto.conf"),
		"KCONFIG_AUTOHEADER": filepath.Join(build, "autoconf.h"),
		"KCONFIG_TRISTATE":   filepath.Join(build, "tristate.config"),
		"LC_ALL":             "C", "LANG": "C", "TZ": "UTC",
	}
	if hide, ok := o.LookupEnv("BR2_HIDE_SECONDARY_TARGET_OPTIONS"); ok {
		v["BR2_HIDE_SECONDARY_TARGET_OPTIONS"] = hide
	} else {
		v["BR2_HIDE_SECONDARY_TARGET_OPTIONS"] = "n"
	}
	var names []string
	for _, x := range e.Externals {
		names = append(names, x.Name)
		v["BR2_EXTERNAL_"+x.Name+"_PATH"] = x.Path
		v["BR2_EXTERNAL_"+x.Name+"_DESC"] = x.Desc
	}
	v["BR2_EXTERNAL_NAMES"] = strings.Join(names, " ")
	e.Vars = v
	e.lookup = o.LookupEnv
	if late {
		// The tree sources the fragments while the versions are still
		// being computed: leave the previous run's versions in them
		// (usually the right ones, so nothing is written twice).
		e.previousVersions()
		if err := e.writeFragments(); err != nil {
			return nil, err // the helpers finish on their own
		}
	}
	return e, nil
}

// previousVersions sets the Externals' versions to those the
// .br2-external.mk in the output directory has ("" without one).
func (e *Env) previousVersions() {
	data, err := os.ReadFile(filepath.Join(e.Output, ".br2-external.mk"))
	if err != nil {
		return
	}
	for i, x := range e.Externals {
		prefix := "export " + externalVersionVar(x.Name) + " = "
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				e.Externals[i].Version = v
			}
		}
	}
}

// runCmd runs a helper like make's $(shell): standard output with the
// trailing newline removed (gcc -v, which Buildroot pipes with 2>&1, also
// gets standard error).
func runCmd(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout = &out
	if len(args) == 1 && args[0] == "-v" {
		cmd.Stderr = &out
	}
	err := cmd.Run()
	return strings.TrimRight(out.String(), "\n"), err
}

var archFixes = []struct {
	re  *regexp.Regexp
	new string
}{
	{regexp.MustCompile(`i.86`), "x86"},
	{regexp.MustCompile(`sun4u`), "sparc64"},
	{regexp.MustCompile(`arm.*`), "arm"},
	{regexp.MustCompile(`sa110`), "arm"},
	{regexp.MustCompile(`ppc64`), "powerpc64"},
	{regexp.MustCompile(`ppc`), "powerpc"},
	{regexp.MustCompile(`macppc`), "powerpc"},
	{regexp.MustCompile(`sh.*`), "sh"},
}

var targetLine = regexp.MustCompile(`^Target: ([^-]*)`)

// HostArch derives HOSTARCH from `gcc -v` output like Buildroot's
// Makefile: the first part of the "Target:" triplet, normalised.
func HostArch(gccV string) string {
	var out []string
	for _, line := range strings.Split(gccV, "\n") {
		m := targetLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		a := m[1]
		for _, f := range archFixes {
			a = f.re.ReplaceAllString(a, f.new)
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

var gccVer = regexp.MustCompile(`^.* ([0-9]*)\.([0-9]*)\.([0-9]*)[ ]*.*`)

// hostccMaxVersion is HOSTCC_MAX_VERSION in Buildroot's Makefile.
const hostccMaxVersion = 15

// HostGCCVersion derives HOST_GCC_VERSION from `gcc --version` output
// like Buildroot's Makefile: "MAJOR MINOR", capped at the newest version
// Buildroot knows, and only MAJOR from gcc 5 on.
func HostGCCVersion(out string) string {
	var vs []string
	for _, line := range strings.Split(out, "\n") {
		if m := gccVer.FindStringSubmatch(line); m != nil {
			vs = append(vs, m[1]+" "+m[2])
		}
	}
	v := strings.Join(vs, "\n")
	if v == "" {
		return ""
	}
	major, _, _ := strings.Cut(v, " ")
	if n, err := strconv.Atoi(major); err != nil || n > hostccMaxVersion {
		v = strconv.Itoa(hostccMaxVersion)
	}
	if f := strings.Fields(v); len(f) > 0 && f[0] != "4" {
		v = f[0]
	}
	return v
}

func validate(dir string, seen map[string]string) (External, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return External{}, fmt.Errorf("BR2_EXTERNAL %q: no such directory", dir)
	}
	d, err := kconfig.ReadExternalDesc(dir)
	if err != nil {
		return External{}, fmt.Errorf("BR2_EXTERNAL %q: %w", dir, err)
	}
	if prev, ok := seen[d.Name]; ok {
		return External{}, fmt.Errorf("BR2_EXTERNAL %q: name %q is already used in %q", dir, d.Name, prev)
	}
	for _, f := range []string{"external.mk", "Config.in"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return External{}, fmt.Errorf("BR2_EXTERNAL %q: %s: no such file", dir, f)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return External{}, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	seen[d.Name] = abs
	return External{Name: d.Name, Desc: d.Desc, Path: abs}, nil
}

// fragments are the generated files, by name.
func (e *Env) fragments() map[string]string {
	const head = "#\n# Automatically generated file; DO NOT EDIT.\n#\n\n"
	items := []string{"paths", "menus", "toolchains", "jpeg", "openssl", "skeleton", "init", "linux"}
	in := map[string]*strings.Builder{}
	for _, it := range items {
		b := &strings.Builder{}
		b.WriteString(head)
		if len(e.Externals) == 0 {
			b.WriteString("# No br2-external tree defined.\n")
		}
		in[it] = b
	}
	var mk strings.Builder
	mk.WriteString(head)
	mk.WriteString("BR2_EXTERNAL ?=")
	for _, x := range e.Externals {
		mk.WriteString(" " + x.Path)
	}
	mk.WriteString("\nexport BR2_EXTERNAL_NAMES = \nBR2_EXTERNAL_DIRS = \nBR2_EXTERNAL_MKS = \n")
	if len(e.Externals) == 0 {
		mk.WriteString("\n# No br2-external tree defined.\n")
	} else {
		var names []string
		for _, x := range e.Externals {
			names = append(names, x.Name)
			fmt.Fprintf(&mk, "\nBR2_EXTERNAL_NAMES += %s\nBR2_EXTERNAL_DIRS += %s\nBR2_EXTERNAL_MKS += %s/external.mk\n", x.Name, x.Path, x.Path)
			fmt.Fprintf(&mk, "export BR2_EXTERNAL_%s_PATH = %s\nexport BR2_EXTERNAL_%s_DESC = %s\nexport BR2_EXTERNAL_%s_VERSION = %s\n",
				x.Name, x.Path, x.Name, x.Desc, x.Name, x.Version)
		}
		in["menus"].WriteString("menu \"External options\"\n\n")
		fmt.Fprintf(in["paths"], "config BR2_EXTERNAL_NAMES\n\tstring\n\tdefault \"%s\"\n\n", strings.Join(names, " "))
		many := len(e.Externals) > 1
		for _, x := range e.Externals {
			fmt.Fprintf(in["paths"], "config BR2_EXTERNAL_%s_PATH\n\tstring\n\tdefault \"%s\"\nconfig BR2_EXTERNAL_%s_VERSION\n\tstring\n\tdefault \"%s\"\n\n",
				x.Name, x.Path, x.Name, x.Version)
			m := in["menus"]
			if many {
				fmt.Fprintf(m, "menu \"%s\"\n", x.Desc)
			}
			fmt.Fprintf(m, "comment \"%s (in %s)\"\nsource \"%s/Config.in\"\n", x.Desc, x.Path, x.Path)
			if many {
				fmt.Fprintf(m, "endmenu # %s\n", x.Name)
			}
			m.WriteString("\n")
			for _, p := range []struct{ item, file, what string }{
				{"toolchains", "provides/toolchains.in", "Toolchains from"}, {"jpeg", "provides/jpeg.in", "jpeg from"},
				{"openssl", "provides/openssl.in", "openssl from"}, {"skeleton", "provides/skeleton.in", "skeleton from"},
				{"init", "provides/init.in", "init from"}, {"linux", "linux/Config.ext.in", "linux extension from"},
			} {
				b := in[p.item]
				if _, err := os.Stat(filepath.Join(x.Path, p.file)); err == nil {
					fmt.Fprintf(b, "comment \"%s: %s\"\nsource \"%s/%s\"\n\n", p.what, x.Desc, x.Path, p.file)
				} else {
					noun := strings.TrimSuffix(p.what, " from")
					if p.item == "toolchains" {
						noun = "toolchain"
					}
					fmt.Fprintf(b, "# No %s from: %s\n\n", noun, x.Desc)
				}
			}
		}
		in["menus"].WriteString("endmenu\n")
	}
	files := map[string]string{".br2-external.mk": mk.String()}
	for _, it := range items {
		files[".br2-external.in."+it] = in[it].String()
	}
	return files
}

// writeFragments writes the generated files, leaving unchanged ones alone.
func (e *Env) writeFragments() error {
	for name, data := range e.fragments() {
		p := filepath.Join(e.Output, name)
		if old, err := os.ReadFile(p); err == nil && string(old) == data {
			continue
		}
		if err := atomicfile.WriteFile(p, []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// LookupEnv is the environment conf sees: make's variables over the
// user's environment. After PrepareLate it waits for a variable still
// being computed, and is for one goroutine until Wait has returned.
func (e *Env) LookupEnv(name string) (string, bool) {
	if v, ok := e.pending[name]; ok {
		<-v.done
		return v.val, true
	}
	if v, ok := e.Vars[name]; ok {
		return v, true
	}
	if e.lookup != nil {
		return e.lookup(name)
	}
	return os.LookupEnv(name)
}

// ConfigFile is the .config (BR2_CONFIG).
func (e *Env) ConfigFile() string { return e.Vars["BR2_CONFIG"] }

// FindDefconfig finds NAME like `make NAME` does: in the configs/
// directory of the last external first, then the others, then Buildroot's
// own. A name with a slash is taken as a path.
func (e *Env) FindDefconfig(name string) (string, error) {
	if strings.Contains(name, "/") {
		abs, err := filepath.Abs(name)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("defconfig %s: %w", name, err)
		}
		return abs, nil
	}
	dirs := []string{e.Topdir}
	for _, x := range e.Externals {
		dirs = append(dirs, x.Path)
	}
	var looked []string
	for i := len(dirs) - 1; i >= 0; i-- {
		p := filepath.Join(dirs[i], "configs", name)
		looked = append(looked, filepath.Join(dirs[i], "configs"))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("can't find %s (looked in %s)", name, strings.Join(looked, ", "))
}

// DefconfigVar returns BR2_DEFCONFIG as make passes it to conf: the value
// of BR2_DEFCONFIG in .config, unexpanded, with the quotes stripped and
// blanks squeezed ($(call qstrip,$(value BR2_DEFCONFIG))); "" without one.
func (e *Env) DefconfigVar() string {
	if v, ok := e.lookupUser("BR2_DEFCONFIG"); ok {
		return qstrip(v) // make BR2_DEFCONFIG=... or an environment variable
	}
	data, err := os.ReadFile(e.ConfigFile())
	if err != nil {
		return ""
	}
	val := ""
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "BR2_DEFCONFIG="); ok {
			if i := strings.IndexByte(rest, '#'); i >= 0 {
				rest = rest[:i] // make reads .config as a makefile
			}
			val = rest
		}
	}
	return qstrip(val)
}

func (e *Env) lookupUser(name string) (string, bool) {
	if e.lookup == nil {
		return os.LookupEnv(name)
	}
	return e.lookup(name)
}

func qstrip(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\"", "")), " ")
}

// Expand expands the make variables a BR2_DEFCONFIG value may use
// ($(CONFIG_DIR), $(TOPDIR), $(BASE_DIR), $(O), $(BR2_EXTERNAL_<NAME>_PATH),
// $(HOME)); it fails on others rather than guess.
func (e *Env) Expand(s string) (string, error) {
	vars := map[string]string{"CONFIG_DIR": e.ConfigDir, "TOPDIR": e.Topdir, "BASE_DIR": e.Output, "O": e.Output,
		"CURDIR": e.Topdir}
	if h, ok := e.lookupUser("HOME"); ok {
		vars["HOME"] = h
	}
	for _, x := range e.Externals {
		vars["BR2_EXTERNAL_"+x.Name+"_PATH"] = x.Path
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "$(")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return "", fmt.Errorf("unterminated $( in %q", s)
		}
		name := s[i+2 : i+j]
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("cannot expand $(%s) in %q", name, s)
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
}

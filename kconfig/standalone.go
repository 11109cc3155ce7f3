package kconfig

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// standaloneTop is the name of the in-memory top file of a standalone tree.
const standaloneTop = "<standalone>/Config.in"

// standInDefaults are the values Buildroot gives, for the Cube image
// (x86_64, glibc toolchain with threads and C++), to Buildroot symbols an
// external tree depends on. Symbols not listed default to n.
var standInDefaults = map[string]string{
	"BR2_x86_64":                                      "y",
	"BR2_TOOLCHAIN_HAS_THREADS":                       "y",
	"BR2_TOOLCHAIN_HAS_THREADS_NPTL":                  "y",
	"BR2_TOOLCHAIN_USES_GLIBC":                        "y",
	"BR2_INSTALL_LIBSTDCPP":                           "y",
	"BR2_USE_MMU":                                     "y",
	"BR2_USE_WCHAR":                                   "y",
	"BR2_TOOLCHAIN_HAS_SSP":                           "y",
	"BR2_HOST_GCC_AT_LEAST_4_9":                       "y",
	"BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS":        "y",
	"BR2_PACKAGE_HOST_GO_TARGET_CGO_LINKING_SUPPORTS": "y",
	"BR2_PACKAGE_HOST_RUSTC_TARGET_ARCH_SUPPORTS":     "y",
	"BR2_PACKAGE_SYSTEMD_ARCH_SUPPORTS":               "y",
	"BR2_INIT_SYSTEMD":                                "y",
}

// ExternalDesc is what an external.desc file declares.
type ExternalDesc struct {
	Name string // [A-Za-z0-9_]+, used in BR2_EXTERNAL_<Name>_PATH
	Desc string // one-line description (defaults to Name)
}

var descLine = regexp.MustCompile(`^(name|desc): +(.*)$`)

// ReadExternalDesc parses dir/external.desc like Buildroot's br2-external
// script does.
func ReadExternalDesc(dir string) (ExternalDesc, error) {
	data, err := os.ReadFile(filepath.Join(dir, "external.desc"))
	if err != nil {
		return ExternalDesc{}, err
	}
	var d ExternalDesc
	for _, line := range strings.Split(string(data), "\n") {
		if m := descLine.FindStringSubmatch(line); m != nil {
			if m[1] == "name" {
				d.Name = m[2]
			} else {
				d.Desc = m[2]
			}
		}
	}
	if d.Name == "" {
		return d, fmt.Errorf("%s/external.desc: does not define the name", dir)
	}
	for _, c := range d.Name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return d, fmt.Errorf("%s/external.desc: name %q contains invalid chars", dir, d.Name)
		}
	}
	if d.Desc == "" {
		d.Desc = d.Name
	}
	return d, nil
}

// LoadStandalone loads an external tree (the Cube tree) without a
// Buildroot checkout: over a small built-in base that defines, as
// "stand-ins", the Buildroot symbols the tree refers to but does not
// define, with the values Buildroot gives them for the Cube image. A
// stand-in has a prompt so a defconfig can still set it; StandIn reports
// them so a user interface can show them read-only.
func LoadStandalone(externalDir string, o Options) (*Kconfig, error) {
	abs, err := filepath.Abs(externalDir)
	if err != nil {
		return nil, err
	}
	desc, err := ReadExternalDesc(abs)
	if err != nil {
		return nil, err
	}
	// First pass: find what the tree refers to without defining.
	probe := newKconfig(Options{Dir: o.Dir, LookupEnv: o.LookupEnv, Release: o.Release})
	probe.virtual = map[string][]byte{standaloneTop: standaloneText(abs, desc, nil, nil)}
	if err := probe.parse(standaloneTop); err != nil {
		// Report the errors with the caller's streams.
		k := newKconfig(o)
		k.virtual = probe.virtual
		if err := k.parse(standaloneTop); err != nil {
			return nil, err
		}
		return nil, err
	}
	var missing []string
	types := map[string]Type{}
	probe.forAllSymbols(func(s *Symbol) {
		if !s.hasName || s.flags&(symConst|symChoice) != 0 || s.firstProp(pSymbol) != nil || !strings.HasPrefix(s.name, "BR2_") {
			return
		}
		missing = append(missing, s.name)
		types[s.name] = TypeBool
	})
	sort.Strings(missing)
	k := newKconfig(o)
	k.virtual = map[string][]byte{standaloneTop: standaloneText(abs, desc, missing, types)}
	if err := k.parse(standaloneTop); err != nil {
		return nil, err
	}
	k.standIns = map[*Symbol]bool{}
	for _, n := range missing {
		if s := k.Lookup(n); s != nil {
			k.standIns[s] = true
		}
	}
	k.externalDir = abs
	return k, nil
}

func standaloneText(dir string, d ExternalDesc, standIns []string, types map[string]Type) []byte {
	var b bytes.Buffer
	b.WriteString("mainmenu \"Cube HAL standalone configuration (no Buildroot tree)\"\n\n")
	fmt.Fprintf(&b, "config BR2_EXTERNAL_NAMES\n\tstring\n\tdefault %q\n\n", d.Name)
	fmt.Fprintf(&b, "config BR2_EXTERNAL_%s_PATH\n\tstring\n\tdefault %q\n\n", d.Name, dir)
	if len(standIns) > 0 {
		b.WriteString("menu \"Buildroot options (stand-ins: no Buildroot tree)\"\n\n")
		for _, n := range standIns {
			fmt.Fprintf(&b, "config %s\n\t%s %q\n", n, types[n].Keyword(), n)
			if v, ok := standInDefaults[n]; ok {
				fmt.Fprintf(&b, "\tdefault %s\n", v)
			}
			b.WriteString("\n")
		}
		b.WriteString("endmenu\n\n")
	}
	b.WriteString("menu \"External options\"\n\n")
	fmt.Fprintf(&b, "comment %q\n", d.Desc+" (in "+dir+")")
	fmt.Fprintf(&b, "source \"$BR2_EXTERNAL_%s_PATH/Config.in\"\n\nendmenu\n", d.Name)
	return b.Bytes()
}

// StandIn reports a Buildroot symbol that a standalone tree only stands
// in for (see LoadStandalone).
func (s *Symbol) StandIn() bool { return s.k.standIns[s] }

// InDir reports whether s is defined in a file under dir (for example the
// external tree, to tell Cube symbols from Buildroot ones).
func (s *Symbol) InDir(dir string) bool {
	dir = filepath.Clean(dir) + string(filepath.Separator)
	for _, m := range s.Menus() {
		if strings.HasPrefix(filepath.Clean(fileName(m.file)), dir) {
			return true
		}
	}
	return false
}

// ExternalDir is the external tree a standalone Kconfig was loaded from.
func (k *Kconfig) ExternalDir() string { return k.externalDir }

// assignment parses a .config line that assigns a symbol the way conf
// reads it: NAME=VALUE (a string unquoted) or "# NAME is not set" (n).
func assignment(line, prefix string) (name, val string, ok bool) {
	l := parseConfigLine(strings.TrimRight(line, "\r\n"), prefix)
	if (l.kind != lineAssign && l.kind != lineUnset) || l.name == "" {
		return "", "", false
	}
	val = l.value
	if strings.HasPrefix(val, "\"") {
		val = unquote(val)
	}
	return l.name, val, true
}

// UpdateDefconfigFile rewrites a defconfig in place so that it records the
// current values of the symbols owned() accepts, and changes nothing else:
// every other line, comment and blank line stays as it was. A line of an
// owned symbol is replaced only when its value changed and the symbol is
// visible (conf ignores the lines of hidden symbols); an owned symbol
// that a minimal defconfig needs and that has no line yet gets one, after
// the nearest owned symbol before it in menu order. Symbols marked
// secret (MarkSecret) are never written. It reports whether the file
// changed; the write is atomic.
func (k *Kconfig) UpdateDefconfigFile(path string, owned func(*Symbol) bool) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	out, err := k.UpdateDefconfigText(data, owned)
	if err != nil {
		return false, err
	}
	if bytes.Equal(out, data) {
		return false, nil
	}
	return true, replaceFile(path, out)
}

// UpdateDefconfigText is UpdateDefconfigFile on text.
func (k *Kconfig) UpdateDefconfigText(data []byte, owned func(*Symbol) bool) ([]byte, error) {
	prefix := k.prefix()
	// What a minimal defconfig would contain.
	minimal := ParseConfig(k.DefconfigText(), prefix)
	k.invalidateAll()
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	has := map[string][]int{}
	for i, l := range lines {
		if name, _, ok := assignment(l, prefix); ok {
			has[name] = append(has[name], i)
		}
	}
	format := func(s *Symbol) string {
		v := k.valueText(s)
		switch {
		case (s.typ == TypeBool || s.typ == TypeTristate) && v == "n":
			return fmt.Sprintf("# %s%s is not set\n", prefix, s.name)
		case s.typ == TypeString:
			return fmt.Sprintf("%s%s=%s\n", prefix, s.name, escapeString(v))
		}
		return fmt.Sprintf("%s%s=%s\n", prefix, s.name, v)
	}
	inserts := map[int][]string{} // after line index (-1: at the end)
	lastOwnedLine := -1
	for _, s := range k.defined() {
		if !owned(s) || k.secrets[s] {
			continue // secrets never go into a defconfig
		}
		k.evaluate(s)
		idx := has[s.name]
		if len(idx) > 0 {
			// Only a line conf would use (the symbol is visible) is
			// rewritten; others keep what they say.
			if s.flags&symWrite != 0 && s.visible != No {
				for _, i := range idx {
					_, old, _ := assignment(lines[i], prefix)
					if old != k.valueText(s) {
						nl := format(s)
						if !strings.HasSuffix(lines[i], "\n") {
							nl = strings.TrimSuffix(nl, "\n")
						}
						lines[i] = nl
					}
				}
			}
			lastOwnedLine = idx[len(idx)-1]
			continue
		}
		if _, need := minimal[s.name]; need && s.flags&symWrite != 0 {
			inserts[lastOwnedLine] = append(inserts[lastOwnedLine], format(s))
		}
	}
	firstOwned := -1
	for i, l := range lines {
		if s := k.Lookup(lines2name(l, prefix)); s != nil && owned(s) {
			firstOwned = i
			break
		}
	}
	var b strings.Builder
	for i, l := range lines {
		if i == firstOwned {
			for _, x := range inserts[-1] {
				b.WriteString(x)
			}
		}
		b.WriteString(l)
		if ins := inserts[i]; len(ins) > 0 {
			if !strings.HasSuffix(l, "\n") {
				b.WriteString("\n")
			}
			for _, x := range ins {
				b.WriteString(x)
			}
		}
	}
	if firstOwned < 0 && len(inserts[-1]) > 0 {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		for _, x := range inserts[-1] {
			b.WriteString(x)
		}
	}
	return []byte(b.String()), nil
}

func lines2name(line, prefix string) string {
	n, _, _ := assignment(line, prefix)
	return n
}

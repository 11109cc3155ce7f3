package kconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
)

func (k *Kconfig) confWarning(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(k.stderr, "%s:%d:warning: %s\n", k.confFilename, k.confLineno, msg)
	k.diagnostics = append(k.diagnostics, Diagnostic{Severity: SeverityWarning, File: k.confFilename, Line: k.confLineno, Msg: msg})
	k.confWarnings++
}

// ConfigName is the .config path conf uses: $BR2_CONFIG, else ".config".
func (k *Kconfig) ConfigName() string {
	if v, ok := k.lookupEnv("BR2_CONFIG"); ok {
		return v
	}
	return ".config"
}

func (k *Kconfig) autoconfigName() (string, bool) { return k.lookupEnv("KCONFIG_AUTOCONFIG") }

// expandCreating is conf_expand_value: $NAME from symbol values, creating
// symbols it does not know.
func (k *Kconfig) expandCreating(in string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(in, '$')
		if i < 0 {
			break
		}
		b.WriteString(in[:i])
		j := i + 1
		for j < len(in) && (isAlnum(in[j]) || in[j] == '_') {
			j++
		}
		s := k.lookup(in[i+1:j], true, 0)
		k.evaluate(s)
		b.WriteString(k.valueText(s))
		in = in[j:]
	}
	b.WriteString(in)
	return b.String()
}

// defaultConfName is what --defconfig without a file reads.
func (k *Kconfig) defaultConfName() string {
	name := k.expandCreating(".defconfig")
	if st, ok := k.lookupEnv("srctree"); ok {
		full := st + "/" + name
		if _, err := os.Stat(k.path(full)); err == nil {
			return full
		}
	}
	return name
}

// openConf reads a configuration file like zconf_fopen: as given, else
// under $srctree.
func (k *Kconfig) openConf(name string) ([]byte, bool) {
	data, err := os.ReadFile(k.path(name))
	if err == nil {
		return data, true
	}
	if !filepath.IsAbs(name) {
		if st, ok := k.lookupEnv("srctree"); ok {
			if d, err := os.ReadFile(k.path(st + "/" + name)); err == nil {
				return d, true
			}
		}
	}
	return nil, false
}

type printer int8

const (
	printConfig printer = iota
	printHeader
	printTristate
)

func (k *Kconfig) printComment(b *bytes.Buffer, pr printer, text string) {
	if pr == printHeader {
		b.WriteString("/*\n")
	}
	for {
		l := strings.IndexByte(text, '\n')
		if l < 0 {
			l = len(text)
		}
		if pr == printHeader {
			b.WriteString(" *")
		} else {
			b.WriteString("#")
		}
		if l > 0 {
			b.WriteString(" ")
			b.WriteString(text[:l])
		}
		b.WriteString("\n")
		if l == len(text) {
			break
		}
		text = text[l+1:]
	}
	if pr == printHeader {
		b.WriteString(" */\n")
	}
}

func (k *Kconfig) writeHeading(b *bytes.Buffer, pr printer) {
	h := "\nAutomatically generated file; DO NOT EDIT.\n" + k.root.prompt.text + "\n"
	if len(h) > 255 {
		h = h[:255]
	}
	k.printComment(b, pr, h)
}

func (k *Kconfig) writeSymbol(b *bytes.Buffer, s *Symbol, pr printer, skipUnset bool) {
	var val string
	switch s.typ {
	case TypeOther, TypeUnknown:
		return
	case TypeString:
		val = escapeString(k.valueText(s))
	default:
		val = k.valueText(s)
	}
	p := k.prefix()
	switch pr {
	case printConfig:
		if (s.typ == TypeBool || s.typ == TypeTristate) && strings.HasPrefix(val, "n") {
			if !skipUnset {
				fmt.Fprintf(b, "# %s%s is not set\n", p, s.name)
			}
			return
		}
		fmt.Fprintf(b, "%s%s=%s\n", p, s.name, val)
	case printTristate:
		if s.typ == TypeTristate && !strings.HasPrefix(val, "n") && val != "" {
			fmt.Fprintf(b, "%s%s=%c\n", p, s.name, upper(val[0]))
		}
	case printHeader:
		switch s.typ {
		case TypeBool, TypeTristate:
			switch {
			case strings.HasPrefix(val, "n"):
			case strings.HasPrefix(val, "m"):
				fmt.Fprintf(b, "#define %s%s_MODULE 1\n", p, s.name)
			default:
				fmt.Fprintf(b, "#define %s%s 1\n", p, s.name)
			}
		case TypeHex:
			pre := ""
			if len(val) < 2 || val[0] != '0' || (val[1] != 'x' && val[1] != 'X') {
				pre = "0x"
			}
			fmt.Fprintf(b, "#define %s%s %s%s\n", p, s.name, pre, val)
		case TypeString, TypeInt:
			fmt.Fprintf(b, "#define %s%s %s\n", p, s.name, val)
		}
	}
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// walkMenus visits the menu tree depth first, the order conf writes in.
func (k *Kconfig) walkMenus(fn func(*Menu)) {
	m := k.root.list
	for m != nil {
		fn(m)
		if m.list != nil {
			m = m.list
			continue
		}
		if m.next != nil {
			m = m.next
			continue
		}
		for {
			m = m.parent
			if m == nil {
				break
			}
			if m.next != nil {
				m = m.next
				break
			}
		}
	}
}

// formatConfig produces the full .config text (conf_write's body).
func (k *Kconfig) formatConfig() []byte {
	defer func() { k.writeStale = true }()
	var b bytes.Buffer
	b.Grow(1 << 17)
	k.writeHeading(&b, printConfig)
	if !k.changed() {
		k.invalidateAll()
	}
	k.walkMenus(func(m *Menu) {
		s := m.sym
		if s == nil {
			if !k.isVisible(m) {
				return
			}
			t, _ := m.promptText()
			fmt.Fprintf(&b, "\n#\n# %s\n#\n", t)
			return
		}
		if s.flags&symChoice != 0 {
			return
		}
		k.evaluate(s)
		if s.flags&symWrite == 0 {
			return
		}
		s.flags &^= symWrite
		k.writeSymbol(&b, s, printConfig, false)
	})
	return b.Bytes()
}

// write saves the configuration like conf_write: to name (a file or a
// directory; empty means $BR2_CONFIG), through a temporary file renamed
// into place, keeping the previous file as NAME.old.
func (k *Kconfig) write(name string) error {
	if name == "" {
		name = k.ConfigName()
	}
	dir, base := "", ""
	if name != "" {
		if st, err := os.Stat(k.path(name)); err == nil && st.IsDir() {
			dir = name + "/"
			base = k.ConfigName()
		} else if i := strings.LastIndexByte(name, '/'); i >= 0 {
			dir = name[:i+1]
			base = name[i+1:]
			if base == "" {
				base = k.ConfigName()
			}
		} else {
			base = name
		}
	} else {
		base = k.ConfigName()
	}
	newname := dir + base
	data := k.formatConfig()
	if v, ok := k.lookupEnv("KCONFIG_OVERWRITECONFIG"); ok && v != "" {
		if err := os.WriteFile(k.path(newname), data, 0o666); err != nil {
			return err
		}
	} else {
		// conf renames .config away and then the new one in; the shared
		// writer keeps .config in place until the new one replaces it.
		if err := atomicfile.WriteFileKeepOld(k.path(newname), k.path(dir+base+".old"), data, 0o644); err != nil {
			return err
		}
	}
	k.message("configuration written to %s", newname)
	k.setChangeCount(0)
	return nil
}

// replaceFile writes a configuration file atomically, keeping the
// permissions of the file it replaces.
func replaceFile(path string, data []byte) error {
	return atomicfile.WriteFileKeepOld(path, "", data, 0o644)
}

// formatMinimal produces the minimal configuration (conf_write_defconfig).
func (k *Kconfig) formatMinimal() []byte {
	defer func() { k.writeStale = true }()
	var b bytes.Buffer
	k.invalidateAll()
	k.walkMenus(func(m *Menu) {
		s := m.sym
		if s == nil {
			k.isVisible(m)
			return
		}
		if s.isChoice() {
			return
		}
		k.evaluate(s)
		if s.flags&symWrite == 0 {
			return
		}
		s.flags &^= symWrite
		if !s.isChangeable() {
			return
		}
		if k.valueText(s) == k.defaultText(s) {
			return
		}
		if s.isChoiceVal() {
			cs := s.choiceOf()
			ds := k.choiceFallback(cs)
			if !cs.isOptional() && s == ds && s.typ == TypeBool && s.curr.tri == Yes {
				return
			}
		}
		k.writeSymbol(&b, s, printConfig, false)
	})
	return b.Bytes()
}

// writeDefconfig saves the minimal configuration to filename.
func (k *Kconfig) writeDefconfig(filename string) error {
	return replaceFile(k.path(filename), k.formatMinimal())
}

func dirOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i+1]
	}
	return ""
}

// writeDep writes the make dependency file listing every Kconfig file read
// (file_write_dep), including conf's habit of doubling the directory in
// the final name.
func (k *Kconfig) writeDep(name string) {
	dir := dirOf(k.ConfigName())
	var b bytes.Buffer
	b.WriteString("deps_config := \\\n")
	for i := len(k.files) - 1; i >= 0; i-- {
		f := k.files[i]
		if i > 0 {
			fmt.Fprintf(&b, "\t%s \\\n", f.Name)
		} else {
			fmt.Fprintf(&b, "\t%s\n", f.Name)
		}
	}
	auto, _ := k.autoconfigName()
	fmt.Fprintf(&b, "\n%s: \\\n\t$(deps_config)\n\n", auto)
	for i := len(k.envSyms) - 1; i >= 0; i-- {
		s := k.envSyms[i]
		es := propSymbol(s.firstProp(pEnv))
		if es == nil {
			continue
		}
		v := k.getenv(es.name)
		fmt.Fprintf(&b, "ifneq \"$(%s)\" \"%s\"\n", es.name, v)
		fmt.Fprintf(&b, "%s: FORCE\n", auto)
		b.WriteString("endif\n")
	}
	b.WriteString("\n$(deps_config): ;\n")
	// conf writes ..config.tmp next to .config and renames it to the
	// doubled name, so with an absolute name the rename fails and
	// ..config.tmp stays: the same files are left here. ..config.tmp
	// itself is written atomically.
	tmp := dir + "..config.tmp"
	if err := atomicfile.WriteFile(k.path(tmp), b.Bytes(), 0o644); err != nil {
		return
	}
	os.Rename(k.path(tmp), k.path(dir+name))
}

// splitConfig touches include/config-style files for every symbol whose
// value changed since the previous auto.conf (conf_split_config).
func (k *Kconfig) splitConfig() error {
	name, ok := k.autoconfigName()
	if !ok {
		return errors.New("KCONFIG_AUTOCONFIG is not set")
	}
	k.loadAssignments(name, defAuto)
	k.evaluate(k.modulesSym)
	dir := filepath.Dir(k.path(name))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	var ferr error
	k.forAllSymbols(func(s *Symbol) {
		if ferr != nil {
			return
		}
		k.evaluate(s)
		if s.flags&symAuto != 0 || !s.hasName {
			return
		}
		if s.flags&symWrite != 0 {
			if s.flags&symDefAuto != 0 {
				switch s.typ {
				case TypeBool, TypeTristate:
					if s.curr.tri == k.autoValue(s).tri {
						return
					}
				case TypeString, TypeHex, TypeInt:
					if k.valueText(s) == k.autoValue(s).str {
						return
					}
				}
			} else {
				switch s.typ {
				case TypeBool, TypeTristate:
					if s.curr.tri == No {
						return
					}
				}
			}
		} else if s.flags&symDefAuto == 0 {
			return
		}
		var p strings.Builder
		for i := 0; i < len(s.name); i++ {
			c := s.name[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c == '_' {
				c = '/'
			}
			p.WriteByte(c)
		}
		p.WriteString(".h")
		path := filepath.Join(dir, p.String())
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				ferr = err
				return
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				ferr = err
				return
			}
			if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
				ferr = err
				return
			}
		}
		f.Close()
	})
	return ferr
}

// writeAutoconf writes auto.conf, autoconf.h and the tristate file
// (conf_write_autoconf), in hash-table order like conf.
func (k *Kconfig) writeAutoconf() error {
	dir := dirOf(k.ConfigName())
	k.invalidateAll()
	k.writeDep(dir + ".config.cmd")
	if err := k.splitConfig(); err != nil {
		return err
	}
	var out, tri, hdr bytes.Buffer
	k.writeHeading(&out, printConfig)
	k.writeHeading(&tri, printConfig)
	k.writeHeading(&hdr, printHeader)
	k.forAllSymbols(func(s *Symbol) {
		k.evaluate(s)
		if s.flags&symWrite == 0 || !s.hasName {
			return
		}
		k.writeSymbol(&out, s, printConfig, true)
		k.writeSymbol(&tri, s, printTristate, true)
		k.writeSymbol(&hdr, s, printHeader, false)
	})
	hname, ok := k.lookupEnv("KCONFIG_AUTOHEADER")
	if !ok {
		hname = "include/generated/autoconf.h"
	}
	tname, ok := k.lookupEnv("KCONFIG_TRISTATE")
	if !ok {
		tname = "include/config/tristate.conf"
	}
	aname, ok := k.autoconfigName()
	if !ok {
		return errors.New("KCONFIG_AUTOCONFIG is not set")
	}
	// auto.conf last: make treats it as the mark that the others are done
	for _, w := range []struct {
		name string
		data []byte
	}{{hname, hdr.Bytes()}, {tname, tri.Bytes()}, {aname, out.Bytes()}} {
		if err := replaceFile(k.path(w.name), w.data); err != nil {
			return err
		}
	}
	return nil
}

// ---- all*config and randconfig ----

type defMode int8

const (
	defDefault defMode = iota
	defYes
	defMod
	defNo
	defRandom
)

func (k *Kconfig) randomChoicePick(cs *Symbol) bool {
	if cs.curr.tri != Yes {
		return false
	}
	members := cs.choiceMembers()
	def := k.rand.intn(len(members))
	for i, s := range members {
		if i == def {
			s.user.tri = Yes
			cs.user.choice = s
		} else {
			s.user.tri = No
		}
		s.flags |= symDefUser
		s.flags &^= symValid
	}
	cs.flags |= symDefUser
	cs.flags &^= symValid
	return true
}

func (k *Kconfig) settleChoice(cs *Symbol) {
	for _, s := range cs.choiceMembers() {
		if !s.hasValue() {
			s.user.tri = No
		}
	}
	cs.flags |= symDefUser
	cs.flags &^= symValid | symNeedSetChoiceValues
}

// ProbabilityError reports a bad KCONFIG_PROBABILITY.
var errProbability = errors.New("KCONFIG_PROBABILITY: Numerical result out of range")

// randOdds are randconfig's chances, in percent: a bool is y with
// boolY, a tristate y with triY and m with triM.
type randOdds struct{ boolY, triY, triM int }

// parseProbability reads KCONFIG_PROBABILITY: "Y" (bools y with Y%,
// tristates split it between y and m), "Y:M" (tristates; bools get
// their sum) or "B:Y:M".
func parseProbability(env string) (randOdds, error) {
	odds := randOdds{50, 33, 33}
	var p []int
	for env != "" && len(p) < 3 {
		v, end := strtol10(env)
		if v < 0 || v > 100 {
			return odds, errProbability
		}
		p = append(p, int(v))
		// like strtol: text that is not a number reads as 0, in place
		env = strings.TrimPrefix(env[end:], ":")
	}
	switch len(p) {
	case 1:
		odds.boolY = p[0]
		odds.triM = p[0] / 2
		odds.triY = p[0] - odds.triM
	case 2:
		odds.triY, odds.triM = p[0], p[1]
		odds.boolY = p[0] + p[1]
	case 3:
		odds = randOdds{p[0], p[1], p[2]}
	}
	if odds.triY+odds.triM > 100 {
		return odds, errProbability
	}
	return odds, nil
}

// newTristate is the value an unset bool or tristate gets in an all*config
// or randconfig mode (none in the default mode).
func (k *Kconfig) newTristate(s *Symbol, mode defMode, odds randOdds) (Tristate, bool) {
	switch mode {
	case defYes:
		return Yes, true
	case defMod:
		return Mod, true
	case defNo:
		if s.flags&symAllnoconfigY != 0 {
			return Yes, true
		}
		return No, true
	case defRandom:
		roll := k.rand.intn(100)
		switch {
		case s.typ == TypeTristate && roll < odds.triY:
			return Yes, true
		case s.typ == TypeTristate && roll < odds.triY+odds.triM:
			return Mod, true
		case s.typ != TypeTristate && roll < odds.boolY:
			return Yes, true
		}
		return No, true
	}
	return No, false
}

// fillUnset gives every bool and tristate without a value one for the
// mode, then settles the choices (a random member for randconfig, the
// default one otherwise). It reports whether anything may have changed,
// which randconfig repeats on.
func (k *Kconfig) fillUnset(mode defMode) (bool, error) {
	k.valsCurrent = false
	odds := randOdds{50, 33, 33}
	if mode == defRandom {
		var err error
		env, _ := k.lookupEnv("KCONFIG_PROBABILITY")
		if odds, err = parseProbability(env); err != nil {
			return false, err
		}
	}
	changed := false
	k.forAllSymbols(func(s *Symbol) {
		if s.hasValue() || s.flags&symValid != 0 {
			return
		}
		if t := k.effectiveType(s); t != TypeBool && t != TypeTristate {
			return
		}
		changed = true
		v, ok := k.newTristate(s, mode, odds)
		if !ok {
			return
		}
		s.user.tri = v
		if !(s.isChoice() && mode == defRandom) {
			s.flags |= symDefUser // a random choice is settled below
		}
	})
	k.invalidateAll()
	if mode != defRandom {
		k.forAllSymbols(func(s *Symbol) {
			if (s.isChoice() && !s.hasValue()) || s.isChoiceVal() {
				s.flags |= symNeedSetChoiceValues
			}
		})
	}
	k.forAllSymbols(func(c *Symbol) {
		if c.hasValue() || !c.isChoice() {
			return
		}
		k.evaluate(c)
		if mode == defRandom {
			changed = k.randomChoicePick(c)
		} else {
			k.settleChoice(c)
			changed = true
		}
	})
	return changed, nil
}

// strtol10 is strtol(s, &end, 10) for KCONFIG_PROBABILITY.
func strtol10(s string) (int64, int) {
	v, _, end, _ := parseNumber(s, 10, false)
	return v, end
}

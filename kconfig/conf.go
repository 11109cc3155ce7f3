package kconfig

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Mode is one of conf's modes (its --option).
type Mode int8

// The conf modes, in conf's order.
const (
	ModeOldAsk Mode = iota
	ModeSync
	ModeOld
	ModeAllNo
	ModeAllYes
	ModeAllMod
	ModeAllDef
	ModeRand
	ModeDefconfig
	ModeSavedefconfig
	ModeListNew
	ModeOldDef
)

var longOpts = []struct {
	name string
	arg  int // 0 none, 1 required, 2 optional
	mode Mode
}{
	{"oldaskconfig", 0, ModeOldAsk},
	{"oldconfig", 0, ModeOld},
	{"syncconfig", 0, ModeSync},
	{"defconfig", 2, ModeDefconfig},
	{"savedefconfig", 1, ModeSavedefconfig},
	{"allnoconfig", 0, ModeAllNo},
	{"allyesconfig", 0, ModeAllYes},
	{"allmodconfig", 0, ModeAllMod},
	{"alldefconfig", 0, ModeAllDef},
	{"randconfig", 0, ModeRand},
	{"listnewconfig", 0, ModeListNew},
	{"olddefconfig", 0, ModeOldDef},
	{"oldnoconfig", 0, ModeOldDef},
}

// ConfIO is what a conf run talks to: its streams, environment, working
// directory and clock (for randconfig's default seed).
type ConfIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
	Dir            string
	Now            func() time.Time
	// TTY says stdin and stdout are a terminal (conf then does not echo
	// the answers it reads).
	TTY bool
}

type confRun struct {
	io      ConfIO
	prog    string
	mode    Mode
	sync    bool
	file    string
	hasFile bool
	quiet   bool
	seed    uint32
	kconfig string
	k       *Kconfig
	in      *bufio.Reader
	line    string
	indent  int
	cnt     int
	rootEnt *Menu
	eof     bool // standard input is exhausted
}

// errEndOfInput stops a question conf would repeat forever: once standard
// input is exhausted, conf re-asks a rejected string or choice answer in an
// endless loop; cube-hal stops instead.
type errEndOfInput struct{ what string }

func (r *confRun) giveUp(what string) {
	r.err("\n*** End of input while asking for %s again; stopping.\n\n", what)
	panic(errEndOfInput{what})
}

func (r *confRun) out(format string, args ...any) { fmt.Fprintf(r.io.Stdout, format, args...) }
func (r *confRun) err(format string, args ...any) { fmt.Fprintf(r.io.Stderr, format, args...) }

func (r *confRun) usage() {
	r.out("Usage: %s [-s] [option] <kconfig-file>\n", r.prog)
	r.out("[option] is _one_ of the following:\n")
	r.out("  --listnewconfig         List new options\n")
	r.out("  --oldaskconfig          Start a new configuration using a line-oriented program\n")
	r.out("  --oldconfig             Update a configuration using a provided .config as base\n")
	r.out("  --syncconfig            Similar to oldconfig but generates configuration in\n" +
		"                          include/{generated/,config/}\n")
	r.out("  --olddefconfig          Same as oldconfig but sets new symbols to their default value\n")
	r.out("  --oldnoconfig           An alias of olddefconfig\n")
	r.out("  --defconfig <file>      New config with default defined in <file>\n")
	r.out("  --savedefconfig <file>  Save the minimal current configuration to <file>\n")
	r.out("  --allnoconfig           New config where all options are answered with no\n")
	r.out("  --allyesconfig          New config where all options are answered with yes\n")
	r.out("  --allmodconfig          New config where all options are answered with mod\n")
	r.out("  --alldefconfig          New config with all symbols set to default\n")
	r.out("  --randconfig            New config with random answer to all options\n")
}

// parseArgs handles conf's command line like GNU getopt_long: options and
// operands in any order, unambiguous prefixes of long options, "--".
func (r *confRun) parseArgs(args []string) bool {
	var operands []string
	bad := func(format string, a ...any) bool {
		r.err("%s: "+format+"\n", append([]any{r.prog}, a...)...)
		r.usage()
		return false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			var match []int
			for j, o := range longOpts {
				if o.name == name {
					match = []int{j}
					break
				}
				if strings.HasPrefix(o.name, name) {
					match = append(match, j)
				}
			}
			if len(match) > 1 {
				first := longOpts[match[0]]
				for _, j := range match[1:] {
					if longOpts[j].mode != first.mode || longOpts[j].arg != first.arg {
						var poss strings.Builder
						for _, m := range match {
							fmt.Fprintf(&poss, " '--%s'", longOpts[m].name)
						}
						return bad("option '--%s' is ambiguous; possibilities:%s", name, poss.String())
					}
				}
			}
			if len(match) == 0 {
				return bad("unrecognized option '%s'", a)
			}
			o := longOpts[match[0]]
			switch o.arg {
			case 0:
				if hasVal {
					return bad("option '--%s' doesn't allow an argument", o.name)
				}
			case 1:
				if !hasVal {
					if i+1 >= len(args) {
						return bad("option '--%s' requires an argument", o.name)
					}
					i++
					val, hasVal = args[i], true
				}
			}
			r.setMode(o.mode, val, hasVal)
			continue
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			for _, c := range a[1:] {
				if c != 's' {
					return bad("invalid option -- '%c'", c)
				}
				r.quiet = true
			}
			continue
		}
		operands = append(operands, a)
	}
	if len(operands) == 0 {
		r.err("%s: Kconfig file missing\n", r.prog)
		r.usage()
		return false
	}
	r.kconfig = operands[0]
	return true
}

func (r *confRun) setMode(m Mode, val string, hasVal bool) {
	r.mode = m
	switch m {
	case ModeSync:
		r.sync = true
	case ModeDefconfig, ModeSavedefconfig:
		r.file, r.hasFile = val, hasVal
	case ModeRand:
		now := time.Now
		if r.io.Now != nil {
			now = r.io.Now
		}
		t := now()
		seed := uint32((t.Unix() + 1) * (int64(t.Nanosecond()/1000) + 1))
		if env, ok := r.io.LookupEnv("KCONFIG_SEED"); ok && env != "" {
			v, _, end, _ := parseNumber(env, 0, false)
			if end == len(env) {
				seed = uint32(int32(v))
			}
		}
		r.err("KCONFIG_SEED=0x%X\n", seed)
		r.seed = seed
	}
}

// RunConf runs conf with command-line arguments args (without the program
// name): the drop-in for Buildroot's support/kconfig/conf. It returns
// conf's exit status; everything it prints goes to cio's streams, and
// every file name is resolved against cio.Dir.
func RunConf(prog string, args []string, cio ConfIO) int {
	if cio.LookupEnv == nil {
		cio.LookupEnv = os.LookupEnv
	}
	if cio.Stdout == nil {
		cio.Stdout = io.Discard
	}
	if cio.Stderr == nil {
		cio.Stderr = io.Discard
	}
	if cio.Stdin == nil {
		cio.Stdin = strings.NewReader("")
	}
	r := &confRun{io: cio, prog: prog, indent: 1}
	if !r.parseArgs(args) {
		return 1
	}
	return r.run()
}

func (r *confRun) run() int {
	k, err := Load(r.kconfig, Options{
		Dir: r.io.Dir, LookupEnv: r.io.LookupEnv, Stdout: r.io.Stdout, Stderr: r.io.Stderr, Quiet: r.quiet,
		discardHelp: r.mode != ModeOldAsk && r.mode != ModeOld && r.mode != ModeSync,
	})
	if err != nil {
		return 1
	}
	return r.execute(k)
}

// execute is conf's main after parsing: read, apply the mode, write.
func (r *confRun) execute(k *Kconfig) (code int) {
	defer func() {
		if x := recover(); x != nil {
			if _, ok := x.(errEndOfInput); !ok {
				panic(x)
			}
			code = 1
		}
	}()
	r.k = k
	if r.mode == ModeRand {
		k.rand = newGlibcRand(r.seed)
	}
	if r.sync {
		name := k.ConfigName()
		if _, err := os.Stat(k.path(name)); err != nil {
			r.err("***\n"+
				"*** Configuration file \"%s\" not found!\n"+
				"***\n"+
				"*** Please run some configurator (e.g. \"make oldconfig\" or\n"+
				"*** \"make menuconfig\" or \"make xconfig\").\n"+
				"***\n", name)
			return 1
		}
	}

	switch r.mode {
	case ModeDefconfig:
		if !r.hasFile {
			r.file = k.defaultConfName()
		}
		if !k.read(r.file) {
			r.err("***\n*** Can't find default configuration \"%s\"!\n***\n", r.file)
			return 1
		}
	case ModeSavedefconfig, ModeSync, ModeOldAsk, ModeOld, ModeListNew, ModeOldDef:
		k.read("")
	case ModeAllNo, ModeAllYes, ModeAllMod, ModeAllDef, ModeRand:
		name, ok := r.io.LookupEnv("KCONFIG_ALLCONFIG")
		if !ok {
			break
		}
		if name != "" && name != "1" {
			if !k.loadAssignments(name, defUser) {
				r.err("*** Can't read seed configuration \"%s\"!\n", name)
				return 1
			}
			break
		}
		switch r.mode {
		case ModeAllNo:
			name = "allno.config"
		case ModeAllYes:
			name = "allyes.config"
		case ModeAllMod:
			name = "allmod.config"
		case ModeAllDef:
			name = "alldef.config"
		case ModeRand:
			name = "allrandom.config"
		}
		if !k.loadAssignments(name, defUser) && !k.loadAssignments("all.config", defUser) {
			r.err("*** KCONFIG_ALLCONFIG set, but no \"%s\" or \"all.config\" file found\n", name)
			return 1
		}
	}

	if r.sync && k.changed() {
		if v, ok := r.io.LookupEnv("KCONFIG_NOSILENTUPDATE"); ok && v != "" {
			r.err("\n*** The configuration requires explicit update.\n\n")
			return 1
		}
	}

	var perr error
	switch r.mode {
	case ModeAllNo:
		_, perr = k.fillUnset(defNo)
	case ModeAllYes:
		_, perr = k.fillUnset(defYes)
	case ModeAllMod:
		_, perr = k.fillUnset(defMod)
	case ModeAllDef, ModeDefconfig:
		_, perr = k.fillUnset(defDefault)
	case ModeRand:
		for {
			changed, err := k.fillUnset(defRandom)
			if err != nil {
				perr = err
				break
			}
			if !changed {
				break
			}
		}
	case ModeOldAsk:
		r.rootEnt = &k.root
		r.conf(&k.root)
		r.mode = ModeOld
		r.checkLoop()
	case ModeOld, ModeListNew, ModeSync:
		r.checkLoop()
	}
	if perr != nil {
		r.err("%s\n", perr)
		return 1
	}

	switch {
	case r.sync:
		if k.changed() {
			if err := k.write(""); err != nil {
				r.err("\n*** Error during writing of the configuration.\n\n")
				return 1
			}
		}
		if err := k.writeAutoconf(); err != nil {
			r.err("\n*** Error during update of the configuration.\n\n")
			return 1
		}
	case r.mode == ModeSavedefconfig:
		if err := k.writeDefconfig(r.file); err != nil {
			r.err("n*** Error while saving defconfig to: %s\n\n", r.file)
			return 1
		}
	case r.mode != ModeListNew:
		if err := k.write(""); err != nil {
			r.err("\n*** Error during writing of the configuration.\n\n")
			return 1
		}
	}
	return 0
}

func (r *confRun) checkLoop() {
	for {
		r.cnt = 0
		r.checkConf(&r.k.root)
		if r.cnt == 0 {
			break
		}
	}
}

// ---- the line-oriented questions of oldaskconfig/oldconfig ----

// readLine is fgets into conf's 4096-byte line buffer; at end of input the
// buffer keeps what it held, as with fgets.
func (r *confRun) readLine() {
	if r.in == nil {
		r.in = bufio.NewReader(r.io.Stdin)
	}
	var b []byte
	ok := false
	for len(b) < 4095 {
		c, err := r.in.ReadByte()
		if err != nil {
			break
		}
		ok = true
		b = append(b, c)
		if c == '\n' {
			break
		}
	}
	if !ok {
		r.err("\nError in reading or end of file.\n")
		r.eof = true
	} else {
		r.line = string(b)
	}
	if !r.io.TTY {
		r.out("%s", r.line)
	}
}

func cstrip(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, " \t\n\v\f\r"), " \t\n\v\f\r")
}

func (r *confRun) askValue(s *Symbol, def string) bool {
	k := r.k
	t := k.effectiveType(s)
	if !s.hasValue() {
		r.out("(NEW) ")
	}
	r.line = "\n"
	if !s.isChangeable() {
		r.out("%s\n", def)
		r.line = "\n"
		return false
	}
	switch r.mode {
	case ModeOld, ModeSync:
		if s.hasValue() {
			r.out("%s\n", def)
			return false
		}
		r.readLine()
		return true
	case ModeOldAsk:
		r.readLine()
		return true
	}
	switch t {
	case TypeInt, TypeHex, TypeString:
		r.out("%s\n", def)
		return true
	}
	r.out("%s", r.line)
	return true
}

func (r *confRun) confString(m *Menu) {
	k := r.k
	s := m.sym
	for asked := false; ; asked = true {
		if asked && r.eof {
			r.giveUp(s.name)
		}
		r.out("%*s%s ", r.indent-1, "", m.prompt.text)
		r.out("(%s) ", s.name)
		def := k.valueText(s)
		r.out("[%s] ", def)
		if !r.askValue(s, def) {
			return
		}
		useDef := true
		switch {
		case strings.HasPrefix(r.line, "\n"):
		case strings.HasPrefix(r.line, "?\n"):
			r.out("\n%s\n", k.extHelp(m))
			useDef = false
		default:
			if r.line != "" {
				def = r.line[:len(r.line)-1]
			} else {
				def = ""
			}
		}
		if useDef && k.assignText(s, def) {
			return
		}
	}
}

func (r *confRun) confSym(m *Menu) {
	k := r.k
	s := m.sym
	for {
		r.out("%*s%s ", r.indent-1, "", m.prompt.text)
		if s.hasName {
			r.out("(%s) ", s.name)
		}
		old := s.curr.tri
		r.out("[%s", strings.ToUpper(old.String()))
		if old != No && k.canTake(s, No) {
			r.out("/n")
		}
		if old != Mod && k.canTake(s, Mod) {
			r.out("/m")
		}
		if old != Yes && k.canTake(s, Yes) {
			r.out("/y")
		}
		r.out("/?] ")
		if !r.askValue(s, k.valueText(s)) {
			return
		}
		r.line = cstrip(r.line)
		var nv Tristate
		l := r.line
		c := byte(0)
		if l != "" {
			c = l[0]
		}
		switch c {
		case 'n', 'N':
			nv = No
			if len(l) != 1 && l[1:] != "o" {
				continue
			}
		case 'm', 'M':
			nv = Mod
			if len(l) != 1 {
				continue
			}
		case 'y', 'Y':
			nv = Yes
			if len(l) != 1 && l[1:] != "es" {
				continue
			}
		case 0:
			nv = old
		case '?':
			r.out("\n%s\n", k.extHelp(m))
			continue
		default:
			continue
		}
		if k.assignTristate(s, nv) {
			return
		}
		r.out("\n%s\n", k.extHelp(m))
	}
}

func (r *confRun) confChoice(m *Menu) bool {
	k := r.k
	s := m.sym
	isNew := !s.hasValue()
	if s.isChangeable() {
		r.confSym(m)
		k.evaluate(s)
		switch s.curr.tri {
		case No:
			return true
		case Mod:
			return false
		}
	} else {
		switch s.curr.tri {
		case No:
			return true
		case Mod:
			t, _ := m.promptText()
			r.out("%*s%s\n", r.indent-1, "", t)
			return false
		}
	}
	for asked := false; ; asked = true {
		if asked && r.eof {
			t, _ := m.promptText()
			r.giveUp(fmt.Sprintf("the choice %q", t))
		}
		t, _ := m.promptText()
		r.out("%*s%s\n", r.indent-1, "", t)
		defSym := s.curr.choice
		cnt, def := 0, 0
		r.line = ""
		for c := m.list; c != nil; c = c.next {
			if !k.isVisible(c) {
				continue
			}
			ct, _ := c.promptText()
			if c.sym == nil {
				r.out("%*c %s\n", r.indent, '*', ct)
				continue
			}
			cnt++
			if c.sym == defSym {
				def = cnt
				r.out("%*c", r.indent, '>')
			} else {
				r.out("%*c", r.indent, ' ')
			}
			r.out(" %d. %s", cnt, ct)
			if c.sym.hasName {
				r.out(" (%s)", c.sym.name)
			}
			if !c.sym.hasValue() {
				r.out(" (NEW)")
			}
			r.out("\n")
		}
		r.out("%*schoice", r.indent-1, "")
		if cnt == 1 {
			r.out("[1]: 1\n")
		} else {
			r.out("[1-%d?]: ", cnt)
			ask := false
			switch r.mode {
			case ModeOld, ModeSync:
				if !isNew {
					cnt = def
					r.out("%d\n", cnt)
					break
				}
				ask = true
			case ModeOldAsk:
				ask = true
			}
			if ask {
				r.readLine()
				r.line = cstrip(r.line)
				if strings.HasPrefix(r.line, "?") {
					r.out("\n%s\n", k.extHelp(m))
					continue
				}
				if r.line == "" {
					cnt = def
				} else if isDigit(r.line[0]) {
					cnt = atoi(r.line)
				} else {
					continue
				}
			}
		}
		var child *Menu
		for c := m.list; c != nil; c = c.next {
			if c.sym == nil || !k.isVisible(c) {
				continue
			}
			cnt--
			if cnt == 0 {
				child = c
				break
			}
		}
		if child == nil {
			continue
		}
		if strings.HasSuffix(r.line, "?") {
			r.out("\n%s\n", k.extHelp(child))
			continue
		}
		k.assignTristate(child.sym, Yes)
		for c := child.list; c != nil; c = c.next {
			r.indent += 2
			r.conf(c)
			r.indent -= 2
		}
		return true
	}
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func (r *confRun) conf(m *Menu) {
	k := r.k
	if !k.isVisible(m) {
		return
	}
	s := m.sym
	if p := m.prompt; p != nil {
		switch p.typ {
		case pMenu:
			if r.mode != ModeOldAsk && r.rootEnt != m {
				r.checkConf(m)
				return
			}
			fallthrough
		case pComment:
			if t, ok := m.promptText(); ok {
				r.out("%*c\n%*c %s\n%*c\n", r.indent, '*', r.indent, '*', t, r.indent, '*')
			}
		}
	}
	if s != nil {
		if s.isChoice() {
			r.confChoice(m)
			if s.curr.tri != Mod {
				return
			}
		} else {
			switch s.typ {
			case TypeInt, TypeHex, TypeString:
				r.confString(m)
			default:
				r.confSym(m)
			}
		}
		r.indent += 2
	}
	for c := m.list; c != nil; c = c.next {
		r.conf(c)
	}
	if s != nil {
		r.indent -= 2
	}
}

func (r *confRun) checkConf(m *Menu) {
	k := r.k
	if !k.isVisible(m) {
		return
	}
	s := m.sym
	if s != nil && !s.hasValue() {
		if s.isChangeable() || (s.isChoice() && s.curr.tri == Yes) {
			if r.mode == ModeListNew {
				if s.hasName {
					v := k.valueText(s)
					if s.typ == TypeString {
						v = escapeString(v)
					}
					r.out("%s%s=%s\n", k.prefix(), s.name, v)
				}
			} else {
				if r.cnt == 0 {
					r.out("*\n* Restart config...\n*\n")
				}
				r.cnt++
				r.rootEnt = k.parentMenu(m)
				r.conf(r.rootEnt)
			}
		}
	}
	for c := m.list; c != nil; c = c.next {
		r.checkConf(c)
	}
}

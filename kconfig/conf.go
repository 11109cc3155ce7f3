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
		r.ask(&k.root)
		r.mode = ModeOld
		r.askNewUntilSettled()
	case ModeOld, ModeListNew, ModeSync:
		r.askNewUntilSettled()
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

// askNewUntilSettled asks about new symbols until a pass finds none
// (answers can make further symbols visible).
func (r *confRun) askNewUntilSettled() {
	for {
		r.cnt = 0
		r.askNew(&r.k.root)
		if r.cnt == 0 {
			return
		}
	}
}

// ---- the line-oriented questions of oldaskconfig and oldconfig ----
//
// Each question is printed as conf prints it ("prompt (NAME) [N/y/?] "),
// answered from standard input (echoed when it is not a terminal), and
// asked again until the answer is valid. Once input is exhausted conf
// would repeat a rejected question forever; we stop (giveUp).

// readLine reads one answer like fgets into conf's 4096-byte buffer: at
// the end of input the previous content stays.
func (r *confRun) readLine() {
	if r.in == nil {
		r.in = bufio.NewReader(r.io.Stdin)
	}
	var b []byte
	for len(b) < 4095 {
		c, err := r.in.ReadByte()
		if err != nil {
			break
		}
		b = append(b, c)
		if c == '\n' {
			break
		}
	}
	if len(b) == 0 {
		r.err("\nError in reading or end of file.\n")
		r.eof = true
	} else {
		r.line = string(b)
	}
	if !r.io.TTY {
		r.out("%s", r.line)
	}
}

func cstrip(s string) string { return strings.Trim(s, " \t\n\v\f\r") }

// wantAnswer prints the end of a question and decides whether to read an
// answer: not when the symbol cannot change (its value is shown), not in
// oldconfig for a symbol that already has a value. It reports whether
// r.line holds an answer to use.
func (r *confRun) wantAnswer(s *Symbol, shown string) bool {
	if !s.hasValue() {
		r.out("(NEW) ")
	}
	r.line = "\n"
	if !s.isChangeable() {
		r.out("%s\n", shown)
		return false
	}
	switch r.mode {
	case ModeOld, ModeSync:
		if s.hasValue() {
			r.out("%s\n", shown)
			return false
		}
		r.readLine()
		return true
	case ModeOldAsk:
		r.readLine()
		return true
	}
	switch r.k.effectiveType(s) {
	case TypeInt, TypeHex, TypeString:
		r.out("%s\n", shown)
	default:
		r.out("%s", r.line)
	}
	return true
}

func (r *confRun) showHelp(m *Menu) { r.out("\n%s\n", r.k.extHelp(m)) }

// askText asks for a string, int or hex value; Enter keeps the current
// one, "?" shows the help.
func (r *confRun) askText(m *Menu) {
	k, s := r.k, m.sym
	for asked := false; ; asked = true {
		if asked && r.eof {
			r.giveUp(s.name)
		}
		current := k.valueText(s)
		r.out("%*s%s (%s) [%s] ", r.indent-1, "", m.prompt.text, s.name, current)
		if !r.wantAnswer(s, current) {
			return
		}
		answer, use := current, true
		switch {
		case strings.HasPrefix(r.line, "\n"):
		case r.line == "?\n":
			r.showHelp(m)
			use = false
		case r.line != "":
			answer = r.line[:len(r.line)-1]
		default:
			answer = ""
		}
		if use && k.assignText(s, answer) {
			return
		}
	}
}

// tristateChoices is the "[N/m/y/?] " part: the current value in capitals,
// then the others the symbol accepts.
func (r *confRun) tristateChoices(s *Symbol) string {
	cur := s.curr.tri
	parts := []string{strings.ToUpper(cur.String())}
	for _, v := range []Tristate{No, Mod, Yes} {
		if v != cur && r.k.canTake(s, v) {
			parts = append(parts, v.String())
		}
	}
	return "[" + strings.Join(parts, "/") + "/?] "
}

// tristateAnswer reads y, yes, m, n, no (any case for the first letter);
// an empty answer keeps cur; help asks for the help text.
func tristateAnswer(line string, cur Tristate) (v Tristate, ok, help bool) {
	if line == "" {
		return cur, true, false
	}
	switch rest := line[1:]; line[0] {
	case 'n', 'N':
		return No, rest == "" || rest == "o", false
	case 'm', 'M':
		return Mod, rest == "", false
	case 'y', 'Y':
		return Yes, rest == "" || rest == "es", false
	case '?':
		return cur, false, true
	}
	return cur, false, false
}

// askTristate asks for a bool or tristate value.
func (r *confRun) askTristate(m *Menu) {
	k, s := r.k, m.sym
	for {
		r.out("%*s%s ", r.indent-1, "", m.prompt.text)
		if s.hasName {
			r.out("(%s) ", s.name)
		}
		r.out("%s", r.tristateChoices(s))
		if !r.wantAnswer(s, k.valueText(s)) {
			return
		}
		r.line = cstrip(r.line)
		v, ok, help := tristateAnswer(r.line, s.curr.tri)
		switch {
		case help:
			r.showHelp(m)
		case !ok:
		case k.assignTristate(s, v):
			return
		default:
			r.showHelp(m) // a value it cannot take: show why
		}
	}
}

// askChoice asks for a choice's mode (when it can change) and member. It
// reports whether the choice was handled (false: it is m, and its members
// are asked one by one).
func (r *confRun) askChoice(m *Menu) bool {
	k, c := r.k, m.sym
	wasNew := !c.hasValue()
	if c.isChangeable() {
		r.askTristate(m)
		k.evaluate(c)
	}
	switch c.curr.tri {
	case No:
		return true
	case Mod:
		if !c.isChangeable() {
			t, _ := m.promptText()
			r.out("%*s%s\n", r.indent-1, "", t)
		}
		return false
	}
	for asked := false; ; asked = true {
		t, _ := m.promptText()
		if asked && r.eof {
			r.giveUp(fmt.Sprintf("the choice %q", t))
		}
		r.out("%*s%s\n", r.indent-1, "", t)
		count, current := r.listMembers(m)
		r.line = ""
		r.out("%*schoice", r.indent-1, "")
		pick := current
		if count == 1 {
			r.out("[1]: 1\n")
			pick = 1
		} else {
			r.out("[1-%d?]: ", count)
			var again bool
			if pick, again = r.readPick(m, wasNew, current); again {
				continue
			}
		}
		member := r.nthMember(m, pick)
		if member == nil {
			continue
		}
		if strings.HasSuffix(r.line, "?") {
			r.showHelp(member)
			continue
		}
		k.assignTristate(member.sym, Yes)
		for child := member.list; child != nil; child = child.next {
			r.indent += 2
			r.ask(child)
			r.indent -= 2
		}
		return true
	}
}

// listMembers prints the visible members numbered (comments starred) and
// returns how many there are and the number of the selected one.
func (r *confRun) listMembers(m *Menu) (count, current int) {
	k := r.k
	selected := m.sym.curr.choice
	for c := m.list; c != nil; c = c.next {
		if !k.isVisible(c) {
			continue
		}
		text, _ := c.promptText()
		if c.sym == nil {
			r.out("%*c %s\n", r.indent, '*', text)
			continue
		}
		count++
		mark := ' '
		if c.sym == selected {
			current, mark = count, '>'
		}
		r.out("%*c %d. %s", r.indent, mark, count, text)
		if c.sym.hasName {
			r.out(" (%s)", c.sym.name)
		}
		if !c.sym.hasValue() {
			r.out(" (NEW)")
		}
		r.out("\n")
	}
	return count, current
}

// readPick gets the member number: in oldconfig the current one for a
// choice that is not new, else an answer (Enter: the current one).
// again asks for the choice to be shown again (help, a bad answer).
func (r *confRun) readPick(m *Menu, wasNew bool, current int) (pick int, again bool) {
	switch r.mode {
	case ModeOld, ModeSync:
		if !wasNew {
			r.out("%d\n", current)
			return current, false
		}
	case ModeOldAsk:
	default:
		return current, false
	}
	r.readLine()
	r.line = cstrip(r.line)
	switch {
	case strings.HasPrefix(r.line, "?"):
		r.showHelp(m)
		return 0, true
	case r.line == "":
		return current, false
	case isDigit(r.line[0]):
		return atoi(r.line), false
	}
	return 0, true
}

// nthMember is the n-th visible member (from 1), or nil.
func (r *confRun) nthMember(m *Menu, n int) *Menu {
	for c := m.list; c != nil; c = c.next {
		if c.sym == nil || !r.k.isVisible(c) {
			continue
		}
		if n--; n == 0 {
			return c
		}
	}
	return nil
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// ask asks about a visible node and what is under it. Outside
// oldaskconfig, a menu other than the one being worked through is only
// searched for new symbols.
func (r *confRun) ask(m *Menu) {
	k := r.k
	if !k.isVisible(m) {
		return
	}
	s := m.sym
	if p := m.prompt; p != nil && (p.typ == pMenu || p.typ == pComment) {
		if p.typ == pMenu && r.mode != ModeOldAsk && r.rootEnt != m {
			r.askNew(m)
			return
		}
		if t, ok := m.promptText(); ok {
			r.out("%*c\n%*c %s\n%*c\n", r.indent, '*', r.indent, '*', t, r.indent, '*')
		}
	}
	if s != nil {
		switch {
		case s.isChoice():
			if r.askChoice(m); s.curr.tri != Mod {
				return
			}
		case s.typ == TypeInt || s.typ == TypeHex || s.typ == TypeString:
			r.askText(m)
		default:
			r.askTristate(m)
		}
		r.indent += 2
		defer func() { r.indent -= 2 }()
	}
	for c := m.list; c != nil; c = c.next {
		r.ask(c)
	}
}

// askNew finds visible symbols without a value (new ones) and asks about
// the menu around each (or, for listnewconfig, lists them).
func (r *confRun) askNew(m *Menu) {
	k := r.k
	if !k.isVisible(m) {
		return
	}
	if s := m.sym; s != nil && !s.hasValue() && (s.isChangeable() || (s.isChoice() && s.curr.tri == Yes)) {
		switch {
		case r.mode == ModeListNew && s.hasName:
			v := k.valueText(s)
			if s.typ == TypeString {
				v = escapeString(v)
			}
			r.out("%s%s=%s\n", k.prefix(), s.name, v)
		case r.mode != ModeListNew:
			if r.cnt == 0 {
				r.out("*\n* Restart config...\n*\n")
			}
			r.cnt++
			r.rootEnt = k.parentMenu(m)
			r.ask(r.rootEnt)
		}
	}
	for c := m.list; c != nil; c = c.next {
		r.askNew(c)
	}
}

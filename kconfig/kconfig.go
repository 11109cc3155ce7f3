package kconfig

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is a Kconfig file that was read. Parent is the file that sourced it
// most recently (nil for the top file).
type File struct {
	Name   string
	Parent *File
	lineno int // line of the source statement while a child is read
}

// inclusion is one "source" that was followed: the file, and the file and
// line of the statement that sourced it. Menu nodes keep theirs so a
// definition can be traced back through every source to the top file.
type inclusion struct {
	file   *File
	parent *inclusion
	line   int // line of the source statement in parent.file
}

// Severity of a diagnostic.
type Severity int8

// Diagnostic severities.
const (
	SeverityWarning Severity = iota
	SeverityError
)

// Diagnostic is a warning or error found while loading Kconfig files or
// reading a configuration, with the place it refers to.
type Diagnostic struct {
	Severity Severity
	File     string
	Line     int
	Col      int // 0 when unknown
	Msg      string
}

func (d Diagnostic) String() string {
	sev := "warning"
	if d.Severity == SeverityError {
		sev = "error"
	}
	switch {
	case d.File == "":
		return fmt.Sprintf("%s: %s", sev, d.Msg)
	case d.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s: %s", d.File, d.Line, d.Col, sev, d.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", d.File, d.Line, sev, d.Msg)
}

// Options control how a Kconfig tree is loaded.
type Options struct {
	// Dir is the directory relative paths are resolved against (conf's
	// working directory). Default: the process's working directory.
	Dir string
	// LookupEnv reads the environment ("option env", srctree, BR2_CONFIG,
	// CONFIG_, ...). Default: os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Stdout receives what conf prints on standard output (messages such
	// as "configuration written to"), Stderr its warnings. Default: discard.
	Stdout, Stderr io.Writer
	// Quiet suppresses the "#\n# configuration written to ...\n#" style
	// messages (conf -s).
	Quiet bool
	// LateEnv names environment variables LookupEnv may take a while to
	// produce (it may block for them, for example on a helper process
	// computing a version string): the "option env" symbols reading them
	// get their values once the whole tree is parsed, unless a $SYMBOL
	// reference needs one sooner, so the variables can be computed while
	// the tree is read. The result is the same, except that a warning
	// about such a variable being undefined comes after the other parse
	// warnings instead of at its line.
	LateEnv []string
	// LateDefaults maps symbols to variables LookupEnv may take a while
	// to produce: a constant default the tree gives such a symbol is a
	// stand-in that the variable's value replaces, filled in like a
	// LateEnv variable (the tree's value stays when the variable is
	// undefined). Buildroot's generated BR2_EXTERNAL_<NAME>_VERSION
	// symbols carry a version git computes; brenv delivers it this way
	// so the tree is read meanwhile.
	LateDefaults map[string]string
	// Release is what UNAME_RELEASE defaults to (default: the running
	// kernel's release, as conf uses uname).
	Release string

	discardHelp bool // conf modes that never show help do not keep it
}

// Kconfig is a parsed Kconfig tree with its symbols and their values. It
// mirrors the global state of Buildroot's kconfig in one value, so several
// trees can be loaded in one process. A Kconfig is not safe for concurrent
// use.
type Kconfig struct {
	hash       [symbolHashSize]*Symbol
	nsyms      int
	symYes     *Symbol
	symMod     *Symbol
	symNo      *Symbol
	symEmpty   *Symbol
	modulesSym *Symbol
	modulesVal Tristate
	defconfigL *Symbol
	envSyms    []*Symbol // in definition order

	root       Menu
	files      []*File // in the order read (conf lists them newest first)
	fileByName map[string]*File

	// parser state
	currentMenu  *Menu
	currentEntry *Menu
	lastEntry    **Menu
	lex          *lexer

	rewrites    int
	dryMerge    bool               // mergePairs only counts what it would merge
	autoVals    map[*Symbol]*value // values read from auto.conf (see Symbol.slot)
	bufs        fileBufs           // for reading Kconfig files
	changeCount int
	walk        []*pathStep

	confFilename string
	confLineno   int
	confWarnings int

	opts        Options
	stdout      io.Writer
	stderr      io.Writer
	diagnostics []Diagnostic
	unmet       map[*Symbol]bool
	nerrs       int
	rand        *glibcRand

	dirty    bool // Set was called since the last WriteConfig
	search   *searchIndex
	virtual  map[string][]byte // in-memory Kconfig files (standalone base)
	standIns map[*Symbol]bool  // standalone stand-ins for Buildroot symbols
	secrets  map[*Symbol]bool  // values shown masked (MarkSecret)
	late     []lateEnv         // "option env" defaults waiting for LateEnv variables

	externalDir string // the external tree of a standalone load

	order       []*Symbol // defined symbols in menu order (see defined)
	vals, spare []valSnap // value snapshots for Set's change reports
	valsCurrent bool      // vals are the values now
	writeStale  bool      // a render cleared write flags without recomputing

	readers       map[*Symbol][]*Symbol // who reads each symbol (incremental.go)
	loopy         map[*Symbol]bool      // symbols on dependency loops
	track         bool                  // the next assignment invalidates incrementally
	canonical     bool                  // the state a full pass in definition order leaves
	touched       []*Symbol             // what it invalidated
	dropped       []*Symbol             // choices that lost their user flag while evaluated
	noIncremental bool                  // tests: always re-evaluate everything

	// Long-lived nodes are allocated in blocks: fewer, larger objects for
	// the allocator and the garbage collector.
	propBlock []Property
	menuBlock []Menu
	symBlock  []Symbol
}

const blockSize = 512

// take hands out the next element of *block, allocating n more when it
// is used up: the tree's thousands of properties, menus and symbols come
// from a few large slices instead of one allocation each.
func take[T any](block *[]T, n int) *T {
	if len(*block) == 0 {
		*block = make([]T, n)
	}
	e := &(*block)[0]
	*block = (*block)[1:]
	return e
}

func (k *Kconfig) newProperty() *Property { return take(&k.propBlock, blockSize) }

func (k *Kconfig) newMenu() *Menu { return take(&k.menuBlock, blockSize/2) }

func (k *Kconfig) newSymbol() *Symbol { return take(&k.symBlock, blockSize/2) }

func newKconfig(o Options) *Kconfig {
	k := &Kconfig{opts: o}
	if k.opts.LookupEnv == nil {
		k.opts.LookupEnv = os.LookupEnv
	}
	if k.opts.Dir == "" {
		if wd, err := os.Getwd(); err == nil {
			k.opts.Dir = wd
		}
	}
	k.stdout = o.Stdout
	if k.stdout == nil {
		k.stdout = io.Discard
	}
	k.stderr = o.Stderr
	if k.stderr == nil {
		k.stderr = io.Discard
	}
	k.initConstants()
	return k
}

func (k *Kconfig) lookupEnv(name string) (string, bool) { return k.opts.LookupEnv(name) }

func (k *Kconfig) getenv(name string) string {
	v, _ := k.opts.LookupEnv(name)
	return v
}

// prefix is the CONFIG_ prefix: Buildroot's conf is built with an empty
// one, overridable with the CONFIG_ environment variable.
func (k *Kconfig) prefix() string {
	if v, ok := k.lookupEnv("CONFIG_"); ok {
		return v
	}
	return ""
}

// path resolves a path relative to the working directory.
func (k *Kconfig) path(name string) string {
	if filepath.IsAbs(name) || k.opts.Dir == "" {
		return name
	}
	return filepath.Join(k.opts.Dir, name)
}

func (k *Kconfig) printf(format string, args ...any) { fmt.Fprintf(k.stdout, format, args...) }

func (k *Kconfig) eprint(s string) { io.WriteString(k.stderr, s) }

// message prints conf's "#\n# ...\n#" notices unless quiet.
func (k *Kconfig) message(format string, args ...any) {
	if k.opts.Quiet {
		return
	}
	k.printf("#\n# "+format+"\n#\n", args...)
}

func (k *Kconfig) diag(d Diagnostic) {
	k.diagnostics = append(k.diagnostics, d)
	if d.Severity == SeverityError {
		k.nerrs++
	}
}

// warnAt prints a conf-style "file:line:warning: msg" and records it.
func (k *Kconfig) warnAt(file string, line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(k.stderr, "%s:%d:warning: %s\n", file, line, msg)
	k.diagnostics = append(k.diagnostics, Diagnostic{Severity: SeverityWarning, File: file, Line: line, Msg: msg})
}

func (k *Kconfig) menuWarn(m *Menu, format string, args ...any) {
	k.warnAt(fileName(m.file), int(m.line), format, args...)
}

func (k *Kconfig) propWarn(p *Property, format string, args ...any) {
	k.warnAt(fileName(p.file), int(p.line), format, args...)
}

func (k *Kconfig) noteUnmet(s *Symbol) {
	if k.unmet == nil {
		k.unmet = map[*Symbol]bool{}
	}
	k.unmet[s] = true
}

func (k *Kconfig) setChangeCount(n int) { k.changeCount = n }
func (k *Kconfig) addChangeCount(n int) { k.changeCount += n }
func (k *Kconfig) changed() bool        { return k.changeCount != 0 }

// curFile and curLine are where the parser is: the file being read and
// the line of the last statement keyword (conf's zconf_lineno).
func (k *Kconfig) curFile() *File {
	if k.lex == nil {
		return nil
	}
	return k.lex.curFile()
}

func (k *Kconfig) curLine() int {
	if k.lex == nil {
		return 0
	}
	return k.lex.posLine
}

package kconfig

import (
	"fmt"
	"path/filepath"
	"strings"
)

// tokType is a lexical token kind, matching Buildroot's zconf grammar.
type tokType uint8

const (
	tEOF tokType = iota
	tMainmenu
	tMenu
	tEndmenu
	tSource
	tChoice
	tEndchoice
	tComment
	tConfig
	tMenuconfig
	tHelp
	tHelptext
	tIf
	tEndif
	tDepends
	tOptional
	tPrompt
	tType
	tDefault
	tSelect
	tImply
	tRange
	tVisible
	tOption
	tOn
	tWord
	tWordQuote
	tUnequal
	tLess
	tLessEqual
	tGreater
	tGreaterEqual
	tCloseParen
	tOpenParen
	tEOL
	tOr
	tAnd
	tEqual
	tNot
)

var tokNames = [...]string{
	tEOF: "end of file", tMainmenu: "mainmenu", tMenu: "menu", tEndmenu: "endmenu",
	tSource: "source", tChoice: "choice", tEndchoice: "endchoice", tComment: "comment",
	tConfig: "config", tMenuconfig: "menuconfig", tHelp: "help", tHelptext: "help text",
	tIf: "if", tEndif: "endif", tDepends: "depends", tOptional: "optional", tPrompt: "prompt",
	tType: "type", tDefault: "default", tSelect: "select", tImply: "imply", tRange: "range",
	tVisible: "visible", tOption: "option", tOn: "on", tWord: "word", tWordQuote: "string",
	tUnequal: "'!='", tLess: "'<'", tLessEqual: "'<='", tGreater: "'>'", tGreaterEqual: "'>='",
	tCloseParen: "')'", tOpenParen: "'('", tEOL: "end of line", tOr: "'||'", tAnd: "'&&'",
	tEqual: "'='", tNot: "'!'",
}

func (t tokType) String() string { return tokNames[t] }

// Keyword flags: where a word is recognised as a keyword.
const (
	tfCommand = 1 << iota // first word of a line
	tfParam               // inside a line ("if", "on")
	tfOption              // argument of "option"
)

type keyword struct {
	name  string
	tok   tokType
	flags int
	stype Type
	opt   int // option id for tfOption words
}

var (
	keywords      = map[string]*keyword{}
	keywordsByLen [16][]*keyword
)

// keywordFor finds a keyword without allocating (it runs for every word).
func keywordFor(b []byte) *keyword {
	if len(b) >= len(keywordsByLen) {
		return nil
	}
	for _, kw := range keywordsByLen[len(b)] {
		if kw.name == string(b) {
			return kw
		}
	}
	return nil
}

func init() {
	for _, kw := range []keyword{
		{"mainmenu", tMainmenu, tfCommand, 0, 0},
		{"menu", tMenu, tfCommand, 0, 0},
		{"endmenu", tEndmenu, tfCommand, 0, 0},
		{"source", tSource, tfCommand, 0, 0},
		{"choice", tChoice, tfCommand, 0, 0},
		{"endchoice", tEndchoice, tfCommand, 0, 0},
		{"comment", tComment, tfCommand, 0, 0},
		{"config", tConfig, tfCommand, 0, 0},
		{"menuconfig", tMenuconfig, tfCommand, 0, 0},
		{"help", tHelp, tfCommand, 0, 0},
		{"---help---", tHelp, tfCommand, 0, 0},
		{"if", tIf, tfCommand | tfParam, 0, 0},
		{"endif", tEndif, tfCommand, 0, 0},
		{"depends", tDepends, tfCommand, 0, 0},
		{"optional", tOptional, tfCommand, 0, 0},
		{"default", tDefault, tfCommand, TypeUnknown, 0},
		{"prompt", tPrompt, tfCommand, 0, 0},
		{"tristate", tType, tfCommand, TypeTristate, 0},
		{"def_tristate", tDefault, tfCommand, TypeTristate, 0},
		{"bool", tType, tfCommand, TypeBool, 0},
		{"def_bool", tDefault, tfCommand, TypeBool, 0},
		{"int", tType, tfCommand, TypeInt, 0},
		{"hex", tType, tfCommand, TypeHex, 0},
		{"string", tType, tfCommand, TypeString, 0},
		{"select", tSelect, tfCommand, 0, 0},
		{"imply", tImply, tfCommand, 0, 0},
		{"range", tRange, tfCommand, 0, 0},
		{"visible", tVisible, tfCommand, 0, 0},
		{"option", tOption, tfCommand, 0, 0},
		{"on", tOn, tfParam, 0, 0},
		{"modules", 0, tfOption, 0, optModules},
		{"defconfig_list", 0, tfOption, 0, optDefconfigList},
		{"env", 0, tfOption, 0, optEnv},
		{"allnoconfig_y", 0, tfOption, 0, optAllnoconfigY},
	} {
		kw := kw
		keywords[kw.name] = &kw
		keywordsByLen[len(kw.name)] = append(keywordsByLen[len(kw.name)], &kw)
	}
}

type token struct {
	typ  tokType
	kw   *keyword
	text string
	raw  []byte // a word's bytes in the file (text is then empty)
	file *File
	line int
	col  int
}

// str is the token's text.
func (t token) str() string {
	if t.raw != nil {
		return string(t.raw)
	}
	return t.text
}

// lexer states, as in zconf.l.
type lexState uint8

const (
	stInitial lexState = iota
	stCommand
	stParam
	stString
	stHelp
)

type buffer struct {
	data      []byte
	own       bool // data came from k.bufs and goes back there when the file is done
	pos       int
	lineStart int
	parent    *buffer
	inc       *inclusion
}

// lexer turns Kconfig text into tokens with the same rules (and the same
// quirks) as Buildroot's flex scanner: one state per kind of line
// position, help blocks measured in tab stops, unterminated strings ended
// at the line end with a warning.
type lexer struct {
	k     *Kconfig
	buf   *buffer
	file  *File // conf's current_file (nil after the top file ends)
	line  int   // yylineno
	state lexState

	posFile *File // current_pos: where the last statement keyword was
	posLine int

	pf       *prefetcher
	retired  []byte // the last file done, recycled when the next one is
	quote    byte
	strStart token
	text     textBuf
	firstTS  int
	lastTS   int
	done     bool
}

func (l *lexer) curFile() *File { return l.file }

func (l *lexer) curInc() *inclusion {
	if l.buf == nil {
		return nil
	}
	return l.buf.inc
}

func (l *lexer) curName() string {
	if l.posFile == nil {
		return "<none>"
	}
	return l.posFile.Name
}

// open reads a Kconfig file the way zconf_fopen does: the name as given
// (relative to the working directory), else under $srctree.
func (l *lexer) open(name string) (data []byte, own bool, err error) {
	if d, ok := l.k.virtual[name]; ok {
		return d, false, nil
	}
	if l.pf != nil {
		if d, err, ok := l.pf.get(name); ok {
			return d, true, err
		}
	}
	data, err = l.k.readKconfigFile(name)
	if l.pf != nil && err == nil {
		l.pf.readByParser(name, data)
	}
	return data, true, err
}

// readKconfigFile reads name relative to the working directory, else
// under $srctree (conf's zconf_fopen).
func (k *Kconfig) readKconfigFile(name string) ([]byte, error) {
	data, err := readWhole(k.path(name), &k.bufs)
	if err != nil && !filepath.IsAbs(name) {
		if st, ok := k.lookupEnv("srctree"); ok {
			if d, err2 := readWhole(k.path(st+"/"+name), &k.bufs); err2 == nil {
				return d, nil
			}
		}
	}
	return data, err
}

// fileLookup finds the File for a source statement's name. Like conf it
// compares the name as written with the (expanded) names already read, so
// a name using $SYMBOL always gets a new entry.
func (k *Kconfig) fileLookup(name string) *File {
	if f := k.fileByName[name]; f != nil {
		return f
	}
	f := &File{Name: k.expandRefs(name)}
	k.files = append(k.files, f)
	if k.fileByName == nil {
		k.fileByName = map[string]*File{}
	}
	k.fileByName[f.Name] = f // the newest entry wins, as in conf's list
	return f
}

func (l *lexer) initScan(name string) error {
	data, own, err := l.open(name)
	if err != nil {
		return &LoadError{Diagnostics: []Diagnostic{{Severity: SeverityError, File: name, Msg: "can't find file " + name}}}
	}
	l.file = l.k.fileLookup(name)
	l.buf = &buffer{data: data, own: own, inc: &inclusion{file: l.file}}
	if l.k.virtual == nil {
		l.pf = newPrefetcher(l.k, data)
	}
	l.line = 1
	return nil
}

// nextFile switches to a sourced file (conf's zconf_nextfile).
func (l *lexer) nextFile(name string, at token) error {
	f := l.k.fileLookup(name)
	data, own, err := l.open(f.Name)
	if err != nil {
		return l.k.fatal(Diagnostic{Severity: SeverityError, File: fileName(at.file), Line: at.line, Col: at.col,
			Msg: fmt.Sprintf("can't open file %q%s", f.Name, l.chain())},
			fmt.Sprintf("%s:%d: can't open file \"%s\"\n", l.curName(), l.posLine, f.Name))
	}
	// A source statement on the last line of the top file, without a
	// newline, is read after that file ended (conf crashes there).
	var parentInc *inclusion
	if l.buf != nil {
		parentInc = l.buf.inc
	}
	l.buf = &buffer{data: data, own: own, parent: l.buf, inc: &inclusion{file: f, parent: parentInc, line: at.line}}
	if l.file != nil {
		l.file.lineno = l.line
	}
	f.Parent = l.file
	for it := l.file; it != nil; it = it.Parent {
		if it.Name == f.Name {
			var b strings.Builder
			fmt.Fprintf(&b, "Recursive inclusion detected.\nInclusion path:\n  current file : %s\n", f.Name)
			chain := []string{}
			it = f
			for {
				it = it.Parent
				fmt.Fprintf(&b, "  included from: %s:%d\n", it.Name, it.lineno-1)
				chain = append(chain, fmt.Sprintf("%s:%d", it.Name, it.lineno-1))
				if it.Name == f.Name {
					break
				}
			}
			return l.k.fatal(Diagnostic{Severity: SeverityError, File: fileName(at.file), Line: at.line, Col: at.col,
				Msg: fmt.Sprintf("recursive inclusion of %q (included from %s)", f.Name, strings.Join(chain, " <- "))}, b.String())
		}
	}
	l.line = 1
	l.file = f
	return nil
}

// chain describes the sources that led to the current file.
func (l *lexer) chain() string {
	if l.buf == nil {
		return ""
	}
	var parts []string
	for inc := l.buf.inc; inc != nil && inc.parent != nil; inc = inc.parent {
		parts = append(parts, fmt.Sprintf("%s:%d", inc.parent.file.Name, inc.line))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (sourced from " + strings.Join(parts, " <- ") + ")"
}

func (l *lexer) endFile() {
	l.file = l.file.Parent
	if l.file != nil {
		l.line = l.file.lineno
	}
	// The file's buffer is recycled one file later, so no token the
	// parser still holds can point into it.
	l.k.bufs.put(l.retired)
	l.retired = nil
	if l.buf.own {
		l.retired = l.buf.data
	}
	l.buf = l.buf.parent
}

func (l *lexer) warnChar(c byte) {
	msg := fmt.Sprintf("ignoring unsupported character '%c'", c)
	fmt.Fprintf(l.k.stderr, "%s:%d:warning: %s\n", l.curName(), l.posLine, msg)
	l.k.diagnostics = append(l.k.diagnostics, Diagnostic{Severity: SeverityWarning, File: l.curName(), Line: l.line, Msg: msg})
}

// Character classes of the scanner: names ([A-Za-z0-9_-]) and, after the
// first word of a line, words (names, '/' and '.').
var nameChars, wordChars [256]bool

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		nameChars[c] = isAlnum(b) || b == '_' || b == '-'
		wordChars[c] = nameChars[c] || b == '/' || b == '.'
	}
}

func isNameChar(c byte) bool { return nameChars[c] }

func (l *lexer) tok(t tokType, start int) token {
	b := l.buf
	return token{typ: t, file: l.file, line: l.line, col: start - b.lineStart + 1}
}

func (l *lexer) newline() {
	l.line++
	l.buf.lineStart = l.buf.pos
}

// startHelp switches to help-text scanning after "help" and its newline.
func (l *lexer) startHelp() {
	l.text.Reset()
	l.firstTS, l.lastTS = 0, 0
	l.state = stHelp
}

func (l *lexer) eofToken() (token, bool) {
	if l.file != nil {
		l.endFile()
		return token{typ: tEOL, file: l.file, line: l.line}, true
	}
	l.done = true
	return token{typ: tEOF, line: l.line}, true
}

// next returns the next token.
func (l *lexer) next() token {
	for {
		if l.done || l.buf == nil {
			l.done = true
			return token{typ: tEOF, line: l.line}
		}
		if t, ok := l.step(); ok {
			return t
		}
	}
}

// step runs one scanner rule; ok reports that it produced a token.
func (l *lexer) step() (token, bool) {
	b := l.buf
	d := b.data
	p := b.pos
	atEOF := p >= len(d)
	switch l.state {
	case stInitial:
		if atEOF {
			return l.eofToken()
		}
		ws := p
		for ws < len(d) && (d[ws] == ' ' || d[ws] == '\t') {
			ws++
		}
		if ws < len(d) && d[ws] == '#' {
			nl := ws
			for nl < len(d) && d[nl] != '\n' {
				nl++
			}
			if nl < len(d) {
				t := l.tok(tEOL, p)
				b.pos = nl + 1
				l.newline()
				return t, true
			}
			b.pos = nl
			return token{}, false
		}
		if ws < len(d) && d[ws] == '\n' {
			t := l.tok(tEOL, p)
			b.pos = ws + 1
			l.newline()
			return t, true
		}
		b.pos = ws
		l.state = stCommand
		return token{}, false

	case stCommand:
		if atEOF {
			return l.eofToken()
		}
		c := d[p]
		if isNameChar(c) {
			e := p
			for e < len(d) && isNameChar(d[e]) {
				e++
			}
			t := l.tok(tWord, p)
			b.pos = e
			l.state = stParam
			l.posFile = l.file
			l.posLine = l.line
			if kw := keywordFor(d[p:e]); kw != nil && kw.flags&tfCommand != 0 {
				t.typ = kw.tok
				t.kw = kw
				t.text = kw.name
			} else {
				t.raw = d[p:e:e]
			}
			return t, true
		}
		if c == '\n' {
			t := l.tok(tEOL, p)
			b.pos = p + 1
			l.newline()
			l.state = stInitial
			return t, true
		}
		l.warnChar(c)
		b.pos = p + 1
		return token{}, false

	case stParam:
		if atEOF {
			l.state = stInitial
			return l.eofToken()
		}
		c := d[p]
		var c2 byte
		if p+1 < len(d) {
			c2 = d[p+1]
		}
		op := func(t tokType, n int) (token, bool) {
			tk := l.tok(t, p)
			b.pos = p + n
			return tk, true
		}
		switch {
		case c == '&' && c2 == '&':
			return op(tAnd, 2)
		case c == '|' && c2 == '|':
			return op(tOr, 2)
		case c == '!' && c2 == '=':
			return op(tUnequal, 2)
		case c == '<' && c2 == '=':
			return op(tLessEqual, 2)
		case c == '>' && c2 == '=':
			return op(tGreaterEqual, 2)
		case c == '\\' && c2 == '\n':
			b.pos = p + 2
			l.newline()
			return token{}, false
		}
		switch c {
		case '(':
			return op(tOpenParen, 1)
		case ')':
			return op(tCloseParen, 1)
		case '!':
			return op(tNot, 1)
		case '=':
			return op(tEqual, 1)
		case '<':
			return op(tLess, 1)
		case '>':
			return op(tGreater, 1)
		case '"', '\'':
			// The common case, a plain string closed on the same line, is
			// taken in one go; anything else goes through the string state.
			e := p + 1
			for e < len(d) && d[e] != '\'' && d[e] != '"' && d[e] != '\\' && d[e] != '\n' {
				e++
			}
			if e < len(d) && d[e] == c {
				t := l.tok(tWordQuote, p)
				t.text = string(d[p+1 : e])
				b.pos = e + 1
				return t, true
			}
			l.quote = c
			l.text.Reset()
			l.state = stString
			b.pos = p + 1
			l.strStart = l.tok(tWordQuote, p)
			return token{}, false
		case '\n':
			t := l.tok(tEOL, p)
			b.pos = p + 1
			l.newline()
			l.state = stInitial
			return t, true
		case '#':
			e := p
			for e < len(d) && d[e] != '\n' {
				e++
			}
			b.pos = e
			return token{}, false
		case ' ', '\t':
			e := p
			for e < len(d) && (d[e] == ' ' || d[e] == '\t') {
				e++
			}
			b.pos = e
			return token{}, false
		}
		if wordChars[c] {
			e := p
			for e < len(d) && wordChars[d[e]] {
				e++
			}
			t := l.tok(tWord, p)
			b.pos = e
			if e-p == 2 && ((d[p] == 'i' && d[p+1] == 'f') || (d[p] == 'o' && d[p+1] == 'n')) {
				kw := keywordFor(d[p:e])
				t.typ = kw.tok
				t.kw = kw
				t.text = kw.name
			} else {
				t.raw = d[p:e:e]
			}
			return t, true
		}
		l.warnChar(c)
		b.pos = p + 1
		return token{}, false

	case stString:
		if atEOF {
			l.state = stInitial
			return l.eofToken()
		}
		c := d[p]
		switch {
		case c == '\n':
			msg := "multi-line strings not supported"
			fmt.Fprintf(l.k.stderr, "%s:%d:warning: %s\n", l.curName(), l.posLine, msg)
			l.k.diagnostics = append(l.k.diagnostics, Diagnostic{Severity: SeverityWarning, File: fileName(l.file), Line: l.line, Col: p - b.lineStart + 1, Msg: msg})
			t := l.tok(tEOL, p)
			b.pos = p + 1
			l.newline()
			l.state = stInitial
			return t, true
		case c == '\\':
			e := p + 1
			if e < len(d) && d[e] != '\n' {
				e++
			}
			l.text.Write(d[p+1 : e])
			b.pos = e
			if e < len(d) && d[e] == '\n' {
				return l.stringToken(), true
			}
			return token{}, false
		case c == '"' || c == '\'':
			b.pos = p + 1
			if c == l.quote {
				l.state = stParam
				return l.stringToken(), true
			}
			l.text.AddByte(c)
			return token{}, false
		}
		e := p
		for e < len(d) && d[e] != '\'' && d[e] != '"' && d[e] != '\\' && d[e] != '\n' {
			e++
		}
		l.text.Write(d[p:e])
		b.pos = e
		if e < len(d) && d[e] == '\n' {
			return l.stringToken(), true
		}
		return token{}, false

	case stHelp:
		if atEOF {
			l.state = stInitial
			return l.helpToken(p), true
		}
		ws := p
		for ws < len(d) && (d[ws] == ' ' || d[ws] == '\t') {
			ws++
		}
		if ws < len(d) && d[ws] == '\n' {
			b.pos = ws + 1
			l.newline()
			if ws+1 < len(d) && d[ws+1] != ' ' && d[ws+1] != '\t' && d[ws+1] != '\n' {
				l.state = stInitial
				return l.helpToken(p), true
			}
			l.text.AddByte('\n')
			return token{}, false
		}
		if ws > p {
			ts := 0
			for i := p; i < ws; i++ {
				if d[i] == '\t' {
					ts = (ts &^ 7) + 8
				} else {
					ts++
				}
			}
			l.lastTS = ts
			b.pos = ws
			if l.firstTS != 0 {
				if ts < l.firstTS {
					l.state = stInitial
					return l.helpToken(p), true
				}
				ts -= l.firstTS
				for ts > 8 {
					l.text.WriteString("        ")
					ts -= 8
				}
				l.text.WriteString("        "[:ts])
			}
			return token{}, false
		}
		e := p
		for e < len(d) && d[e] != '\n' {
			e++
		}
		b.pos = e
		for e > p && (d[e-1] == ' ' || d[e-1] == '\t') {
			e--
		}
		l.text.Write(d[p:e])
		if l.firstTS == 0 {
			l.firstTS = l.lastTS
		}
		return token{}, false
	}
	return token{}, false
}

func (l *lexer) stringToken() token {
	t := l.strStart
	t.text = l.text.String()
	return t
}

// helpToken returns the help text collected; when help is not kept (conf
// modes that never show it) the token only borrows the buffer, which the
// parser reads before the next token.
func (l *lexer) helpToken(p int) token {
	t := l.tok(tHelptext, p)
	if l.k.opts.discardHelp {
		t.raw = l.text.b[:len(l.text.b):len(l.text.b)]
		if t.raw == nil {
			t.raw = []byte{}
		}
		return t
	}
	t.text = l.text.String()
	return t
}

// textBuf collects a string or help text in a buffer kept across tokens;
// String copies out exactly the bytes used.
type textBuf struct{ b []byte }

func (t *textBuf) Reset()               { t.b = t.b[:0] }
func (t *textBuf) Write(p []byte)       { t.b = append(t.b, p...) }
func (t *textBuf) AddByte(c byte)       { t.b = append(t.b, c) }
func (t *textBuf) WriteString(s string) { t.b = append(t.b, s...) }
func (t *textBuf) String() string       { return string(t.b) }

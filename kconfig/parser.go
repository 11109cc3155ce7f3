package kconfig

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// LoadError is returned when a Kconfig tree cannot be loaded: syntax
// errors, missing or recursively sourced files, recursive dependencies.
// Each diagnostic names the file, line and (for syntax errors) column.
type LoadError struct {
	Diagnostics []Diagnostic
}

func (e *LoadError) Error() string {
	var parts []string
	for _, d := range e.Diagnostics {
		if d.Severity == SeverityError {
			parts = append(parts, d.String())
		}
	}
	if len(parts) == 0 {
		return "kconfig: load failed"
	}
	return strings.Join(parts, "\n")
}

// errFatal stops parsing at once (conf exits on these).
type errFatal struct{ d Diagnostic }

func (e *errFatal) Error() string { return e.d.String() }

// fatal prints conf's message and returns an error that stops the parse.
func (k *Kconfig) fatal(d Diagnostic, confText string) error {
	k.eprint(confText)
	k.diag(d)
	return &errFatal{d}
}

const maxParseErrors = 25

type parser struct {
	k      *Kconfig
	l      *lexer
	tok    token
	peeked bool
	fatal  error
}

// errStop unwinds the parser after a fatal error or too many errors.
type errStop struct{}

func (p *parser) peek() token {
	if !p.peeked {
		p.tok = p.l.next()
		p.peeked = true
	}
	return p.tok
}

func (p *parser) next() token {
	t := p.peek()
	p.peeked = false
	return t
}

// syntaxError records an error at token t and skips to the end of its
// line so parsing can go on and report further errors.
func (p *parser) syntaxError(t token, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d := Diagnostic{Severity: SeverityError, File: fileName(t.file), Line: t.line, Col: t.col, Msg: msg}
	if t.file == nil {
		d.File = p.l.curName()
	}
	fmt.Fprintf(p.k.stderr, "%s\n", d)
	p.k.diag(d)
	if p.k.nerrs >= maxParseErrors {
		panic(errStop{})
	}
	for t.typ != tEOL && t.typ != tEOF {
		t = p.next()
	}
}

func (p *parser) unexpected(t token, expected string) {
	what := t.typ.String()
	if t.typ == tWord || t.typ == tWordQuote {
		what = fmt.Sprintf("%q", t.str())
	} else if t.kw != nil {
		what = fmt.Sprintf("%q", t.str())
	}
	p.syntaxError(t, "unexpected %s, expected %s", what, expected)
}

// zconfError is conf's zconf_error: "file:line: msg" at the last keyword.
func (p *parser) zconfError(t token, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(p.k.stderr, "%s:%d: %s\n", p.l.curName(), p.l.posLine, msg)
	p.k.diag(Diagnostic{Severity: SeverityError, File: fileName(t.file), Line: t.line, Col: t.col, Msg: msg})
}

func (k *Kconfig) parseError(msg string) {
	l := k.lex
	fmt.Fprintf(k.stderr, "%s:%d: %s\n", l.curName(), l.posLine, msg)
	k.diag(Diagnostic{Severity: SeverityError, File: l.curName(), Line: l.posLine, Msg: msg})
}

// zconfPrint is conf's zconfprint: a warning at the last keyword.
func (p *parser) zconfPrint(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(p.k.stderr, "%s:%d: %s\n", p.l.curName(), p.l.posLine, msg)
	p.k.diagnostics = append(p.k.diagnostics, Diagnostic{Severity: SeverityWarning, File: p.l.curName(), Line: p.l.posLine,
		Msg: strings.TrimPrefix(msg, "warning: ")})
}

func (p *parser) expect(t tokType, what string) (token, bool) {
	tk := p.peek()
	if tk.typ != t {
		p.unexpected(tk, what)
		return tk, false
	}
	return p.next(), true
}

func (p *parser) expectEOL() bool {
	_, ok := p.expect(tEOL, "end of line")
	return ok
}

// nl is one or more end-of-lines; bison reads the token after them before
// reducing, which is why "if" nodes carry the next statement's line.
func (p *parser) nl() bool {
	if !p.expectEOL() {
		return false
	}
	for p.peek().typ == tEOL {
		p.next()
	}
	return true
}

func (p *parser) prompt() (string, bool) {
	t := p.peek()
	if t.typ == tWord || t.typ == tWordQuote {
		p.next()
		return t.str(), true
	}
	p.unexpected(t, "a prompt string")
	return "", false
}

func (p *parser) nonconstSymbol() (*Symbol, bool) {
	t := p.peek()
	if t.typ != tWord {
		p.unexpected(t, "a symbol name")
		return nil, false
	}
	p.next()
	return p.k.lookupBytes(t.raw, 0), true
}

func (p *parser) symbol() (*Symbol, bool) {
	t := p.peek()
	switch t.typ {
	case tWord:
		p.next()
		return p.k.lookupBytes(t.raw, 0), true
	case tWordQuote:
		p.next()
		return p.k.lookup(t.str(), true, symConst), true
	}
	p.unexpected(t, "a symbol or a quoted value")
	return nil, false
}

func (p *parser) expr() (*Expr, bool) { return p.exprOr() }

func (p *parser) exprOr() (*Expr, bool) {
	e, ok := p.exprAnd()
	if !ok {
		return nil, false
	}
	for p.peek().typ == tOr {
		p.next()
		r, ok := p.exprAnd()
		if !ok {
			return nil, false
		}
		e = newTwoExpr(eOr, e, r)
	}
	return e, true
}

func (p *parser) exprAnd() (*Expr, bool) {
	e, ok := p.exprUnary()
	if !ok {
		return nil, false
	}
	for p.peek().typ == tAnd {
		p.next()
		r, ok := p.exprUnary()
		if !ok {
			return nil, false
		}
		e = newTwoExpr(eAnd, e, r)
	}
	return e, true
}

func (p *parser) exprUnary() (*Expr, bool) {
	t := p.peek()
	switch t.typ {
	case tNot:
		p.next()
		e, ok := p.exprUnary()
		if !ok {
			return nil, false
		}
		return newOneExpr(eNot, e), true
	case tOpenParen:
		p.next()
		e, ok := p.exprOr()
		if !ok {
			return nil, false
		}
		if _, ok := p.expect(tCloseParen, "')'"); !ok {
			return nil, false
		}
		return e, true
	case tWord, tWordQuote:
		s, _ := p.symbol()
		var op exprType
		switch p.peek().typ {
		case tEqual:
			op = eEqual
		case tUnequal:
			op = eUnequal
		case tLess:
			op = eLth
		case tLessEqual:
			op = eLeq
		case tGreater:
			op = eGth
		case tGreaterEqual:
			op = eGeq
		default:
			return newSymExpr(s), true
		}
		p.next()
		s2, ok := p.symbol()
		if !ok {
			return nil, false
		}
		return newCompExpr(op, s, s2), true
	}
	p.unexpected(t, "an expression")
	return nil, false
}

// ifExpr parses an optional "if EXPR".
func (p *parser) ifExpr() (*Expr, bool) {
	if p.peek().typ != tIf {
		return nil, true
	}
	p.next()
	return p.expr()
}

type blockKind int8

const (
	blockTop blockKind = iota
	blockIf
	blockMenu
	blockChoice
)

func (b blockKind) endTok() tokType {
	switch b {
	case blockIf:
		return tEndif
	case blockMenu:
		return tEndmenu
	case blockChoice:
		return tEndchoice
	}
	return tEOF
}

func (b blockKind) name() string {
	switch b {
	case blockIf:
		return "if"
	case blockMenu:
		return "menu"
	case blockChoice:
		return "choice"
	}
	return ""
}

func isOptionName(t tokType) bool {
	switch t {
	case tDepends, tPrompt, tType, tSelect, tImply, tOptional, tRange, tDefault, tVisible:
		return true
	}
	return false
}

// stmtList parses statements until the end of the block; it returns with
// the end token (or EOF) unread.
func (p *parser) stmtList(kind blockKind, opener token) {
	for {
		t := p.peek()
		switch t.typ {
		case tEOL:
			p.next()
		case tIf:
			p.ifStmt()
		case tComment:
			p.commentStmt()
		case tConfig:
			p.configStmt(false)
		case tMenuconfig:
			p.configStmt(true)
		case tSource:
			p.sourceStmt()
		case tMenu:
			if kind == blockChoice {
				p.next()
				p.syntaxError(t, "menu is not allowed inside a choice")
				continue
			}
			p.menuStmt()
		case tChoice:
			if kind == blockChoice {
				p.next()
				p.syntaxError(t, "choice is not allowed inside a choice")
				continue
			}
			p.choiceStmt()
		case tEndmenu, tEndchoice, tEndif:
			if kind == blockTop {
				p.next()
				p.syntaxError(t, "unexpected end statement %q", t.str())
				continue
			}
			return
		case tEOF:
			if kind != blockTop {
				p.syntaxError(opener, "missing end statement for this %s (expected %q before the end of the file)",
					kind.name(), kind.endTok().String())
			}
			return
		case tWord:
			p.next()
			p.syntaxError(t, "unknown statement %q", t.str())
		default:
			p.next()
			if isOptionName(t.typ) {
				p.syntaxError(t, "unexpected option %q", t.str())
			} else {
				p.syntaxError(t, "invalid statement: unexpected %s", t.typ)
			}
		}
	}
}

// endBlock consumes the end statement of a block and closes it.
func (p *parser) endBlock(kind blockKind, entry *Menu) {
	t := p.next()
	if t.typ == tEOF {
		return
	}
	if !p.expectEOL() {
		return
	}
	if t.typ != kind.endTok() {
		p.zconfError(t, "unexpected '%s' within %s block", t.str(), kind.name())
		return
	}
	if entry.file != p.k.curFile() {
		p.zconfError(t, "'%s' in different file than '%s'", t.str(), kind.name())
		fmt.Fprintf(p.k.stderr, "%s:%d: location of the '%s'\n", fileName(entry.file), entry.line, kind.name())
		return
	}
	p.k.menuEndMenu()
}

func (p *parser) configStmt(menuconfig bool) {
	k := p.k
	p.next()
	sym, ok := p.nonconstSymbol()
	if !ok {
		return
	}
	if !p.expectEOL() {
		return
	}
	sym.flags |= symOptional
	k.menuAddEntry(sym)
	p.configOptions()
	if menuconfig {
		if k.currentEntry.prompt != nil {
			k.currentEntry.prompt.typ = pMenu
		} else {
			p.zconfPrint("warning: menuconfig statement without prompt")
		}
	}
}

func (p *parser) typeOption(choice bool) {
	k := p.k
	t := p.next()
	if n := p.peek().typ; n == tWord || n == tWordQuote {
		text, _ := p.prompt()
		dep, ok := p.ifExpr()
		if !ok {
			return
		}
		k.menuAddPrompt(pPrompt, text, dep)
	}
	if !p.expectEOL() {
		return
	}
	if choice && t.kw.stype != TypeBool && t.kw.stype != TypeTristate {
		p.zconfError(t, "invalid option: a choice can only be bool or tristate, not %s", t.str())
		return
	}
	k.menuSetType(t.kw.stype)
}

func (p *parser) promptOption() {
	p.next()
	text, ok := p.prompt()
	if !ok {
		return
	}
	dep, ok := p.ifExpr()
	if !ok || !p.expectEOL() {
		return
	}
	p.k.menuAddPrompt(pPrompt, text, dep)
}

func (p *parser) dependsOption() {
	p.next()
	if _, ok := p.expect(tOn, "'on' after 'depends'"); !ok {
		return
	}
	e, ok := p.expr()
	if !ok || !p.expectEOL() {
		return
	}
	p.k.menuAddDep(e)
}

func (p *parser) helpOption() {
	k := p.k
	t := p.next()
	if !p.expectEOL() {
		return
	}
	p.l.startHelp()
	ht := p.next()
	if ht.typ != tHelptext {
		p.unexpected(ht, "help text")
		return
	}
	e := k.currentEntry
	name := "<choice>"
	if e.sym != nil && e.sym.hasName {
		name = e.sym.name
	}
	if e.flags&menuHelpSeen != 0 {
		p.zconfPrint("warning: '%s' defined with more than one help text -- only the last one will be used", name)
	}
	if isBlankHelp(ht) {
		p.zconfPrint("warning: '%s' defined with blank help text", name)
	}
	_ = t
	e.flags |= menuHelpSeen
	if !p.k.opts.discardHelp {
		e.help = ht.str()
		e.flags |= menuHasHelp
	}
}

// isBlankHelp reports whether a help text is only white space (without
// copying a borrowed one).
func isBlankHelp(t token) bool {
	if t.raw != nil {
		return len(bytes.TrimLeft(t.raw, " \f\n\r\t\v")) == 0
	}
	return strings.TrimLeft(t.text, " \f\n\r\t\v") == ""
}

func (p *parser) configOptions() {
	k := p.k
	for {
		t := p.peek()
		switch t.typ {
		case tType:
			p.typeOption(false)
		case tPrompt:
			p.promptOption()
		case tDefault:
			p.next()
			e, ok := p.expr()
			if !ok {
				continue
			}
			dep, ok := p.ifExpr()
			if !ok || !p.expectEOL() {
				continue
			}
			k.menuAddExpr(pDefault, e, dep)
			if t.kw.stype != TypeUnknown {
				k.menuSetType(t.kw.stype)
			}
		case tSelect, tImply:
			p.next()
			s, ok := p.nonconstSymbol()
			if !ok {
				continue
			}
			dep, ok := p.ifExpr()
			if !ok || !p.expectEOL() {
				continue
			}
			if t.typ == tSelect {
				k.menuAddSymbol(pSelect, s, dep)
			} else {
				k.menuAddSymbol(pImply, s, dep)
			}
		case tRange:
			p.next()
			a, ok := p.symbol()
			if !ok {
				continue
			}
			b, ok := p.symbol()
			if !ok {
				continue
			}
			dep, ok := p.ifExpr()
			if !ok || !p.expectEOL() {
				continue
			}
			k.menuAddExpr(pRange, newCompExpr(eRange, a, b), dep)
		case tOption:
			p.next()
			p.symbolOptions()
		case tDepends:
			p.dependsOption()
		case tHelp:
			p.helpOption()
		case tEOL:
			p.next()
		case tWord:
			p.next()
			p.syntaxError(t, "unknown option %q", t.str())
		default:
			return
		}
	}
}

func (p *parser) symbolOptions() {
	k := p.k
	for p.peek().typ == tWord {
		w := p.next()
		arg, hasArg := "", false
		if p.peek().typ == tEqual {
			p.next()
			a, ok := p.prompt()
			if !ok {
				return
			}
			arg, hasArg = a, true
		}
		kw := keywords[w.str()]
		if kw != nil && kw.flags&tfOption != 0 {
			if kw.opt == optEnv && !hasArg {
				p.syntaxError(w, "option env needs a variable name: option env=\"NAME\"")
				return
			}
			k.menuAddOption(kw.opt, arg)
		} else {
			p.zconfPrint("warning: ignoring unknown option %s", w.str())
		}
	}
	p.expectEOL()
}

func (p *parser) choiceStmt() {
	k := p.k
	opener := p.next()
	name, hasName := "", false
	if p.peek().typ == tWord {
		name, hasName = p.next().str(), true
	}
	if !p.expectEOL() {
		return
	}
	sym := k.lookup(name, hasName, symChoice)
	sym.flags |= symAuto
	k.menuAddEntry(sym)
	k.menuAddExpr(pChoice, nil, nil)
	entry := k.currentEntry
	for {
		t := p.peek()
		switch t.typ {
		case tPrompt:
			p.promptOption()
			continue
		case tType:
			p.typeOption(true)
			continue
		case tOptional:
			p.next()
			if p.expectEOL() {
				k.currentEntry.sym.flags |= symOptional
			}
			continue
		case tDefault:
			p.next()
			if t.kw.stype != TypeUnknown {
				p.syntaxError(t, "invalid option: %s is not allowed in a choice", t.str())
				continue
			}
			s, ok := p.nonconstSymbol()
			if !ok {
				continue
			}
			dep, ok := p.ifExpr()
			if !ok || !p.expectEOL() {
				continue
			}
			k.menuAddSymbol(pDefault, s, dep)
			continue
		case tDepends:
			p.dependsOption()
			continue
		case tHelp:
			p.helpOption()
			continue
		case tEOL:
			p.next()
			continue
		case tWord:
			p.next()
			p.syntaxError(t, "unknown option %q", t.str())
			continue
		}
		break
	}
	k.menuAddMenu()
	_ = opener
	p.stmtList(blockChoice, opener)
	p.endBlock(blockChoice, entry)
}

func (p *parser) ifStmt() {
	k := p.k
	opener := p.next()
	e, ok := p.expr()
	if !ok {
		return
	}
	if !p.nl() {
		return
	}
	k.menuAddEntry(nil)
	k.menuAddDep(e)
	entry := k.menuAddMenu()
	p.stmtList(blockIf, opener)
	p.endBlock(blockIf, entry)
}

func (p *parser) menuStmt() {
	k := p.k
	opener := p.next()
	text, ok := p.prompt()
	if !ok || !p.expectEOL() {
		return
	}
	k.menuAddEntry(nil)
	k.menuAddPrompt(pMenu, text, nil)
	for {
		t := p.peek()
		if t.typ == tVisible {
			p.next()
			e, ok := p.ifExpr()
			if !ok {
				continue
			}
			k.menuAddVisibility(e)
			continue
		}
		if t.typ == tEOL {
			p.next()
			continue
		}
		break
	}
	p.dependsList()
	entry := k.menuAddMenu()
	p.stmtList(blockMenu, opener)
	p.endBlock(blockMenu, entry)
}

func (p *parser) dependsList() {
	for {
		t := p.peek()
		switch t.typ {
		case tDepends:
			p.dependsOption()
		case tEOL:
			p.next()
		case tWord:
			p.next()
			p.syntaxError(t, "unknown option %q", t.str())
		default:
			return
		}
	}
}

func (p *parser) commentStmt() {
	k := p.k
	p.next()
	text, ok := p.prompt()
	if !ok || !p.expectEOL() {
		return
	}
	k.menuAddEntry(nil)
	k.menuAddPrompt(pComment, text, nil)
	p.dependsList()
}

func (p *parser) sourceStmt() {
	t := p.next()
	name, ok := p.prompt()
	if !ok || !p.expectEOL() {
		return
	}
	if err := p.l.nextFile(name, t); err != nil {
		p.fatal = err
		panic(errStop{})
	}
}

// parse runs the grammar over the whole tree.
func (p *parser) parse() (err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(errStop); !ok {
				panic(r)
			}
			err = p.fatal
		}
	}()
	k := p.k
	for p.peek().typ == tEOL {
		p.next()
	}
	if p.peek().typ == tMainmenu {
		p.next()
		text, ok := p.prompt()
		if ok && p.nl() {
			k.menuAddPrompt(pMenu, text, nil)
		}
	} else {
		k.menuAddPrompt(pMenu, "Buildroot Configuration", nil)
	}
	p.stmtList(blockTop, token{})
	return nil
}

// Load parses the Kconfig tree whose top file is name (relative names are
// looked up in Options.Dir, then under $srctree), finalises it and checks
// it for recursive dependencies, as conf does before anything else.
// Warnings are printed to Options.Stderr in conf's format and kept in
// Diagnostics; errors come back as a *LoadError.
func Load(name string, o Options) (*Kconfig, error) {
	k := newKconfig(o)
	if err := k.parse(name); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Kconfig) parse(name string) error {
	l := &lexer{k: k}
	k.lex = l
	if err := l.initScan(name); err != nil {
		fmt.Fprintf(k.stderr, "can't find file %s\n", name)
		return err
	}
	k.symInit()
	k.menuInit()
	p := &parser{k: k, l: l}
	err := p.parse()
	if l.pf != nil {
		l.pf.stop()
		l.pf = nil
	}
	l.retired, k.bufs.free = nil, nil // only needed while files are read
	if err != nil {
		return &LoadError{Diagnostics: k.diagnostics}
	}
	if k.nerrs > 0 {
		return &LoadError{Diagnostics: k.diagnostics}
	}
	if k.modulesSym == nil {
		k.modulesSym = k.find("n")
	}
	k.resolveLate()
	k.root.prompt.text = k.expandRefs(k.root.prompt.text)
	k.finalize(&k.root)
	k.forAllSymbols(func(s *Symbol) {
		if k.findCycle(s) != nil {
			k.nerrs++
		}
	})
	if k.nerrs > 0 {
		return &LoadError{Diagnostics: k.diagnostics}
	}
	k.setChangeCount(1)
	return nil
}

func (k *Kconfig) symInit() {
	s := k.lookup("UNAME_RELEASE", true, 0)
	s.typ = TypeString
	s.flags |= symAuto
	rel := k.opts.Release
	if rel == "" {
		rel = unameRelease()
	}
	k.addDefault(s, rel)
}

// IsLoadError reports whether err came from loading a Kconfig tree.
func IsLoadError(err error) bool {
	var le *LoadError
	return errors.As(err, &le)
}

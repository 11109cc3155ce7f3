package kconfig

import (
	"bytes"
	"strings"
)

// Reading .config files.
//
// A line is one of: "NAME=VALUE" (an assignment), "# NAME is not set" (an
// explicit n), or anything else (comments, blank lines: ignored; with a
// non-empty CONFIG_ prefix, other text draws an "unexpected data"
// warning). Values are checked against the symbol's type; bad ones draw
// conf's warnings and are skipped. The last assignment to a symbol wins.
// Nothing in a .config stops the read.

type lineKind int8

const (
	lineIgnored lineKind = iota
	lineUnexpected
	lineUnset
	lineAssign
)

// configLine is a .config line as conf understands it.
type configLine struct {
	kind  lineKind
	name  string
	value string // after '=', without the line end
}

// parseConfigLine classifies one line (with or without its newline).
func parseConfigLine(line, prefix string) configLine {
	if strings.HasPrefix(line, "#") {
		// "# NAME is not set": conf checks only the text after the
		// first space, and only its first ten characters.
		if len(line) < 2 || !strings.HasPrefix(line[2:], prefix) {
			return configLine{}
		}
		rest := line[2+len(prefix):]
		name, tail, ok := strings.Cut(rest, " ")
		if !ok || !strings.HasPrefix(tail, "is not set") {
			return configLine{}
		}
		return configLine{kind: lineUnset, name: name, value: "n"}
	}
	if !strings.HasPrefix(line, prefix) {
		if line != "" && line[0] != '\r' && line[0] != '\n' {
			return configLine{kind: lineUnexpected, value: line[:strings.IndexAny(line+"\n", "\r\n")]}
		}
		return configLine{}
	}
	name, value, ok := strings.Cut(line[len(prefix):], "=")
	if !ok {
		return configLine{}
	}
	if nl := strings.IndexByte(value, '\n'); nl >= 0 {
		value = strings.TrimSuffix(value[:nl], "\r")
	}
	return configLine{kind: lineAssign, name: name, value: value}
}

// loadAssignments reads a configuration into slot def (user values, or
// the previous auto.conf). With name empty it reads $BR2_CONFIG (or
// .config), else the first existing file of the defconfig_list option.
// It reports whether a file was read.
func (k *Kconfig) loadAssignments(name string, def int) bool {
	var data []byte
	found := false
	if name != "" {
		data, found = k.openConf(name)
	} else {
		name = k.ConfigName()
		if data, found = k.openConf(name); !found {
			k.addChangeCount(1)
			name, data, found = k.defconfigListFile()
		}
	}
	if !found {
		return false
	}
	k.readData(name, data, def)
	return true
}

// defconfigListFile tries the defaults of the "option defconfig_list"
// symbol in order.
func (k *Kconfig) defconfigListFile() (string, []byte, bool) {
	if k.defconfigL == nil {
		return "", nil, false
	}
	for _, p := range k.defconfigL.props {
		if p.typ != pDefault || k.evalExpr(p.visExpr) == No || p.expr.typ != eSymbol {
			continue
		}
		name := k.expandCreating(p.expr.sym.name)
		if data, ok := k.openConf(name); ok {
			k.message("using defaults found in %s", name)
			return name, data, true
		}
	}
	return "", nil, false
}

// readData forgets slot def of every symbol, then applies data line by
// line.
func (k *Kconfig) readData(name string, data []byte, def int) {
	k.valsCurrent = false
	k.confFilename = name
	k.confLineno = 0
	k.confWarnings = 0
	defFlags := uint32(symDef) << def
	k.forAllSymbols(func(s *Symbol) {
		s.flags |= symChanged
		s.flags &^= defFlags | symValid
		if s.isChoice() {
			s.flags |= defFlags
		}
		if def == defUser {
			s.user = value{}
		}
	})
	if def == defAuto {
		k.autoVals = nil
	}
	prefix := k.prefix()
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if i := bytes.IndexByte(line, 0); i >= 0 {
			line = line[:i] // conf's string handling stops at a NUL
		}
		k.confLineno++
		k.applyLine(parseConfigLine(string(line), prefix), def, defFlags)
	}
}

// targetOf finds the symbol a line assigns: an existing one for user
// values (unknown names only mark the configuration as changed), created
// on demand when reading an old auto.conf.
func (k *Kconfig) targetOf(name string, def int, unknownType Type) *Symbol {
	if def == defUser {
		s := k.find(name)
		if s == nil {
			k.addChangeCount(1)
		}
		return s
	}
	s := k.lookup(name, true, 0)
	if s.typ == TypeUnknown {
		s.typ = unknownType
	}
	return s
}

func (k *Kconfig) applyLine(l configLine, def int, defFlags uint32) {
	var s *Symbol
	switch l.kind {
	case lineUnexpected:
		k.confWarning("unexpected data: %s", l.value)
		return
	case lineUnset:
		if s = k.targetOf(l.name, def, TypeBool); s == nil {
			return
		}
		k.warnReassigned(s, defFlags)
		if s.typ == TypeBool || s.typ == TypeTristate {
			s.slot(def).tri = No
			s.flags |= defFlags
		}
	case lineAssign:
		if s = k.targetOf(l.name, def, TypeOther); s == nil {
			return
		}
		k.warnReassigned(s, defFlags)
		if !k.storeAssigned(s, def, defFlags, l.value) {
			return
		}
	default:
		return
	}
	if s.isChoiceVal() {
		k.noteChoiceAssignment(s, def, defFlags)
	}
}

func (k *Kconfig) warnReassigned(s *Symbol, defFlags uint32) {
	if s.flags&defFlags != 0 {
		k.confWarning("override: reassigning to symbol %s", s.name)
	}
}

// noteChoiceAssignment keeps a choice's recorded state in step with its
// members' lines: the member set to y becomes the pick.
func (k *Kconfig) noteChoiceAssignment(s *Symbol, def int, defFlags uint32) {
	c := s.choiceOf()
	switch s.slot(def).tri {
	case Mod:
		if c.slot(def).tri == Yes {
			k.confWarning("%s creates inconsistent choice state", s.name)
			c.flags &^= defFlags
		}
	case Yes:
		if c.slot(def).tri != No {
			k.confWarning("override: %s changes choice state", s.name)
		}
		c.slot(def).choice = s
	}
	c.slot(def).tri = triOr(c.slot(def).tri, s.slot(def).tri)
}

// unquoteConf reads a double-quoted .config value: backslash escapes the
// next character, the closing quote ends it (text after it is ignored).
func unquoteConf(raw string) (string, bool) {
	var b strings.Builder
	for i := 1; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '"':
			return b.String(), true
		case '\\':
			if i++; i >= len(raw) {
				return "", false
			}
			c = raw[i]
		}
		b.WriteByte(c)
	}
	return "", false
}

// storeAssigned stores the text after '=' as s's value in slot def, if it
// suits s's type; it reports whether it was taken.
func (k *Kconfig) storeAssigned(s *Symbol, def int, defFlags uint32, raw string) bool {
	switch s.typ {
	case TypeBool, TypeTristate:
		// by the first letter: "yes" is y
		var t Tristate
		switch {
		case s.typ == TypeTristate && strings.HasPrefix(raw, "m"):
			t = Mod
		case strings.HasPrefix(raw, "y"):
			t = Yes
		case strings.HasPrefix(raw, "n"):
			t = No
		default:
			if def != defAuto {
				k.confWarning("symbol value '%s' invalid for %s", raw, s.name)
			}
			return false
		}
		s.slot(def).tri = t
		s.flags |= defFlags
		return true
	case TypeOther, TypeString:
		quoted := strings.HasPrefix(raw, "\"")
		if s.typ == TypeOther && !quoted {
			// an unknown symbol from an old auto.conf, with a bare value
			s.typ = TypeString
			return k.storeValidText(s, def, defFlags, raw)
		}
		if !quoted {
			return true // conf silently ignores an unquoted string
		}
		text, ok := unquoteConf(raw)
		if !ok {
			if def != defAuto {
				k.confWarning("invalid string found")
			}
			return false
		}
		return k.storeValidText(s, def, defFlags, text)
	case TypeInt, TypeHex:
		return k.storeValidText(s, def, defFlags, raw)
	}
	return true
}

func (k *Kconfig) storeValidText(s *Symbol, def int, defFlags uint32, text string) bool {
	if !validText(s, text) {
		if def != defAuto {
			k.confWarning("symbol value '%s' invalid for %s", text, s.name)
		}
		return false
	}
	s.slot(def).str, s.slot(def).set = text, true
	s.flags |= defFlags
	return true
}

// read loads a configuration as the user's values: name, or $BR2_CONFIG
// when empty. It reports false when there was no file.
func (k *Kconfig) read(name string) bool {
	k.setChangeCount(0)
	if !k.loadAssignments(name, defUser) {
		k.evaluate(k.modulesSym)
		return false
	}
	k.reconcileRead()
	return true
}

// reconcileRead compares what was read with what the tree makes of it.
// The configuration counts as changed (so it will be written again) when
// a value did not survive, a symbol gained or lost its place in .config,
// a number left its range or a line drew a warning. When nothing changed,
// the values of hidden symbols are forgotten, so they count as new should
// they become visible.
func (k *Kconfig) reconcileRead() {
	k.evaluate(k.modulesSym)
	stale := 0
	k.forAllSymbols(func(s *Symbol) {
		k.evaluate(s)
		if !s.isChoice() && s.flags&symAuto == 0 && !k.readBack(s) {
			stale++
		}
	})
	k.forAllSymbols(func(s *Symbol) {
		if !s.hasValue() || s.isChoiceVal() {
			return
		}
		if s.visible == No && stale == 0 {
			s.flags &^= symDefUser
		}
		switch s.typ {
		case TypeString, TypeInt, TypeHex:
			if !k.acceptsText(s, s.user.str) {
				s.flags &^= symValid | symDefUser
				stale++
			}
		}
	})
	if k.confWarnings != 0 || stale != 0 {
		k.addChangeCount(1)
	}
}

// readBack reports whether s would be written back as it was read: its
// value was kept, or it was neither read nor is it written.
func (k *Kconfig) readBack(s *Symbol) bool {
	written := s.flags&symWrite != 0
	switch {
	case s.hasValue() && written:
		if s.typ == TypeBool || s.typ == TypeTristate {
			return s.user.tri == s.curr.tri
		}
		return s.curr.str == s.user.str
	case !s.hasValue() && !written:
		return true
	}
	return false
}

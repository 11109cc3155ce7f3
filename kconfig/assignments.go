package kconfig

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Assignment is one line of a configuration file that sets a symbol.
type Assignment struct {
	Name   string
	Value  string // unquoted and unescaped; "n" for "# NAME is not set"
	Quoted bool   // the value was a quoted string
	Unset  bool   // the line was "# NAME is not set"
	Line   int
}

// ReadAssignments reads a .config or defconfig strictly, for tools that
// need a few values without the Kconfig tree: NAME=VALUE lines (quoted
// strings unescaped) and "# NAME is not set", in file order; blank lines
// and other comments are skipped. Where conf would skip a line with a
// warning, it fails instead, naming "name:line" and the problem. prefix
// is the CONFIG_ prefix ("" for Buildroot).
func ReadAssignments(r io.Reader, name, prefix string) ([]Assignment, error) {
	var out []Assignment
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if sym, ok := strings.CutSuffix(strings.TrimPrefix(line, "# "+prefix), " is not set"); ok &&
				strings.HasPrefix(line, "# "+prefix) && IsSymbolName(sym) {
				out = append(out, Assignment{Name: sym, Value: "n", Unset: true, Line: n})
			}
			continue
		}
		sym, raw, ok := strings.Cut(strings.TrimPrefix(line, prefix), "=")
		if !ok || !strings.HasPrefix(line, prefix) || !IsSymbolName(sym) {
			return nil, fmt.Errorf("%s:%d: expected SYMBOL=value or a # comment, got %q", name, n, clip(line))
		}
		a := Assignment{Name: sym, Value: raw, Line: n}
		if strings.HasPrefix(raw, `"`) {
			v, err := unquoteStrict(raw)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %v", name, n, sym, err)
			}
			a.Value, a.Quoted = v, true
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return out, nil
}

// unquoteStrict reads a quoted value, refusing what conf would misread.
func unquoteStrict(raw string) (string, error) {
	var b strings.Builder
	for i := 1; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '\\':
			if i+1 >= len(raw) {
				return "", fmt.Errorf("string ends in a lone backslash")
			}
			i++
			b.WriteByte(raw[i])
		case '"':
			if rest := raw[i+1:]; strings.TrimSpace(rest) != "" {
				return "", fmt.Errorf("text after the closing quote: %q", clip(rest))
			}
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("string has no closing quote")
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// IsSymbolName reports whether s can name a symbol in a configuration
// file (letters, digits and _).
func IsSymbolName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c == '_' || isAlnum(c)) {
			return false
		}
	}
	return true
}

// Quote writes a string value as conf writes it in .config: in double
// quotes, with " and \ escaped.
func Quote(v string) string { return escapeString(v) }

package cubecfg

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// Values are symbol values read from a Buildroot .config or defconfig, as
// Kconfig holds them: strings unquoted and unescaped, "y" for enabled bools,
// "" for "# SYM is not set".
//
// It is a small reader for the few Cube options cube-hal needs outside the
// configurator (the certificate paths and the agent host for `cube-hal
// certs`); the Kconfig engine is the full implementation.
type Values map[string]string

// ReadConfig reads a .config or defconfig file.
func ReadConfig(path string) (Values, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseConfig(f, path)
}

// ParseConfig reads .config syntax from r; name is used in error messages
// ("name:line: ..."). Like Kconfig it reads SYM=value and "# SYM is not
// set" lines, ignores other comments and blank lines, and lets the last
// assignment of a symbol win. Unlike Kconfig, which skips them with a
// warning, it refuses malformed lines, naming them.
func ParseConfig(r io.Reader, name string) (Values, error) {
	vals := Values{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if sym, ok := strings.CutSuffix(strings.TrimPrefix(line, "# "), " is not set"); ok &&
				strings.HasPrefix(line, "# ") && isSymbol(sym) {
				vals[sym] = ""
			}
			continue
		}
		sym, raw, ok := strings.Cut(line, "=")
		if !ok || !isSymbol(sym) {
			return nil, fmt.Errorf("%s:%d: expected SYMBOL=value or a # comment, got %q", name, n, clip(line))
		}
		v, err := unquote(raw)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %v", name, n, sym, err)
		}
		if v == "n" && !strings.HasPrefix(raw, `"`) {
			v = ""
		}
		vals[sym] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return vals, nil
}

// isSymbol reports whether s is a Kconfig symbol name (letters, digits, _).
func isSymbol(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// unquote undoes Kconfig's string quoting ("...", with \" and \\), and
// returns any other value as it is.
func unquote(raw string) (string, error) {
	if !strings.HasPrefix(raw, `"`) {
		return raw, nil
	}
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

// Quote writes v the way Kconfig writes a string value: in double quotes,
// with " and \ escaped.
func Quote(v string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

// Get returns the value of symbol: as the file sets it, else, for the Cube
// options, the Kconfig default (so a defconfig, which leaves defaults out,
// reads right), else "". For a choice member left out of the file, the
// default member is "y" only when no other member is set.
func (v Values) Get(symbol string) string {
	if val, ok := v[symbol]; ok {
		return val
	}
	if symbol == SymLogLevel {
		o, _ := Lookup(ChoiceLogLevel)
		for _, m := range o.Members {
			if v.Get(m.Symbol) == "y" {
				return m.Label
			}
		}
		return "info"
	}
	o, ok := Lookup(symbol)
	if !ok {
		return ""
	}
	if o.Kind != Choice {
		return o.Default
	}
	for _, m := range o.Members {
		if v[m.Symbol] == "y" {
			return ""
		}
	}
	if o.Default == symbol {
		return "y"
	}
	return ""
}

package cubecfg

import (
	"io"
	"os"

	"github.com/ultravioletrs/cube-hal/kconfig"
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
// warning, it refuses malformed lines, naming them. The reading is
// kconfig.ReadAssignments; this only maps "not set" (and a bare n) to "".
func ParseConfig(r io.Reader, name string) (Values, error) {
	as, err := kconfig.ReadAssignments(r, name, "")
	if err != nil {
		return nil, err
	}
	vals := Values{}
	for _, a := range as {
		v := a.Value
		if a.Unset || (v == "n" && !a.Quoted) {
			v = ""
		}
		vals[a.Name] = v
	}
	return vals, nil
}

// isSymbol reports whether s is a Kconfig symbol name (letters, digits, _).
func isSymbol(s string) bool { return kconfig.IsSymbolName(s) }

// Quote writes v the way Kconfig writes a string value: in double quotes,
// with " and \ escaped.
func Quote(v string) string { return kconfig.Quote(v) }

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

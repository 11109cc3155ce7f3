package build

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Config is the set of symbols of a Buildroot .config, by name
// ("BR2_PACKAGE_BUSYBOX" → "y"), string values unquoted. It is a minimal
// reader for the few values the build runner needs (instrumentation
// scripts already configured, download directory); the Kconfig engine owns
// everything else about .config files.
type Config map[string]string

// ReadConfig reads a .config file. Lines that are neither assignments nor
// comments are an error naming the file and line, since Kconfig never
// writes them.
func ReadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := Config{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			// "# BR2_FOO is not set"
			if name, ok := strings.CutSuffix(strings.TrimPrefix(line, "# "), " is not set"); ok && !strings.ContainsAny(name, " \t") {
				c[name] = "n"
			}
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("%s:%d: %q is not NAME=value", path, n, line)
		}
		if strings.HasPrefix(value, `"`) {
			u, ok := kconfigUnquote(value)
			if !ok {
				return nil, fmt.Errorf("%s:%d: %s: unterminated string %s", path, n, name, value)
			}
			value = u
		}
		c[name] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, n+1, err)
	}
	return c, nil
}

// kconfigUnquote undoes Kconfig's string quoting: the value sits between
// double quotes and a backslash escapes the next character.
func kconfigUnquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			i++
			if i >= len(s) {
				return "", false
			}
			b.WriteByte(s[i])
		case '"':
			return b.String(), i == len(s)-1
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// Enabled reports whether a bool or tristate symbol is y (or m).
func (c Config) Enabled(name string) bool { return c[name] == "y" || c[name] == "m" }

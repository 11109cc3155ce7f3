package config

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// ParseEnvFile reads KEY=VALUE lines the way systemd's EnvironmentFile= and
// a POSIX shell agree on: blank lines and lines starting with # are skipped,
// an optional "export " prefix is allowed, and a value may be wrapped in
// single quotes (taken literally) or double quotes, where a backslash
// escapes \ " $ and ` (any other backslash stays, as in sh). Unquoted
// values are trimmed of surrounding blanks.
//
// Errors name the file and line but never echo the line: it may hold the
// certs token.
func ParseEnvFile(name string, data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE", name, n)
		}
		if !validKey(key) {
			return nil, fmt.Errorf("%s:%d: %q is not a valid variable name", name, n, key)
		}
		v, err := unquote(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %v", name, n, key, err)
		}
		out[key] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", name, n+1, err)
	}
	return out, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func unquote(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch v[0] {
	case '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' {
			return "", fmt.Errorf("unterminated single quote")
		}
		body := v[1 : len(v)-1]
		if strings.ContainsRune(body, '\'') {
			return "", fmt.Errorf("stray single quote inside the value")
		}
		return body, nil
	case '"':
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			c := v[i]
			switch c {
			case '"':
				if i != len(v)-1 {
					return "", fmt.Errorf("text after the closing double quote")
				}
				return b.String(), nil
			case '\\':
				if i+1 >= len(v) {
					return "", fmt.Errorf("unterminated double quote")
				}
				i++
				switch v[i] {
				case '"', '\\', '$', '`':
					b.WriteByte(v[i])
				default:
					b.WriteByte('\\')
					b.WriteByte(v[i])
				}
			default:
				b.WriteByte(c)
			}
		}
		return "", fmt.Errorf("unterminated double quote")
	}
	return v, nil
}

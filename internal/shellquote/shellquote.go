// Package shellquote renders words and command lines the way a POSIX shell
// reads them back: for build logs, error messages and --dry-run output a
// user may paste into a terminal, and for the scripts tests generate.
//
// Words made only of characters no shell treats specially are left bare,
// so common command lines stay readable; anything else is put in single
// quotes, inside which sh takes every character literally. A single quote
// itself closes the quoted part, is escaped and reopens it:
//
//	it's   ->   'it'\''s'
package shellquote

import "strings"

// Quote returns s as one shell word.
func Quote(s string) string {
	if s != "" && bare(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join returns argv as a command line: each word quoted by Quote. A first
// word that looks like a variable assignment (NAME=...) is quoted too, or
// the shell would assign it instead of running it.
func Join(argv []string) string {
	var b strings.Builder
	for i, s := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == 0 && s != "" && bare(s) && assignment(s) {
			b.WriteString("'" + s + "'")
			continue
		}
		b.WriteString(Quote(s))
	}
	return b.String()
}

// bare reports whether s holds only characters that are literal anywhere
// in an unquoted word: ASCII letters and digits and -_./:=,+@%. The list is
// short on purpose (it leaves out ^, which the Bourne shell reads as a
// pipe, control characters, which would be invisible, and non-ASCII, whose
// meaning depends on the locale).
func bare(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_./:=,+@%", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// assignment reports whether s starts with NAME= (a shell variable name:
// a letter or underscore, then letters, digits and underscores).
func assignment(s string) bool {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

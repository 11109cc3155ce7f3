package kconfig

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseErrors: bad Kconfig input is rejected (like conf) with an error
// naming file:line:column and what was expected.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"unknown keyword", map[string]string{"Kconfig": "menu \"m\"\nendmenu\nfrobnicate A\n"},
			[]string{"Kconfig:3:1: error: unknown statement \"frobnicate\""}},
		{"unknown option", map[string]string{"Kconfig": "config A\n\tbool \"a\"\n\tfrob y\n"},
			[]string{"Kconfig:3:2: error: unknown option \"frob\""}},
		{"option outside entry", map[string]string{"Kconfig": "\tdepends on A\n"},
			[]string{"Kconfig:1:2: error: unexpected option \"depends\""}},
		{"missing endmenu", map[string]string{"Kconfig": "menu \"m\"\nconfig A\n\tbool \"a\"\n"},
			[]string{"Kconfig:1:1: error: missing end statement for this menu", "\"endmenu\""}},
		{"missing endif", map[string]string{"Kconfig": "if A\nconfig B\n\tbool \"b\"\n"},
			[]string{"Kconfig:1:1: error: missing end statement for this if"}},
		{"stray endif", map[string]string{"Kconfig": "endif\n"},
			[]string{"Kconfig:1:1: error: unexpected end statement \"endif\""}},
		{"mismatched end", map[string]string{"Kconfig": "menu \"m\"\nendif\n"},
			[]string{"unexpected 'endif' within menu block"}},
		{"end in another file", map[string]string{"Kconfig": "menu \"m\"\nsource \"b.in\"\n", "b.in": "endmenu\n"},
			[]string{"'endmenu' in different file than 'menu'"}},
		{"bad expression", map[string]string{"Kconfig": "config A\n\tbool \"a\"\n\tdepends on B &&\n"},
			[]string{"Kconfig:3:17: error: unexpected end of line, expected an expression"}},
		{"unbalanced parenthesis", map[string]string{"Kconfig": "config A\n\tbool \"a\" if (B || C\n"},
			[]string{"Kconfig:2:21: error: unexpected end of line, expected ')'"}},
		{"quoted config name", map[string]string{"Kconfig": "config \"A\"\n\tbool\n"},
			[]string{"Kconfig:1:8: error: unexpected \"A\", expected a symbol name"}},
		{"depends without on", map[string]string{"Kconfig": "config A\n\tbool\n\tdepends A\n"},
			[]string{"Kconfig:3:10: error: unexpected \"A\", expected 'on' after 'depends'"}},
		{"choice of strings", map[string]string{"Kconfig": "choice\n\tprompt \"c\"\n\tstring\nconfig A\n\tbool \"a\"\nendchoice\n"},
			[]string{"a choice can only be bool or tristate, not string"}},
		{"menu inside choice", map[string]string{"Kconfig": "choice\n\tprompt \"c\"\nmenu \"m\"\nendmenu\nendchoice\n"},
			[]string{"Kconfig:3:1: error: menu is not allowed inside a choice"}},
		{"env without name", map[string]string{"Kconfig": "config A\n\tstring\n\toption env\n"},
			[]string{"Kconfig:3:9: error: option env needs a variable name"}},
		{"mainmenu twice", map[string]string{"Kconfig": "mainmenu \"a\"\nmainmenu \"b\"\n"},
			[]string{"Kconfig:2:1: error: invalid statement: unexpected mainmenu"}},
		{"missing source", map[string]string{"Kconfig": "source \"a.in\"\n", "a.in": "\nsource \"nope.in\"\n"},
			[]string{"a.in:2:1: error: can't open file \"nope.in\" (sourced from Kconfig:1)"}},
		{"recursive source", map[string]string{"Kconfig": "source \"a.in\"\n", "a.in": "source \"b.in\"\n", "b.in": "source \"a.in\"\n"},
			[]string{"b.in:1:1: error: recursive inclusion of \"a.in\" (included from b.in:1 <- a.in:1)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			var stderr bytes.Buffer
			_, err := Load("Kconfig", Options{Dir: dir, Stderr: &stderr, LookupEnv: func(string) (string, bool) { return "", false }})
			if err == nil {
				t.Fatal("loaded without error")
			}
			var le *LoadError
			if !errors.As(err, &le) || !IsLoadError(err) {
				t.Fatalf("error %T is not a *LoadError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestLoadWarnings: warnings do not stop loading; they are kept with
// their place.
func TestLoadWarnings(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Kconfig": "config A\n\tbool \"a\" ;\nconfig B\n\tstring \"unterminated\n"})
	k, err := Load("Kconfig", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range k.Diagnostics() {
		got = append(got, d.String())
	}
	want := []string{"Kconfig:2: warning: ignoring unsupported character ';'", "Kconfig:4:22: warning: multi-line strings not supported"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if k.Lookup("B").Prompt() != "unterminated" {
		t.Errorf("prompt of B = %q", k.Lookup("B").Prompt())
	}
	if filepath.Base(k.Files()[0]) != "Kconfig" {
		t.Errorf("Files() = %v", k.Files())
	}
}

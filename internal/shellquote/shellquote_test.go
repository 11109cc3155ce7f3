package shellquote

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

var cases = []struct{ in, want string }{
	{"", "''"},
	{"plain", "plain"},
	{"/usr/bin/qemu-system-x86_64", "/usr/bin/qemu-system-x86_64"},
	{"user,id=vmnic,hostfwd=tcp:127.0.0.1:16190-:22", "user,id=vmnic,hostfwd=tcp:127.0.0.1:16190-:22"},
	{"BR2_JLEVEL=4", "BR2_JLEVEL=4"},
	{"a@b+c%d", "a@b+c%d"},
	{"a b", "'a b'"},
	{" ", "' '"},
	{"tab\there", "'tab\there'"},
	{"two\nlines", "'two\nlines'"},
	{"trailing\n", "'trailing\n'"},
	{"it's", `'it'\''s'`},
	{"'", `''\'''`},
	{"''", `''\'''\'''`},
	{`"double"`, `'"double"'`},
	{`back\slash`, `'back\slash'`},
	{`trailing\`, `'trailing\'`},
	{"$HOME", "'$HOME'"},
	{"${x:-y}", "'${x:-y}'"},
	{"`id`", "'`id`'"},
	{"$(id)", "'$(id)'"},
	{"*.c", "'*.c'"},
	{"a?b", "'a?b'"},
	{"[ab]", "'[ab]'"},
	{"~", "'~'"},
	{"~root/x", "'~root/x'"},
	{"#comment", "'#comment'"},
	{"a#b", "'a#b'"},
	{"!", "'!'"},
	{"{a,b}", "'{a,b}'"},
	{"a;b", "'a;b'"},
	{"a&b", "'a&b'"},
	{"a|b", "'a|b'"},
	{"<in", "'<in'"},
	{">out", "'>out'"},
	{"(x)", "'(x)'"},
	{"a^b", "'a^b'"},
	{"-n", "-n"},
	{"--", "--"},
	{"héllo wörld", "'héllo wörld'"},
	{"日本語", "'日本語'"},
	{"cr\r", "'cr\r'"},
	{"esc\x1b[0m", "'esc\x1b[0m'"},
	{"\xff\xfe", "'\xff\xfe'"}, // not UTF-8: bytes pass through
}

func TestQuote(t *testing.T) {
	for _, c := range cases {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestJoin(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{""}, "''"},
		{[]string{"qemu", "-append", "a b", "it's"}, `qemu -append 'a b' 'it'\''s'`},
		{[]string{"make", "O=/out dir", "BR2_JLEVEL=2", ""}, `make 'O=/out dir' BR2_JLEVEL=2 ''`},
		// A first word NAME=... would be an assignment; elsewhere = is literal.
		{[]string{"FOO=bar", "x=y"}, `'FOO=bar' x=y`},
		{[]string{"_a1=", "b"}, `'_a1=' b`},
		{[]string{"/opt/q=1/qemu", "-m", "1G"}, `/opt/q=1/qemu -m 1G`},
		{[]string{"1x=2"}, `1x=2`},
		{[]string{"=x"}, `=x`},
	} {
		if got := Join(c.in); got != c.want {
			t.Errorf("Join(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// shells are the POSIX shells on this machine to read quoted words back
// with: sh at least, and bash, dash and busybox sh where installed.
func shells(t testing.TB) [][]string {
	out := [][]string{{testenv.Tool(t, "sh")[0]}}
	for _, s := range []string{"bash", "dash"} {
		if p, err := exec.LookPath(s); err == nil {
			out = append(out, []string{p})
		}
	}
	if p, err := exec.LookPath("busybox"); err == nil {
		out = append(out, []string{p, "sh"})
	}
	return out
}

// readBack runs `set -- WORDS; printf '%s\0' "$@"` in a real shell and
// returns the words it saw.
func readBack(t testing.TB, shell []string, words []string) []string {
	t.Helper()
	script := "set -- " + Join(words) + "\nprintf '%s\\0' \"$@\""
	cmd := exec.Command(shell[0], append(shell[1:], "-c", script)...)
	cmd.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin", "LC_ALL=C"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s -c %q: %v\n%s", shell, script, err, stderr.Bytes())
	}
	if len(out) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

func TestRoundTripThroughRealShells(t *testing.T) {
	var words []string
	for _, c := range cases {
		words = append(words, c.in)
	}
	for _, sh := range shells(t) {
		got := readBack(t, sh, words)
		if len(got) != len(words) {
			t.Fatalf("%s read %d words back, want %d: %q", sh, len(got), len(words), got)
		}
		for i := range words {
			if got[i] != words[i] {
				t.Errorf("%s read %q back as %q (quoted %s)", sh, words[i], got[i], Quote(words[i]))
			}
		}
	}
}

// The shell must run a first word that looks like an assignment as a
// command (and fail to find it), not assign it.
func TestJoinRunsAssignmentLikeCommand(t *testing.T) {
	for _, sh := range shells(t) {
		cmd := exec.Command(sh[0], append(sh[1:], "-c", Join([]string{"CUBE_HAL_Q=1", "true"}))...)
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 127 {
			t.Errorf("%s ran %s: %v, want exit 127 (command not found)", sh, Join([]string{"CUBE_HAL_Q=1", "true"}), err)
		}
	}
}

// FuzzQuote checks that sh reads any word back unchanged (go test -fuzz
// FuzzQuote ./internal/shellquote; each input runs a shell).
func FuzzQuote(f *testing.F) {
	for _, c := range cases {
		f.Add(c.in)
	}
	sh := shells(f)[0]
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			t.Skip("an argument cannot hold NUL")
		}
		q := Quote(s)
		if s != "" && q == s && !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 left bare: %q", s)
		}
		got := readBack(t, sh, []string{s, "end"})
		if len(got) != 2 || got[0] != s || got[1] != "end" {
			t.Fatalf("sh read %q (quoted %s) back as %q", s, q, got)
		}
	})
}

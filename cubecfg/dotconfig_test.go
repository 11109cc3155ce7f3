package cubecfg

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	in := `#
# Automatically generated file; DO NOT EDIT.
#
BR2_PACKAGE_CUBE_AGENT=y
# BR2_PACKAGE_CUBE_AGENT_ATTESTED_TLS is not set
# BR2_PACKAGE_CUBE_AGENT_HOST="commented out, ignored"
BR2_PACKAGE_CUBE_AGENT_INSTANCE_ID="a \"b\" \\c"
BR2_PACKAGE_CUBE_AGENT_PORT=7002
BR2_PACKAGE_CUBE_AGENT_PORT=7003
BR2_PACKAGE_OLLAMA=n
BR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM=y
`
	v, err := ParseConfig(strings.NewReader(in), "x.config")
	if err != nil {
		t.Fatal(err)
	}
	for sym, want := range map[string]string{
		SymAgent: "y", SymAttestedTLS: "", SymInstanceID: `a "b" \c`, SymPort: "7003", SymOllama: "",
		// Absent: Kconfig defaults.
		SymHost: "0.0.0.0", SymServerKey: "/etc/cube/certs/server.key", SymVMPL: "2",
		// A choice: the member set in the file wins over the default member.
		SymBackendVLLM: "y", SymBackendOllama: "", SymLogInfo: "y", SymLogLevel: "info",
		"BR2_SOMETHING_ELSE": "",
	} {
		if got := v.Get(sym); got != want {
			t.Errorf("Get(%s) = %q, want %q", sym, got, want)
		}
	}
	if _, ok := v[SymHost]; ok {
		t.Error("a commented-out assignment was read")
	}
	if v.Get(SymLogLevel) != "info" {
		t.Error("derived log level")
	}
	v[SymLogDebug] = "y"
	if v.Get(SymLogLevel) != "debug" {
		t.Errorf("log level follows the choice: %q", v.Get(SymLogLevel))
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"BR2_X=\"unterminated\n", "x.config:1: BR2_X: string has no closing quote"},
		{"\nBR2_X=\"a\" tail\n", "x.config:2: BR2_X: text after the closing quote"},
		{"BR2_X=\"a\\\n", "lone backslash"},
		{"not a line\n", `x.config:1: expected SYMBOL=value or a # comment, got "not a line"`},
		{"BR2 X=y\n", "x.config:1: expected SYMBOL=value"},
	} {
		_, err := ParseConfig(strings.NewReader(tc.in), "x.config")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `a "b" \c \\`, "é 🚀 $x `y`"} {
		v, err := ParseConfig(strings.NewReader("BR2_X="+Quote(s)+"\n"), "q")
		if err != nil || v["BR2_X"] != s {
			t.Errorf("%q -> %q -> %q, %v", s, Quote(s), v["BR2_X"], err)
		}
	}
}

// FuzzParseConfig: any input either parses or is refused with a line
// number; a value that parsed and is written back with Quote reads the same.
func FuzzParseConfig(f *testing.F) {
	f.Add("BR2_PACKAGE_CUBE_AGENT=y\n# BR2_X is not set\nBR2_S=\"a\\\"b\"\n")
	f.Add("BR2_X=\"\\\n")
	f.Add("#\n\nBR2_A=1\r\nBR2_A=2\n")
	f.Fuzz(func(t *testing.T, in string) {
		v, err := ParseConfig(strings.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz:") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for sym, val := range v {
			if strings.ContainsAny(val, "\n") {
				continue
			}
			back, err := ParseConfig(strings.NewReader(sym+"="+Quote(val)+"\n"), "back")
			if err != nil || back[sym] != val {
				t.Fatalf("%s=%q does not survive Quote: %q, %v", sym, val, back[sym], err)
			}
		}
	})
}

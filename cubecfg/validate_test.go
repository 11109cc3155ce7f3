package cubecfg

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/certs"
)

func TestFieldValidators(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(string) error
		ok    []string
		bad   []string
	}{
		{"port", ValidatePort, []string{"1", "7001", "65535"}, []string{"", "0", "65536", "-1", "+80", "80a", "0x50", " 80", "99999999999999999999"}},
		{"vmpl", ValidateVMPL, []string{"0", "2", "3"}, []string{"", "4", "-1", "two"}},
		{"backend url", ValidateBackendURL, []string{"", "http://10.0.2.2:11434", "https://llm.example.com/v1"},
			[]string{"ftp://x", "10.0.2.2:8000", "http://", "http://:80", "http://h:99999", "http://h/\x01"}},
		{"CA url", ValidateCAURL, []string{"", "https://ca.example.com", "HTTPS://ca.example.com/path"},
			[]string{"http://ca.example.com", "ca.example.com", "https://"}},
		{"guest path", ValidateGuestPath, []string{"", "/etc/cube/certs/ca.pem", "/a b/c"},
			[]string{"etc/ca.pem", "/etc/../ca.pem", "/etc//ca.pem", "/etc/", "/etc/\tx"}},
		{"text", ValidateText, []string{"", "cube-agent-01", "é 🚀 $HOME `x` \"q\""}, []string{"a\nb", "a\x00b", "\xff"}},
		{"ollama models", ValidateOllamaModels, []string{"", "llama3.2:3b", "a, b  c", "hf.co/org/M-GGUF:Q4_K_M"},
			[]string{"bad;name", "x:", ":y", "a:b:c", "rm -rf /"}},
		{"gpu memory", ValidateGPUMemory, []string{"0.85", "1", "1.0", ".5", "0.001"},
			[]string{"", "0", "1.01", "-0.5", "1e-1", "NaN", "Inf", "0x1p-1", "abc"}},
		{"max model len", ValidateMaxModelLen, []string{"1", "1024", "131072"}, []string{"", "0", "-1", "01024", "1.5", "+5"}},
	} {
		for _, v := range tc.ok {
			if err := tc.check(v); err != nil {
				t.Errorf("%s %q: unexpected error %v", tc.name, v, err)
			}
		}
		for _, v := range tc.bad {
			if err := tc.check(v); err == nil {
				t.Errorf("%s %q: accepted", tc.name, v)
			}
		}
	}
	if err := ValidateToken("https://ca", ""); err == nil {
		t.Error("an empty token with a CA URL was accepted")
	}
	if err := ValidateToken("", ""); err != nil {
		t.Errorf("no CA, no token: %v", err)
	}
}

// The agent host: IP addresses and host names pass; what only looks like
// an IPv4 address is refused with what is wrong with it.
func TestValidateHost(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // part of the error; "" when the value is valid
	}{
		{"0.0.0.0", ""},
		{"127.0.0.1", ""},
		{"10.0.0.255", ""},
		{"255.255.255.255", ""},
		{"::", ""},
		{"::1", ""},
		{"fd00::1", ""},
		{"2001:db8::10.0.0.1", ""},
		{"::ffff:10.0.0.1", ""},
		{"localhost", ""},
		{"cube.local", ""},
		{"my-host", ""},
		{"agent.internal", ""},
		{"a-b.c", ""},
		{"host.", ""},
		{"1.2.3.x", ""}, // a letter makes it a name
		{"10.0.0.1a", ""},
		{"3com.example", ""},
		{"123abc", ""},

		{"10.0.0.300", `"10.0.0.300": 300 is not an IPv4 octet (0-255)`},
		{"256.1.1.1", `"256.1.1.1": 256 is not an IPv4 octet (0-255)`},
		{"1.2.3.99999999999999999999", `99999999999999999999 is not an IPv4 octet (0-255)`},
		{"1.2.3", `"1.2.3": an IPv4 address has 4 parts (like 10.0.0.1), not 3`},
		{"1.2.3.4.5", `"1.2.3.4.5": an IPv4 address has 4 parts (like 10.0.0.1), not 5`},
		{"1234", `"1234": an IPv4 address has 4 parts (like 10.0.0.1), not 1`},
		{"1.2.3.4.", `"1.2.3.4.": an IPv4 address has no empty part (a stray dot)`},
		{"1..2.3", `no empty part`},
		{".1.2.3", `no empty part`},
		{"...", `no empty part`},
		{"010.0.0.1", `"010.0.0.1": 010 has a leading zero, which some tools read as octal; write 10`},
		{"10.0.0.01", `01 has a leading zero`},
		{"", "empty; use 0.0.0.0"},
		{"[::1]", `"[::1]": give the IPv6 address without brackets`},
		{"fd00::1::2", `"fd00::1::2" is not an IPv6 address`},
		{"::ffff:10.0.0.300", `is not an IPv6 address`},
		{"bad host", "neither an IP address nor a host name"},
		{"under_score", "character '_' not allowed"},
		{"-lead", "starts or ends with '-'"},
		{"trail-.x", "starts or ends with '-'"},
		{"a..b", "empty label"},
		{"é.example", "not allowed"},
		{strings.Repeat("a", 64) + ".x", "longer than 63"},
	} {
		err := ValidateHost(tc.in)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: unexpected error %v", tc.in, err)
		case tc.want != "" && err == nil:
			t.Errorf("%q: accepted, want an error with %q", tc.in, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%q: error %q, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

// Whatever ValidateHost accepts is an IP address, or a host name with a
// character other than a digit or a dot.
func FuzzValidateHost(f *testing.F) {
	for _, s := range []string{"0.0.0.0", "10.0.0.300", "1.2.3", "::1", "[::1]", "cube.local", "1.2.3.4.", "010.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if ValidateHost(v) != nil || net.ParseIP(v) != nil {
			return
		}
		if strings.Trim(v, "0123456789.") == "" {
			t.Fatalf("%q accepted as a host name: it is all digits and dots, and no IPv4 address", v)
		}
		if checkHostname(v) != nil {
			t.Fatalf("%q accepted: neither an IP address nor a host name", v)
		}
	})
}

// Every option's Check accepts its own default.
func TestDefaultsPassTheirChecks(t *testing.T) {
	for _, o := range Options() {
		if o.Check != nil {
			if err := o.Check(o.Default); err != nil {
				t.Errorf("%s: default %q fails its check: %v", o.Symbol, o.Default, err)
			}
		}
	}
}

// config is a get func over a map, with Kconfig defaults for the rest.
func config(over map[string]string) func(string) string {
	v := Values{SymAgent: "y", SymOllama: "y"}
	for k, x := range over {
		v[k] = x
	}
	return v.Get
}

func symbols(ps []Problem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Symbol)
	}
	return strings.Join(s, " ")
}

func TestValidate(t *testing.T) {
	overlay := t.TempDir()
	if _, err := certs.GenerateTLS(certs.TLSRequest{OverlayDir: overlay, HostDir: t.TempDir(), Paths: certs.DefaultPaths}); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()

	if ps := Validate(config(nil), overlay); len(ps) != 0 {
		t.Fatalf("defaults with generated certificates: %v", ps)
	}
	if ps := Validate(Values{}.Get, empty); len(ps) != 0 {
		t.Errorf("no Cube package enabled, nothing to check: %v", ps)
	}

	for _, tc := range []struct {
		name    string
		over    map[string]string
		overlay string
		want    string // symbols with a problem, in order
		message string // part of the first message
	}{
		{"no certificates in the overlay", nil, empty,
			SymServerCA + " " + SymServerCert + " " + SymClientCA + " " + SymServerKey, "/etc/cube/certs/ca.pem is missing"},
		{"bad port and host", map[string]string{SymPort: "70000", SymHost: "bad host"}, overlay,
			SymHost + " " + SymPort, "Agent Host"},
		{"host with an IPv4 octet out of range", map[string]string{SymHost: "10.0.0.300"}, overlay,
			SymHost, `Agent Host: "10.0.0.300": 300 is not an IPv4 octet (0-255)`},
		{"custom backend needs a URL", map[string]string{SymBackendOllama: "", SymBackendCustom: "y"}, overlay,
			SymTargetURL, "required with the custom backend"},
		{"custom backend URL must be http(s)", map[string]string{SymBackendCustom: "y", SymBackendOllama: "", SymTargetURL: "ftp://x"}, overlay,
			SymTargetURL, "http:// or https://"},
		{"no backend selected", map[string]string{SymBackendOllama: "", SymBackendVLLM: "", SymBackendCustom: ""}, overlay,
			ChoiceBackend, "no entry selected"},
		{"CA URL without token, certificates not needed", map[string]string{SymCAURL: "https://ca.example.com"}, empty,
			SymCertsToken, "required when the Agent CA URL is set"},
		{"CA URL must be https", map[string]string{SymCAURL: "http://ca.example.com", SymCertsToken: "t"}, empty,
			SymCAURL, "https://"},
		{"empty certificate path", map[string]string{SymServerCert: ""}, overlay, SymServerCert, "empty"},
		{"relative certificate path", map[string]string{SymServerCA: "certs/ca.pem"}, overlay, SymServerCA, "absolute"},
		{"key where a certificate belongs", map[string]string{SymServerCert: "/etc/cube/certs/server.key"}, overlay,
			SymServerCert, "expected certificates only"},
		{"certificate where the key belongs", map[string]string{SymServerKey: "/etc/cube/certs/ca.pem"}, overlay,
			SymServerKey, "expected a private key"},
		{"bad vLLM values", map[string]string{SymVLLM: "y", SymVLLMGPUMemory: "2", SymVLLMMaxModelLen: "x"}, overlay,
			SymVLLMGPUMemory + " " + SymVLLMMaxModelLen, "GPU Memory Utilization"},
		{"ollama model names", map[string]string{SymOllamaCustomModels: "ok:1, no;pe"}, overlay,
			SymOllamaCustomModels, "no;pe"},
		{"a token with a newline", map[string]string{SymCAURL: "https://ca", SymCertsToken: "a\nb"}, overlay,
			SymCertsToken, "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := Validate(config(tc.over), tc.overlay)
			if got := symbols(ps); got != tc.want {
				t.Fatalf("problems with %q, want %q: %v", got, tc.want, ps)
			}
			if !strings.Contains(ps[0].Message, tc.message) {
				t.Errorf("message %q lacks %q", ps[0].Message, tc.message)
			}
			if !strings.Contains(ps[0].Error(), ps[0].Symbol) {
				t.Errorf("Error() %q does not name the symbol", ps[0].Error())
			}
		})
	}

	t.Run("a key of another certificate", func(t *testing.T) {
		other := t.TempDir()
		if _, err := certs.GenerateTLS(certs.TLSRequest{OverlayDir: other, HostDir: t.TempDir(), Paths: certs.DefaultPaths}); err != nil {
			t.Fatal(err)
		}
		key := OverlayPath(overlay, "/etc/cube/certs/server.key")
		orig, _ := os.ReadFile(key)
		defer os.WriteFile(key, orig, 0o600)
		foreign, _ := os.ReadFile(OverlayPath(other, "/etc/cube/certs/server.key"))
		if err := os.WriteFile(key, foreign, 0o600); err != nil {
			t.Fatal(err)
		}
		ps := Validate(config(nil), overlay)
		if symbols(ps) != SymServerKey || !strings.Contains(ps[0].Message, "does not belong") {
			t.Errorf("got %v", ps)
		}
	})
}

// Missing certificate files share one hint, given once by Hints and not in
// the messages; a problem shown alone gives it with Text.
func TestMissingCertificatesHintOnce(t *testing.T) {
	ps := Validate(config(map[string]string{SymPort: "70000"}), t.TempDir())
	if got, want := symbols(ps), SymPort+" "+SymServerCA+" "+SymServerCert+" "+SymClientCA+" "+SymServerKey; got != want {
		t.Fatalf("problems with %q, want %q", got, want)
	}
	if ps[0].Hint != "" {
		t.Errorf("the port's problem has a hint: %q", ps[0].Hint)
	}
	for _, p := range ps[1:] {
		if p.Hint != CertsHint || strings.Contains(p.Message, "cube-hal certs") || !strings.HasSuffix(p.Message, " is missing") {
			t.Errorf("%s: message %q, hint %q; want the message without the hint, and CertsHint", p.Symbol, p.Message, p.Hint)
		}
		if want := p.Message + "; " + CertsHint; p.Text() != want {
			t.Errorf("Text() = %q, want %q", p.Text(), want)
		}
	}
	if hs := Hints(ps); len(hs) != 1 || hs[0] != CertsHint {
		t.Errorf("Hints = %q, want CertsHint once", hs)
	}
	var all []string
	for _, p := range ps {
		all = append(all, p.Message)
	}
	all = append(all, Hints(ps)...)
	if n := strings.Count(strings.Join(all, "\n"), "cube-hal certs"); n != 1 {
		t.Errorf("the messages and hints name 'cube-hal certs' %d times, want 1", n)
	}
	if err := ValidateCertFile(t.TempDir(), "/etc/ca.pem"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing certificate file: %v, want an error matching fs.ErrNotExist", err)
	}
	if err := ValidateKeyFile(t.TempDir(), "/etc/k.pem"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing key file: %v, want an error matching fs.ErrNotExist", err)
	}
}

func TestOverlayPath(t *testing.T) {
	if got, want := OverlayPath("/ov", "/etc/cube/certs/ca.pem"), filepath.FromSlash("/ov/etc/cube/certs/ca.pem"); got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

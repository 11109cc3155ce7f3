package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// envOf is a Lookup over a map; the env file is disabled unless the map
// names one.
func envOf(m map[string]string) Lookup {
	if _, ok := m[Prefix+"ENV_FILE"]; !ok {
		m[Prefix+"ENV_FILE"] = ""
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Load(envOf(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 7001 || c.Host != "0.0.0.0" || c.TargetURL.String() != DefaultTargetURL ||
		c.VMPL != 2 || c.TSM != TSMAuto || c.LogLevel != slog.LevelInfo || c.TLS() ||
		c.InstanceID == "" || c.OSBuild != "UVC" || c.MaxAttestations != DefaultMaxAttestations {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestUpstreamNames(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "server.crt")
	key := filepath.Join(dir, "server.key")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load(envOf(map[string]string{
		"UV_CUBE_AGENT_LOG_LEVEL":   "debug",
		"UV_CUBE_AGENT_HOST":        "127.0.0.1",
		"UV_CUBE_AGENT_PORT":        "8901",
		"UV_CUBE_AGENT_INSTANCE_ID": "cube-agent-01",
		"UV_CUBE_AGENT_TARGET_URL":  "http://localhost:8000",
		"AGENT_OS_BUILD":            "b", "AGENT_OS_DISTRO": "d", "AGENT_OS_TYPE": "t",
		"AGENT_VMPL":                 "0",
		"UV_CUBE_AGENT_ATTESTED_TLS": "true",
		"UV_CUBE_AGENT_SERVER_CERT":  cert,
		"UV_CUBE_AGENT_SERVER_KEY":   key,
		"UV_CUBE_AGENT_ENTITY_ID":    "cvm-7",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != slog.LevelDebug || c.Addr() != "127.0.0.1:8901" || c.InstanceID != "cube-agent-01" ||
		c.TargetURL.Host != "localhost:8000" || c.OSBuild != "b" || c.OSDistro != "d" || c.OSType != "t" ||
		c.VMPL != 0 || !c.AttestedTLS || c.ServerCert != cert || c.CVMID != "cvm-7" {
		t.Fatalf("unexpected config: %+v", c)
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.pem")
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"UV_CUBE_AGENT_PORT": "http"}, "UV_CUBE_AGENT_PORT"},
		{map[string]string{"UV_CUBE_AGENT_PORT": "70000"}, "UV_CUBE_AGENT_PORT"},
		{map[string]string{"UV_CUBE_AGENT_LOG_LEVEL": "loud"}, "UV_CUBE_AGENT_LOG_LEVEL"},
		{map[string]string{"UV_CUBE_AGENT_TARGET_URL": "localhost:11434"}, "UV_CUBE_AGENT_TARGET_URL"},
		{map[string]string{"UV_CUBE_AGENT_TARGET_URL": "ftp://x"}, "UV_CUBE_AGENT_TARGET_URL"},
		{map[string]string{"AGENT_VMPL": "4"}, "AGENT_VMPL"},
		{map[string]string{"UV_CUBE_AGENT_VMPL": "-1"}, "UV_CUBE_AGENT_VMPL"},
		{map[string]string{"UV_CUBE_AGENT_ATTESTED_TLS": "maybe"}, "UV_CUBE_AGENT_ATTESTED_TLS"},
		{map[string]string{"UV_CUBE_AGENT_CA_URL": "https://ca.example"}, "UV_CUBE_AGENT_CERTS_TOKEN"},
		{map[string]string{"UV_CUBE_AGENT_SERVER_CERT": missing}, "UV_CUBE_AGENT_SERVER_KEY"},
		{map[string]string{"UV_CUBE_AGENT_SERVER_CERT": missing, "UV_CUBE_AGENT_SERVER_KEY": missing}, "UV_CUBE_AGENT_SERVER_"},
		{map[string]string{"UV_CUBE_AGENT_CLIENT_CA_CERTS": missing}, "UV_CUBE_AGENT_CLIENT_CA_CERTS"},
		{map[string]string{"UV_CUBE_AGENT_TSM": "sgx"}, "UV_CUBE_AGENT_TSM"},
		{map[string]string{"UV_CUBE_AGENT_TSM": "fake", "UV_CUBE_AGENT_FAKE_MEASUREMENT": "abcd"}, "UV_CUBE_AGENT_FAKE_MEASUREMENT"},
		{map[string]string{"UV_CUBE_AGENT_FAKE_MEASUREMENT": strings.Repeat("00", 48)}, "UV_CUBE_AGENT_FAKE_MEASUREMENT"},
		{map[string]string{"UV_CUBE_AGENT_ATTESTED_TLS": "1", "UV_CUBE_AGENT_TSM": "none"}, "UV_CUBE_AGENT_ATTESTED_TLS"},
		{map[string]string{"UV_CUBE_AGENT_READ_TIMEOUT": "soon"}, "UV_CUBE_AGENT_READ_TIMEOUT"},
		{map[string]string{"UV_CUBE_AGENT_MAX_BODY_BYTES": "10"}, "UV_CUBE_AGENT_MAX_BODY_BYTES"},
		{map[string]string{"UV_CUBE_AGENT_MAX_ATTESTATIONS": "0"}, "UV_CUBE_AGENT_MAX_ATTESTATIONS"},
		{map[string]string{"UV_CUBE_AGENT_ENV_FILE": missing}, "UV_CUBE_AGENT_ENV_FILE"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := Load(envOf(tc.env))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a config error", err)
			}
			if !strings.HasPrefix(ce.Var, tc.want) || !strings.HasPrefix(err.Error(), ce.Var+": ") {
				t.Fatalf("error %q does not lead with %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestEnvFileAndPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "agent.env")
	content := `# written by the Cube Buildroot package
UV_CUBE_AGENT_LOG_LEVEL=warn
UV_CUBE_AGENT_PORT=7001
export UV_CUBE_AGENT_INSTANCE_ID="cube agent \"01\""
UV_CUBE_AGENT_TARGET_URL='http://localhost:8000'
AGENT_VMPL=3
UV_CUBE_AGENT_SERVER_CERT=
UV_CUBE_AGENT_CERTS_TOKEN=s3cr3t-token
UV_CUBE_AGENT_CA_URL=https://ca.example/api
`
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(envOf(map[string]string{
		"UV_CUBE_AGENT_ENV_FILE": file,
		"UV_CUBE_AGENT_PORT":     "9000", // the process environment wins
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != slog.LevelWarn || c.Port != 9000 || c.InstanceID != `cube agent "01"` ||
		c.TargetURL.Port() != "8000" || c.VMPL != 3 || c.ServerCert != "" ||
		c.CertsToken.Reveal() != "s3cr3t-token" || c.CAURL.Host != "ca.example" || c.EnvFile != file {
		t.Fatalf("unexpected config: %+v", c)
	}
	// The token never prints.
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", c.CertsToken), fmt.Sprintf("%q", c.CertsToken)} {
		if strings.Contains(s, "s3cr3t") {
			t.Fatalf("token printed: %s", s)
		}
	}
}

func TestEnvFileErrorsNameFileAndLineOnly(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"A=1\nUV_CUBE_AGENT_CERTS_TOKEN secret-value\n", "agent.env:2: expected KEY=VALUE"},
		{"1ABC=x\n", "agent.env:1:"},
		{"UV_CUBE_AGENT_CERTS_TOKEN=\"secret-value\n", "agent.env:1: UV_CUBE_AGENT_CERTS_TOKEN: unterminated double quote"},
		{"K='secret-value\n", "agent.env:1: K: unterminated single quote"},
	} {
		_, err := ParseEnvFile("agent.env", []byte(tc.content))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want prefix %q", tc.content, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-value") {
			t.Errorf("error echoes the value: %v", err)
		}
	}
}

func TestDurationsAndLimits(t *testing.T) {
	c, err := Load(envOf(map[string]string{
		"UV_CUBE_AGENT_READ_HEADER_TIMEOUT": "2s",
		"UV_CUBE_AGENT_MAX_ATTESTATIONS":    "3",
		"UV_CUBE_AGENT_ATTESTATION_QUEUE":   "0",
		"UV_CUBE_AGENT_MAX_BODY_BYTES":      "4096",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadHeaderTimeout != 2*time.Second || c.MaxAttestations != 3 || c.AttestationQueue != 0 || c.MaxBodyBytes != 4096 {
		t.Fatalf("unexpected: %+v", c)
	}
}

func FuzzParseEnvFile(f *testing.F) {
	f.Add([]byte("A=1\n# c\nexport B='x y'\nC=\"a\\\"b\"\n"))
	f.Add([]byte("=\n"))
	f.Add([]byte("K=\"\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseEnvFile("f", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		for k := range m {
			if !validKey(k) {
				t.Fatalf("invalid key %q accepted", k)
			}
		}
	})
}

// The external tree's agent-env.sh writes /etc/cube/agent.env; its goldens
// (cubecfg/testdata/envfile) must read back to the exact strings the user
// typed into the configurator.
func TestReadsTheImagesEnvFile(t *testing.T) {
	golden := testenv.File(t, filepath.Join(testenv.RepoRoot(t), "cubecfg", "testdata", "envfile", "odd-chars.golden"),
		"agent-env.sh's golden output (issue 4)")
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseEnvFile(golden, data)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"UV_CUBE_AGENT_INSTANCE_ID": `it's "quoted" and \back\slashed\`,
		"UV_CUBE_AGENT_OS_BUILD":    "$HOME ${PATH} $(id) `id` %h %%",
		"AGENT_OS_DISTRO":           "  leading and trailing spaces  ",
		"AGENT_OS_TYPE":             "é ü 雲 🚀 # not a comment ; = &|<>*?[]~!{}",
		"UV_CUBE_AGENT_CA_URL":      "https://ca.example.com/certs?x=1&y=$2",
		"UV_CUBE_AGENT_CERTS_TOKEN": `tok\n'"$` + "`" + `\\end`,
		"UV_CUBE_AGENT_CVM_ID":      `\`,
		"UV_CUBE_AGENT_HOST":        "::",
	} {
		if m[k] != want {
			t.Errorf("%s = %q, want %q", k, m[k], want)
		}
	}
	// The whole file loads (the certificate paths it names do not exist
	// here; the environment blanks them).
	c, err := Load(envOf(map[string]string{"UV_CUBE_AGENT_ENV_FILE": golden,
		"UV_CUBE_AGENT_SERVER_CA_CERTS": "", "UV_CUBE_AGENT_SERVER_CERT": "", "UV_CUBE_AGENT_SERVER_KEY": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if c.OSDistro != "  leading and trailing spaces  " || c.CVMID != `\` || c.Port != 65535 || c.VMPL != 0 ||
		c.Addr() != "[::]:65535" || c.LogLevel != slog.LevelWarn || c.ServerCert != "" {
		t.Fatalf("loaded: %+v", c)
	}
	if c.CertsToken.Reveal() != m["UV_CUBE_AGENT_CERTS_TOKEN"] {
		t.Fatal("token altered")
	}
}

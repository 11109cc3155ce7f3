package cubecfg

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	agentconfig "github.com/ultravioletrs/cube-hal/agent/config"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The scripts the .mk files call with the .config, and their test inputs:
// testdata/<dir>/*.config with a .golden output, and testdata/<dir>/bad/
// *.config with the .err line their failure must print.
var scriptCases = []struct{ script, dir string }{
	{"package/cube-agent/agent-env.sh", "envfile"},
	{"package/ollama/models-list.sh", "ollama-models"},
	{"package/vllm/vllm-env.sh", "vllm-env"},
}

// runScript runs script (a path in the external tree) with sh, as the .mk
// files do, writing to out.
func runScript(t *testing.T, script, config, out string) (stderr string, err error) {
	t.Helper()
	cmd := exec.Command("sh", filepath.Join(externalDir(t), script), config, out)
	var e bytes.Buffer
	cmd.Stderr = &e
	err = cmd.Run()
	return e.String(), err
}

func TestScriptGoldens(t *testing.T) {
	testenv.Tool(t, "sh")
	for _, sc := range scriptCases {
		inputs, _ := filepath.Glob(filepath.Join("testdata", sc.dir, "*.config"))
		if len(inputs) == 0 {
			t.Fatalf("no inputs in testdata/%s", sc.dir)
		}
		for _, in := range inputs {
			name := strings.TrimSuffix(filepath.Base(in), ".config")
			t.Run(sc.dir+"/"+name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out")
				stderr, err := runScript(t, sc.script, in, out)
				if err != nil {
					t.Fatalf("%s %s: %v\n%s", sc.script, in, err, stderr)
				}
				got, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				golden := strings.TrimSuffix(in, ".config") + ".golden"
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./cubecfg -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s output differs from %s:\n--- got\n%s--- want\n%s", sc.script, golden, got, want)
				}
				if sc.dir == "envfile" {
					fi, err := os.Stat(out)
					if err != nil {
						t.Fatal(err)
					}
					if fi.Mode().Perm() != 0o600 {
						t.Errorf("agent.env mode %v, want 0600 (it may hold the certs token)", fi.Mode().Perm())
					}
				}
			})
		}
		bad, _ := filepath.Glob(filepath.Join("testdata", sc.dir, "bad", "*.config"))
		for _, in := range bad {
			name := strings.TrimSuffix(filepath.Base(in), ".config")
			t.Run(sc.dir+"/bad/"+name, func(t *testing.T) {
				dir := t.TempDir()
				out := filepath.Join(dir, "out")
				stderr, err := runScript(t, sc.script, in, out)
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 1 {
					t.Fatalf("exit %v, want status 1; stderr:\n%s", err, stderr)
				}
				want, err := os.ReadFile(strings.TrimSuffix(in, ".config") + ".err")
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(stderr, strings.TrimSpace(string(want))) || !strings.Contains(stderr, in) {
					t.Errorf("stderr %q does not name %s and say %q", stderr, in, strings.TrimSpace(string(want)))
				}
				if left, _ := os.ReadDir(dir); len(left) != 0 {
					t.Errorf("a failed run left files behind: %v", left)
				}
			})
		}
	}
}

// expectedAgentEnv is what agent.env must hold for a configuration: each
// variable and its exact value.
func expectedAgentEnv(v Values) map[string]string {
	target := map[string]string{SymBackendOllama: "http://127.0.0.1:11434", SymBackendVLLM: "http://127.0.0.1:8000"}
	b, _ := Lookup(ChoiceBackend)
	url, ok := target[b.Selected(v.Get)]
	if !ok {
		url = v.Get(SymTargetURL)
	}
	tls := "false"
	if v.Get(SymAttestedTLS) == "y" {
		tls = "true"
	}
	env := map[string]string{
		"UV_CUBE_AGENT_LOG_LEVEL":       v.Get(SymLogLevel),
		"UV_CUBE_AGENT_INSTANCE_ID":     v[SymInstanceID],
		"UV_CUBE_AGENT_HOST":            v[SymHost],
		"UV_CUBE_AGENT_PORT":            v[SymPort],
		"UV_CUBE_AGENT_TARGET_URL":      url,
		"UV_CUBE_AGENT_OS_BUILD":        v[SymOSBuild],
		"UV_CUBE_AGENT_OS_DISTRO":       v[SymOSDistro],
		"UV_CUBE_AGENT_OS_TYPE":         v[SymOSType],
		"UV_CUBE_AGENT_VMPL":            v[SymVMPL],
		"UV_CUBE_AGENT_CA_URL":          v[SymCAURL],
		"UV_CUBE_AGENT_ATTESTED_TLS":    tls,
		"UV_CUBE_AGENT_SERVER_CA_CERTS": v[SymServerCA],
		"UV_CUBE_AGENT_SERVER_CERT":     v[SymServerCert],
		"UV_CUBE_AGENT_SERVER_KEY":      v[SymServerKey],
		"UV_CUBE_AGENT_CLIENT_CA_CERTS": v[SymClientCA],
		"UV_CUBE_AGENT_CERTS_TOKEN":     v[SymCertsToken],
		"UV_CUBE_AGENT_CVM_ID":          v[SymCVMID],
	}
	env["AGENT_OS_BUILD"] = env["UV_CUBE_AGENT_OS_BUILD"]
	env["AGENT_OS_DISTRO"] = env["UV_CUBE_AGENT_OS_DISTRO"]
	env["AGENT_OS_TYPE"] = env["UV_CUBE_AGENT_OS_TYPE"]
	env["AGENT_VMPL"] = env["UV_CUBE_AGENT_VMPL"]
	return env
}

// Every value of the .config reaches the agent unchanged, whichever reads
// agent.env: systemd (EnvironmentFile=), dash, bash or BusyBox sh (the SysV
// script sources it). The table of options says which variable each option
// becomes; this checks the script agrees.
func TestAgentEnvRoundTrip(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "envfile", "*.config"))
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			vals, err := ReadConfig(in)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedAgentEnv(vals)
			for _, o := range options {
				if o.Env != "" && o.Package == SymAgent {
					if _, ok := want[o.Env]; !ok {
						t.Errorf("option %s names env %s, which agent.env lacks", o.Symbol, o.Env)
					}
				}
			}
			out := filepath.Join(t.TempDir(), "agent.env")
			if stderr, err := runScript(t, "package/cube-agent/agent-env.sh", in, out); err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			compare := func(reader string, got map[string]string) {
				t.Helper()
				for k, w := range want {
					if g, ok := got[k]; !ok || g != w {
						t.Errorf("%s reads %s=%q (present %v), want %q", reader, k, g, ok, w)
					}
				}
				for k := range got {
					if _, ok := want[k]; !ok {
						t.Errorf("%s reads an unexpected variable %s", reader, k)
					}
				}
			}
			compare("systemd", parseSystemdEnvFile(string(data)))
			// The agent reads the file itself too (for variables not in its
			// environment, e.g. when started by hand).
			agentVals, err := agentconfig.ParseEnvFile(out, data)
			if err != nil {
				t.Fatalf("the agent's parser refuses agent.env: %v", err)
			}
			compare("cube-agent", agentVals)
			for _, sh := range [][]string{{"dash"}, {"bash", "--posix"}, {"busybox", "sh"}} {
				if _, err := exec.LookPath(sh[0]); err != nil {
					testenv.Missing(t, "%s for reading agent.env back", sh[0])
					continue
				}
				compare(sh[0], sourceWithShell(t, sh, out, want))
			}
		})
	}
}

// sourceWithShell sources file in a clean shell and returns the values of
// the variables named in names.
func sourceWithShell(t *testing.T, shell []string, file string, names map[string]string) map[string]string {
	t.Helper()
	var keys []string
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	script := `set -e; . "$1"; shift; for k in "$@"; do eval "printf '%s=%s\0' \"\$k\" \"\${$k-}\""; done`
	cmd := exec.Command(shell[0], append(shell[1:], "-c", script, "sh", file)...)
	cmd.Args = append(cmd.Args, keys...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s sourcing %s: %v", shell[0], file, err)
	}
	got := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	return got
}

// parseSystemdEnvFile reads an environment file the way systemd's
// EnvironmentFile= does: a transcription of the state machine of
// parse_env_file_internal() in systemd's src/basic/env-file.c, so the test
// knows what the service will see without a running systemd.
func parseSystemdEnvFile(s string) map[string]string {
	const (
		preKey = iota
		key
		preValue
		value
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
		commentEscape
	)
	isWS := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	isNL := func(c byte) bool { return c == '\n' || c == '\r' }
	out := map[string]string{}
	state := preKey
	var k, v []byte
	lastValueWS, lastKeyWS := -1, -1
	push := func() {
		kk := k
		if lastKeyWS >= 0 {
			kk = kk[:lastKeyWS]
		}
		out[string(kk)] = string(v)
		k, v = nil, nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch state {
		case preKey:
			if c == '#' || c == ';' {
				state = comment
			} else if !isWS(c) {
				state = key
				lastKeyWS = -1
				k = append(k, c)
			}
		case key:
			if isNL(c) {
				state = preKey
				k = nil
			} else if c == '=' {
				state = preValue
				lastValueWS = -1
			} else {
				if !isWS(c) {
					lastKeyWS = -1
				} else if lastKeyWS < 0 {
					lastKeyWS = len(k)
				}
				k = append(k, c)
			}
		case preValue:
			switch {
			case isNL(c):
				state = preKey
				push()
			case c == '\'':
				state = singleQuote
			case c == '"':
				state = doubleQuote
			case c == '\\':
				state = valueEscape
			case !isWS(c):
				state = value
				v = append(v, c)
			}
		case value:
			switch {
			case isNL(c):
				state = preKey
				if lastValueWS >= 0 {
					v = v[:lastValueWS]
				}
				push()
			case c == '\\':
				state = valueEscape
				lastValueWS = -1
			default:
				if !isWS(c) {
					lastValueWS = -1
				} else if lastValueWS < 0 {
					lastValueWS = len(v)
				}
				v = append(v, c)
			}
		case valueEscape:
			state = value
			if !isNL(c) {
				v = append(v, c)
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				v = append(v, c)
			}
		case doubleQuote:
			if c == '"' {
				state = preValue
			} else if c == '\\' {
				state = doubleQuoteEscape
			} else {
				v = append(v, c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			if strings.IndexByte("\"\\`$", c) >= 0 {
				v = append(v, c)
			} else if c != '\n' {
				v = append(v, '\\', c)
			}
		case comment:
			if c == '\\' {
				state = commentEscape
			} else if isNL(c) {
				state = preKey
			}
		case commentEscape:
			if isNL(c) {
				state = preKey
			} else {
				state = comment
			}
		}
	}
	switch state {
	case preValue, value, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		if state == value && lastValueWS >= 0 {
			v = v[:lastValueWS]
		}
		push()
	}
	return out
}

// The systemd transcription itself behaves as systemd documents: quotes,
// escapes, comments and trimming.
func TestParseSystemdEnvFile(t *testing.T) {
	got := parseSystemdEnvFile("# c\n; c\nA=plain  \nB=\"d \\\" \\$ \\\\ \\n\"\nC='s \\ \"'\nD = x\\ y\nE=\"a\"'b'c\n")
	want := map[string]string{"A": "plain", "B": `d " $ \ \n`, "C": `s \ "`, "D": "x y", "E": "abc"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
}

// shellScripts lists every shell script of the external tree: files whose
// first line is a #!/bin/sh or #!/bin/bash shebang.
func shellScripts(t *testing.T) []string {
	t.Helper()
	var scripts []string
	err := filepath.WalkDir(externalDir(t), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		head := make([]byte, 32)
		n, _ := f.Read(head)
		f.Close()
		if bytes.HasPrefix(head[:n], []byte("#!/bin/sh")) || bytes.HasPrefix(head[:n], []byte("#!/bin/bash")) ||
			bytes.HasPrefix(head[:n], []byte("#!/usr/bin/env bash")) {
			scripts = append(scripts, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return scripts
}

// shellcheck passes on every script of the tree, and each is executable
// (Buildroot runs post-build.sh and post-image.sh directly).
func TestShellcheck(t *testing.T) {
	bin := testenv.Tool(t, "shellcheck")[0]
	scripts := shellScripts(t)
	if len(scripts) < 8 {
		t.Fatalf("found only %d scripts: %v", len(scripts), scripts)
	}
	out, err := exec.Command(bin, append([]string{"--norc", "-S", "style"}, scripts...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
	for _, s := range scripts {
		fi, err := os.Stat(s)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", s)
		}
	}
}

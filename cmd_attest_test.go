package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/agent/agenttest"
	"github.com/ultravioletrs/cube-hal/agent/fakesnp"
	"github.com/ultravioletrs/cube-hal/agent/tsm/tsmtest"
	"github.com/ultravioletrs/cube-hal/agent/verify"
	"github.com/ultravioletrs/cube-hal/launch"
)

func TestAttestFakeAgentWithTestRoots(t *testing.T) {
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake", "AGENT_VMPL": "2"}, nil)
	m := hex.EncodeToString(fakesnp.DefaultMeasurement)
	code, out, errOut := runCLI(t, "attest", "--agent", a.URL, "--test-roots", "--mode", "snp", "--measurement", m, "--vmpl", "2")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"AMD SEV-SNP", "ok    signature", "ok    measurement", "VERIFIED against TEST roots"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// --json is machine readable and says the same.
	code, out, _ = runCLI(t, "attest", "--agent", a.URL, "--test-roots", "--json")
	var res verify.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK || !res.Verified || res.Platform != "snp" {
		t.Fatalf("json: exit %d, %v\n%s", code, err, out)
	}
}

func TestAttestFailuresExitOneNamingTheCheck(t *testing.T) {
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake"}, nil)
	wrong := strings.Repeat("ab", 48)
	code, out, _ := runCLI(t, "attest", "--agent", a.URL, "--test-roots", "--measurement", wrong)
	if code != exitFailed || !strings.Contains(out, "FAIL  measurement") || !strings.Contains(out, "expected: "+wrong) ||
		!strings.Contains(out, "NOT VERIFIED: 1 check(s) failed: measurement") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// Without --test-roots the fake agent's reports are not trusted.
	code, out, _ = runCLI(t, "attest", "--agent", a.URL)
	if code != exitFailed || !strings.Contains(out, "FAIL  signature") || !strings.Contains(out, "FAKE TSM") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out, errOut := runCLI(t, "attest", "--agent", a.URL, "--test-roots", "--json", "--vmpl", "0")
	if code != exitFailed || !strings.Contains(errOut, "NOT VERIFIED") || !strings.Contains(out, `"name": "vmpl"`) {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
}

func TestAttestOverAttestedTLS(t *testing.T) {
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake", "UV_CUBE_AGENT_ATTESTED_TLS": "true"}, nil)
	code, out, errOut := runCLI(t, "attest", "--agent", a.URL, "--atls", "--test-roots")
	if code != exitOK || !strings.Contains(out, "ok    key binding") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestAttestOverMutualTLS(t *testing.T) {
	c := agenttest.NewCerts(t, t.TempDir())
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake", "UV_CUBE_AGENT_SERVER_CERT": c.ServerCert,
		"UV_CUBE_AGENT_SERVER_KEY": c.ServerKey, "UV_CUBE_AGENT_CLIENT_CA_CERTS": c.ClientCA}, nil)
	code, out, errOut := runCLI(t, "attest", "--agent", a.URL, "--test-roots", "--cacert", c.CA, "--cert", c.ClientCert, "--key", c.ClientKey)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "attest", "--agent", a.URL, "--test-roots", "--cacert", c.CA)
	if code != exitFailed || !strings.HasPrefix(errOut, "cube-hal: ") || !strings.Contains(errOut, "hint:") {
		t.Fatalf("without a client certificate: exit %d\n%s", code, errOut)
	}
}

func TestAttestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--state-dir", t.TempDir(), "attest"}, "--agent is required: no VM to attest"},
		{[]string{"attest", "--agent", "http://x", "--measurement", "zz"}, "--measurement: not hex"},
		{[]string{"attest", "--agent", "http://x", "--measurement", "abcd"}, "--measurement: 2 bytes, want 48"},
		{[]string{"attest", "--agent", "http://x", "--mode", "sgx"}, "--mode"},
		{[]string{"attest", "--agent", "http://x", "--vmpl", "7"}, "--vmpl 7"},
		{[]string{"attest", "--agent", "http://x", "--policy", "/nonexistent.json"}, "--policy"},
		{[]string{"attest", "--agent", "http://x", "--cert", "c.pem"}, "--cert and --key"},
		{[]string{"attest", "--agent", "http://x", "--certs", "/nonexistent"}, "--certs /nonexistent"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestAttestUnreachableAgent(t *testing.T) {
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake"}, nil)
	a.Stop()
	code, _, errOut := runCLI(t, "attest", "--agent", a.URL, "--timeout", "2s")
	if code != exitFailed || !strings.Contains(errOut, "fetching evidence") || !strings.Contains(errOut, "hint: is the VM running") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// The attestation libraries share one google/logger that go-tdx-guest
// points at the process's real stdout; nothing they print may end up in
// --json output. This runs the CLI in a child process with real stdout.
func TestAttestJSONStdoutIsOnlyJSON(t *testing.T) {
	if os.Getenv("CUBE_HAL_ATTEST_HELPER") != "" {
		tdx := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "configfs"}, tsmtest.RecordedTDX)
		snp := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake"}, nil)
		run([]string{"attest", "--agent", snp.URL, "--test-roots", "--json"}, os.Stdout, os.Stderr)
		run([]string{"attest", "--agent", snp.URL, "--json"}, os.Stdout, os.Stderr)
		run([]string{"attest", "--agent", tdx.URL, "--json"}, os.Stdout, os.Stderr)
		os.Stdout.Sync()
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAttestJSONStdoutIsOnlyJSON$")
	cmd.Env = append(os.Environ(), "CUBE_HAL_ATTEST_HELPER=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v\n%s", err, stderr.String())
	}
	dec := json.NewDecoder(&stdout)
	var platforms []string
	for {
		var r verify.Result
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("stdout is not a stream of JSON results: %v\nstdout:\n%s", err, stdout.String())
		}
		platforms = append(platforms, string(r.Platform))
	}
	if strings.Join(platforms, ",") != "snp,snp,tdx" {
		t.Fatalf("results for %v\nstderr:\n%s", platforms, stderr.String())
	}
}

// procStartTime is field 22 of /proc/self/stat: with the PID, what the
// launcher records to know a VM's QEMU is still the same process.
func procStartTime(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Without --agent, attest asks the running VM's agent (its forwarded port
// from vm.json) and expects the measurement recorded at its launch; a flag
// overrides the record; --vm names a VM that is not there.
func TestAttestRunningVMUsesItsLaunchRecord(t *testing.T) {
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake"}, nil)
	u, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	state := t.TempDir()
	writeVM := func(measurement []byte) {
		t.Helper()
		dir := filepath.Join(state, "runs", "vm1")
		os.MkdirAll(dir, 0o755)
		rec := launch.Record{Name: "vm1", Mode: launch.ModeSNP, State: launch.StateRunning, PID: os.Getpid(), PIDStart: procStartTime(t),
			Ports: launch.Ports{Agent: port}, ExpectedMeasurement: hex.EncodeToString(measurement)}
		b, _ := json.Marshal(rec)
		if err := os.WriteFile(filepath.Join(dir, "vm.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeVM(fakesnp.DefaultMeasurement)
	code, out, errOut := runCLI(t, "--state-dir", state, "attest", "--test-roots")
	if code != exitOK || !strings.Contains(out, "ok    measurement") || !strings.Contains(out, "VM vm1's launch record") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	wrong := bytes.Repeat([]byte{0xab}, 48)
	writeVM(wrong)
	code, out, _ = runCLI(t, "--state-dir", state, "attest", "--test-roots")
	if code != exitFailed || !strings.Contains(out, "FAIL  measurement") || !strings.Contains(out, hex.EncodeToString(wrong)) {
		t.Fatalf("a VM launched with another measurement: exit %d\n%s", code, out)
	}
	// --measurement wins over the record; --agent with --vm takes the record's value.
	code, out, _ = runCLI(t, "--state-dir", state, "attest", "--test-roots", "--measurement", hex.EncodeToString(fakesnp.DefaultMeasurement))
	if code != exitOK {
		t.Fatalf("--measurement over the record: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "--state-dir", state, "attest", "--agent", a.URL, "--vm", "vm1", "--test-roots")
	if code != exitFailed || !strings.Contains(out, "FAIL  measurement") {
		t.Fatalf("--agent with --vm: exit %d\n%s", code, out)
	}
	// --agent alone: no record involved.
	if code, out, _ = runCLI(t, "--state-dir", state, "attest", "--agent", a.URL, "--test-roots"); code != exitOK {
		t.Fatalf("--agent alone: exit %d\n%s", code, out)
	}
	code, _, errOut = runCLI(t, "--state-dir", state, "attest", "--vm", "nope", "--test-roots")
	if code != exitFailed || !strings.Contains(errOut, "--vm nope") {
		t.Fatalf("--vm nope: exit %d\n%s", code, errOut)
	}
}

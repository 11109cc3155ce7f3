package daemon_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/agent/agenttest"
	"github.com/ultravioletrs/cube-hal/agent/daemon"
	"github.com/ultravioletrs/cube-hal/agent/verify"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

const token = "cube-certs-token-7d1e9b0f-DO-NOT-LOG"

// fakeCA signs CSRs for the right token; wrong tokens get a 401 that
// (carelessly) echoes the Authorization header back.
func fakeCA(t *testing.T) *httptest.Server {
	srv, _ := fakeCAWithCert(t)
	return srv
}

// fakeCAWithCert also returns its CA certificate (PEM file). Issued
// certificates carry the CSR's extensions, as the certs service does for
// attested CSRs.
func fakeCAWithCert(t *testing.T) (*httptest.Server, string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ca, _ := x509.ParseCertificate(der)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(401)
			json.NewEncoder(w).Encode(map[string]string{"error": "bad credentials: " + r.Header.Get("Authorization")})
			return
		}
		var req struct{ CSR []byte }
		json.NewDecoder(r.Body).Decode(&req)
		b, _ := pem.Decode(req.CSR)
		csr, err := x509.ParseCertificateRequest(b.Bytes)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		leaf := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: csr.Subject, DNSNames: csr.DNSNames, IPAddresses: csr.IPAddresses,
			ExtraExtensions: csr.Extensions,
			NotBefore:       time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
		ld, _ := x509.CreateCertificate(rand.Reader, leaf, ca, csr.PublicKey, key)
		json.NewEncoder(w).Encode(map[string]string{"certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ld}))})
	}))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return srv, caFile
}

// keyMaterial returns the base64 body lines of every PEM private key in
// files, to look for in logs.
func keyMaterial(t *testing.T, files ...string) []string {
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(data)
		if b == nil || !strings.Contains(b.Type, "PRIVATE KEY") {
			t.Fatalf("%s holds no private key", f)
		}
		enc := base64.StdEncoding.EncodeToString(b.Bytes)
		out = append(out, enc[:40], enc[len(enc)-40:])
	}
	return out
}

func scan(t *testing.T, logs string, secrets ...string) {
	t.Helper()
	if logs == "" {
		t.Fatal("no logs captured")
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Fatalf("secret %q found in the log:\n%s", s, logs)
		}
	}
}

func TestLogsNeverCarryTokenOrKeys(t *testing.T) {
	ca := fakeCA(t)
	state := t.TempDir()
	certs := agenttest.NewCerts(t, t.TempDir())
	a := agenttest.Start(t, map[string]string{
		"UV_CUBE_AGENT_TSM":             "fake",
		"UV_CUBE_AGENT_LOG_LEVEL":       "debug",
		"UV_CUBE_AGENT_CA_URL":          ca.URL,
		"UV_CUBE_AGENT_CERTS_TOKEN":     token,
		"UV_CUBE_AGENT_STATE_DIR":       state,
		"UV_CUBE_AGENT_ATTESTED_TLS":    "false",
		"UV_CUBE_AGENT_TARGET_URL":      "http://127.0.0.1:1", // nothing there: exercise the 502 path too
		"UV_CUBE_AGENT_SERVER_CERT":     certs.ServerCert,     // replaced by the CA's
		"UV_CUBE_AGENT_SERVER_KEY":      certs.ServerKey,
		"UV_CUBE_AGENT_CLIENT_CA_CERTS": "",
	}, nil)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, path := range []string{"/health", "/api/tags?token=" + token, "/metrics"} {
		req, _ := http.NewRequest("GET", a.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	req, _ := http.NewRequest("POST", a.URL+"/attestation", strings.NewReader(`{"report_data":"`+token+`"}`))
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	a.Stop()
	logs := a.Logs.String()
	if !strings.Contains(logs, "certificate issued") || !strings.Contains(logs, "level=DEBUG") {
		t.Fatalf("the run did not go as planned:\n%s", logs)
	}
	enrolled := filepath.Join(state, "certs", "agent.key")
	scan(t, logs, append(keyMaterial(t, enrolled, certs.ServerKey), token)...)

	// A CA that rejects the token (and echoes it) must not get it logged
	// either, nor printed in the one-line failure.
	var stderr bytes.Buffer
	code := daemon.Run(context.Background(), daemon.Options{
		Env: mapEnv(map[string]string{
			"UV_CUBE_AGENT_TSM": "none", "UV_CUBE_AGENT_CA_URL": ca.URL, "UV_CUBE_AGENT_CERTS_TOKEN": token + "-wrong",
			"UV_CUBE_AGENT_STATE_DIR": t.TempDir(), "UV_CUBE_AGENT_LOG_LEVEL": "debug",
		}),
		Stderr: &stderr,
	})
	if code != daemon.ExitFailed || !strings.Contains(stderr.String(), "401") {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	scan(t, stderr.String(), token)
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	if _, ok := m["UV_CUBE_AGENT_ENV_FILE"]; !ok {
		m["UV_CUBE_AGENT_ENV_FILE"] = ""
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestInvalidConfigIsOneLineNamingTheVariable(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "agent.env")
	os.WriteFile(envFile, []byte("UV_CUBE_AGENT_CERTS_TOKEN "+token+"\n"), 0o600)
	for _, tc := range []struct {
		env   map[string]string
		want  string
		early bool
	}{
		{map[string]string{"UV_CUBE_AGENT_PORT": "seventy"}, "cube-agent: invalid configuration: UV_CUBE_AGENT_PORT: ", true},
		{map[string]string{"UV_CUBE_AGENT_ENV_FILE": envFile}, "cube-agent: invalid configuration: UV_CUBE_AGENT_ENV_FILE: " + envFile + ":1: expected KEY=VALUE", true},
		// Found once the TSM is probed: after the startup log line.
		{map[string]string{"UV_CUBE_AGENT_ATTESTED_TLS": "true", "UV_CUBE_AGENT_TSM": "auto"}, "cube-agent: invalid configuration: UV_CUBE_AGENT_ATTESTED_TLS: ", false},
		{map[string]string{"UV_CUBE_AGENT_TSM": "configfs"}, "", false},
	} {
		var stderr bytes.Buffer
		code := daemon.Run(context.Background(), daemon.Options{Env: mapEnv(tc.env), Stderr: &stderr})
		out := stderr.String()
		if tc.want == "" { // configfs required but absent here: a runtime failure
			if code != daemon.ExitFailed || !strings.Contains(out, "configfs-tsm") {
				t.Errorf("%v: exit %d\n%s", tc.env, code, out)
			}
			continue
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		last := lines[len(lines)-1]
		if code != daemon.ExitConfig || !strings.HasPrefix(last, tc.want) {
			t.Errorf("%v: exit %d, output:\n%s\nwant a last line starting %q", tc.env, code, out, tc.want)
		}
		if tc.early && len(lines) != 1 {
			t.Errorf("%v: a configuration error found before starting must be the only output:\n%s", tc.env, out)
		}
		scan(t, out+" ", token)
	}
}

// The binary the image ships: static, no cgo, starts with an empty
// environment and answers /health even without any TSM (what the launch
// engineer's tiny TCG guest sees).
func TestStaticBinaryServesHealthWithMinimalEnv(t *testing.T) {
	testenv.Tool(t, "go")
	bin := filepath.Join(t.TempDir(), "cube-agent")
	build := exec.Command("go", "build", "-ldflags", "-s -w", "-o", bin, "github.com/ultravioletrs/cube-hal/agent/cmd/cube-agent")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("cube-agent is dynamically linked (%v)", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("cube-agent needs %v", libs)
	}
	f.Close()
	st, _ := os.Stat(bin)
	t.Logf("cube-agent: %.1f MiB static", float64(st.Size())/(1<<20))

	cmd := exec.Command(bin)
	// The minimal environment the launch test uses.
	cmd.Env = []string{"UV_CUBE_AGENT_HOST=127.0.0.1", "UV_CUBE_AGENT_PORT=0", "UV_CUBE_AGENT_TSM=auto", "UV_CUBE_AGENT_ENV_FILE="}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addrRe := regexp.MustCompile(`msg="cube-agent serving" addr=(\S+)`)
	sc := bufio.NewScanner(stderr)
	var addr string
	var lines []string
	deadline := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	deadline.Stop()
	if addr == "" {
		t.Fatalf("agent did not start:\n%s", strings.Join(lines, "\n"))
	}
	go io.Copy(io.Discard, stderr)
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h["status"] != "pass" || h["attestation"] != "none" {
		t.Fatalf("health: %v", h)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

// With a CA and attested TLS, each attested certificate is issued by the
// CA (Cube's deployment); a verifier trusting that CA checks the evidence.
func TestAttestedTLSWithCAIssuedCertificates(t *testing.T) {
	ca, caFile := fakeCAWithCert(t)
	a := agenttest.Start(t, map[string]string{
		"UV_CUBE_AGENT_TSM": "fake", "UV_CUBE_AGENT_ATTESTED_TLS": "true",
		"UV_CUBE_AGENT_CA_URL": ca.URL, "UV_CUBE_AGENT_CERTS_TOKEN": token,
	}, nil)
	r, err := verify.Attest(context.Background(), verify.Options{Agent: a.URL, Transport: verify.ATLS,
		Roots: verify.Roots{TestRoots: true}, TLS: verify.ClientTLS{CAFile: caFile}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Verified {
		var b bytes.Buffer
		r.WriteText(&b)
		t.Fatalf("not verified:\n%s", b.String())
	}
	// The same agent's attested certificate is not self-signed: without the
	// CA the handshake's certificate is refused.
	if _, err := verify.Attest(context.Background(), verify.Options{Agent: a.URL, Transport: verify.ATLS, Roots: verify.Roots{TestRoots: true}}); err == nil {
		t.Fatal("CA-issued attested certificate accepted without the CA")
	}
}

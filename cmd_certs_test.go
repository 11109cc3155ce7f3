package main

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCertsCommand(t *testing.T) {
	dir := t.TempDir()
	overlay, state := filepath.Join(dir, "overlay"), filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "defconfig")
	if err := os.WriteFile(cfg, []byte("BR2_PACKAGE_CUBE_AGENT=y\n"+
		"BR2_PACKAGE_CUBE_AGENT_HOST=\"10.0.2.15\"\n"+
		"BR2_PACKAGE_CUBE_AGENT_SERVER_CERT=\"/etc/cube/tls/agent.crt\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--overlay", overlay, "--state-dir", state, "--output", filepath.Join(dir, "out"), "certs", "--config", cfg}

	code, out, errOut := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, p := range []string{
		"etc/cube/certs/ca.pem", "etc/cube/tls/agent.crt", "etc/cube/certs/server.key",
		"etc/cube/certs/client_ca.pem", "root/.ssh/authorized_keys",
	} {
		full := filepath.Join(overlay, p)
		if !strings.Contains(out, full) {
			t.Errorf("output does not list %s:\n%s", full, out)
		}
		if _, err := os.Stat(full); err != nil {
			t.Error(err)
		}
	}
	if fi, err := os.Stat(filepath.Join(state, "ssh", "id_ed25519")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("SSH key: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(overlay, "etc/cube/certs/server.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("server key: %v %v", fi, err)
	}
	data, err := os.ReadFile(filepath.Join(overlay, "etc/cube/tls/agent.crt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ip := range cert.IPAddresses {
		found = found || ip.Equal(net.ParseIP("10.0.2.15"))
	}
	if !found {
		t.Errorf("the configured host is not in the server certificate: %v", cert.IPAddresses)
	}
	if !strings.Contains(out, "Configuration: "+cfg) {
		t.Errorf("output does not say where the paths came from:\n%s", out)
	}

	// Again: refused, nothing changed, the hint names --force.
	code, _, errOut = runCLI(t, args...)
	if code != exitFailed || !strings.Contains(errOut, "refusing to overwrite") || !strings.Contains(errOut, "hint: pass --force") {
		t.Errorf("second run: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut = runCLI(t, append(args, "--force")...); code != exitOK {
		t.Errorf("--force: exit %d, %s", code, errOut)
	}
}

func TestCertsCommandErrors(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--overlay", filepath.Join(dir, "ov"), "--state-dir", filepath.Join(dir, "st"), "--output", filepath.Join(dir, "out"), "certs"}

	code, _, errOut := runCLI(t, append(base, "--config", filepath.Join(dir, "missing"))...)
	if code != exitUsage || !strings.Contains(errOut, "--config") {
		t.Errorf("missing --config: exit %d, %q", code, errOut)
	}
	bad := filepath.Join(dir, "bad.config")
	os.WriteFile(bad, []byte("BR2_PACKAGE_CUBE_AGENT_SERVER_KEY=\"relative.key\"\n"), 0o644)
	code, _, errOut = runCLI(t, append(base, "--config", bad)...)
	if code != exitUsage || !strings.Contains(errOut, "BR2_PACKAGE_CUBE_AGENT_SERVER_KEY") || !strings.Contains(errOut, bad) {
		t.Errorf("relative path: exit %d, %q", code, errOut)
	}
	broken := filepath.Join(dir, "broken.config")
	os.WriteFile(broken, []byte("BR2_X=\"open\n"), 0o644)
	code, _, errOut = runCLI(t, append(base, "--config", broken)...)
	if code != exitUsage || !strings.Contains(errOut, broken+":1") {
		t.Errorf("malformed config: exit %d, %q", code, errOut)
	}
	// No workspace .config: the defaults are used, and said so.
	code, out, errOut := runCLI(t, base...)
	if code != exitOK || !strings.Contains(out, "Configuration: defaults") {
		t.Errorf("defaults: exit %d, %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "ov", "etc", "cube", "certs", "server.crt")); err != nil {
		t.Error(err)
	}
}

package cubecfg

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/certs"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// fakeTarget builds what Buildroot hands post-build.sh: a target directory
// with OpenSSH's sshd_config and the repository's overlay copied over it the
// way Buildroot copies overlays (rsync --chmod=u=rwX,go=rX, which makes
// every file world-readable), optionally after `cube-hal certs` filled it.
func fakeTarget(t *testing.T, withCerts bool) string {
	t.Helper()
	rsync := testenv.Tool(t, "rsync")[0]
	dir := t.TempDir()
	overlay := filepath.Join(dir, "overlay")
	cp := exec.Command(rsync, "-a", filepath.Join(testenv.RepoRoot(t), "overlay")+"/", overlay+"/")
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if withCerts {
		if _, err := certs.GenerateTLS(certs.TLSRequest{OverlayDir: overlay, HostDir: filepath.Join(dir, "host"), Paths: certs.DefaultPaths}); err != nil {
			t.Fatal(err)
		}
		if _, err := certs.GenerateSSH(certs.SSHRequest{PrivateKeyPath: filepath.Join(dir, "host", "id_ed25519"),
			AuthorizedKeysPath: filepath.Join(overlay, "root", ".ssh", "authorized_keys")}); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(dir, "target")
	if err := os.MkdirAll(filepath.Join(target, "etc", "ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "etc", "ssh", "sshd_config"), []byte("#PermitRootLogin prohibit-password\nPermitRootLogin yes\nSubsystem sftp /usr/libexec/sftp-server\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cp = exec.Command(rsync, "-a", "--chmod=u=rwX,go=rX", overlay+"/", target+"/")
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return target
}

func postBuild(t *testing.T, target, config string) (string, error) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), ".config")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(externalDir(t), "board", "cube", "post-build.sh"), target)
	cmd.Env = append(os.Environ(), "BR2_CONFIG="+cfg)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

const agentConfig = "BR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_OPENSSH=y\n" +
	"BR2_PACKAGE_CUBE_AGENT_SERVER_CA_CERTS=\"/etc/cube/certs/ca.pem\"\n" +
	"BR2_PACKAGE_CUBE_AGENT_SERVER_CERT=\"/etc/cube/certs/server.crt\"\n" +
	"BR2_PACKAGE_CUBE_AGENT_SERVER_KEY=\"/etc/cube/certs/server.key\"\n" +
	"BR2_PACKAGE_CUBE_AGENT_CLIENT_CA_CERTS=\"/etc/cube/certs/client_ca.pem\"\n" +
	"BR2_PACKAGE_CUBE_AGENT_CA_URL=\"\"\n"

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestPostBuild(t *testing.T) {
	target := fakeTarget(t, true)
	if m := mode(t, filepath.Join(target, "etc/cube/certs/server.key")); m != 0o644 {
		t.Fatalf("the simulated overlay copy should have loosened the key to 0644, got %v", m)
	}
	for i := 0; i < 2; i++ { // and it is idempotent
		if out, err := postBuild(t, target, agentConfig); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out)
		}
	}
	for p, want := range map[string]os.FileMode{
		"etc/cube/certs/server.key": 0o600, "etc/cube/certs/server.crt": 0o644,
		"root/.ssh": 0o700, "root/.ssh/authorized_keys": 0o600,
	} {
		if got := mode(t, filepath.Join(target, p)); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
	for _, p := range []string{"etc/cube/certs/README.md", "etc/cube/certs/.gitignore", "root/.ssh/.gitignore"} {
		if _, err := os.Stat(filepath.Join(target, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left in the image (%v)", p, err)
		}
	}
	sshd, _ := os.ReadFile(filepath.Join(target, "etc/ssh/sshd_config"))
	lines := strings.Split(string(sshd), "\n")
	if !strings.HasPrefix(lines[0], "# cube:") || lines[1] != "PermitRootLogin prohibit-password" || lines[2] != "PasswordAuthentication no" {
		t.Errorf("sshd_config does not start with the key-only block:\n%s", sshd)
	}
	if strings.Count(string(sshd), "# cube:") != 1 {
		t.Errorf("the block was added twice:\n%s", sshd)
	}
	// sshd takes the first value of a keyword: ask OpenSSH itself, where it
	// can run (sshd -T needs its privilege separation directory).
	sshdBin, err := exec.LookPath("sshd")
	if _, derr := os.Stat("/run/sshd"); err != nil || derr != nil {
		t.Logf("not asking sshd -T (sshd %v, /run/sshd %v)", err, derr)
		return
	}
	hostKey := filepath.Join(t.TempDir(), "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	out, err := exec.Command(sshdBin, "-T", "-f", filepath.Join(target, "etc/ssh/sshd_config"),
		"-o", "HostKey="+hostKey, "-C", "user=root,host=h,addr=127.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("sshd -T: %v\n%s", err, out)
	}
	for _, want := range []string{"permitrootlogin without-password", "passwordauthentication no", "kbdinteractiveauthentication no"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sshd -T does not say %q:\n%s", want, out)
		}
	}
}

func TestPostBuildRefusesMissingCertificates(t *testing.T) {
	target := fakeTarget(t, false)
	out, err := postBuild(t, target, agentConfig)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1:\n%s", err, out)
	}
	for _, want := range []string{"/etc/cube/certs/ca.pem (BR2_PACKAGE_CUBE_AGENT_SERVER_CA_CERTS)",
		"/etc/cube/certs/server.key (BR2_PACKAGE_CUBE_AGENT_SERVER_KEY)", "cube-hal certs"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// With a CA URL the agent gets its certificate at run time: no files needed,
	// but the missing SSH key is worth a warning.
	out, err = postBuild(t, target, agentConfig+"BR2_PACKAGE_CUBE_AGENT_CA_URL=\"https://ca.example.com\"\n")
	if err != nil {
		t.Fatalf("with a CA URL: %v\n%s", err, out)
	}
	if !strings.Contains(out, "WARNING: /root/.ssh/authorized_keys is missing") {
		t.Errorf("no warning about the missing SSH key:\n%s", out)
	}
}

func TestPostImage(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"bzImage": "kernel", "rootfs.cpio.gz": "initramfs", "rootfs.ext4": "disk"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(filepath.Join(externalDir(t), "board", "cube", "post-image.sh"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("initramfs"))
	if !strings.Contains(string(sums), hex.EncodeToString(sum[:])+"  rootfs.cpio.gz\n") {
		t.Errorf("SHA256SUMS:\n%s", sums)
	}
	if !strings.Contains(string(out), "rootfs.cpio.gz") {
		t.Errorf("output does not list the images:\n%s", out)
	}
	if out, err := exec.Command(filepath.Join(externalDir(t), "board", "cube", "post-image.sh"), t.TempDir()).CombinedOutput(); err == nil {
		t.Errorf("an empty images directory was accepted:\n%s", out)
	}
}

// The kernel fragment is well formed: each line a comment, blank, CONFIG_X=
// value or "# CONFIG_X is not set", no option set twice, and it asks for
// the confidential-guest essentials.
func TestKernelFragment(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(externalDir(t), "board", "cube", "linux.fragment"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for i, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if l == "" || strings.HasPrefix(l, "# ") && !strings.HasSuffix(l, " is not set") {
			continue
		}
		sym, val, ok := strings.Cut(l, "=")
		if strings.HasSuffix(l, " is not set") {
			sym, val, ok = strings.TrimSuffix(strings.TrimPrefix(l, "# "), " is not set"), "n", true
		}
		if !ok || !strings.HasPrefix(sym, "CONFIG_") || !isSymbol(sym) || val == "" {
			t.Errorf("line %d: %q is not a kernel config line", i+1, l)
			continue
		}
		if _, dup := seen[sym]; dup {
			t.Errorf("line %d: %s set twice", i+1, sym)
		}
		seen[sym] = val
	}
	for _, sym := range []string{"CONFIG_AMD_MEM_ENCRYPT", "CONFIG_INTEL_TDX_GUEST", "CONFIG_SEV_GUEST", "CONFIG_TDX_GUEST_DRIVER",
		"CONFIG_TSM_REPORTS", "CONFIG_CONFIGFS_FS", "CONFIG_VIRTIO_NET", "CONFIG_VIRTIO_VSOCKETS", "CONFIG_BLK_DEV_INITRD",
		"CONFIG_RD_GZIP", "CONFIG_DEVTMPFS", "CONFIG_CGROUPS", "CONFIG_SECCOMP_FILTER", "CONFIG_SERIAL_8250_CONSOLE"} {
		if seen[sym] != "y" {
			t.Errorf("%s=%q, want y", sym, seen[sym])
		}
	}
}

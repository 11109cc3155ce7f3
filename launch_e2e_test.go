package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/launch"
	"github.com/ultravioletrs/cube-hal/launch/testimage"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestMain removes the binary cubeHalBinary built, so test runs leave
// nothing behind in the temporary directory.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// cubeHalBinary builds this checkout's cube-hal once per test process: the
// end-to-end tests run the real binary, as a user would, so that killing
// it mid-start is a real process dying.
func cubeHalBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cube-hal-e2e-bin-")
		if err != nil {
			binErr = err
			return
		}
		os.Chmod(dir, 0o755)
		binPath = filepath.Join(dir, "cube-hal")
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		cmd := exec.Command(goBin, "build", "-o", binPath, ".")
		cmd.Dir = testenv.RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type cli struct {
	t     *testing.T
	bin   string
	state string
}

func (c cli) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append([]string{"--state-dir", c.state}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("running cube-hal %v: %v", args, err)
	}
	return code, o.String(), e.String()
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The whole path a user takes, with the real binary, real QEMU (TCG) and
// the real OpenSSH client: launch --wait ssh, ssh -- uname -a, the agent
// through its forwarded port, a changed host key refused, stop over QMP,
// and no QEMU left.
func TestE2ELaunchSSHStop(t *testing.T) {
	testenv.Tool(t, "qemu-system-x86_64", "ssh")
	t0 := time.Now()
	im := testimage.Build(t, testimage.Options{Agent: testimage.BuildAgent(t), AgentPort: 7001})
	bin := cubeHalBinary(t)
	t.Logf("image and binary ready in %s", time.Since(t0).Round(time.Millisecond))

	state := filepath.Join(t.TempDir(), "state")
	os.MkdirAll(filepath.Join(state, "ssh"), 0o700)
	// `cube-hal certs` would have made this key; the test brings its own.
	key, _ := os.ReadFile(im.ClientKey)
	os.WriteFile(filepath.Join(state, "ssh", "id_ed25519"), key, 0o600)
	knownHosts := filepath.Join(state, "ssh", "known_hosts")
	// A pin left from an earlier run of this VM: the image made other host
	// keys then (every boot makes new ones), so launch must forget it.
	// Another VM's pin stays.
	stale := filepath.Join(t.TempDir(), "stale")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stale).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	stalePub, _ := os.ReadFile(stale + ".pub")
	sf := strings.Fields(string(stalePub))
	otherVM := launch.HostKeyAlias("other-vm") + " " + sf[0] + " " + sf[1] + "\n"
	os.WriteFile(knownHosts, []byte(launch.HostKeyAlias("e2e")+" "+sf[0]+" "+sf[1]+"\n"+otherVM), 0o600)
	c := cli{t: t, bin: bin, state: state}
	sshPort, agentPort := freeTCPPort(t), freeTCPPort(t)
	t.Cleanup(func() {
		c.run("stop", "--name", "e2e", "--force")
		testenv.RequireNoProcs(t, state, nil)
	})

	t1 := time.Now()
	code, out, errOut := c.run("launch", "--mode", "plain", "--images", im.Dir, "--memory", "512M", "--cpus", "1",
		"--restrict-net", "--wait", "ssh", "--timeout", "90s", "--name", "e2e", "--append", testimage.Append,
		"--ssh-port", strconv.Itoa(sshPort), "--agent-port", strconv.Itoa(agentPort))
	if code != 0 {
		t.Fatalf("launch: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	t.Logf("launch --wait ssh took %s", time.Since(t1).Round(time.Millisecond))
	for _, want := range []string{"VM e2e is running (plain, ", "cube-hal ssh --name e2e", fmt.Sprintf("127.0.0.1:%d", sshPort), fmt.Sprintf("http://127.0.0.1:%d", agentPort), "cube-hal stop --name e2e"} {
		if !strings.Contains(out, want) {
			t.Errorf("launch output lacks %q:\n%s", want, out)
		}
	}

	// Status as `cube-hal status` sees it.
	vms, err := launch.List(context.Background(), filepath.Join(state, "runs"))
	if err != nil || len(vms) != 1 || !vms[0].Running || vms[0].QMPStatus != "running" || vms[0].Ports.SSH != sshPort {
		t.Fatalf("List = %+v, %v", vms, err)
	}

	// First contact of this run pins the host key.
	code, out, errOut = c.run("ssh", "--name", "e2e", "--", "uname", "-a")
	if code != 0 {
		t.Fatalf("ssh -- uname -a: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.HasPrefix(out, "Linux cube-test "+im.KernelVer+" ") {
		t.Errorf("uname -a in the guest = %q, want the guest kernel %s", out, im.KernelVer)
	}
	pinned, _ := os.ReadFile(knownHosts)
	if !strings.Contains(string(pinned), launch.HostKeyAlias("e2e")+" "+im.HostPubKey) || strings.Count(string(pinned), launch.HostKeyAlias("e2e")) != 1 {
		t.Errorf("known_hosts after first contact:\n%s\nwant only the guest key %s pinned for e2e", pinned, im.HostPubKey)
	}
	if !strings.Contains(string(pinned), otherVM) {
		t.Errorf("another VM's pin was lost:\n%s", pinned)
	}
	// The remote exit status comes back as ours.
	if code, _, _ := c.run("ssh", "--name", "e2e", "--", "exit 7"); code != 7 {
		t.Errorf("remote 'exit 7' gave exit %d", code)
	}

	// The serial console is streamed from the log.
	vm, err := launch.Open(filepath.Join(state, "runs"), "e2e")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	rc, err := vm.FollowSerial(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	sawUp := false
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "testimage: up") {
			sawUp = true
			break
		}
	}
	rc.Close()
	cancel()
	if !sawUp {
		t.Error("FollowSerial never showed the guest's 'testimage: up' line")
	}

	checkAgent(t, agentPort, vm)

	// A host key that changes within the run is refused loudly.
	other := filepath.Join(t.TempDir(), "other")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	otherPub, _ := os.ReadFile(other + ".pub")
	f := strings.Fields(string(otherPub))
	os.WriteFile(knownHosts, []byte(launch.HostKeyAlias("e2e")+" "+f[0]+" "+f[1]+"\n"), 0o600)
	code, _, errOut = c.run("ssh", "--name", "e2e", "--", "true")
	if code != 1 || !strings.Contains(errOut, "host key of VM \"e2e\" CHANGED during this run") || !strings.Contains(errOut, "ssh-keygen -R "+launch.HostKeyAlias("e2e")) {
		t.Errorf("changed host key: exit %d, stderr:\n%s", code, errOut)
	}
	os.WriteFile(knownHosts, pinned, 0o600)

	t2 := time.Now()
	code, out, errOut = c.run("stop", "--name", "e2e")
	if code != 0 || !strings.Contains(out, "VM e2e stopped: the guest powered off") {
		t.Fatalf("stop: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("stop took %s", time.Since(t2).Round(time.Millisecond))
	testenv.RequireNoProcs(t, state, nil)
	if code, _, errOut := c.run("ssh", "--name", "e2e", "--", "true"); code != 1 || !strings.Contains(errOut, "not running") {
		t.Errorf("ssh to a stopped VM: exit %d, %s", code, errOut)
	}
}

// checkAgent asks the guest agent's /health through the forwarded port.
func checkAgent(t *testing.T, port int, vm *launch.VM) {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/health", port)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second) // the agent starts after sshd; TCG on a busy machine is slow
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"cube-agent"`) {
				t.Logf("agent /health: %s", bytes.TrimSpace(body))
				return
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body)
		} else {
			last = err.Error()
		}
		time.Sleep(300 * time.Millisecond)
	}
	serial, _ := os.ReadFile(vm.Paths().SerialLog)
	t.Errorf("agent %s did not answer: %s\nserial console:\n%s", url, last, serial)
}

// cube-hal killed while starting a VM (SIGKILL: no cleanup code runs) or
// interrupted (Ctrl-C): no QEMU is left behind either way.
func TestE2EKilledWhileStarting(t *testing.T) {
	testenv.Tool(t, "qemu-system-x86_64")
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(kernels) == 0 {
		testenv.Missing(t, "a kernel in /boot (install linux-image-amd64)")
	}
	bin := cubeHalBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			cmd := exec.Command(bin, "--state-dir", state, "launch", "--mode", "plain", "--kernel", kernels[len(kernels)-1],
				"--memory", "128M", "--cpus", "1", "--wait", "ssh", "--ports", "auto", "--restrict-net")
			var errOut bytes.Buffer
			cmd.Stderr = &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			rec := filepath.Join(state, "runs", launch.DefaultName, "vm.json")
			deadline := time.Now().Add(60 * time.Second)
			for {
				if b, err := os.ReadFile(rec); err == nil && bytes.Contains(b, []byte(`"pid": `)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("QEMU never started; stderr:\n%s", errOut.String())
				}
				time.Sleep(25 * time.Millisecond)
			}
			if len(testenv.ProcsUsing(state, nil)) < 2 {
				t.Fatalf("expected the keeper and QEMU running, got %v", testenv.ProcsUsing(state, nil))
			}
			cmd.Process.Signal(sig)
			cmd.Wait()
			testenv.RequireNoProcs(t, state, nil)
			if sig == syscall.SIGINT && !strings.Contains(errOut.String(), "launch interrupted; the VM was stopped") {
				t.Errorf("after Ctrl-C, stderr:\n%s", errOut.String())
			}
		})
	}
}

// deploy copies the boot files with their checksums, and a user who may
// not write the destination is told to use root.
func TestE2EDeploy(t *testing.T) {
	bin := cubeHalBinary(t)
	dir := t.TempDir()
	images := filepath.Join(dir, "images")
	os.MkdirAll(images, 0o755)
	for n, body := range map[string]string{"bzImage": "kernel", "rootfs.cpio.gz": "initramfs", "rootfs.ext4": "ext4", "OVMF.fd": "firmware", "other.txt": "not deployed"} {
		os.WriteFile(filepath.Join(images, n), []byte(body), 0o644)
	}
	c := cli{t: t, bin: bin, state: filepath.Join(dir, "state")}
	dest := filepath.Join(dir, "etc-cube")
	code, out, errOut := c.run("deploy", "--images", images, "--dest", dest)
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, n := range []string{"bzImage", "rootfs.cpio.gz", "rootfs.ext4", "OVMF.fd"} {
		b, err := os.ReadFile(filepath.Join(dest, n))
		src, _ := os.ReadFile(filepath.Join(images, n))
		if err != nil || !bytes.Equal(b, src) {
			t.Errorf("%s not deployed (%v)", n, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, "other.txt")); err == nil {
		t.Error("other.txt was deployed")
	}
	sum := sha256.Sum256([]byte("kernel"))
	if !strings.Contains(out, hex.EncodeToString(sum[:])+"  "+filepath.Join(dest, "bzImage")+" (6 bytes)") {
		t.Errorf("deploy output lacks the kernel's checksum:\n%s", out)
	}

	// Not allowed to write the destination: as root, run as nobody.
	if os.Getuid() != 0 {
		code, _, errOut = c.run("deploy", "--images", images, "--dest", "/etc/cube-hal-deploy-test")
	} else {
		for p := dir; p != "/" && p != filepath.Dir(p); p = filepath.Dir(p) {
			if strings.HasPrefix(p, os.TempDir()+"/") {
				os.Chmod(p, 0o755)
			}
		}
		locked := filepath.Join(dir, "locked")
		os.MkdirAll(locked, 0o755)
		// nobody gets a home of its own and runs outside the checkout
		// (which may sit in a directory only root can read, as in CI's
		// fresh clone), so the only thing it cannot write is the
		// destination.
		home := filepath.Join(dir, "nobody-home")
		os.MkdirAll(home, 0o755)
		if err := os.Chown(home, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--state-dir", filepath.Join(dir, "state"), "deploy", "--images", images, "--dest", filepath.Join(locked, "cube"))
		cmd.Dir = home
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME=", "XDG_STATE_HOME=")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var e bytes.Buffer
		cmd.Stderr = &e
		err := cmd.Run()
		code, errOut = -1, e.String()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	if code != 1 || !strings.Contains(errOut, "permission denied") || !strings.Contains(errOut, "sudo cube-hal deploy") {
		t.Errorf("unwritable destination: exit %d, stderr:\n%s", code, errOut)
	}
}

package tui

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/agent/agenttest"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/launch"
	"github.com/ultravioletrs/cube-hal/launch/testimage"
)

// The build, launch and attest screens in the real binary under tmux: a
// build of the fake Buildroot (build/testdata/fakebr: real make, real
// instrumentation, Buildroot's formats) and a real VM under QEMU's TCG
// with the real OpenSSH client in the console pane.

// see waits for the screen to show every one of want, for up to a
// minute: a deadline only a real failure reaches on a loaded machine.
func (p *tmuxPane) see(want ...string) string {
	p.t.Helper()
	return p.waitLong(time.Minute, want...)
}

// seeAny waits for the screen to show one of want and returns it with the
// screen.
func (p *tmuxPane) seeAny(d time.Duration, want ...string) (string, string) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := p.screen()
		for _, w := range want {
			if strings.Contains(s, w) {
				return w, s
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("screen never showed any of %q in %s:\n%s", want, d, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitLong is waitFor with a deadline of its own (a VM boots in seconds
// under TCG).
func (p *tmuxPane) waitLong(d time.Duration, want ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := p.screen()
		ok := true
		for _, w := range want {
			if !strings.Contains(s, w) {
				ok = false
			}
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("screen never showed %q in %s:\n%s", want, d, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fakeBuildroot is the build runner's fake Buildroot tree.
func fakeBuildroot(t *testing.T) string {
	t.Helper()
	testenv.Tool(t, "make", "bash", "tput")
	return filepath.Join(testenv.RepoRoot(t), "build", "testdata", "fakebr")
}

// fakeBuildrootWithMenu is a fake Buildroot the configurator opens too:
// the build runner's fake Makefile (included, with the BR2_VERSION line
// Buildroot's has) and steps, under the small top-level menu of
// testdata/fakebr-menu, which sources the Cube tree like Buildroot's does.
// It is made in base/buildroot.
func fakeBuildrootWithMenu(t *testing.T, base string) string {
	t.Helper()
	fake := fakeBuildroot(t)
	dir := filepath.Join(base, "buildroot")
	os.MkdirAll(dir, 0o755)
	menu, err := os.ReadFile(filepath.Join("testdata", "fakebr-menu", "Config.in"))
	if err != nil {
		t.Fatal(err)
	}
	// make runs in dir: the relative include keeps this checkout's path
	// out of make's messages (and the README's captures).
	if err := os.Symlink(fake, filepath.Join(base, "fakebr")); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"Makefile":  "export BR2_VERSION := 2026.02.3\ninclude ../fakebr/Makefile\n",
		"Config.in": string(menu),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(fake, "fake-step.sh"), filepath.Join(dir, "fake-step.sh")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeOverlayCerts puts the certificate files the Cube agent's default
// configuration names into an overlay (the job of 'cube-hal certs').
func writeOverlayCerts(t *testing.T, overlay string) {
	t.Helper()
	c := agenttest.NewCerts(t, t.TempDir())
	certs := filepath.Join(overlay, "etc", "cube", "certs")
	os.MkdirAll(certs, 0o755)
	for src, dst := range map[string]string{c.CA: "ca.pem", c.ServerCert: "server.crt", c.ServerKey: "server.key", c.ClientCA: "client_ca.pem"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(certs, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// workDirs makes an output directory (with a .config) and a state
// directory, short enough for QEMU's unix sockets.
func workDirs(t *testing.T, config string) (out, state string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "ch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	out, state = filepath.Join(dir, "out"), filepath.Join(dir, "st")
	os.MkdirAll(out, 0o755)
	os.MkdirAll(filepath.Join(state, "ssh"), 0o700)
	if err := os.WriteFile(filepath.Join(out, ".config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return out, state
}

// writeStalePin pins a host key the guest does not have for VM name in
// known_hosts, as the previous run of a VM with fresh keys leaves it.
func writeStalePin(t *testing.T, knownHosts, name string) {
	t.Helper()
	k := filepath.Join(t.TempDir(), "old")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(k + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(pub))
	line := launch.HostKeyAlias(name) + " " + f[0] + " " + f[1] + "\n"
	if err := os.WriteFile(knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
}

// quitApp quits cube-hal with ctrl+c (nothing to ask about) and checks it
// exited with 0.
func (p *tmuxPane) quitApp() {
	p.t.Helper()
	p.key("C-c")
	if code := p.waitExit(); code != 0 {
		p.t.Fatalf("cube-hal exited with %d", code)
	}
}

// ppid is a process's parent.
func ppid(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// appPIDs are the tmux server, the pane's shell and cube-hal itself: the
// processes that name the test's directories without being left over.
func (p *tmuxPane) appPIDs() map[int]bool {
	out := map[int]bool{}
	shell, _ := strconv.Atoi(strings.TrimSpace(p.run("display-message", "-p", "-t", "t", "#{pane_pid}")))
	server, _ := strconv.Atoi(strings.TrimSpace(p.run("display-message", "-p", "#{pid}")))
	out[shell], out[server] = true, true
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && ppid(pid) == shell {
			out[pid] = true
		}
	}
	return out
}

const (
	goodConfig = "BR2_HAVE_DOT_CONFIG=y\n"
	badConfig  = "BR2_HAVE_DOT_CONFIG=y\nBR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_CUBE_AGENT_PORT=70000\n"
)

// A build of the fake Buildroot: validation first, knotty progress, the
// failure with its package, step and last lines, the full log, a rebuild
// of the package; then a hanging build cancelled with ctrl+c. No make
// process is left.
func TestTmuxBuildFake(t *testing.T) {
	t.Parallel() // its own tmux server, directories and processes
	bin := cubeHal(t)
	out, state := workDirs(t, badConfig)
	br := fakeBuildrootWithMenu(t, filepath.Dir(out))
	p := startPane(t, 100, 30, []string{"HOME=" + filepath.Dir(out), "FAKE_DELAY=0.05", "FAKE_FAIL=busybox:build", "FAKE_LINES=60"},
		bin, "--buildroot", br, "-O", out, "--state-dir", state, "--overlay", filepath.Join(filepath.Dir(out), "overlay"))
	p.see("cube-hal", "Configure", "Build")
	p.key("2")
	s := p.see("Build the image", "Buildroot   ", "The configuration has", "Agent Port: 70000 is not in 1-65535")
	capture(t, "build-invalid", s)
	p.key("b")
	p.see("Refusing to build: the configuration has")

	if err := os.WriteFile(filepath.Join(out, ".config"), []byte(goodConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	p.key("b")
	s = p.waitLong(30*time.Second, "Building the image", "of 7 packages", "▸ ", "╭─ Log", ">>> ")
	capture(t, "build-running", s)
	s = p.waitLong(60*time.Second, "✗ Build failed in busybox 1.38.0, step build", "Last lines of busybox 1.38.0, step build",
		"r rebuild busybox", "full log: ", "Build failed: l opens the full log")
	capture(t, "build-failed", s)

	p.key("l")
	p.see("Build log ", "cube-hal-build.log")
	p.key("/")
	p.typeText(">>> busybox")
	p.key("Enter")
	p.see(`">>> busybox" on line`)
	p.key("Escape")
	p.see("Last lines of busybox")

	// r rebuilds busybox: make ran with busybox-rebuild (its log says
	// so) and failed again. (The screen shows the first failure until the
	// rebuild starts: it alone proves nothing.)
	p.key("r")
	logFile := filepath.Join(out, "cube-hal-build.log")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(logFile)
		log := string(b)
		if regexp.MustCompile(`(?m)^=== command: .* busybox-rebuild$`).MatchString(log) &&
			strings.Contains(log, "=== cube-hal: build failed") && strings.Contains(p.screen(), "Build failed: l opens the full log") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed rebuild of busybox; log:\n%s\nscreen:\n%s", log, p.screen())
		}
	}
	p.see("✗ Build failed in busybox 1.38.0, step build")
	testenv.RequireNoProcs(t, out, p.appPIDs())

	p.quitApp()
}

// ctrl+c during a build asks, then cancels it: make and everything it
// started are gone, even a child that ignores SIGINT and SIGTERM.
func TestTmuxBuildCancel(t *testing.T) {
	t.Parallel() // its own tmux server, directories and processes
	bin := cubeHal(t)
	out, state := workDirs(t, goodConfig)
	br := fakeBuildrootWithMenu(t, filepath.Dir(out))
	p := startPane(t, 100, 30, []string{"HOME=" + filepath.Dir(out), "FAKE_DELAY=0.05", "FAKE_HANG=zlib:build:stubborn"},
		bin, "--buildroot", br, "-O", out, "--state-dir", state)
	p.see("Build")
	p.key("2")
	p.see("The configuration is valid")
	p.key("b")
	p.waitLong(30*time.Second, "▸ zlib 1.3.1", "Building")
	p.key("C-c")
	p.see("Cancel the build?", "y cancel the build", "n keep building")
	p.key("y")
	p.waitLong(40*time.Second, "Build of the image cancelled after", "make and everything it started are gone")
	testenv.RequireNoProcs(t, out, p.appPIDs())
	p.quitApp()
}

// The acceptance path in one session of the real binary: configure (turn
// the Cube agent on, give it its LLM backend, save), build (the fake
// Buildroot, after the validation), launch the tiny TCG image, SSH into it
// in the console pane and run uname -a there, attest it (the agent's fake
// TSM, test roots), stop it; no QEMU or ssh is left.
func TestTmuxAcceptance(t *testing.T) {
	t.Parallel() // its own tmux server, directories and processes
	testenv.Tool(t, "qemu-system-x86_64", "ssh")
	im := testimage.Build(t, testimage.Options{Agent: testimage.BuildAgent(t), AgentEnv: []string{"UV_CUBE_AGENT_TSM=fake"}})
	bin := cubeHal(t)
	out, state := workDirs(t, goodConfig)
	br := fakeBuildrootWithMenu(t, filepath.Dir(out))
	key, err := os.ReadFile(im.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(state, "ssh", "id_ed25519"), key, 0o600)
	// The previous run's host key is still pinned: the Cube image makes
	// new host keys at every boot, so a launch must forget it.
	writeStalePin(t, filepath.Join(state, "ssh", "known_hosts"), "cube-ai-vm")
	overlay := filepath.Join(filepath.Dir(out), "overlay")
	writeOverlayCerts(t, overlay)
	t.Cleanup(func() { testenv.RequireNoProcs(t, state, nil) })

	p := startPane(t, 100, 32, []string{"HOME=" + filepath.Dir(out), "FAKE_DELAY=0.01"},
		bin, "--buildroot", br, "-O", out, "--state-dir", state, "--overlay", overlay)

	// Configure: the agent on, with a custom LLM backend, saved.
	p.see("Cube packages", "> [ ] cube-agent", "Loaded ~/out/.config")
	p.key("Space")
	p.see("[*] cube-agent")
	p.key("/")
	p.typeText("agent_target_url")
	p.see("Custom backend URL")
	p.key("Enter")
	p.see("Jumped to Custom backend URL")
	p.key("Enter")
	p.typeText("http://10.0.2.2:11434")
	p.key("Enter")
	p.see("Custom backend URL = http://10.0.2.2:11434")
	p.key("s")
	p.see("Save the configuration", "cube-agent (BR2_PACKAGE_CUBE_AGENT): n -> y")
	p.key("Enter")
	p.see("Saved")
	cfg, err := os.ReadFile(filepath.Join(out, ".config"))
	if err != nil || !strings.Contains(string(cfg), "BR2_PACKAGE_CUBE_AGENT=y\n") ||
		!strings.Contains(string(cfg), "BR2_PACKAGE_CUBE_AGENT_TARGET_URL=\"http://10.0.2.2:11434\"\n") {
		t.Fatalf("saved .config (%v):\n%s", err, cfg)
	}

	// Build: the saved configuration is valid, so the build runs.
	p.key("2")
	p.see("The configuration is valid")
	p.key("b")
	s := p.waitLong(60*time.Second, "✓ Built the image in", "7 of 7 packages · 100%", "Images in ", "rootfs.cpio")
	capture(t, "build-done", s)

	// The fake build makes an empty rootfs.cpio; put a bootable kernel and
	// initramfs beside it, as a real build would have.
	for _, f := range []string{im.Kernel, im.Initrd} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(out, "images", filepath.Base(f)), b, 0o644)
	}

	// Launch: small settings for TCG, then plain.
	p.key("3")
	p.see("Launch the image", "p plain    ✓ ready (tcg)", "vmlinux, rootfs.cpio.gz")
	p.key("e")
	p.see("Launch settings")
	p.key("Tab")
	p.typeText("512M")
	p.key("Tab")
	p.typeText("1")
	p.key("Tab", "C-u")
	p.typeText(testimage.Append)
	p.key("Enter")
	p.see("Launch settings changed: cube-ai-vm · 512M · 1 vCPU")
	p.key("p")
	p.waitLong(60*time.Second, "cube-ai-vm ● running · plain/tcg", "QMP running", "╭─ Serial console")
	s = p.waitLong(90*time.Second, "testimage: up")
	capture(t, "launch-running", s)

	// SSH in the pane: uname -a answered by the guest's kernel. Under TCG
	// on a loaded machine the guest's sshd can take longer than ssh's
	// ConnectTimeout (30 s) to send its banner to a new connection, after
	// the launch screen's probe saw it up: ssh exits with 255 ("Connection
	// timed out during banner exchange") and the console says so. Open it
	// again then, as a user would.
	for deadline := time.Now().Add(3 * time.Minute); ; {
		p.key("c")
		// "ctrl+] leaves" is on an open console only (a new pane: the
		// closed one's title is gone).
		p.waitLong(90*time.Second, "╭─ SSH console", "ctrl+] leaves")
		got, s := p.seeAny(60*time.Second, "# ", "ssh exited with status 255")
		if got == "# " {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no shell prompt in the SSH console:\n%s", s)
		}
		t.Logf("the SSH console closed before a prompt; opening it again:\n%s", s)
	}
	p.typeText("uname -a")
	p.key("Enter")
	s = p.waitLong(30*time.Second, "Linux cube-test "+im.KernelVer)
	capture(t, "ssh-console", s)
	// A resize reaches the guest's terminal (pty size, SIGWINCH, ssh's
	// window-change): the pane is the window less its border. The
	// window-change travels to the guest on its own, so stty may still
	// see the old size: ask again until it answers with the new one.
	p.run("resize-window", "-t", "t", "-x", "90", "-y", "32")
	p.see("╭─ SSH console ─")
	sizeRE := regexp.MustCompile(`(?m)^│(\d+) (\d+) *│$`)
	for deadline := time.Now().Add(time.Minute); ; {
		before := len(sizeRE.FindAllString(p.screen(), -1))
		p.typeText("stty size")
		p.key("Enter")
		for {
			s = p.screen()
			if len(sizeRE.FindAllString(s, -1)) > before || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		all := sizeRE.FindAllStringSubmatch(s, -1)
		if len(all) > before && all[len(all)-1][2] == "88" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stty size in the guest after a resize to 90 columns:\n%s", s)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// ctrl+c belongs to the guest's shell: its tty echoes ^C and the
	// shell prompts again, and the app does not ask to quit.
	p.typeText("sleep 600")
	p.key("C-c")
	s = p.see("# sleep 600^C")
	if strings.Contains(s, "Quit cube-hal?") {
		t.Fatal("ctrl+c in the console reached the app")
	}
	p.key("C-]")
	p.see("Left the SSH console")

	// Attest through the forwarded agent port.
	p.key("4")
	p.see("Attest the VM", "cube-ai-vm (plain/tcg, running)")
	p.key("T")
	// The agent starts after sshd, and slowly under TCG: ask again until
	// it answers, as a user would.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		// Each answer carries its time: wait for this attempt's.
		before := p.screen()
		p.key("a")
		var got string
		for {
			if got, s = p.seeAny(time.Minute, "Result: ", "No evidence ("); s != before {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got == "Result: " || time.Now().After(deadline) {
			break
		}
		time.Sleep(1100 * time.Millisecond)
	}
	if !strings.Contains(s, "Result: AMD SEV-SNP") {
		serial, _ := os.ReadFile(filepath.Join(state, "runs", "cube-ai-vm", "serial.log"))
		t.Fatalf("no attestation result:\n%s\nserial console:\n%s", s, serial)
	}
	s = p.see("Result: AMD SEV-SNP, fake TSM / test roots", "✓ pass  signature", "✓ pass  report data", "✓ VERIFIED")
	capture(t, "attest", s)

	// Stop.
	p.key("3")
	p.see("Launch the image")
	p.key("x")
	p.see("Stop VM cube-ai-vm?")
	p.key("y")
	p.waitLong(60*time.Second, "VM stopped:", "VM        none running")
	testenv.RequireNoProcs(t, state, p.appPIDs())
	p.quitApp()
}

// The Launch screen shows the SEV-SNP launch digest of the images and
// settings, on a host that cannot run SNP too, and it is the value
// 'cube-hal launch --mode snp --dry-run' prints for the same files and
// settings (issue 10).
func TestTmuxSNPMeasurement(t *testing.T) {
	t.Parallel()
	bin := cubeHal(t)
	out, state := workDirs(t, goodConfig)
	images := filepath.Join(out, "images")
	os.MkdirAll(images, 0o755)
	ovmf := testenv.File(t, filepath.Join(testenv.SharedDir(t), "testvectors", "sev-snp-measure", "ovmf_AmdSev_suffix.bin"), "the shared test vectors")
	for src, dst := range map[string]string{hostBzImage(t): "bzImage", ovmf: "OVMF.fd"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(images, dst), b, 0o644)
	}
	os.WriteFile(filepath.Join(images, "rootfs.cpio.gz"), []byte("an initramfs"), 0o644)

	// What the CLI says, for the default settings and for 2 vCPUs with
	// another command line.
	dryRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-O", out, "--state-dir", state, "launch", "--mode", "snp", "--dry-run"}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("launch --dry-run: %v\n%s", err, stderr.String())
		}
		m := regexp.MustCompile(`expected SEV-SNP measurement: ([0-9a-f]{96})`).FindStringSubmatch(stderr.String())
		if m == nil {
			t.Fatalf("launch --dry-run printed no measurement:\n%s", stderr.String())
		}
		return m[1]
	}
	d, d2 := dryRun(), dryRun("--cpus", "2", "--append", "console=ttyS0 quiet")

	p := startPane(t, 120, 36, []string{"HOME=" + filepath.Dir(out)}, bin, "-O", out, "--state-dir", state)
	p.see("Cube packages")
	p.key("3")
	s := p.see("Images    ~/out/images/bzImage, rootfs.cpio.gz, OVMF.fd", "Measure   "+d[:30], d[len(d)-30:]+" if launched with s")
	capture(t, "launch-snp-measurement", s)
	p.key("i")
	p.see("Expected SEV-SNP measurement of a launch with s", d[:48], d[48:])
	p.key("Escape")
	p.see("Measure   ")
	p.key("e")
	p.see("Launch settings")
	p.key("Tab")
	p.key("Tab")
	p.typeText("2")
	p.key("Tab")
	p.key("C-u")
	p.typeText("console=ttyS0 quiet")
	p.key("Enter")
	p.see("Launch settings changed", "Measure   "+d2[:30])
	p.quitApp()
}

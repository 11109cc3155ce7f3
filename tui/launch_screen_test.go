package tui

import (
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/host"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/launch"
)

// The host panel gives each mode a verdict, with the reason when it is
// unavailable; a key launches each mode that can run, and the others say
// why not.
func TestLaunchScreenHostPanel(t *testing.T) {
	fb := newFakeBackends(t)
	l := newLoop(t, fb.options(), 120, 30)
	l.tab("Launch")
	l.shows("Launch the image", "Host      QEMU 7.2.0 · firmware: none in the images (SNP and TDX need OVMF.fd) · KVM not usable (/dev/kvm is missing)",
		"s SEV-SNP  ✗ unavailable: the CPU does not report sev_snp",
		"t TDX      ✗ unavailable: the CPU does not report tdx_host_platform",
		"p plain    ✓ ready (tcg): using TCG (software emulation, much slower): /dev/kvm is missing",
		"Images    /out/images/bzImage, rootfs.cpio.gz",
		"VM        none running: p launches a plain VM")
	l.keys("s")
	l.shows("SEV-SNP is not available here: the CPU does not report sev_snp")
	if fb.launch.startCount() != 0 {
		t.Fatal("an unavailable mode was launched")
	}

	// i shows every reason.
	l.keys("i")
	l.shows("Host and launch details", "KVM: not usable: /dev/kvm is missing", "kvm_amd is not loaded", "QEMU 7.2 has no sev-snp-guest")
	l.keys("esc")
	l.shows("Launch the image")
}

// Launching plain: the VM's status, its serial console streaming, an SSH
// console with keys forwarded (ctrl+c too), ctrl+] to leave it, and a
// stop over QMP.
func TestLaunchScreenVMLifecycle(t *testing.T) {
	fb := newFakeBackends(t)
	vm := newFakeVM(launch.DefaultName)
	fb.launch.vm = vm
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Launch")
	l.shows("p plain    ✓ ready")
	l.keys("p")
	l.shows("VM cube-ai-vm started (plain)", "cube-ai-vm ● running · plain/tcg · pid 4242 · up 0:42 · QMP running",
		"Ports     ssh 127.0.0.1:6190 (waiting for the guest) · agent 127.0.0.1:6193", "Serial console")
	cfg := fb.launch.starts[0]
	if cfg.Mode != launch.ModePlain || cfg.Kernel != "/out/images/bzImage" || cfg.Initrd != "/out/images/rootfs.cpio.gz" || cfg.Name != launch.DefaultName {
		t.Fatalf("launched with %+v", cfg)
	}

	// The serial console streams into the pane (once the command that
	// opens it has delivered it: the fake's pipe blocks until read).
	l.until("the serial console to be followed", func() bool { return l.launchScreen().serial.started })
	io.WriteString(vm.serialW, "Booting the guest\r\ntestimage: up\r\n")
	l.shows("Booting the guest", "testimage: up")

	// The console waits for SSH, then opens by itself.
	l.keys("c")
	l.shows("Waiting for the guest's SSH server")
	vm.setSSHReady()
	l.shows("SSH console", "ctrl+] leaves", "root@fake:~#")
	if !l.launchScreen().focused {
		t.Fatal("the console did not take the focus")
	}
	l.typeText("uname -a")
	l.keys("enter")
	l.shows("ran: uname -a")
	// ctrl+c and digits belong to the guest while the console has the
	// focus: the app neither asks to quit nor switches screens.
	l.keys("ctrl+c", "1")
	l.deliver(50 * time.Millisecond)
	if l.app.confirmQuit != nil || l.app.active != 2 {
		t.Fatalf("a key meant for the guest reached the app (quit %v, active %d)", l.app.confirmQuit, l.app.active)
	}
	l.keys("ctrl+]")
	l.shows("Left the SSH console", "c focuses it")
	l.keys("1")
	if l.app.active != 0 {
		t.Fatal("digits do not switch screens after leaving the console")
	}
	l.tab("Launch")
	l.keys("c")
	l.typeText("exit")
	l.keys("enter")
	l.shows("SSH console closed (ssh exited with status 0)")

	// Serial and SSH views alternate.
	l.keys("v")
	l.shows("Serial console", "testimage: up")

	// x asks, then stops the VM.
	l.keys("x")
	l.shows("Stop VM cube-ai-vm?", "y stop it")
	l.keys("y")
	l.shows("VM stopped: the guest powered off (1.5s)", "VM        none running")
	if vm.stopCount() != 1 {
		t.Fatalf("Stop called %d times", vm.stopCount())
	}
}

// Quitting with a VM running asks whether to leave it or stop it first.
func TestLaunchScreenQuitWithVM(t *testing.T) {
	for _, stop := range []bool{false, true} {
		name := map[bool]string{false: "leave", true: "stop"}[stop]
		t.Run(name, func(t *testing.T) {
			fb := newFakeBackends(t)
			vm := newFakeVM(launch.DefaultName)
			fb.launch.vm = vm
			l := newLoop(t, fb.options(), 100, 30)
			l.tab("Launch")
			l.shows("p plain    ✓ ready")
			l.keys("p")
			l.shows("● running")
			if stop {
				l.keys("ctrl+c")
			} else {
				l.keys("q") // as in the configurator
			}
			l.shows("Quit cube-hal?", "Launch: VM cube-ai-vm is running (y leaves it, x stops it)",
				"y quit", "x stop the VM, then quit", "esc stay")
			if stop {
				l.keys("x")
			} else {
				l.keys("y")
			}
			l.until("quit", func() bool { return l.quit })
			want := map[bool]int{false: 0, true: 1}[stop]
			if vm.stopCount() != want {
				t.Fatalf("Stop called %d times, want %d", vm.stopCount(), want)
			}
			var notes strings.Builder
			l.launchScreen().ses.notes = &notes
			l.app.close()
			if left := strings.Contains(notes.String(), "VM cube-ai-vm keeps running"); left == stop {
				t.Fatalf("after quitting (stop %v) the terminal got %q", stop, notes.String())
			}
		})
	}
}

// A VM started earlier (by the CLI or another session) is found and
// shown; a failed start shows QEMU's words.
func TestLaunchScreenAdoptAndFailure(t *testing.T) {
	fb := newFakeBackends(t)
	fb.launch.running = newFakeVM("earlier")
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Launch")
	l.shows("Found VM earlier running", "earlier ● running")
	l.keys("p")
	l.shows("VM earlier is running: stop it first (x)")

	fb2 := newFakeBackends(t)
	fb2.launch.startErr = &launch.StartError{Err: errors.New("QEMU exited with status 1"), QEMUOutput: "qemu-system-x86_64: -m 99999G: cannot set up guest memory", CommandLine: "qemu-system-x86_64 -m 99999G", RunDir: "/state/runs/cube-ai-vm"}
	l2 := newLoop(t, fb2.options(), 100, 30)
	l2.tab("Launch")
	l2.shows("p plain    ✓ ready")
	l2.keys("p")
	l2.shows("Launch failed: QEMU exited with status 1", "QEMU said:", "cannot set up guest memory", "Command line:")
}

// The settings form: checked as typed, used by the next launch.
func TestLaunchScreenSettings(t *testing.T) {
	fb := newFakeBackends(t)
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Launch")
	l.shows("p plain    ✓ ready")
	l.keys("e")
	l.shows("Launch settings", "Name", "cube-ai-vm", "Memory", "vCPUs", "Command line")
	l.keys("tab")
	l.typeText("lots")
	l.shows("! ")
	l.keys("enter")
	l.shows("Launch settings") // refused: still open
	for range "lots" {
		l.keys("backspace")
	}
	l.typeText("512M")
	l.keys("tab")
	l.typeText("1")
	l.keys("enter")
	l.shows("Launch settings changed: cube-ai-vm · 512M · 1 vCPU")
	l.keys("p")
	l.until("a start", func() bool { return fb.launch.startCount() == 1 })
	if c := fb.launch.starts[0]; c.MemoryMB != 512 || c.CPUs != 1 {
		t.Fatalf("launched with memory %d, cpus %d", c.MemoryMB, c.CPUs)
	}
}

// Missing images: the launch keys say to build first.
func TestLaunchScreenNoImages(t *testing.T) {
	fb := newFakeBackends(t)
	fb.launch.imgErr = errors.New("no kernel (bzImage or vmlinux) in /out/images")
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Launch")
	l.shows("Images    ✗ no kernel (bzImage or vmlinux) in /out/images")
	l.keys("p")
	l.shows("Nothing to boot: no kernel", "(build first: 2)")
	if !strings.Contains(l.screen(), "VM        none running") {
		t.Fatal("no VM line")
	}
}

// hostBzImage is a bzImage QEMU measures with kernel-hashes=on: the
// host's own kernel.
func hostBzImage(t *testing.T) string {
	t.Helper()
	ks, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(ks) == 0 {
		testenv.Missing(t, "no /boot/vmlinuz-* (linux-image-amd64)")
	}
	return ks[len(ks)-1]
}

// snpHost is a host that runs SEV-SNP guests.
func snpHost() launch.HostFacts {
	f := tcgHost()
	f.KVM = host.KVM{Usable: true, Modules: []string{"kvm", "kvm_amd"}}
	f.SEV = host.SEV{CPUSEVSNP: true, ParamSEVSNP: "Y", SNPHost: true, Device: host.Device{Path: "/dev/sev", Present: true, ReadWrite: true}}
	f.QEMU.Version, f.QEMU.Objects = host.Version{Major: 9, Minor: 2}, []string{host.ObjectSEVSNPGuest}
	return f
}

// The launch screen shows the SEV-SNP launch digest of what s would
// start (the images and the settings), on a host that cannot run SNP as
// well; it follows the settings; s starts exactly the configuration it
// was computed from; a kernel QEMU does not measure says why.
func TestLaunchScreenSNPMeasurement(t *testing.T) {
	ovmf := testenv.File(t, filepath.Join(testenv.SharedDir(t), "testvectors", "sev-snp-measure", "ovmf_AmdSev_suffix.bin"), "the shared test vectors")
	kernel := hostBzImage(t)
	initrd := filepath.Join(t.TempDir(), "rootfs.cpio.gz")
	if err := os.WriteFile(initrd, []byte("an initramfs"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := func(cpus int, append string) string {
		t.Helper()
		d, _, err := launch.Config{Mode: launch.ModeSNP, Firmware: ovmf, Kernel: kernel, Initrd: initrd, Append: append, CPUs: cpus,
			SNP: launch.DefaultSNP}.ExpectedSNPMeasurement()
		if err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(d)
	}

	fb := newFakeBackends(t)
	fb.launch.images = launch.Images{Kernel: kernel, Initrd: initrd, Firmware: ovmf}
	l := newLoop(t, fb.options(), 120, 40)
	l.tab("Launch")
	d := want(4, launch.DefaultAppend) // SNP's default vCPUs
	l.shows("s SEV-SNP  ✗ unavailable", "Measure   "+d[:30], d[len(d)-30:]+" if launched with s")
	l.keys("i")
	l.shows("Expected SEV-SNP measurement of a launch with s", d[:48], d[48:], "vCPUs         4 × EPYC-v4, guest features 0x1",
		"kernel        "+kernel, `command line  "console=ttyS0"`, "--dry-run' prints the same value")
	l.keys("esc")

	// Other settings, another digest.
	l.keys("e", "tab", "tab")
	l.typeText("2")
	l.keys("tab", "ctrl+u")
	l.typeText("console=ttyS0 quiet")
	l.keys("enter")
	d2 := want(2, "console=ttyS0 quiet")
	if d2 == d {
		t.Fatal("the digest does not depend on the vCPUs and command line")
	}
	l.shows("Measure   " + d2[:30])

	// On an SNP host, s starts the very configuration the digest is of.
	fb2 := newFakeBackends(t)
	fb2.launch.facts = snpHost()
	fb2.launch.images = fb.launch.images
	l2 := newLoop(t, fb2.options(), 120, 40)
	l2.tab("Launch")
	l2.shows("s SEV-SNP  ✓ ready", "Measure   "+d[:30])
	l2.keys("s")
	l2.until("an SNP start", func() bool { return fb2.launch.startCount() == 1 })
	got, _, err := fb2.launch.starts[0].ExpectedSNPMeasurement()
	if err != nil || hex.EncodeToString(got) != d {
		t.Fatalf("s started a VM whose digest is %x (%v), the screen showed %s", got, err, d)
	}

	// A kernel QEMU does not measure (an ELF vmlinux): no digest, and why.
	fb3 := newFakeBackends(t)
	vmlinux := filepath.Join(t.TempDir(), "vmlinux")
	os.WriteFile(vmlinux, []byte("\x7fELF not a bzImage"), 0o644)
	fb3.launch.images = launch.Images{Kernel: vmlinux, Initrd: initrd, Firmware: ovmf}
	l3 := newLoop(t, fb3.options(), 160, 40)
	l3.tab("Launch")
	l3.shows("Measure   ✗ no SEV-SNP digest: kernel " + vmlinux + " is not a bzImage")
}

// The SSH console takes the keys at once: what is typed while ssh starts
// reaches it. A console that cannot start says why and gives the keys
// back. While the VM stops, its console ends with it (the status says
// the VM stopped, not ssh's 255), and neither c, x nor p is offered.
func TestLaunchScreenConsoleStartAndStop(t *testing.T) {
	fb := newFakeBackends(t)
	vm := newFakeVM(launch.DefaultName)
	vm.sshErr = errors.New("SSH key /st/ssh/id_ed25519: no such file")
	vm.setSSHReady()
	fb.launch.vm = vm
	l := newLoop(t, fb.options(), 100, 30)
	l.tab("Launch")
	l.shows("p plain    ✓ ready")
	l.keys("p")
	l.shows("The guest's SSH server answers")
	l.keys("c")
	l.shows("SSH console: SSH key /st/ssh/id_ed25519: no such file")
	if ls := l.launchScreen(); ls.focused || ls.ssh != nil {
		t.Fatal("a console that did not start kept the keys")
	}

	vm.mu.Lock()
	vm.sshErr = nil
	vm.mu.Unlock()
	l.keys("c")
	// Typed before ssh runs: Update has not seen it start yet.
	if !l.launchScreen().focused {
		t.Fatal("the console does not take the keys at once")
	}
	l.typeText("echo early")
	l.keys("enter")
	l.shows("ran: echo early")

	vm.stopGate = make(chan struct{})
	l.keys("ctrl+]", "x", "y")
	l.shows("Stopping VM cube-ai-vm")
	if h := l.screen(); strings.Contains(h, "x stop VM") || strings.Contains(h, "c back to console") || strings.Contains(h, "p launch plain") {
		t.Fatalf("stop and console offered while the VM stops:\n%s", h)
	}
	l.keys("c")
	l.shows("VM cube-ai-vm is stopping")
	close(vm.stopGate)
	l.shows("VM stopped: the guest powered off", "ssh ended with the VM")
	l.deliver(100 * time.Millisecond)
	l.shows("VM stopped: the guest powered off")
}

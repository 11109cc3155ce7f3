package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/ultravioletrs/cube-hal/agent/verify"
	"github.com/ultravioletrs/cube-hal/build"
	"github.com/ultravioletrs/cube-hal/cubecfg"
	"github.com/ultravioletrs/cube-hal/launch"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// Goldens of the build, launch and attest screens' pure render functions
// at the widths of goldenWidths, and a sweep asserting every frame is
// exactly as wide and high as asked, in plain and colour profiles.

var day = time.Date(2026, 5, 4, 12, 3, 0, 0, time.UTC)

func sampleCheck() *BuildCheck {
	return &BuildCheck{Buildroot: "/home/u/buildroot", Output: "/home/u/cube/output",
		Config: workspace.ConfigState{Path: "/home/u/cube/output/.config", Exists: true, ModTime: day}}
}

func sampleImages() workspace.ImagesState {
	return workspace.ImagesState{Dir: "/home/u/cube/output/images", Files: []workspace.Image{
		{Name: "bzImage", Size: 5<<20 + 300<<10, ModTime: day},
		{Name: "rootfs.cpio.gz", Size: 41 << 20, ModTime: day.Add(time.Minute)},
		{Name: "OVMF.fd", Size: 4 << 20, ModTime: day},
	}}
}

func sampleLog(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("\x1b[32mCC\x1b[0m  libbb/file%02d.o  -O2 -pipe -Wall -Wextra -fno-strict-aliasing -c libbb/file%02d.c", i, i))
	}
	return out
}

func sampleBuildViews() map[string]buildView {
	running := build.Snapshot{Phase: build.Running, Done: 23, Total: 61, Percent: 41.6, Elapsed: 12*time.Minute + 4*time.Second,
		ETA: 18*time.Minute + 30*time.Second, Warnings: 3, LogPath: "/home/u/cube/output/cube-hal-build.log",
		Active: []build.Package{
			{Name: "host-gcc-final", Version: "14.3.0", Step: "build", Label: "Building", Elapsed: 4*time.Minute + 2*time.Second, Expected: 9 * time.Minute},
			{Name: "busybox", Version: "1.37.0", Step: "configure", Label: "Configuring", Elapsed: 3 * time.Second},
		}}
	failed := running
	failed.Phase, failed.ExitCode, failed.Active = build.Failed, 2, nil
	failed.Failure = &build.Failure{Package: "cube-agent", Version: "0.4.0", Step: "build", Label: "Building",
		MakeError: "make[1]: *** [package/pkg-generic.mk:283: /home/u/cube/output/build/cube-agent-0.4.0/.stamp_built] Error 1",
		Lines: []string{"go: downloading github.com/google/go-sev-guest v0.15.0",
			"go: github.com/google/go-sev-guest@v0.15.0: Get \"https://proxy.golang.org/...\": dial tcp: lookup proxy.golang.org: no such host",
			"make[2]: *** [package/cube-agent/cube-agent.mk:40: build] Error 1"},
		Cause: build.CauseNetwork, Hint: "a download failed: check the network, or fetch every source first with 'cube-hal build source' where there is one",
		LogPath: "/home/u/cube/output/cube-hal-build.log"}
	done := running
	done.Phase, done.Done, done.Percent, done.Active, done.Elapsed = build.Succeeded, 61, 100, nil, 31*time.Minute
	prep := build.Snapshot{Phase: build.Preparing, Percent: -1, ETA: -1, Elapsed: 2 * time.Second}
	withProblems := sampleCheck()
	withProblems.Problems = []cubecfg.Problem{{Message: "Agent Port: 70000 is not in 1-65535"}, {Message: "Server CA: /etc/certs/ca.pem is not in the overlay"}}
	return map[string]buildView{
		"idle":      {check: sampleCheck(), images: sampleImages(), following: true, home: "/home/u", status: status{text: "b builds the image"}},
		"problems":  {check: withProblems, following: true, home: "/home/u"},
		"blocked":   {check: &BuildCheck{Blocker: "no Buildroot checkout to build with (standalone mode)", Hint: "quit, then start cube-hal with --buildroot DIR or BUILDROOT_DIR set"}, following: true},
		"preparing": {check: sampleCheck(), started: true, snap: prep, following: true, home: "/home/u"},
		"running":   {check: sampleCheck(), started: true, snap: running, following: true, log: sampleLog(30), home: "/home/u"},
		"paused":    {check: sampleCheck(), started: true, snap: running, following: false, scroll: 12, log: sampleLog(30), home: "/home/u"},
		"failed":    {check: sampleCheck(), started: true, snap: failed, following: true, home: "/home/u", status: status{text: "Build failed: l opens the full log", kind: statusError}},
		"succeeded": {check: sampleCheck(), started: true, snap: done, images: sampleImages(), following: true, log: sampleLog(5), home: "/home/u", status: status{text: "Build finished", kind: statusOK}},
	}
}

func TestRenderBuild(t *testing.T) {
	st := DefaultStyles(nil)
	for name, v := range sampleBuildViews() {
		for _, w := range goldenWidths {
			t.Run(fmt.Sprintf("%s/w%d", name, w), func(t *testing.T) {
				out := renderBuildView(st, v, w, 24)
				exactFrame(t, out, w, 24)
				golden(t, out)
			})
		}
	}
}

func sampleLaunchViews() map[string]launchView {
	f := tcgHost()
	verdicts := launch.AssessAll(f, nil)
	im := launch.Images{Kernel: "/home/u/cube/output/images/bzImage", Initrd: "/home/u/cube/output/images/rootfs.cpio.gz"}
	imFW := im
	imFW.Firmware = "/home/u/cube/output/images/OVMF.fd"
	settings := `cube-ai-vm · default memory · default vCPUs · "console=ttyS0"`
	vm := &launch.VMStatus{Name: "cube-ai-vm", Mode: launch.ModePlain, Accel: launch.AccelTCG, State: launch.StateRunning, Running: true,
		PID: 4242, Ports: launch.Ports{SSH: 6190, Agent: 6193, GuestAgent: 7001}, Uptime: 42 * time.Second, QMPStatus: "running"}
	console := []string{"root@cube-test:~# uname -a", "Linux cube-test 6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1 x86_64 GNU/Linux", "root@cube-test:~# "}
	return map[string]launchView{
		"probing":  {settings: settings, home: "/home/u"},
		"ready":    {facts: &f, verdicts: verdicts, images: im, settings: settings, home: "/home/u"},
		"noimages": {facts: &f, verdicts: verdicts, imagesErr: errors.New("no kernel (bzImage or vmlinux) in /home/u/cube/output/images"), settings: settings},
		"starting": {facts: &f, verdicts: verdicts, images: im, settings: settings, starting: launch.ModePlain, progress: "QEMU running, pid 4242", home: "/home/u"},
		"failed": {facts: &f, verdicts: verdicts, images: im, settings: settings, home: "/home/u",
			startFail: startFailure(&launch.StartError{Err: errors.New("QEMU exited with status 1"), QEMUOutput: "qemu-system-x86_64: cannot set up guest memory 'pc.ram': Cannot allocate memory", CommandLine: "qemu-system-x86_64 -m 99999G", RunDir: "/home/u/.local/state/cube-hal/runs/cube-ai-vm"})},
		"serial": {facts: &f, verdicts: verdicts, images: im, settings: settings, vm: vm, sshReady: true, home: "/home/u",
			paneLines: []string{"[    0.000000] Linux version 6.1.0-56-amd64", "testimage: up"}},
		"ssh": {facts: &f, verdicts: verdicts, images: im, settings: settings, vm: vm, sshReady: true, sshOpen: true, home: "/home/u",
			paneLines: console, paneSSH: true, paneFocused: true},
		"snp": {facts: &f, verdicts: verdicts, images: im, settings: settings, vm: &launch.VMStatus{Name: "cube-ai-vm", Mode: launch.ModeSNP,
			Accel: launch.AccelKVM, State: launch.StateRunning, Running: true, PID: 4242, Ports: vm.Ports, Uptime: time.Minute, QMPStatus: "running"},
			expected: strings.Repeat("5f", 48), sshReady: true, home: "/home/u", paneLines: []string{"cube login:"}},
		// With firmware in the images: the digest an SNP launch would
		// carry, or why there is none.
		"snp-expected": {facts: &f, verdicts: verdicts, images: imFW, settings: settings, home: "/home/u",
			snp: &snpExpect{digest: "cc9dfd1846d3c66542368aacf5083fb83c7519d8499b75648c635e5ecfd02a9cc5e89bda6621ffc02b75a57d7c659445"}},
		"snp-refused": {facts: &f, verdicts: verdicts, images: imFW, settings: settings, home: "/home/u",
			snp: &snpExpect{err: errors.New("kernel /home/u/cube/output/images/vmlinux is not a bzImage: QEMU measures only bzImage kernels with kernel-hashes=on")}},
		"stopping": {facts: &f, verdicts: verdicts, images: im, settings: settings, vm: vm, stopping: true, home: "/home/u",
			paneLines: []string{"reboot: Power down"}, status: status{text: "Stopping VM cube-ai-vm"}},
	}
}

func TestRenderLaunch(t *testing.T) {
	st := DefaultStyles(nil)
	for name, v := range sampleLaunchViews() {
		for _, w := range goldenWidths {
			t.Run(fmt.Sprintf("%s/w%d", name, w), func(t *testing.T) {
				v := v
				// The pane's lines come from a vtPane as wide as the box.
				if v.paneLines != nil {
					v.paneLines = fitLines(v.paneLines, w-2, 6)
				}
				out := renderLaunchView(st, v, w, 24)
				exactFrame(t, out, w, 24)
				golden(t, out)
			})
		}
	}
}

func sampleAttestView() attestView {
	vmpl := uint32(0)
	return attestView{
		agent: "http://127.0.0.1:6193", expectM: "computed from the images the VM booted", expectVMPL: "0",
		vm: &launch.VMStatus{Name: "cube-ai-vm", Mode: launch.ModeSNP, Accel: launch.AccelKVM, Running: true, Ports: launch.Ports{Agent: 6193}},
		at: day, source: "computed from the images this VM booted",
		result: &verify.Result{Agent: "http://127.0.0.1:6193", Platform: "snp", Nonce: strings.Repeat("4e", 32),
			ReportData: strings.Repeat("9a", 64), Measurement: strings.Repeat("5f", 48),
			Details: verify.Details{VMPL: &vmpl, GuestPolicy: "0x30000 (SMT allowed, debug off)", ReportedTCB: "bl 3 tee 0 snp 8 ucode 115", Product: "Milan-B1"},
			Checks: []verify.Check{
				{Name: verify.CheckSignature, Status: verify.Pass, Detail: "VCEK chain to AMD's ARK (Milan)"},
				{Name: verify.CheckReportData, Status: verify.Pass, Detail: "SHA-512 of the nonce"},
				{Name: verify.CheckMeasurement, Status: verify.Fail, Expected: strings.Repeat("5e", 48), Actual: strings.Repeat("5f", 48)},
				{Name: verify.CheckVMPL, Status: verify.Pass, Expected: "0", Actual: "0"},
				{Name: verify.CheckDebug, Status: verify.Pass, Actual: "debug off"},
				{Name: verify.CheckTCB, Status: verify.Skip, Detail: "no minimum given"},
			}},
	}
}

func TestRenderAttest(t *testing.T) {
	st := DefaultStyles(nil)
	views := map[string]attestView{
		"result": sampleAttestView(),
		"none":   {expectM: "not checked (m sets one)", expectVMPL: "not checked (v sets one)"},
		"error":  {agent: "http://127.0.0.1:6193", at: day, expectM: "not checked (m sets one)", expectVMPL: "not checked (v sets one)", err: errors.New("endpoint: POST http://127.0.0.1:6193/attestation: connection refused")},
	}
	for name, v := range views {
		for _, w := range goldenWidths {
			t.Run(fmt.Sprintf("%s/w%d", name, w), func(t *testing.T) {
				top := v.header(st, w)
				out := renderAttestView(st, top, v.lines(st, w), 0, status{}, w, 30)
				exactFrame(t, out, w, 30)
				golden(t, out)
			})
		}
	}
}

// Every frame is exactly w x h, from the smallest width the app supports
// to a wide one, in the plain and the colour profile.
func TestRenderWorkWidthSweep(t *testing.T) {
	for _, profile := range []termenv.Profile{termenv.Ascii, termenv.TrueColor} {
		lipgloss.SetColorProfile(profile)
		st := DefaultStyles(nil)
		for w := 40; w <= 160; w += 7 {
			for _, h := range []int{12, 20, 40} {
				for name, v := range sampleBuildViews() {
					exactFrameNamed(t, "build "+name, renderBuildView(st, v, w, h), w, h)
				}
				for name, v := range sampleLaunchViews() {
					if v.paneLines != nil {
						v.paneLines = fitLines(v.paneLines, w-2, 6)
					}
					exactFrameNamed(t, "launch "+name, renderLaunchView(st, v, w, h), w, h)
				}
				v := sampleAttestView()
				exactFrameNamed(t, "attest", renderAttestView(st, v.header(st, w), v.lines(st, w), 0, status{}, w, h), w, h)
			}
		}
	}
	lipgloss.SetColorProfile(termenv.Ascii)
}

func exactFrame(t *testing.T, out string, w, h int) {
	t.Helper()
	exactFrameNamed(t, "", out, w, h)
}

func exactFrameNamed(t *testing.T, name, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Fatalf("%s %dx%d: %d lines", name, w, h, len(lines))
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Fatalf("%s %dx%d: line %d is %d wide: %q", name, w, h, i, n, ansi.Strip(l))
		}
	}
}

func TestRenderProgressBar(t *testing.T) {
	st := DefaultStyles(nil)
	cases := []struct {
		frac float64
		t    time.Duration
		want string
	}{
		{0, 0, "▕░░░░░░░░░░▏"},
		{0.5, 0, "▕█████░░░░░▏"},
		{1, 0, "▕██████████▏"},
		{1.5, 0, "▕██████████▏"},
		{-1, 0, "▕██░░░░░░░░▏"},
		{-1, 750 * time.Millisecond, "▕░░░██░░░░░▏"},
	}
	for _, c := range cases {
		if got := ansi.Strip(renderProgressBar(st, c.frac, c.t, 12)); got != c.want {
			t.Errorf("bar(%v, %v) = %q, want %q", c.frac, c.t, got, c.want)
		}
	}
}

// The bar of a build that ended before its package count was known
// (cancelled or failed while make listed the packages) stands empty: a
// bouncing block frozen mid-way looks like a build still at work.
func TestProgressLineEndedWhilePreparing(t *testing.T) {
	st := DefaultStyles(nil)
	for _, ph := range []build.Phase{build.Cancelled, build.Failed} {
		line := ansi.Strip(progressLine(st, build.Snapshot{Phase: ph, Percent: -1, ETA: -1, Elapsed: 2 * time.Second}, 80))
		if strings.Contains(line, "█") {
			t.Errorf("%v before the count: %q", ph, line)
		}
	}
	// Still preparing: the block bounces.
	if line := ansi.Strip(progressLine(st, build.Snapshot{Phase: build.Preparing, Percent: -1, ETA: -1}, 80)); !strings.Contains(line, "█") {
		t.Errorf("preparing: %q", line)
	}
}

func TestScreenIndex(t *testing.T) {
	for k, want := range map[string]int{"1": 0, "4": 3, "alt+2": 1, "f3": 2, "f10": -1, "x": -1, "0": -1} {
		if got := screenIndex(k); got != want {
			t.Errorf("screenIndex(%q) = %d, want %d", k, got, want)
		}
	}
}

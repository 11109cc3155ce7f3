package launch

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/launch/testimage"
)

// BenchmarkLaunchOverhead boots the TCG test image to SSH-ready twice per
// iteration: once with the QEMU command line started by hand (exec, then
// the same SSH-banner probe), once through Start (host checks, run
// directory, keeper, QMP wait, SSH wait, hand-over). The order alternates
// so machine load hits both alike. Guest boot time under TCG swings by
// seconds with machine load, so besides both wall times it reports
// cube-hal's own share measured inside each managed start: from the call
// to QEMU's exec (host checks, run directory, keeper) plus from "SSH is up"
// to the return (hand-over). overhead-% is that share over the direct boot
// time (goal: within 5 %).
//
//	go test ./launch -run '^$' -bench LaunchOverhead -benchtime 3x
func BenchmarkLaunchOverhead(b *testing.B) {
	im := testimage.Build(b, testimage.Options{})
	ctx := context.Background()
	cfg := Config{Mode: ModePlain, Name: "bench", Kernel: im.Kernel, Initrd: im.Initrd, Append: testimage.Append, MemoryMB: 512, CPUs: 1,
		Accel: AccelTCG, RestrictNet: true}
	var direct, managed, own time.Duration
	for i := 0; i < b.N; i++ {
		runs := []func(){
			func() { d := bootDirect(b, cfg); b.Logf("direct %s", d); direct += d },
			func() {
				d, o := bootManaged(b, ctx, cfg)
				b.Logf("launch %s (cube-hal's own share %s)", d, o)
				managed += d
				own += o
			},
		}
		if i%2 == 1 {
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, r := range runs {
			r()
		}
	}
	n := float64(b.N)
	b.ReportMetric(direct.Seconds()/n, "direct-s/op")
	b.ReportMetric(managed.Seconds()/n, "launch-s/op")
	b.ReportMetric(own.Seconds()*1000/n, "own-ms/op")
	b.ReportMetric(100*own.Seconds()/direct.Seconds(), "overhead-%")
}

func benchPorts(b *testing.B) Ports {
	p1, err := freePort(Ports{})
	if err != nil {
		b.Fatal(err)
	}
	p2, err := freePort(Ports{SSH: p1})
	if err != nil {
		b.Fatal(err)
	}
	return Ports{SSH: p1, Agent: p2}
}

func bootDirect(b *testing.B, cfg Config) time.Duration {
	cfg.Ports = benchPorts(b)
	cfg = cfg.WithDefaults()
	dir, _ := os.MkdirTemp("", "bench-direct-")
	defer os.RemoveAll(dir)
	args, err := cfg.Args(PathsIn(dir))
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	cmd := exec.Command("qemu-system-x86_64", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = waitSSH(ctx, cfg.Ports.SSH, exited)
	d := time.Since(t0)
	cmd.Process.Kill()
	<-exited
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func bootManaged(b *testing.B, ctx context.Context, cfg Config) (total, own time.Duration) {
	cfg.Ports = benchPorts(b)
	dir, _ := os.MkdirTemp("", "bench-launch-")
	defer os.RemoveAll(dir)
	var sshUp time.Time
	progress := func(s string) {
		if s == "SSH is up" {
			sshUp = time.Now()
		}
	}
	t0 := time.Now()
	vm, err := Start(ctx, Options{Config: cfg, RunDir: filepath.Join(dir, "runs"), Wait: WaitSSH, WaitTimeout: 2 * time.Minute, Progress: progress})
	end := time.Now()
	if err != nil {
		b.Fatal(err)
	}
	vm.Stop(ctx, StopOptions{PowerdownTimeout: -1})
	return end.Sub(t0), vm.Record.Started.Sub(t0) + end.Sub(sshUp)
}

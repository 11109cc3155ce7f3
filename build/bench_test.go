package build

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// buildOutput makes size bytes of output shaped like a Buildroot build's:
// long compiler command lines, coloured GCC warnings, ">>>" step lines of
// some sixty packages and carriage-return download progress.
func buildOutput(size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 4096)
	for i := 0; b.Len() < size; i++ {
		pkg := fmt.Sprintf("package-%02d", (i/2000)%60)
		switch {
		case i%2000 == 0:
			fmt.Fprintf(&b, "\x1b[7m>>> %s 1.%d.%d Building\x1b[27m\n", pkg, i%7, i%13)
		case i%200 == 7:
			fmt.Fprintf(&b, "\x1b[01m\x1b[Ksrc/file%d.c:%d:9:\x1b[m\x1b[K \x1b[01;35m\x1b[Kwarning: \x1b[m\x1b[Kunused variable '\x1b[01m\x1b[Kx%d\x1b[m\x1b[K' [\x1b[01;35m\x1b[K-Wunused-variable\x1b[m\x1b[K]\n", i, i%500, i)
		case i%500 == 3:
			for p := 0; p <= 100; p += 20 {
				fmt.Fprintf(&b, "%s.tar.xz %3d%%[=====>        ] %6dK  2.1MB/s\r", pkg, p, p*97)
			}
			b.WriteByte('\n')
		default:
			fmt.Fprintf(&b, "/o/host/bin/x86_64-buildroot-linux-gnu-gcc -DHAVE_CONFIG_H -I. -I.. -O2 -g0 -D_FORTIFY_SOURCE=1 -c -o src/%s/obj%d.o src/%s/obj%d.c\n", pkg, i, pkg, i)
		}
	}
	return b.Bytes()
}

func newBenchPipeline(tb testing.TB, log io.Writer) *pipeline {
	m := newModel(nil, "", tb.TempDir(), time.Now())
	m.phase = Running
	return &pipeline{log: log, m: m}
}

// BenchmarkPipeline: pty-sized chunks of build output → log file → line
// parser → model, the path every byte of a build takes.
func BenchmarkPipeline(b *testing.B) {
	out := buildOutput(16 << 20)
	for _, chunk := range []int{4 << 10, 32 << 10} {
		b.Run(fmt.Sprintf("chunk=%dK", chunk>>10), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(out)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sink := newLogSink(f)
				p := newBenchPipeline(b, sink)
				for off := 0; off < len(out); off += chunk {
					p.Write(out[off:min(len(out), off+chunk)])
				}
				if err := sink.Close(); err != nil || p.logErr != nil {
					b.Fatal(err, p.logErr)
				}
				b.StopTimer()
				f.Truncate(0) // keep the log file from growing without bound
				f.Seek(0, 0)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkPipeline1GiB pushes 1 GiB through the pipeline (with its log
// file) and reports the pipeline's live heap (beyond the input held by the
// benchmark) after the first 128 MiB and at its peak: it stays flat.
func BenchmarkPipeline1GiB(b *testing.B) {
	out := buildOutput(16 << 20)
	base := liveHeap()
	for i := 0; i < b.N; i++ {
		f, err := os.Create(filepath.Join(b.TempDir(), "log"))
		if err != nil {
			b.Fatal(err)
		}
		sink := newLogSink(f)
		p := newBenchPipeline(b, sink)
		var first, peak uint64
		var total int64
		next := int64(128 << 20)
		for total < 1<<30 {
			for off := 0; off < len(out); off += 32 << 10 {
				p.Write(out[off:min(len(out), off+32<<10)])
			}
			total += int64(len(out))
			if total >= next {
				next += 128 << 20
				h := liveHeap()
				h -= min(h, base)
				if first == 0 {
					first = h
				}
				peak = max(peak, h)
			}
		}
		if err := sink.Close(); err != nil {
			b.Fatal(err)
		}
		st, _ := f.Stat()
		if st.Size() != total {
			b.Fatalf("log holds %d bytes, %d were written", st.Size(), total)
		}
		f.Close()
		b.SetBytes(total)
		b.ReportMetric(float64(first)/(1<<10), "heap-KiB-at-128MiB")
		b.ReportMetric(float64(peak)/(1<<10), "heap-KiB-peak")
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// The pipeline's memory does not grow with the amount of output.
func TestPipelineMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 256 MiB")
	}
	out := buildOutput(8 << 20)
	p := newBenchPipeline(t, io.Discard)
	var base uint64
	total := 0
	for ; total < 256<<20; total += len(out) {
		for off := 0; off < len(out); off += 32 << 10 {
			p.Write(out[off:min(len(out), off+32<<10)])
		}
		if base == 0 && total >= 32<<20 {
			base = liveHeap()
		}
	}
	end := liveHeap()
	if end > base+2<<20 {
		t.Errorf("live heap grew from %d KiB (after 32 MiB) to %d KiB (after 256 MiB)", base>>10, end>>10)
	}
	s := p.m.snapshot(time.Now())
	if s.Bytes != int64(total) || s.Warnings == 0 {
		t.Errorf("bytes %d, warnings %d", s.Bytes, s.Warnings)
	}
}

// BenchmarkPtyPipeline: the same output written by a child into a real
// pty and read by the runner's loop into the pipeline, against the pty
// alone (reads discarded): the pipeline's share of a build's output path.
func BenchmarkPtyPipeline(b *testing.B) {
	out := buildOutput(64 << 20)
	src := filepath.Join(b.TempDir(), "out")
	if err := os.WriteFile(src, out, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"pty-only", "pty+pipeline"} {
		b.Run(mode, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(out)))
			for i := 0; i < b.N; i++ {
				sink := newLogSink(f)
				p := newBenchPipeline(b, sink)
				n := ptyCat(b, src, func(chunk []byte) {
					if mode == "pty+pipeline" {
						p.Write(chunk)
					}
				})
				sink.Close()
				if n != int64(len(out)) {
					b.Fatalf("read %d of %d bytes", n, len(out))
				}
				f.Truncate(0)
				f.Seek(0, 0)
			}
		})
	}
}

// ptyCat runs cat on a file inside a pty set up as the runner sets it up
// and feeds what it reads to sink.
func ptyCat(tb testing.TB, path string, sink func([]byte)) int64 {
	ptmx, tty, err := pty.Open()
	if err != nil {
		tb.Fatal(err)
	}
	defer ptmx.Close()
	if err := rawOutput(tty); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("cat", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tty.Close()
	var n int64
	buf := make([]byte, 32<<10)
	for {
		k, err := ptmx.Read(buf)
		if k > 0 {
			n += int64(k)
			sink(buf[:k])
		}
		if err != nil {
			break
		}
	}
	cmd.Wait()
	return n
}

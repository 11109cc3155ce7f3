package measure

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// benchInputs writes a real-size (4 MiB) AmdSevX64-like OVMF image, a 12 MiB
// kernel and an initrd of initrdMiB MiB, all pseudo-random, in dir.
func benchInputs(b *testing.B, initrdMiB int) (ovmf, kernel, initrd string) {
	b.Helper()
	dir := b.TempDir()
	im := amdSevImage(4 << 20)
	im.random = true
	ovmf = im.write(b, dir, "OVMF.fd")
	r := rand.New(rand.NewSource(2))
	blob := func(name string, size int) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 1<<20)
		for left := size; left > 0; left -= len(buf) {
			r.Read(buf)
			if _, err := f.Write(buf[:min(left, len(buf))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		return p
	}
	return ovmf, blob("bzImage", 12<<20), blob("rootfs.cpio.gz", initrdMiB<<20)
}

// BenchmarkSNPDigest is the whole computation cube-hal does before a launch:
// read and hash a 4 MiB OVMF, hash the kernel and a 256 MiB initrd, measure
// the metadata pages and 4 VMSAs. The goal is well under a second.
func BenchmarkSNPDigest(b *testing.B) {
	ovmf, kernel, initrd := benchInputs(b, 256)
	o := Options{OVMF: ovmf, Kernel: kernel, Initrd: initrd, Append: "console=ttyS0 quiet",
		VCPUs: 4, VCPUType: "EPYC-v4"}
	b.SetBytes(int64(4<<20 + 12<<20 + 256<<20))
	b.ResetTimer()
	for b.Loop() {
		if _, err := SNPDigest(o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOVMFOnly is the firmware part alone: 1024 page hashes and
// PAGE_INFO steps for a 4 MiB image, plus the metadata pages and VMSAs.
func BenchmarkOVMFOnly(b *testing.B) {
	ovmf, _, _ := benchInputs(b, 0)
	o := Options{OVMF: ovmf, VCPUs: 4, VCPUType: "EPYC-v4"}
	b.SetBytes(4 << 20)
	b.ResetTimer()
	for b.Loop() {
		if _, err := SNPDigest(o); err != nil {
			b.Fatal(err)
		}
	}
}

package testimage

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// The image is a valid gzip'd newc archive that cpio(1) lists, with the
// pieces a boot needs, and the kernel is an ELF with a PVH entry note.
func TestBuildImage(t *testing.T) {
	cpio := testenv.Tool(t, "cpio")[0]
	im := Build(t, Options{})
	if os.Getenv("TESTIMAGE_KEEP") != "" {
		t.Logf("image in %s", im.Dir)
	}
	f, err := os.Open(im.Initrd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cpio, "-t", "--quiet")
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t: %v\n%s", err, out)
	}
	list := "\n" + string(out)
	for _, want := range []string{"\ninit\n", "\nbin/busybox\n", "\nusr/sbin/dropbear\n", "\nroot/.ssh/authorized_keys\n",
		"\nlib64/ld-linux-x86-64.so.2\n", "/virtio_net.ko\n", "/button.ko\n", "\netc/acpi/PWRF/00000080\n"} {
		if !strings.Contains(list, want) {
			t.Errorf("initramfs lacks %q", strings.TrimSpace(want))
		}
	}
	k, err := elf.Open(im.Kernel)
	if err != nil {
		t.Fatalf("kernel is not ELF: %v", err)
	}
	defer k.Close()
	pvh := false
	for _, p := range k.Progs {
		if p.Type == elf.PT_NOTE {
			b, _ := io.ReadAll(p.Open())
			// XEN_ELFNOTE_PHYS32_ENTRY (18) under the "Xen" owner.
			if bytes.Contains(b, []byte("Xen\x00")) {
				pvh = true
			}
		}
	}
	if !pvh {
		t.Error("vmlinux has no Xen ELF note: QEMU cannot boot it through PVH")
	}
	if !strings.HasPrefix(im.HostPubKey, "ssh-ed25519 ") {
		t.Errorf("host key %q", im.HostPubKey)
	}
}

func TestExtractVmlinuxRejectsNonBzImage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("hello"), make([]byte, 4096)} {
		if _, err := ExtractVmlinux(in); err == nil {
			t.Errorf("ExtractVmlinux(%d bytes) succeeded", len(in))
		}
	}
}

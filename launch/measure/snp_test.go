package measure

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustDigest(t *testing.T, o Options) []byte {
	t.Helper()
	d, err := SNPDigest(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCPUSignatures(t *testing.T) {
	for _, c := range []struct {
		cpu  string
		want uint32
	}{
		{"EPYC-v4", 0x800f12}, // the value sev-snp-measure's README gives
		{"EPYC", 0x800f12},
		{"EPYC-Rome", 0x830f10},
		{"EPYC-Milan-v2", 0xa00f11},
		{"EPYC-Genoa", 0xa10f10},
		{"EPYC-Turin", 0xb00f00},
		{"EPYC-v4,+avx2,-x2apic,check=on", 0x800f12},
		{"EPYC-v4,stepping=3", 0x800f13},
		{"EPYC-Milan,family=26,model=0x11,stepping=0", CPUSig(26, 17, 0)},
	} {
		got, err := VCPUSignature(c.cpu)
		if err != nil || got != c.want {
			t.Errorf("VCPUSignature(%q) = 0x%x, %v; want 0x%x", c.cpu, got, err, c.want)
		}
	}
	if CPUSig(23, 1, 2) != 0x800f12 || CPUSig(6, 0x55, 4) != 0x50654 {
		t.Errorf("CPUSig: 0x%x 0x%x", CPUSig(23, 1, 2), CPUSig(6, 0x55, 4))
	}
}

func TestUnknownVCPUType(t *testing.T) {
	for _, c := range []struct{ cpu, hint string }{
		{"EPYC-v9", "known: EPYC, EPYC-IBPB, EPYC-v1"},
		{"epyc-v4", `did you mean "EPYC-v4"`},
		{"host", "depends on the host"},
		{"", "known:"},
	} {
		_, err := VCPUSignature(c.cpu)
		if !errors.Is(err, ErrUnknownVCPUType) || !strings.Contains(err.Error(), c.hint) {
			t.Errorf("VCPUSignature(%q): %v; want ErrUnknownVCPUType mentioning %q", c.cpu, err, c.hint)
		}
	}
	if _, err := VCPUSignature("EPYC-v4,stepping=x"); err == nil || !strings.Contains(err.Error(), `stepping="x"`) {
		t.Errorf("bad stepping: %v", err)
	}
	types := VCPUTypes()
	if types[0] != "EPYC" || types[len(types)-1] != "EPYC-Turin-v1" {
		t.Errorf("VCPUTypes order: %v", types)
	}
}

func TestParseVMMType(t *testing.T) {
	for in, want := range map[string]VMMType{"QEMU": VMMQEMU, "qemu": VMMQEMU, "ec2": VMMEC2, "EC2": VMMEC2, "gce": VMMGCE} {
		if got, err := ParseVMMType(in); err != nil || got != want {
			t.Errorf("ParseVMMType(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseVMMType("kvm"); !errors.Is(err, ErrUnknownVMMType) || !strings.Contains(err.Error(), "QEMU, ec2, gce") {
		t.Errorf("ParseVMMType(kvm): %v", err)
	}
}

// The VMSA carries the signature, the features and the start address where
// the VMSA layout puts them.
func TestVMSALayout(t *testing.T) {
	v, err := buildVMSA(VMMQEMU, 0x80b004, 0x800f12, 0x21)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	for _, c := range []struct {
		name      string
		off       int
		got, want uint64
	}{
		{"RDX", vmsaRDX, le.Uint64(v[vmsaRDX:]), 0x800f12},
		{"SEV_FEATURES", vmsaSEVF, le.Uint64(v[vmsaSEVF:]), 0x21},
		{"RIP", vmsaRIP, le.Uint64(v[vmsaRIP:]), 0xb004},
		{"CS.base", vmsaCS + 8, le.Uint64(v[vmsaCS+8:]), 0x800000},
		{"CS.selector", vmsaCS, uint64(le.Uint16(v[vmsaCS:])), 0xf000},
		{"MXCSR", vmsaMXCSR, uint64(le.Uint32(v[vmsaMXCSR:])), 0x1f80},
	} {
		if c.got != c.want {
			t.Errorf("%s at 0x%x = 0x%x, want 0x%x", c.name, c.off, c.got, c.want)
		}
	}
	gce, _ := buildVMSA(VMMGCE, resetEIP, 0x800f12, 1)
	if le.Uint64(gce[vmsaRDX:]) != 0x600 || le.Uint64(gce[vmsaGPAT:]) != 0x70106 {
		t.Errorf("GCE VMSA: RDX 0x%x, PAT 0x%x", le.Uint64(gce[vmsaRDX:]), le.Uint64(gce[vmsaGPAT:]))
	}
	if _, err := buildVMSA(VMMType(9), resetEIP, 0, 1); !errors.Is(err, ErrUnknownVMMType) {
		t.Errorf("unknown VMM: %v", err)
	}
}

// The hashes table QEMU writes: 176 bytes, header GUID first, entries in the
// order command line, initrd, kernel; the command line hashed with its NUL.
func TestHashesTable(t *testing.T) {
	dir := t.TempDir()
	k := writeFile(t, dir, "k", []byte("kernel bytes"))
	i := writeFile(t, dir, "i", []byte("initrd bytes"))
	h, err := HashKernel(k, i, "console=ttyS0")
	if err != nil {
		t.Fatal(err)
	}
	tab := h.Table()
	if len(tab) != 176 {
		t.Fatalf("table is %d bytes, want 176", len(tab))
	}
	hdr, _ := hex.DecodeString("06d63894224fc94cb479a793d411fd21") // 9438d606-4f22-4cc9-b479-a793d411fd21
	if !bytes.Equal(tab[:16], hdr) || binary.LittleEndian.Uint16(tab[16:]) != 168 {
		t.Fatalf("header %x len %d", tab[:16], binary.LittleEndian.Uint16(tab[16:]))
	}
	cmd := sha256.Sum256([]byte("console=ttyS0\x00"))
	ini := sha256.Sum256([]byte("initrd bytes"))
	ker := sha256.Sum256([]byte("kernel bytes"))
	for n, c := range []struct {
		guid GUID
		sum  [32]byte
	}{{guidCmdline, cmd}, {guidInitrd, ini}, {guidKernel, ker}} {
		e := tab[18+n*50:]
		if !bytes.Equal(e[:16], c.guid[:]) || binary.LittleEndian.Uint16(e[16:]) != 50 || !bytes.Equal(e[18:50], c.sum[:]) {
			t.Errorf("entry %d: %x", n, e[:50])
		}
	}
	if !bytes.Equal(tab[168:], make([]byte, 8)) {
		t.Errorf("padding %x", tab[168:])
	}
	// No initrd is the hash of nothing; no -append is the empty string.
	h2, err := HashKernel(k, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if h2.Initrd != sha256.Sum256(nil) || h2.Cmdline != sha256.Sum256([]byte{0}) {
		t.Errorf("absent initrd/cmdline hashes: %x %x", h2.Initrd, h2.Cmdline)
	}
}

// Every input changes the digest: a VM started with anything different
// must not match.
func TestEveryInputChangesTheDigest(t *testing.T) {
	dir := t.TempDir()
	fw := amdSevImage(16<<10).write(t, dir, "OVMF.fd")
	k := writeFile(t, dir, "bzImage", []byte("kernel"))
	k2 := writeFile(t, dir, "bzImage2", []byte("kernel2"))
	i := writeFile(t, dir, "initrd", []byte("initrd"))
	base := Options{OVMF: fw, Kernel: k, Initrd: i, Append: "console=ttyS0", VCPUs: 2, VCPUType: "EPYC-v4", GuestFeatures: 1}
	ref := mustDigest(t, base)
	variants := map[string]func(o *Options){
		"kernel":         func(o *Options) { o.Kernel = k2 },
		"initrd":         func(o *Options) { o.Initrd = "" },
		"append":         func(o *Options) { o.Append = "console=ttyS0 " },
		"vcpus":          func(o *Options) { o.VCPUs = 3 },
		"vcpu type":      func(o *Options) { o.VCPUType = "EPYC-Milan" },
		"guest features": func(o *Options) { o.GuestFeatures = 0x21 },
		"vmm":            func(o *Options) { o.VMM = VMMGCE },
		"no kernel":      func(o *Options) { o.Kernel, o.Initrd, o.Append = "", "", "" },
		"ovmf hash":      func(o *Options) { o.OVMFHash = make([]byte, DigestSize) },
	}
	for name, change := range variants {
		o := base
		change(&o)
		if bytes.Equal(mustDigest(t, o), ref) {
			t.Errorf("changing the %s leaves the digest unchanged", name)
		}
	}
	// Equivalent spellings give the same digest.
	same := map[string]func(o *Options){
		"signature instead of type": func(o *Options) { o.VCPUType, o.VCPUSig = "", 0x800f12 },
		"type alias":                func(o *Options) { o.VCPUType = "EPYC-IBPB" },
		"zero features = default":   func(o *Options) { o.GuestFeatures = 0 },
	}
	for name, change := range same {
		o := base
		change(&o)
		if !bytes.Equal(mustDigest(t, o), ref) {
			t.Errorf("%s changes the digest", name)
		}
	}
}

func TestOnVMSA(t *testing.T) {
	dir := t.TempDir()
	fw := amdSevImage(16<<10).write(t, dir, "OVMF.fd")
	var pages [][]byte
	mustDigest(t, Options{OVMF: fw, VCPUs: 3, VCPUType: "EPYC-v4", OnVMSA: func(i int, p []byte) {
		if i != len(pages) {
			t.Errorf("vCPU %d out of order", i)
		}
		pages = append(pages, append([]byte(nil), p...))
	}})
	if len(pages) != 3 || bytes.Equal(pages[0], pages[1]) || !bytes.Equal(pages[1], pages[2]) {
		t.Fatalf("want a BSP page then two identical AP pages, got %d pages", len(pages))
	}
}

// Errors name the input at fault.
func TestSNPDigestErrors(t *testing.T) {
	dir := t.TempDir()
	fw := amdSevImage(16<<10).write(t, dir, "OVMF.fd")
	k := writeFile(t, dir, "bzImage", []byte("kernel"))

	noReset := amdSevImage(16 << 10)
	noReset.entries = noReset.entries[:1]
	noHashGPA := amdSevImage(16 << 10)
	noHashGPA.entries = noHashGPA.entries[1:]
	unknownSect := amdSevImage(16 << 10)
	unknownSect.sections = append(unknownSect.sections, Section{0x900000, 0x1000, SectionType(0x11)})
	unaligned := amdSevImage(16 << 10)
	unaligned.sections[2].GPA += 0x10
	above4G := amdSevImage(16 << 10)
	above4G.sections[0].GPA = 0xffff_f000
	tableTooFar := amdSevImage(16 << 10)
	tableTooFar.entries[0].data = append(u32(0x810f80), u32(0x400)...)

	cases := []struct {
		name string
		o    Options
		want []string
		is   error
	}{
		{"missing OVMF", Options{OVMF: filepath.Join(dir, "nope.fd"), VCPUs: 1}, []string{"OVMF", "nope.fd", "no such file"}, nil},
		{"OVMF is a directory", Options{OVMF: dir, VCPUs: 1}, []string{"OVMF", dir}, nil},
		{"missing kernel", Options{OVMF: fw, VCPUs: 1, Kernel: filepath.Join(dir, "nokernel")}, []string{"kernel", "nokernel"}, nil},
		{"kernel is a directory", Options{OVMF: fw, VCPUs: 1, Kernel: dir}, []string{"kernel", dir, "is a directory"}, nil},
		{"missing initrd", Options{OVMF: fw, VCPUs: 1, Kernel: k, Initrd: filepath.Join(dir, "noinitrd")}, []string{"initrd", "noinitrd"}, nil},
		{"no vCPUs", Options{OVMF: fw}, []string{"vCPU count 0"}, nil},
		{"features without SNPActive", Options{OVMF: fw, VCPUs: 1, GuestFeatures: 0x20}, []string{"0x20", "SNPActive"}, nil},
		{"unknown vCPU type", Options{OVMF: fw, VCPUs: 1, VCPUType: "EPYC-v9"}, []string{"EPYC-v9", "EPYC-v4"}, ErrUnknownVCPUType},
		{"unknown VMM", Options{OVMF: fw, VCPUs: 1, VMM: VMMType(7)}, []string{"VMM"}, ErrUnknownVMMType},
		{"short OVMF hash", Options{OVMF: fw, VCPUs: 1, OVMFHash: []byte{1, 2}}, []string{"2 bytes", "48"}, nil},
		{"initrd without kernel", Options{OVMF: fw, VCPUs: 1, Initrd: k}, []string{"only measured with a kernel"}, nil},
		{"append without kernel", Options{OVMF: fw, VCPUs: 1, Append: "x"}, []string{"only measured with a kernel"}, nil},
		{"no reset block", Options{OVMF: noReset.write(t, dir, "noreset.fd"), VCPUs: 1}, []string{"noreset.fd", "SEV_ES_RESET_BLOCK"}, nil},
		{"kernel but no hashes table entry", Options{OVMF: noHashGPA.write(t, dir, "nohash.fd"), VCPUs: 1, Kernel: k}, []string{"nohash.fd", "SEV_HASH_TABLE_RV"}, nil},
		{"hashes table past the section", Options{OVMF: tableTooFar.write(t, dir, "far.fd"), VCPUs: 1, Kernel: k}, []string{"far.fd", "does not fit"}, nil},
		{"unknown section type", Options{OVMF: unknownSect.write(t, dir, "unknown.fd"), VCPUs: 1}, []string{"unknown.fd", "unknown type 0x11"}, nil},
		{"unaligned section", Options{OVMF: unaligned.write(t, dir, "unaligned.fd"), VCPUs: 1}, []string{"unaligned.fd", "SNP_SECRETS", "not whole pages"}, nil},
		{"section above 4 GiB", Options{OVMF: above4G.write(t, dir, "above.fd"), VCPUs: 1}, []string{"above.fd", "above 4 GiB"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := SNPDigest(c.o)
			if err == nil {
				t.Fatalf("digest %x, want an error", d)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
		})
	}
	if _, err := OVMFHash(filepath.Join(dir, "gone.fd")); err == nil || !strings.Contains(err.Error(), "gone.fd") {
		t.Errorf("OVMFHash of a missing file: %v", err)
	}
}

// A kernel-hashes section longer than one page is measured as QEMU fills it
// (the table in the first page, zero pages after), without building the
// whole section in memory.
func TestLargeHashesSection(t *testing.T) {
	dir := t.TempDir()
	im := amdSevImage(16 << 10)
	im.sections[5].Size = 0x3000
	im.sections[6].GPA += 0x2000
	im.sections[6].Size -= 0x2000
	k := writeFile(t, dir, "k", []byte("kernel"))
	o := Options{OVMF: im.write(t, dir, "big.fd"), VCPUs: 1, VCPUType: "EPYC-v4", Kernel: k}
	got := mustDigest(t, o)

	// The same chain built by hand, page by page.
	fw, err := ReadFirmware(o.OVMF)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := HashKernel(k, "", "")
	c := newChain(nil)
	if err := c.normalPages(fw.GPA(), fw.Data()); err != nil {
		t.Fatal(err)
	}
	for _, s := range fw.Sections() {
		switch s.Type {
		case SectionSNPSecMem, SectionSVSMCAA:
			c.emptyPages(pageZero, uint64(s.GPA), uint64(s.Size))
		case SectionSNPSecrets:
			c.emptyPages(pageSecrets, uint64(s.GPA), uint64(s.Size))
		case SectionCPUID:
			c.emptyPages(pageCPUID, uint64(s.GPA), uint64(s.Size))
		case SectionSNPKernelHashes:
			whole := make([]byte, s.Size)
			copy(whole[0xc00:], h.Table())
			if err := c.normalPages(uint64(s.GPA), whole); err != nil {
				t.Fatal(err)
			}
		}
	}
	v, _ := buildVMSA(VMMQEMU, resetEIP, 0x800f12, 1)
	c.vmsa(v)
	if !bytes.Equal(got, c.value()) {
		t.Fatalf("digest %x, hand-built chain %x", got, c.value())
	}
}

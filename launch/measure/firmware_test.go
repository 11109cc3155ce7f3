package measure

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

func TestParseSyntheticFirmware(t *testing.T) {
	im := amdSevImage(64 << 10)
	fw, err := ParseFirmware(im.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !fw.HasSNPMetadata() || !reflect.DeepEqual(fw.Sections(), im.sections) {
		t.Fatalf("sections %v, want %v", fw.Sections(), im.sections)
	}
	if eip, err := fw.ResetEIP(); err != nil || eip != 0x80b004 {
		t.Fatalf("ResetEIP = 0x%x, %v", eip, err)
	}
	if gpa, err := fw.HashesTableGPA(); err != nil || gpa != 0x810c00 {
		t.Fatalf("HashesTableGPA = 0x%x, %v", gpa, err)
	}
	if fw.GPA() != 1<<32-64<<10 {
		t.Fatalf("GPA 0x%x", fw.GPA())
	}
	if !fw.HasSection(SectionSNPKernelHashes) || fw.HasSection(SectionType(9)) {
		t.Fatal("HasSection is wrong")
	}
}

// The reference fixtures are real edk2 builds: check what the parser sees.
func TestParseReferenceFixtures(t *testing.T) {
	for _, c := range []struct {
		file    string
		hashes  bool
		nSect   int
		hashGPA uint32
	}{
		{"ovmf_AmdSev_suffix.bin", true, 7, 0},
		{"ovmf_OvmfX64_suffix.bin", false, 6, 0},
	} {
		fw, err := ReadFirmware(filepath.Join(vectorsDir(t), c.file))
		if err != nil {
			t.Fatal(err)
		}
		if len(fw.Sections()) != c.nSect || fw.HasSection(SectionSNPKernelHashes) != c.hashes {
			t.Errorf("%s: sections %v", c.file, fw.Sections())
		}
		if eip, err := fw.ResetEIP(); err != nil || eip == 0 {
			t.Errorf("%s: ResetEIP 0x%x, %v", c.file, eip, err)
		}
	}
}

func TestParseFirmwareErrors(t *testing.T) {
	bad := GUID{1}
	cases := []struct {
		name string
		data func() []byte
		want string
	}{
		{"not pages", func() []byte { return make([]byte, 4097) }, "not a multiple of 4096"},
		{"bad signature", func() []byte { im := amdSevImage(8192); im.metaSig = "XSEV"; return im.bytes() }, `signature "XSEV"`},
		{"bad version", func() []byte { im := amdSevImage(8192); im.metaVersion = 2; return im.bytes() }, "version 2, want 1"},
		{"too many sections", func() []byte { im := amdSevImage(8192); im.metaCount = 1000; return im.bytes() }, "1000 sections"},
		{"table larger than image", func() []byte { im := amdSevImage(8192); im.footerSize = 9000; return im.bytes() }, "does not fit the image"},
		{"entry size too small", func() []byte {
			im := amdSevImage(8192)
			im.entries = append(im.entries, tableEntry{guid: bad, data: []byte{1, 2}, size: 3})
			return im.bytes()
		}, "has size 3"},
		{"entry size beyond table", func() []byte {
			im := amdSevImage(8192)
			im.entries = append(im.entries, tableEntry{guid: bad, data: []byte{1, 2}, size: 4000})
			return im.bytes()
		}, "has size 4000"},
		{"metadata offset outside", func() []byte {
			im := amdSevImage(8192)
			im.sections = nil
			im.entries = append(im.entries, tableEntry{guid: guidSEVMetadata, data: u32(1 << 20)})
			return im.bytes()
		}, "outside the 8192-byte image"},
		{"metadata entry short", func() []byte {
			im := amdSevImage(8192)
			im.sections = nil
			im.entries = append(im.entries, tableEntry{guid: guidSEVMetadata, data: []byte{1}})
			return im.bytes()
		}, "want at least 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFirmware(c.data())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// An image without the footer GUID parses (it can be hashed) but has no
// metadata, and SNPDigest says why it cannot be used.
func TestNoFooterTable(t *testing.T) {
	im := amdSevImage(8192)
	im.footerGUID = &GUID{7}
	p := im.write(t, t.TempDir(), "plain.fd")
	fw, err := ReadFirmware(p)
	if err != nil {
		t.Fatal(err)
	}
	if fw.HasSNPMetadata() {
		t.Fatal("metadata found without a footer table")
	}
	if _, err := OVMFHash(p); err != nil {
		t.Fatalf("OVMFHash of an image without metadata: %v", err)
	}
	_, err = SNPDigest(Options{OVMF: p, VCPUs: 1, VCPUType: "EPYC-v4"})
	if !errors.Is(err, ErrNoSNPMetadata) || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v: want ErrNoSNPMetadata naming %s", err, p)
	}
}

// Debian's split OVMF_CODE_4M.fd carries a footer table but no SEV metadata:
// a real firmware an SNP launch must refuse.
func TestDebianSplitOVMFHasNoSNPMetadata(t *testing.T) {
	p := testenv.File(t, "/usr/share/OVMF/OVMF_CODE_4M.fd", "Debian package ovmf")
	_, err := SNPDigest(Options{OVMF: p, VCPUs: 1, VCPUType: "EPYC-v4"})
	if !errors.Is(err, ErrNoSNPMetadata) {
		t.Fatalf("error %v, want ErrNoSNPMetadata", err)
	}
}

// Debian's OVMF.fd (OvmfX64) has SNP metadata but no kernel-hashes section:
// a digest without a kernel works, a direct boot is refused.
func TestDebianOVMFWithoutKernelHashes(t *testing.T) {
	p := testenv.File(t, "/usr/share/ovmf/OVMF.fd", "Debian package ovmf")
	if _, err := SNPDigest(Options{OVMF: p, VCPUs: 2, VCPUType: "EPYC-v4"}); err != nil {
		t.Fatalf("no kernel: %v", err)
	}
	k := filepath.Join(t.TempDir(), "bzImage")
	if err := os.WriteFile(k, []byte("kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := SNPDigest(Options{OVMF: p, VCPUs: 2, VCPUType: "EPYC-v4", Kernel: k})
	if !errors.Is(err, ErrNoKernelHashes) {
		t.Fatalf("error %v, want ErrNoKernelHashes", err)
	}
}

// FuzzParseFirmware feeds arbitrary bytes as the end of an image (where the
// footer table and metadata live). Parsing must never panic, and what it
// accepts must be usable: sections inside their table, and measuring the
// metadata must not panic either.
func FuzzParseFirmware(f *testing.F) {
	f.Add(amdSevImage(PageSize).bytes())
	im := amdSevImage(PageSize)
	im.sections = append(im.sections, Section{0x900000, 0x1000, SectionType(7)})
	f.Add(im.bytes())
	im = amdSevImage(PageSize)
	im.footerSize = 30
	f.Add(im.bytes())
	// The real fixtures are seeds when present; the fuzz target itself
	// needs nothing outside the repository.
	dir := filepath.Join(testenv.RepoRoot(f), "..", "shared", "testvectors", "sev-snp-measure")
	for _, n := range []string{"ovmf_AmdSev_suffix.bin", "ovmf_OvmfX64_suffix.bin"} {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
			f.Add(b)
		}
	}
	hashes := &KernelHashes{}
	f.Fuzz(func(t *testing.T, tail []byte) {
		if len(tail) > 4*PageSize {
			tail = tail[len(tail)-4*PageSize:]
		}
		data := make([]byte, (len(tail)+PageSize-1)/PageSize*PageSize)
		copy(data[len(data)-len(tail):], tail)
		fw, err := ParseFirmware(data)
		if err != nil {
			return
		}
		pages := uint64(0)
		for _, s := range fw.Sections() {
			pages += uint64(s.Size) / PageSize
		}
		if pages > 1<<12 {
			return // valid but slow to measure; the bound only keeps fuzzing fast
		}
		for _, vmm := range []VMMType{VMMQEMU, VMMEC2, VMMGCE} {
			_ = measureMetadata(newChain(nil), fw, hashes, vmm)
			_ = measureMetadata(newChain(nil), fw, nil, vmm)
		}
		_, _ = fw.ResetEIP()
		_, _ = fw.HashesTableGPA()
	})
}

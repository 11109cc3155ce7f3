package measure

import (
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/ovmf"
)

// image describes a synthetic OVMF image: what its reset-vector footer table
// and SEV metadata hold. Tests build firmware with exactly the defect they
// are about, instead of relying on a particular edk2 build.
type image struct {
	size     int          // total bytes (a multiple of PageSize)
	entries  []tableEntry // footer table entries, lowest address first
	sections []Section    // SEV metadata sections; nil: no metadata entry
	// Raw overrides for malformed images.
	metaSig     string // default "ASEV"
	metaVersion uint32 // default 1
	metaCount   int    // -1: len(sections)
	footerGUID  *GUID  // default the footer table GUID
	footerSize  int    // 0: computed
	random      bool   // fill the body with pseudo-random bytes, like real code
}

type tableEntry struct {
	guid GUID
	data []byte
	size int // 0: len(data)+18
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// amdSevImage is an image laid out like an AmdSevX64 build: SNP metadata
// with a kernel-hashes section, an SEV-ES reset block and a hashes table.
func amdSevImage(size int) image {
	return image{
		size: size,
		entries: []tableEntry{
			{guid: guidSEVHashTable, data: append(u32(0x810c00), u32(0x400)...)},
			{guid: guidSEVESReset, data: u32(0x80b004)},
		},
		sections: []Section{
			{0x800000, 0x9000, SectionSNPSecMem},
			{0x80a000, 0x3000, SectionSNPSecMem},
			{0x80d000, 0x1000, SectionSNPSecrets},
			{0x80e000, 0x1000, SectionCPUID},
			{0x80f000, 0x1000, SectionSVSMCAA},
			{0x810000, 0x1000, SectionSNPKernelHashes},
			{0x811000, 0xf000, SectionSNPSecMem},
		},
		metaCount: -1,
	}
}

// bytes lays the image out: metadata at the start of the last page, the
// footer table ending 32 bytes before the end.
func (im image) bytes() []byte {
	d := make([]byte, im.size)
	if im.random {
		rand.New(rand.NewSource(int64(im.size))).Read(d[:im.size-PageSize])
	}
	entries := im.entries
	if im.sections != nil {
		metaAt := im.size - PageSize
		sig := im.metaSig
		if sig == "" {
			sig = "ASEV"
		}
		ver := im.metaVersion
		if ver == 0 {
			ver = 1
		}
		count := im.metaCount
		if count < 0 {
			count = len(im.sections)
		}
		m := append([]byte(sig), u32(uint32(metaHeaderSize+len(im.sections)*metaItemSize))...)
		m = append(m, u32(ver)...)
		m = append(m, u32(uint32(count))...)
		for _, s := range im.sections {
			m = append(m, u32(s.GPA)...)
			m = append(m, u32(s.Size)...)
			m = append(m, u32(uint32(s.Type))...)
		}
		copy(d[metaAt:], m)
		entries = append(entries, tableEntry{guid: guidSEVMetadata, data: u32(uint32(im.size - metaAt))})
	}
	var table []byte
	for _, e := range entries {
		size := e.size
		if size == 0 {
			size = len(e.data) + ovmf.EntryHeader
		}
		table = append(table, e.data...)
		table = binary.LittleEndian.AppendUint16(table, uint16(size))
		table = append(table, e.guid[:]...)
	}
	footer := ovmf.TableFooter
	if im.footerGUID != nil {
		footer = *im.footerGUID
	}
	fsize := im.footerSize
	if fsize == 0 {
		fsize = len(table) + ovmf.EntryHeader
	}
	table = binary.LittleEndian.AppendUint16(table, uint16(fsize))
	table = append(table, footer[:]...)
	copy(d[im.size-ovmf.TableEnd-len(table):], table)
	return d
}

// write stores the image in dir and returns its path.
func (im image) write(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, im.bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

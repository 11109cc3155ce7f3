package measure

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// GUID is a GUID in its on-disk (mixed-endian, EFI) byte order.
type GUID [16]byte

// mustGUID converts the canonical text form to EFI byte order: the first
// three groups are little-endian, the last two are bytes as written.
func mustGUID(s string) GUID {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("measure: bad GUID " + s)
	}
	var g GUID
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	copy(g[8:], b[8:])
	return g
}

// String returns the canonical text form.
func (g GUID) String() string {
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%x-%x",
		g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8:10], g[10:])
}

// GUIDs of the entries OVMF's reset vector places in its footer table
// (edk2 OvmfPkg/ResetVector), and of the table itself.
var (
	guidFooterTable   = mustGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
	guidSEVHashTable  = mustGUID("7255371f-3a3b-4b04-927b-1da6efa8d454") // base, size of the hashes area
	guidSEVESReset    = mustGUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e") // AP reset address
	guidSEVMetadata   = mustGUID("dc886566-984a-4798-a75e-5585a7bf67cc") // offset of the SEV metadata
	footerEntryHeader = 2 + 16                                           // u16 size, GUID
)

// The table ends this many bytes before the end of the image: the last 32
// bytes hold the reset vector itself.
const footerTableEnd = 32

// SectionType is the type of an OVMF SEV metadata section, telling the VMM
// how to pre-validate that memory for an SEV-SNP guest.
type SectionType uint32

// Section types from edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm.
const (
	SectionSNPSecMem       SectionType = 1    // pre-validated memory the guest needs early (zero pages)
	SectionSNPSecrets      SectionType = 2    // the SNP secrets page
	SectionCPUID           SectionType = 3    // the SNP CPUID table page
	SectionSVSMCAA         SectionType = 4    // the SVSM calling area (zero pages)
	SectionSNPKernelHashes SectionType = 0x10 // the SEV hashes table page (measured direct boot)
)

func (t SectionType) String() string {
	switch t {
	case SectionSNPSecMem:
		return "SNP_SEC_MEM"
	case SectionSNPSecrets:
		return "SNP_SECRETS"
	case SectionCPUID:
		return "CPUID"
	case SectionSVSMCAA:
		return "SVSM_CAA"
	case SectionSNPKernelHashes:
		return "SNP_KERNEL_HASHES"
	}
	return fmt.Sprintf("unknown(0x%x)", uint32(t))
}

// Section is one SEV metadata section: Size bytes of guest memory at GPA.
type Section struct {
	GPA  uint32
	Size uint32
	Type SectionType
}

// ErrNoSNPMetadata reports a firmware image without the SEV metadata an
// SEV-SNP launch needs (for instance a split OVMF_CODE built without SEV
// support).
var ErrNoSNPMetadata = errors.New("no SEV-SNP metadata in the firmware's footer table (not an SEV-SNP capable OVMF build)")

// Firmware is a parsed OVMF image: its bytes, the GUIDed footer table its
// reset vector carries, and the SEV metadata sections it lists.
type Firmware struct {
	data     []byte
	table    map[GUID][]byte
	sections []Section
	hasMeta  bool
}

// ReadFirmware reads and parses the OVMF image at path; errors name the file.
func ReadFirmware(path string) (*Firmware, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("OVMF: %w", err)
	}
	fw, err := ParseFirmware(data)
	if err != nil {
		return nil, fmt.Errorf("OVMF %s: %w", path, err)
	}
	return fw, nil
}

// ParseFirmware parses an OVMF image. An image without a footer table or
// without SEV metadata parses (it can still be hashed); a malformed table or
// metadata block is an error. The image is kept, not copied.
func ParseFirmware(data []byte) (*Firmware, error) {
	fw := &Firmware{data: data, table: map[GUID][]byte{}}
	if len(data)%PageSize != 0 {
		return nil, fmt.Errorf("firmware size %d is not a multiple of %d bytes", len(data), PageSize)
	}
	if uint64(len(data)) > 1<<32 {
		return nil, fmt.Errorf("firmware size %d does not fit below 4 GiB", len(data))
	}
	if err := fw.parseFooterTable(); err != nil {
		return nil, fmt.Errorf("footer table: %w", err)
	}
	if err := fw.parseMetadata(); err != nil {
		return nil, fmt.Errorf("SEV metadata: %w", err)
	}
	return fw, nil
}

// parseFooterTable reads the table that ends footerTableEnd bytes before the
// end of the image. Its last entry (the footer) holds the total table size;
// every entry is laid out as data, u16 size (of the whole entry), GUID, so
// the table is walked backwards from the footer.
func (fw *Firmware) parseFooterTable() error {
	d := fw.data
	footerAt := len(d) - footerTableEnd - footerEntryHeader
	if footerAt < 0 {
		return nil // too small to carry a table
	}
	size, guid := entryHeader(d[footerAt:])
	if guid != guidFooterTable {
		return nil // no table: not an OVMF with a reset-vector GUID table
	}
	if size < footerEntryHeader || size-footerEntryHeader > footerAt {
		return fmt.Errorf("footer declares a %d-byte table, which does not fit the image", size)
	}
	table := d[footerAt-(size-footerEntryHeader) : footerAt]
	for len(table) >= footerEntryHeader {
		size, guid := entryHeader(table[len(table)-footerEntryHeader:])
		if size < footerEntryHeader || size > len(table) {
			return fmt.Errorf("entry %s has size %d, outside the %d bytes left in the table", guid, size, len(table))
		}
		fw.table[guid] = table[len(table)-size : len(table)-footerEntryHeader]
		table = table[:len(table)-size]
	}
	return nil
}

func entryHeader(b []byte) (int, GUID) {
	var g GUID
	copy(g[:], b[2:18])
	return int(binary.LittleEndian.Uint16(b)), g
}

// SEV metadata header: "ASEV", u32 size, u32 version (1), u32 item count,
// followed by items of u32 GPA, u32 size, u32 type.
const (
	metaHeaderSize = 16
	metaItemSize   = 12
)

func (fw *Firmware) parseMetadata() error {
	entry, ok := fw.table[guidSEVMetadata]
	if !ok {
		return nil
	}
	if len(entry) < 4 {
		return fmt.Errorf("metadata entry is %d bytes, want at least 4", len(entry))
	}
	offset := uint64(binary.LittleEndian.Uint32(entry))
	if offset > uint64(len(fw.data)) || offset < metaHeaderSize {
		return fmt.Errorf("header offset 0x%x from the end is outside the %d-byte image", offset, len(fw.data))
	}
	start := uint64(len(fw.data)) - offset
	h := fw.data[start:]
	if string(h[0:4]) != "ASEV" {
		return fmt.Errorf("header at 0x%x has signature %q, want \"ASEV\"", start, h[0:4])
	}
	size := uint64(binary.LittleEndian.Uint32(h[4:]))
	version := binary.LittleEndian.Uint32(h[8:])
	count := uint64(binary.LittleEndian.Uint32(h[12:]))
	if version != 1 {
		return fmt.Errorf("header version %d, want 1", version)
	}
	need := metaHeaderSize + count*metaItemSize
	if size < need || start+need > uint64(len(fw.data)) {
		return fmt.Errorf("header declares %d sections in %d bytes, which do not fit (need %d bytes)", count, size, need)
	}
	fw.sections = make([]Section, 0, count)
	for i := uint64(0); i < count; i++ {
		it := h[metaHeaderSize+i*metaItemSize:]
		fw.sections = append(fw.sections, Section{
			GPA:  binary.LittleEndian.Uint32(it),
			Size: binary.LittleEndian.Uint32(it[4:]),
			Type: SectionType(binary.LittleEndian.Uint32(it[8:])),
		})
	}
	fw.hasMeta = true
	return nil
}

// Data returns the image bytes.
func (fw *Firmware) Data() []byte { return fw.data }

// GPA is where the image is mapped: it ends at 4 GiB.
func (fw *Firmware) GPA() uint64 { return 1<<32 - uint64(len(fw.data)) }

// HasSNPMetadata reports whether the image carries SEV metadata, which an
// SEV-SNP launch requires.
func (fw *Firmware) HasSNPMetadata() bool { return fw.hasMeta }

// Sections returns the SEV metadata sections in the order the VMM processes
// them.
func (fw *Firmware) Sections() []Section { return fw.sections }

// HasSection reports whether a metadata section of type t exists.
func (fw *Firmware) HasSection(t SectionType) bool {
	for _, s := range fw.sections {
		if s.Type == t {
			return true
		}
	}
	return false
}

// TableEntry returns the data of the footer table entry g.
func (fw *Firmware) TableEntry(g GUID) ([]byte, bool) {
	e, ok := fw.table[g]
	return e, ok
}

// tableUint32 reads the u32 an entry starts with.
func (fw *Firmware) tableUint32(g GUID, name string) (uint32, error) {
	e, ok := fw.table[g]
	if !ok {
		return 0, fmt.Errorf("no %s entry (GUID %s) in the OVMF footer table", name, g)
	}
	if len(e) < 4 {
		return 0, fmt.Errorf("OVMF footer table entry %s is %d bytes, want at least 4", name, len(e))
	}
	return binary.LittleEndian.Uint32(e), nil
}

// ResetEIP returns the address application processors start at under
// SEV-ES/SNP (the SEV-ES reset block), which goes into their VMSAs.
func (fw *Firmware) ResetEIP() (uint32, error) {
	return fw.tableUint32(guidSEVESReset, "SEV_ES_RESET_BLOCK")
}

// HashesTableGPA returns where QEMU writes the SEV hashes table when the
// guest is booted with kernel-hashes=on.
func (fw *Firmware) HashesTableGPA() (uint32, error) {
	gpa, err := fw.tableUint32(guidSEVHashTable, "SEV_HASH_TABLE_RV")
	if err == nil && gpa == 0 {
		err = fmt.Errorf("the OVMF SEV_HASH_TABLE_RV entry has address 0 (this build has no hashes table)")
	}
	return gpa, err
}

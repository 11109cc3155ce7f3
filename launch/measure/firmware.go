package measure

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/ultravioletrs/cube-hal/internal/ovmf"
)

// GUID is a UEFI GUID in its on-disk (mixed-endian) byte order.
type GUID = ovmf.GUID

var mustGUID = ovmf.MustGUID

// GUIDs of the footer table entries the measurement reads.
var (
	guidSEVHashTable = ovmf.SEVHashTable    // base, size of the hashes area
	guidSEVESReset   = ovmf.SEVESResetBlock // AP reset address
	guidSEVMetadata  = ovmf.SEVMetadata     // offset of the SEV metadata
)

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

// parseFooterTable reads the GUIDed table at the end of the image; an
// image without one parses (it can still be hashed), a damaged one does not.
func (fw *Firmware) parseFooterTable() error {
	t, err := ovmf.ParseTable(fw.data)
	if err != nil {
		return err
	}
	if t != nil {
		fw.table = t
	}
	return nil
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

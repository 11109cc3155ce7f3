// Package ovmf reads the GUIDed table that edk2's reset vector places at
// the end of an OVMF image: the one place both the host checks (package
// host: can this firmware boot an SEV-SNP guest, a TD, a measured direct
// boot?) and the launch measurement (launch/measure: which pages the AMD
// secure processor hashes) learn what a firmware build carries. QEMU
// (pc_system_ovmf_table_find) and sev-snp-measure read the same table.
package ovmf

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// GUID is a UEFI GUID in its on-disk (mixed-endian) byte order: the first
// three groups little-endian, the last two as written.
type GUID [16]byte

// String formats g the usual way, e.g. 96b582de-1fb2-45f7-baea-a366c55a082d.
func (g GUID) String() string {
	b := []byte{g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6]}
	b = append(b, g[8:]...)
	s := hex.EncodeToString(b)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// ParseGUID parses the usual text form of a GUID.
func ParseGUID(s string) (GUID, bool) {
	var g GUID
	h := strings.ReplaceAll(s, "-", "")
	if len(s) != 36 || len(h) != 32 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, false
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return g, false
	}
	copy(g[:], []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]})
	copy(g[8:], b[8:])
	return g, true
}

// MustGUID is ParseGUID for constants; it panics on a malformed GUID.
func MustGUID(s string) GUID {
	g, ok := ParseGUID(s)
	if !ok {
		panic("ovmf: bad GUID " + s)
	}
	return g
}

// GUIDs of the table and of the entries cube-hal reads (edk2
// OvmfPkg/ResetVector; the names QEMU and sev-snp-measure use).
var (
	// TableFooter marks the table itself; its length covers all entries.
	TableFooter = MustGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
	// SEVMetadata: offset from the end of the image of the SEV metadata
	// (the pages an SEV-SNP launch pre-validates).
	SEVMetadata = MustGUID("dc886566-984a-4798-a75e-5585a7bf67cc")
	// SEVHashTable: base and size of the area QEMU fills with the kernel,
	// initrd and command line hashes for kernel-hashes=on (base 0: none).
	SEVHashTable = MustGUID("7255371f-3a3b-4b04-927b-1da6efa8d454")
	// SEVESResetBlock: the address SEV-ES/SNP application processors
	// start at.
	SEVESResetBlock = MustGUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
	// TDXMetadata: offset of the TDVF metadata (a TD-capable image).
	TDXMetadata = MustGUID("e47a6535-984a-4798-865e-4685a7bf8ec2")
)

const (
	// TableEnd is how many bytes the table ends before the end of the
	// image: the last 32 hold the reset vector itself.
	TableEnd = 32
	// EntryHeader is the uint16 length and the GUID that end each entry.
	EntryHeader = 2 + 16
)

// ParseTable reads the GUIDed table at the end of tail (the end of an
// image, or all of it). Walking back from TableEnd bytes before the end,
// each entry is its data, then a little-endian uint16 length (data + 18),
// then its GUID; the outermost entry is the footer, whose length covers the
// whole table. It returns the data of each entry by GUID (slices of tail).
//
// No footer GUID means no table: (nil, nil). A table that does not fit, or
// an entry whose length runs outside it, is an error naming the fault; the
// entries read before it are returned with it, for callers that only
// report what the image offers.
func ParseTable(tail []byte) (map[GUID][]byte, error) {
	end := len(tail) - TableEnd
	if end < EntryHeader {
		return nil, nil // too small to carry a table
	}
	var g GUID
	copy(g[:], tail[end-16:end])
	if g != TableFooter {
		return nil, nil // not an OVMF with a reset-vector GUIDed table
	}
	size := int(binary.LittleEndian.Uint16(tail[end-EntryHeader : end-16]))
	if size < EntryHeader || size > end {
		return nil, fmt.Errorf("footer declares a %d-byte table, which does not fit the image", size)
	}
	table := map[GUID][]byte{}
	start := end - size
	for p := end - EntryHeader; p-start >= EntryHeader; {
		var eg GUID
		copy(eg[:], tail[p-16:p])
		n := int(binary.LittleEndian.Uint16(tail[p-EntryHeader : p-16]))
		if n < EntryHeader || n > p-start {
			return table, fmt.Errorf("entry %s has size %d, outside the %d bytes left in the table", eg, n, p-start)
		}
		table[eg] = tail[p-n : p-EntryHeader]
		p -= n
	}
	return table, nil
}

// Entry is one entry of a GUIDed table.
type Entry struct {
	GUID GUID
	Data []byte
}

// AppendTable appends to img a GUIDed table holding entries (the first
// lowest in memory) as edk2's reset vector lays it out, then the 32 bytes
// to the end of the image: the inverse of ParseTable, for fake firmware
// images in tests and fuzzing.
func AppendTable(img []byte, entries ...Entry) []byte {
	var body []byte
	for _, e := range entries {
		body = append(body, e.Data...)
		body = binary.LittleEndian.AppendUint16(body, uint16(len(e.Data)+EntryHeader))
		body = append(body, e.GUID[:]...)
	}
	img = append(img, body...)
	img = binary.LittleEndian.AppendUint16(img, uint16(len(body)+EntryHeader))
	img = append(img, TableFooter[:]...)
	return append(img, make([]byte, TableEnd)...)
}

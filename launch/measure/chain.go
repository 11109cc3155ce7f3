package measure

import (
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
)

// DigestSize is the size of an SNP launch digest (SHA-384).
const DigestSize = sha512.Size384

// PageSize is the granule SNP_LAUNCH_UPDATE measures.
const PageSize = 4096

// pageType is the PAGE_TYPE of an SNP_LAUNCH_UPDATE page (SEV-SNP firmware
// ABI, "SNP_LAUNCH_UPDATE"): it decides whether the page contents enter the
// digest and what the secure processor does with the page.
type pageType uint8

const (
	pageNormal     pageType = 0x01 // contents measured
	pageVMSA       pageType = 0x02 // a vCPU save area; contents measured
	pageZero       pageType = 0x03 // zero-filled by the firmware; contents not measured
	pageUnmeasured pageType = 0x04 // contents neither measured nor cleared
	pageSecrets    pageType = 0x05 // filled with secrets by the firmware
	pageCPUID      pageType = 0x06 // CPUID table, checked by the firmware
)

// vmsaGPA is the GPA a VMSA page is recorded with: the RMP marks it with GPA
// -1, page aligned and cut to 52 bits.
const vmsaGPA = 0xFFFF_FFFF_F000

// pageInfoSize is the size of the PAGE_INFO structure hashed at each step.
const pageInfoSize = 0x70

// chain is the launch digest being extended, one PAGE_INFO at a time:
//
//	DIGEST_CUR  48  previous digest
//	CONTENTS    48  SHA-384 of the page (normal, VMSA) or zeros
//	LENGTH       2  0x70
//	PAGE_TYPE    1
//	IMI_PAGE     1  0 (not an imported page)
//	VMPL3/2/1    3  permissions, all 0
//	reserved     1
//	GPA          8
//
// and the new digest is SHA-384(PAGE_INFO).
type chain struct {
	digest [DigestSize]byte
	info   [pageInfoSize]byte
	page   hash.Hash // hashes page contents
	step   hash.Hash // hashes PAGE_INFO
	sum    []byte    // scratch for Sum
}

func newChain(seed []byte) *chain {
	c := &chain{page: sha512.New384(), step: sha512.New384(), sum: make([]byte, 0, DigestSize)}
	copy(c.digest[:], seed)
	return c
}

// update extends the digest with one page whose measured contents are
// contents (nil: zeros).
func (c *chain) update(t pageType, gpa uint64, contents []byte) {
	copy(c.info[0:48], c.digest[:])
	if contents == nil {
		clear(c.info[48:96])
	} else {
		copy(c.info[48:96], contents)
	}
	binary.LittleEndian.PutUint16(c.info[96:], pageInfoSize)
	c.info[98] = byte(t)
	clear(c.info[99:104]) // IMI_PAGE, VMPL3, VMPL2, VMPL1 perms, reserved
	binary.LittleEndian.PutUint64(c.info[104:], gpa)

	c.step.Reset()
	c.step.Write(c.info[:])
	c.sum = c.step.Sum(c.sum[:0])
	copy(c.digest[:], c.sum)
}

// pageHash returns SHA-384 of one page (valid until the next call).
func (c *chain) pageHash(p []byte) []byte {
	c.page.Reset()
	c.page.Write(p)
	return c.page.Sum(c.sum[:0])
}

// normalPages measures data, a whole number of pages, loaded at gpa.
func (c *chain) normalPages(gpa uint64, data []byte) error {
	if len(data)%PageSize != 0 {
		return fmt.Errorf("%d bytes is not a whole number of %d-byte pages", len(data), PageSize)
	}
	for off := 0; off < len(data); off += PageSize {
		c.update(pageNormal, gpa+uint64(off), c.pageHash(data[off:off+PageSize]))
	}
	return nil
}

// emptyPages measures size bytes of pages at gpa whose contents do not enter
// the digest (zero, unmeasured, secrets and CPUID pages).
func (c *chain) emptyPages(t pageType, gpa, size uint64) {
	for off := uint64(0); off < size; off += PageSize {
		c.update(t, gpa+off, nil)
	}
}

// vmsa measures one VMSA page.
func (c *chain) vmsa(page []byte) {
	c.update(pageVMSA, vmsaGPA, c.pageHash(page))
}

func (c *chain) value() []byte {
	out := make([]byte, DigestSize)
	copy(out, c.digest[:])
	return out
}

package measure

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// GUIDs of QEMU's SEV hashes table and of its entries (QEMU target/i386/sev.c,
// read back by OVMF's BlobVerifierLibSevHashes).
var (
	guidHashTable = mustGUID("9438d606-4f22-4cc9-b479-a793d411fd21")
	guidKernel    = mustGUID("4de79437-abd2-427f-b835-d5b172d2045b")
	guidInitrd    = mustGUID("44baf731-3a2f-4bd7-9af1-41e29169781d")
	guidCmdline   = mustGUID("97d02dd8-bd20-4c94-aa78-e7714d36ab2a")
)

// Hashes table layout (packed, little-endian):
//
//	GUID header, u16 length (of the unpadded table),
//	then three entries, each GUID, u16 length (50), SHA-256 (32):
//	command line, initrd, kernel;
//	zero padding to a multiple of 16 bytes.
const (
	hashEntrySize      = 16 + 2 + sha256.Size       // 50
	hashTableSize      = 16 + 2 + 3*hashEntrySize   // 168
	hashTablePaddedLen = (hashTableSize + 15) &^ 15 // 176
)

// KernelHashes are the SHA-256 hashes QEMU puts in the SEV hashes table for a
// direct boot with kernel-hashes=on. They are what binds the kernel, initrd
// and command line to the launch measurement.
type KernelHashes struct {
	Kernel  [sha256.Size]byte // the kernel file as given to -kernel
	Initrd  [sha256.Size]byte // the -initrd file; hash of nothing when absent
	Cmdline [sha256.Size]byte // the -append string with its terminating NUL
}

// HashKernel hashes the direct-boot inputs. initrd may be empty (no
// -initrd: the hash of zero bytes, as QEMU does); cmdline is the -append
// string, hashed with its trailing NUL (no -append is the empty string).
// Files are streamed, so a large initrd costs no memory.
func HashKernel(kernel, initrd, cmdline string) (*KernelHashes, error) {
	h := &KernelHashes{}
	if err := hashFile(&h.Kernel, "kernel", kernel); err != nil {
		return nil, err
	}
	if initrd != "" {
		if err := hashFile(&h.Initrd, "initrd", initrd); err != nil {
			return nil, err
		}
	} else {
		h.Initrd = sha256.Sum256(nil)
	}
	h.Cmdline = sha256.Sum256(append([]byte(cmdline), 0))
	return h, nil
}

func hashFile(out *[sha256.Size]byte, role, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", role, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("%s: read %s: %w", role, path, err)
	}
	h.Sum(out[:0])
	return nil
}

// Table returns the hashes table as QEMU lays it out, padded to 16 bytes.
func (h *KernelHashes) Table() []byte {
	t := make([]byte, hashTablePaddedLen)
	copy(t, guidHashTable[:])
	binary.LittleEndian.PutUint16(t[16:], hashTableSize)
	off := 18
	for _, e := range []struct {
		guid GUID
		sum  *[sha256.Size]byte
	}{{guidCmdline, &h.Cmdline}, {guidInitrd, &h.Initrd}, {guidKernel, &h.Kernel}} {
		copy(t[off:], e.guid[:])
		binary.LittleEndian.PutUint16(t[off+16:], hashEntrySize)
		copy(t[off+18:], e.sum[:])
		off += hashEntrySize
	}
	return t
}

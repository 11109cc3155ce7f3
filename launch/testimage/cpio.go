package testimage

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"sort"
	"testing"
)

// archive is an in-memory cpio "newc" archive (the initramfs format the
// kernel unpacks), written in one go by bytes(). Parent directories are
// added automatically.
type archive struct {
	entries map[string]entry
}

type entry struct {
	mode uint32 // file type and permissions
	data []byte
}

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFLNK = 0o120000
)

func newArchive() *archive { return &archive{entries: map[string]entry{}} }

func (a *archive) parents(name string) {
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		if _, ok := a.entries[d]; !ok {
			a.entries[d] = entry{mode: sIFDIR | 0o755}
		}
	}
}

func (a *archive) dir(name string, perm uint32) {
	a.parents(name)
	a.entries[name] = entry{mode: sIFDIR | perm}
}

func (a *archive) file(name string, data []byte, perm uint32) {
	a.parents(name)
	a.entries[name] = entry{mode: sIFREG | perm, data: data}
}

func (a *archive) symlink(name, target string) {
	a.parents(name)
	a.entries[name] = entry{mode: sIFLNK | 0o777, data: []byte(target)}
}

func (a *archive) fileFrom(tb testing.TB, name, src string, perm uint32) {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatalf("initramfs: %v", err)
	}
	a.file(name, b, perm)
}

// bytes writes the archive: directories sort before their contents.
func (a *archive) bytes() []byte {
	names := make([]string, 0, len(a.entries))
	for n := range a.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	ino := 1
	write := func(name string, e entry) {
		fmt.Fprintf(&buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, e.mode, 0, 0, 1, 0, len(e.data), 0, 0, 0, 0, len(name)+1, 0)
		buf.WriteString(name)
		buf.WriteByte(0)
		pad(&buf)
		buf.Write(e.data)
		pad(&buf)
		ino++
	}
	for _, n := range names {
		write(n, a.entries[n])
	}
	write("TRAILER!!!", entry{})
	return buf.Bytes()
}

func pad(b *bytes.Buffer) {
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}

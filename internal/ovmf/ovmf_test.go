package ovmf

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func TestGUIDByteOrder(t *testing.T) {
	g := MustGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
	want := []byte{0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45, 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d}
	if !bytes.Equal(g[:], want) || g != TableFooter {
		t.Fatalf("EFI byte order %x, want %x", g[:], want)
	}
	if g.String() != "96b582de-1fb2-45f7-baea-a366c55a082d" {
		t.Fatalf("String() = %s", g)
	}
	for _, bad := range []string{"", "96b582de1fb245f7baeaa366c55a082d", "96b582de-1fb2-45f7-baea-a366c55a082z", "96b582de-1fb2-45f7baea-a366c55a082d0"} {
		if _, ok := ParseGUID(bad); ok {
			t.Errorf("ParseGUID(%q) accepted", bad)
		}
	}
}

func TestParseTable(t *testing.T) {
	img := AppendTable(make([]byte, 7), Entry{SEVMetadata, le32(1)}, Entry{TDXMetadata, []byte{}}, Entry{SEVHashTable, le32(5)})
	tab, err := ParseTable(img)
	if err != nil || len(tab) != 3 || string(tab[SEVMetadata]) != string(le32(1)) || len(tab[TDXMetadata]) != 0 || string(tab[SEVHashTable]) != string(le32(5)) {
		t.Errorf("table %v, %v", tab, err)
	}
	// The end of a larger image reads the same.
	if tab, err := ParseTable(append(make([]byte, 4096), img...)); err != nil || len(tab) != 3 {
		t.Errorf("in a larger image: %v, %v", tab, err)
	}

	for _, tc := range []struct {
		name string
		b    []byte
		err  string // "" for no table and no error
		n    int    // entries still returned
	}{
		{"empty", nil, "", 0},
		{"short", make([]byte, 40), "", 0},
		{"no footer", make([]byte, 4096), "", 0},
		{"footer only", AppendTable(nil), "", 0},
		{"truncated", img[len(img)-60:], "does not fit", 0},
		{"size too big", func() []byte {
			b := slices.Clone(img)
			b[len(b)-TableEnd-EntryHeader] = 0xff
			b[len(b)-TableEnd-EntryHeader+1] = 0xff
			return b
		}(), "does not fit", 0},
		{"entry too long", func() []byte {
			b := slices.Clone(img)
			// The second entry from the end (TDX, no data) claims 200 bytes.
			p := len(b) - TableEnd - EntryHeader - (4 + EntryHeader) - EntryHeader
			binary.LittleEndian.PutUint16(b[p:], 200)
			return b
		}(), "entry " + TDXMetadata.String() + " has size 200", 1},
	} {
		tab, err := ParseTable(tc.b)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, %v; want error %q", tc.name, tab, err, tc.err)
		}
		if len(tab) != tc.n {
			t.Errorf("%s: %d entries returned, want %d", tc.name, len(tab), tc.n)
		}
	}
}

func FuzzParseTable(f *testing.F) {
	f.Add(AppendTable(make([]byte, 3), Entry{SEVMetadata, le32(1)}, Entry{TDXMetadata, nil}))
	f.Add(AppendTable(nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, _ := ParseTable(b)
		total := 0
		for _, d := range tab {
			total += len(d) + EntryHeader
		}
		if total > len(b) {
			t.Fatalf("entries (%d bytes) larger than the input (%d)", total, len(b))
		}
	})
}

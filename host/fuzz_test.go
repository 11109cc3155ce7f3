package host

import (
	"slices"
	"testing"
)

func FuzzParseCPUInfo(f *testing.F) {
	f.Add("processor : 0\nvendor_id : AuthenticAMD\nflags : svm sev_snp\n")
	f.Add("processor\t: 0\nflags\t\t: " + pvmFlags + "\nprocessor\t: 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseCPUInfo(s)
		if !slices.IsSorted(c.Flags) {
			t.Fatalf("flags not sorted: %v", c.Flags)
		}
		for _, fl := range c.Flags {
			if !c.Has(fl) {
				t.Fatalf("Has(%q) false for a listed flag", fl)
			}
		}
	})
}

func FuzzParseQEMUVersion(f *testing.F) {
	f.Add("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)")
	f.Add("QEMU emulator version 10.1")
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseQEMUVersion(s)
		if !ok && v != (Version{}) {
			t.Fatalf("failed parse returned %v", v)
		}
		if v.Major < 0 || v.Minor < 0 || v.Micro < 0 {
			t.Fatalf("negative version %v", v)
		}
	})
}

func FuzzParseCPUList(f *testing.F) {
	f.Add("0-3,6,8-9")
	f.Add("0")
	f.Fuzz(func(t *testing.T, s string) {
		if n := ParseCPUList(s); n < 0 {
			t.Fatalf("ParseCPUList(%q) = %d", s, n)
		}
	})
}

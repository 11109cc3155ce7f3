package measure

import (
	"bufio"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// vectorsDir is where the reference tool's published vectors and its two
// 4 KB OVMF fixtures live (never copied into this repository).
func vectorsDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(testenv.SharedDir(t), "testvectors", "sev-snp-measure")
}

type vector struct {
	name, ovmf                       string
	vcpus                            int
	vcpuType, kernel, initrd, append string
	features                         uint64
	vmm                              VMMType
	want                             string // hex digest, or "error: ..."
}

// readVectors parses vectors.tsv: name, ovmf, vcpus, vcpu_type, kernel,
// initrd, append, guest_features, vmm_type, expected. kernel/initrd "empty"
// is an empty file and "-" is absent; append "-" is absent and `""` the
// empty string. It also returns the OVMF-only hash given in a comment.
func readVectors(t *testing.T) (vs []vector, ovmfHash string) {
	t.Helper()
	f, err := os.Open(filepath.Join(vectorsDir(t), "vectors.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	hashNext := false
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			c := strings.TrimSpace(strings.TrimPrefix(text, "#"))
			if hashNext && len(c) == 2*DigestSize {
				ovmfHash = c
			}
			hashNext = strings.Contains(c, "snp:ovmf-hash")
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		c := strings.Split(text, "\t")
		if len(c) != 10 {
			t.Fatalf("vectors.tsv:%d: %d columns, want 10", line, len(c))
		}
		n, err := strconv.Atoi(c[2])
		if err != nil {
			t.Fatalf("vectors.tsv:%d: vcpus: %v", line, err)
		}
		feat, err := strconv.ParseUint(c[7], 0, 64)
		if err != nil {
			t.Fatalf("vectors.tsv:%d: guest_features: %v", line, err)
		}
		vmm, err := ParseVMMType(c[8])
		if err != nil {
			t.Fatalf("vectors.tsv:%d: %v", line, err)
		}
		vs = append(vs, vector{c[0], c[1], n, c[3], c[4], c[5], c[6], feat, vmm, c[9]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("vectors.tsv has no rows")
	}
	return vs, ovmfHash
}

// options turns a vector row into Options, creating the empty files it asks for.
func (v vector) options(t *testing.T) Options {
	dir := t.TempDir()
	file := func(spec string) string {
		switch spec {
		case "-":
			return ""
		case "empty":
			p := filepath.Join(dir, "empty")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		t.Fatalf("%s: unknown file spec %q", v.name, spec)
		return ""
	}
	o := Options{
		OVMF:          filepath.Join(vectorsDir(t), v.ovmf),
		Kernel:        file(v.kernel),
		Initrd:        file(v.initrd),
		VCPUs:         v.vcpus,
		VCPUType:      v.vcpuType,
		GuestFeatures: v.features,
		VMM:           v.vmm,
	}
	switch v.append {
	case "-", `""`:
	default:
		o.Append = v.append
	}
	return o
}

// Every published vector row must match exactly, errors included.
func TestPublishedVectors(t *testing.T) {
	vs, _ := readVectors(t)
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			got, err := SNPDigest(v.options(t))
			if want, ok := strings.CutPrefix(v.want, "error: "); ok {
				if err == nil {
					t.Fatalf("digest %x, want error %q", got, want)
				}
				if err.Error() != want {
					t.Fatalf("error %q, want exactly %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != v.want {
				t.Fatalf("digest\n got %x\nwant %s", got, v.want)
			}
		})
	}
}

// The OVMF-only hash published with the vectors, and the full digest
// rebuilt from it: seeding the chain with the hash must give the same value
// as hashing the firmware.
func TestPublishedOVMFHash(t *testing.T) {
	vs, want := readVectors(t)
	if want == "" {
		t.Fatal("vectors.tsv carries no snp:ovmf-hash value")
	}
	got, err := OVMFHash(filepath.Join(vectorsDir(t), "ovmf_AmdSev_suffix.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != want {
		t.Fatalf("OVMF hash\n got %x\nwant %s", got, want)
	}
	for _, v := range vs {
		if v.ovmf != "ovmf_AmdSev_suffix.bin" || strings.HasPrefix(v.want, "error") {
			continue
		}
		o := v.options(t)
		o.OVMFHash = got
		d, err := SNPDigest(o)
		if err != nil {
			t.Fatalf("%s with the precomputed hash: %v", v.name, err)
		}
		if hex.EncodeToString(d) != v.want {
			t.Errorf("%s with the precomputed hash: %x, want %s", v.name, d, v.want)
		}
	}
}

// The kernel-hashes error is a sentinel callers can test for.
func TestKernelHashesErrorIsSentinel(t *testing.T) {
	vs, _ := readVectors(t)
	for _, v := range vs {
		if !strings.HasPrefix(v.want, "error") {
			continue
		}
		_, err := SNPDigest(v.options(t))
		if !errors.Is(err, ErrNoKernelHashes) {
			t.Errorf("%s: %v is not ErrNoKernelHashes", v.name, err)
		}
	}
}

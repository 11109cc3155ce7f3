package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesWithMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	st, _ := os.Stat(p)
	if err != nil || string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Fatalf("%q %v mode %v", b, err, st.Mode().Perm())
	}
	if err := WriteFile(p, []byte("public"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644", st.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

// A writer that fails half way leaves the old file and no temporary file.
func TestFailedWriteKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "vm.json")
	os.WriteFile(p, []byte("old"), 0o600)
	boom := errors.New("disk on fire")
	err := Write(p, 0o600, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("content %q, want the old one", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir"), nil, 0o600); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

func TestWriteFileKeepOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".config")
	if err := WriteFileKeepOld(p, p+".old", []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p + ".old"); err == nil {
		t.Fatal(".old made without a previous file")
	}
	os.Chmod(p, 0o600)
	if err := WriteFileKeepOld(p, p+".old", []byte("second"), 0o644); err != nil {
		t.Fatal(err)
	}
	now, _ := os.ReadFile(p)
	old, _ := os.ReadFile(p + ".old")
	st, _ := os.Stat(p)
	if string(now) != "second" || string(old) != "first" || st.Mode().Perm() != 0o600 {
		t.Fatalf("now %q old %q mode %v", now, old, st.Mode().Perm())
	}
	// the .old is the previous file, not a link to the new one
	if err := WriteFileKeepOld(p, p+".old", []byte("third"), 0o644); err != nil {
		t.Fatal(err)
	}
	if old, _ := os.ReadFile(p + ".old"); string(old) != "second" {
		t.Fatalf("old %q", old)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("files left: %v", ents)
	}
}

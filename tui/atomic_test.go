package tui

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out", ".config")
	if err := writeFileAtomic(path, []byte("one\n"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".old"); !os.IsNotExist(err) {
		t.Fatalf("a first write made a .old: %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, []byte("two\n"), true); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{path: "two\n", path + ".old": "one\n"} {
		b, err := os.ReadFile(file)
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", file, b, err, want)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the old file's 0600", st.Mode().Perm())
	}
	if err := writeFileAtomic(path, []byte("three\n"), false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path + ".old"); string(b) != "one\n" {
		t.Errorf("a write without backup changed .old: %q", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("files left: %v", entries)
	}

	// A directory that cannot be made: an error, nothing written.
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(filepath.Join(blocker, ".config"), []byte("x"), true); err == nil {
		t.Fatal("no error writing under a file")
	}
}

// Package buildroot carries the Cube BR2_EXTERNAL tree inside the cube-hal
// binary, so a `go install`ed cube-hal works outside this repository: the
// workspace writes Tree() to the user cache directory when there is no
// ./buildroot checkout to use.
package buildroot

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// The tree's roots (TreeRoots), by directory: every file under them is
// embedded except names starting with "." or "_" (go:embed's rule). Tree()
// also drops anything that looks like a secret, and a test fails if a key
// or certificate is embedded at all, because the binary would carry it
// even though Tree() hides it.
//
//go:embed external.desc Config.in external.mk configs package board
var embedded embed.FS

// TreeRoots are the top-level names of a BR2_EXTERNAL tree (Buildroot
// manual, "Keeping customizations outside of Buildroot"), the only files
// Tree() exposes.
var TreeRoots = []string{"external.desc", "Config.in", "external.mk", "configs", "package", "board"}

// IsSecretName reports whether a file name is one that must never be
// shipped: private keys, certificates, SSH keys and authorized_keys (all
// generated per user by `cube-hal certs`).
func IsSecretName(name string) bool {
	base := path.Base(name)
	for _, suffix := range []string{".key", ".pem", ".crt", ".csr", ".p12", ".pfx"} {
		if strings.HasSuffix(base, suffix) {
			return true
		}
	}
	for _, prefix := range []string{"id_rsa", "id_ecdsa", "id_ed25519", "authorized_keys", "known_hosts"} {
		if strings.HasPrefix(base, prefix) {
			return true
		}
	}
	return false
}

// Embedded returns the raw embedded directory, for tests that check
// nothing secret got in.
func Embedded() fs.FS { return embedded }

// Tree returns the embedded external tree: the files under TreeRoots,
// without Go sources and without secret-looking files.
func Tree() fs.FS { return filtered{embedded} }

// Include reports whether the file at p (slash-separated, relative to the
// tree) belongs to the shipped tree.
func Include(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	ok := false
	for _, r := range TreeRoots {
		ok = ok || first == r
	}
	return ok && !strings.HasSuffix(p, ".go") && !IsSecretName(p)
}

type filtered struct{ fs.FS }

// Open hides what Include rejects. Directories come back with filtered
// listings.
func (f filtered) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	if !st.IsDir() {
		if !Include(name) {
			file.Close()
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return file, nil
	}
	if name != "." && !includeDir(name) {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	entries, err := f.ReadDir(name)
	if err != nil {
		file.Close()
		return nil, err
	}
	return &dir{File: file, entries: entries}, nil
}

// ReadDir lists name, keeping what Include (files) and includeDir
// (directories) accept.
func (f filtered) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." && !includeDir(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	all, err := fs.ReadDir(f.FS, name)
	if err != nil {
		return nil, err
	}
	var out []fs.DirEntry
	for _, e := range all {
		p := path.Join(name, e.Name())
		if e.IsDir() && includeDir(p) || !e.IsDir() && Include(p) {
			out = append(out, e)
		}
	}
	return out, nil
}

// dir is an open directory whose listing was filtered.
type dir struct {
	fs.File
	entries []fs.DirEntry
	pos     int
}

func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.pos:]
	if n <= 0 {
		d.pos = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.pos += n
	return rest[:n], nil
}

func includeDir(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	for _, r := range TreeRoots {
		if first == r {
			return true
		}
	}
	return false
}

var digest = sync.OnceValue(func() string {
	h := sha256.New()
	var files []string
	_ = fs.WalkDir(Tree(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	for _, p := range files {
		b, _ := fs.ReadFile(Tree(), p)
		sum := sha256.Sum256(b)
		h.Write([]byte(p))
		h.Write([]byte{0})
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
})

// Digest identifies the embedded tree's content (names and bytes). The
// workspace names its cache copy after it, so a cube-hal with a different
// tree writes a fresh copy instead of reusing a stale one.
func Digest() string { return digest() }

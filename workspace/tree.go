package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteTree makes dir a copy of fsys and returns dir. It is atomic: the
// copy is written to a temporary sibling and renamed into place, so dir
// either does not exist or is complete, even with several cube-hal
// processes racing. An existing dir is trusted as is, which is why its
// name must change with its content (the workspace puts
// buildroot.Digest() in it). Files starting with "#!" are made
// executable, since Buildroot runs the tree's post-build and post-image
// scripts directly; everything else is 0644.
func WriteTree(fsys fs.FS, dir string) (string, error) {
	if isFile(filepath.Join(dir, "external.desc")) {
		return dir, nil
	}
	if _, err := fs.Stat(fsys, "external.desc"); err != nil {
		return "", errors.New("the tree has no external.desc")
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(tmp, filepath.FromSlash(p))
		if d.IsDir() {
			if p == "." {
				return os.Chmod(tmp, 0o755)
			}
			return os.Mkdir(dst, 0o755)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if bytes.HasPrefix(b, []byte("#!")) {
			mode = 0o755
		}
		return os.WriteFile(dst, b, mode)
	})
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another cube-hal won the race: its copy is as good as ours.
		if isFile(filepath.Join(dir, "external.desc")) {
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

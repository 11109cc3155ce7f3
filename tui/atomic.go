package tui

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// writeFileAtomic replaces path with data so that a reader (or a crash)
// sees either the old file or the new one, never a mix: the data goes to
// a temporary file in the same directory, is synced, and is renamed over
// path. With backup, the old file is first kept as path+".old" (as conf
// keeps .config.old). A failure at any step (read-only directory, disk
// full) leaves path as it was and removes the temporary file. The new
// file keeps the old one's permissions.
func writeFileAtomic(path string, data []byte, backup bool) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	old, statErr := os.Stat(path)
	if statErr == nil {
		mode = old.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if backup && statErr == nil {
		if err = copyFile(path, path+".old", mode); err != nil {
			return err
		}
	}
	return os.Rename(tmp.Name(), path)
}

// copyFile copies src over dst, itself atomically.
func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(dst, data, false); err != nil {
		return err
	}
	if err := os.Chmod(dst, mode); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

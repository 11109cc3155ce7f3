// Package atomicfile replaces files so that a reader, or the next run
// after a crash, sees the old content or the new one and never a part:
// keys and certificates (certs, the agent's CA enrolment), VM records and
// known_hosts pins (launch), deployed boot files. One implementation for
// all of them: a temporary file in the target's directory, written, given
// its mode, synced to disk, then renamed over the target.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write replaces path with what write writes to it, with permissions perm.
// The temporary file is created private (0600) and gets perm only once it
// is complete, so a secret is never readable half written. On any error,
// path is left as it was and the temporary file is removed.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// WriteFile replaces path with data, with permissions perm (see Write).
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileKeepOld replaces path with data like WriteFile, first keeping
// path's current content as old (a hard link, or a copy where links do
// not work), as Kconfig keeps .config.old. path never goes missing: the
// old content stays in place until the new file is renamed over it. The
// new file keeps the previous file's permissions; perm is for a new file.
func WriteFileKeepOld(path, old string, data []byte, perm os.FileMode) error {
	if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() {
		perm = st.Mode().Perm()
		if old != "" {
			os.Remove(old)
			if err := os.Link(path, old); err != nil {
				prev, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if err := WriteFile(old, prev, perm); err != nil {
					return err
				}
			}
		}
	}
	return WriteFile(path, data, perm)
}

package launch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
)

// DefaultDeployDir is where Cube's guide puts the boot files (cvm-facts
// §1.3: /etc/cube/bzImage, /etc/cube/rootfs...).
const DefaultDeployDir = "/etc/cube"

// DeployedFile is one file Deploy copied.
type DeployedFile struct {
	Src, Dst string
	Size     int64
	SHA256   string
}

// ErrNeedRoot means the destination is not writable by this user.
var ErrNeedRoot = errors.New("permission denied")

// DeployFiles lists what Deploy copies from an images directory: the
// kernel, every rootfs image present (the initramfs and, when Buildroot
// made one, rootfs.ext4) and the firmware, keeping their names.
func DeployFiles(imagesDir, firmware string) ([]string, error) {
	im, err := FindImages(imagesDir)
	if err != nil {
		return nil, err
	}
	files := []string{im.Kernel}
	for _, n := range append(append([]string{}, InitrdNames...), "rootfs.ext4", "rootfs.ext2") {
		p := filepath.Join(imagesDir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			files = append(files, p)
		}
	}
	switch {
	case firmware != "":
		files = append(files, firmware)
	case im.Firmware != "":
		files = append(files, im.Firmware)
	}
	return files, nil
}

// Deploy copies files into dest (created 0755 when missing), each
// atomically (a temp file in dest, then rename), and returns what it
// copied with SHA-256 sums. A permission problem is ErrNeedRoot.
func Deploy(files []string, dest string) ([]DeployedFile, error) {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, deployErr(dest, err)
	}
	var out []DeployedFile
	for _, src := range files {
		dst := filepath.Join(dest, filepath.Base(src))
		d, err := copyAtomic(src, dst)
		if err != nil {
			return out, deployErr(dst, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func deployErr(path string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s: %w", path, ErrNeedRoot)
	}
	return err
}

func copyAtomic(src, dst string) (DeployedFile, error) {
	d := DeployedFile{Src: src, Dst: dst}
	in, err := os.Open(src)
	if err != nil {
		return d, err
	}
	defer in.Close()
	h := sha256.New()
	var n int64
	err = atomicfile.Write(dst, 0o644, func(w io.Writer) error {
		var err error
		n, err = io.Copy(io.MultiWriter(w, h), in)
		return err
	})
	if err != nil {
		return d, err
	}
	d.Size = n
	d.SHA256 = hex.EncodeToString(h.Sum(nil))
	return d, nil
}

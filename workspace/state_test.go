package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigAndImages(t *testing.T) {
	w := &Workspace{OutputDir: t.TempDir()}
	if c := w.Config(); c.Exists || c.Path != filepath.Join(w.OutputDir, ".config") {
		t.Errorf("no .config: %+v", c)
	}
	if im := w.Images(); len(im.Files) != 0 || im.Stale {
		t.Errorf("no images: %+v", im)
	}

	mkfile(t, w.ConfigFile(), "#\n# Automatically generated file; DO NOT EDIT.\n# Buildroot 2026.02.3 Configuration\n#\nBR2_HAVE_DOT_CONFIG=y\nBR2_DEFCONFIG=\"/src/cube/buildroot/configs/cube_defconfig\"\n")
	c := w.Config()
	if !c.Exists || c.BuildrootVersion != "2026.02.3" || c.Defconfig != "/src/cube/buildroot/configs/cube_defconfig" || c.Err != "" {
		t.Errorf("Config() = %+v", c)
	}
	// An escaped string reads as Kconfig wrote it; a damaged line is
	// named by file and line.
	mkfile(t, w.ConfigFile(), "BR2_DEFCONFIG=\"/src/a \\\"b\\\"/cube_defconfig\"\n")
	if c := w.Config(); c.Defconfig != `/src/a "b"/cube_defconfig` || c.Err != "" {
		t.Errorf("escaped BR2_DEFCONFIG: %+v", c)
	}
	mkfile(t, w.ConfigFile(), "# Buildroot 2026.02.3 Configuration\nBR2_HAVE_DOT_CONFIG=y\nBR2_DEFCONFIG=\"unterminated\n")
	if c := w.Config(); !c.Exists || !strings.HasPrefix(c.Err, w.ConfigFile()+":3: BR2_DEFCONFIG") {
		t.Errorf("damaged .config: %+v", c)
	}
	mkfile(t, w.ConfigFile(), "#\n# Buildroot 2026.02.3 Configuration\n#\nBR2_DEFCONFIG=\"/src/cube/buildroot/configs/cube_defconfig\"\n")

	old := time.Now().Add(-time.Hour)
	for name, size := range map[string]int{"bzImage": 100, "rootfs.cpio.gz": 2000} {
		p := filepath.Join(w.ImagesDir(), name)
		mkfile(t, p, string(make([]byte, size)))
		os.Chtimes(p, old, old)
	}
	if err := os.Mkdir(filepath.Join(w.ImagesDir(), "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	im := w.Images()
	if len(im.Files) != 2 || im.Files[0].Name != "bzImage" || im.Files[0].Size != 100 || im.Files[1].Name != "rootfs.cpio.gz" {
		t.Errorf("Images() = %+v", im)
	}
	if !im.Stale {
		t.Error(".config newer than every image, but not stale")
	}
	now := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(w.ImagesDir(), "bzImage"), now, now)
	if w.Images().Stale {
		t.Error("an image newer than .config, but stale")
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 20: "3.0 MiB", 1536 << 20: "1.5 GiB", 5 << 40: "5.0 TiB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

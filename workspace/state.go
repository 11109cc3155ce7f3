package workspace

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ultravioletrs/cube-hal/cubecfg"
)

// ConfigState is what $(O)/.config says about the configuration.
type ConfigState struct {
	Path             string
	Exists           bool
	ModTime          time.Time
	BuildrootVersion string // from the header: "# Buildroot 2026.02.3 Configuration"
	Defconfig        string // BR2_DEFCONFIG, the defconfig savedefconfig writes back to
	Err              string // set when it exists but cannot be read
}

// Config reads the state of the workspace's .config.
func (w *Workspace) Config() ConfigState {
	c := ConfigState{Path: w.ConfigFile()}
	st, err := os.Stat(c.Path)
	if err != nil {
		return c
	}
	c.Exists, c.ModTime = true, st.ModTime()
	data, err := os.ReadFile(c.Path)
	if err != nil {
		c.Err = err.Error()
		return c
	}
	// The header, in the first lines, names the Buildroot that wrote it.
	head := strings.SplitN(string(data), "\n", 6)
	for _, line := range head[:min(len(head), 5)] {
		if v, ok := strings.CutPrefix(line, "# Buildroot "); ok && strings.HasSuffix(v, " Configuration") {
			c.BuildrootVersion = strings.TrimSuffix(v, " Configuration")
		}
	}
	vals, err := cubecfg.ParseConfig(bytes.NewReader(data), c.Path)
	if err != nil {
		c.Err = err.Error()
		return c
	}
	c.Defconfig = vals["BR2_DEFCONFIG"]
	return c
}

// Image is one file Buildroot left in $(O)/images.
type Image struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// ImagesState lists $(O)/images.
type ImagesState struct {
	Dir   string
	Files []Image // sorted by name; empty when nothing was built
	// Stale is set when .config is newer than the newest image: the
	// configuration changed since the last build.
	Stale bool
}

// Images lists the workspace's built images.
func (w *Workspace) Images() ImagesState {
	s := ImagesState{Dir: w.ImagesDir()}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return s
	}
	var newest time.Time
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		s.Files = append(s.Files, Image{Name: e.Name(), Size: info.Size(), ModTime: info.ModTime()})
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
	}
	sort.Slice(s.Files, func(i, j int) bool { return s.Files[i].Name < s.Files[j].Name })
	if c := w.Config(); c.Exists && len(s.Files) > 0 && c.ModTime.After(newest) {
		s.Stale = true
	}
	return s
}

// HumanSize formats n bytes for people, in binary units as ls -h does
// ("3.0 MiB"): the image sizes status and the TUI show.
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

package tui

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ultravioletrs/cube-hal/kconfig"
)

// OpenStandalone opens the Cube configuration without a Buildroot tree:
// the external tree over kconfig's built-in stand-in base, with the values
// of configs/cube_defconfig. Saving edits that defconfig in place,
// changing only the lines of the Cube tree's own symbols.
func OpenStandalone(externalDir string) (Engine, error) {
	k, err := kconfig.LoadStandalone(externalDir, kconfig.Options{Quiet: true})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(externalDir, "configs", "cube_defconfig")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the Cube defconfig: %w", err)
	}
	if err := k.ReadDefconfig(path); err != nil {
		return nil, err
	}
	return NewKconfigEngine(k, KconfigFiles{
		Source:        path,
		DefconfigPath: path,
		Standalone:    true,
		Defconfig:     data,
		Owned:         func(s *kconfig.Symbol) bool { return s.InDir(externalDir) },
	}), nil
}

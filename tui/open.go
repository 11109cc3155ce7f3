package tui

import (
	"github.com/ultravioletrs/cube-hal/kconfig/brenv"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// OpenWorkspace opens the workspace's configuration for the configurator,
// the way the Kconfig engine's brenv.Open does for every command: with a
// Buildroot checkout, Buildroot's whole menu with the Cube external and
// make's environment, and the values of $(O)/.config (or of the Cube
// defconfig when there is no .config yet; the first save writes it);
// without one (standalone mode), the Cube tree over a built-in base with
// the values of configs/cube_defconfig, which a save edits in place.
func OpenWorkspace(ws *workspace.Workspace) (Engine, error) {
	s, err := brenv.Open(ws, brenv.OpenOptions{})
	if err != nil {
		return nil, err
	}
	return NewSessionEngine(s), nil
}

// NewSessionEngine wraps an opened configuration for the configurator.
func NewSessionEngine(s *brenv.Session) Engine {
	source := s.Source
	if !s.Standalone && s.Source != s.ConfigPath {
		source += " (no .config yet)"
	}
	return NewKconfigEngine(s.K, KconfigFiles{
		Source:        source,
		ConfigPath:    s.ConfigPath,
		DefconfigPath: s.DefconfigPath,
		Standalone:    s.Standalone,
		Defconfig:     s.Defconfig,
		Owned:         s.Owned,
		// Without its BR2_DEFCONFIG= line, as 'make savedefconfig'
		// leaves it.
		MinimalDefconfig: s.DefconfigData,
		Secrets:          s.SecretsData,
	})
}

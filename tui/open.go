package tui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ultravioletrs/cube-hal/kconfig"
	"github.com/ultravioletrs/cube-hal/kconfig/brenv"
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

// OpenBuildroot opens the workspace's configuration on Buildroot's whole
// menu, the way `make menuconfig` does: Buildroot's Config.in with the
// external trees and make's environment (env, from brenv.Prepare), and the
// values of the workspace .config. Without a .config yet it reads the Cube
// defconfig, as `make cube_defconfig` would, and the first save writes the
// .config. The defconfig a save writes on request is where `make
// savedefconfig` writes it: BR2_DEFCONFIG (the defconfig the .config came
// from), else $(CONFIG_DIR)/defconfig.
func OpenBuildroot(env *brenv.Env) (Engine, error) {
	cfg := env.ConfigFile()
	raw := env.DefconfigVar()
	source, readDef := cfg, ""
	if _, err := os.Stat(cfg); errors.Is(err, fs.ErrNotExist) {
		p, err := env.FindDefconfig("cube_defconfig")
		if err != nil {
			return nil, fmt.Errorf("no %s yet, and %w", cfg, err)
		}
		readDef, raw, source = p, p, p+" (no .config yet)"
	}
	lookup := func(name string) (string, bool) {
		if name == "BR2_DEFCONFIG" {
			return raw, true
		}
		return env.LookupEnv(name)
	}
	k, err := kconfig.Load("Config.in", kconfig.Options{Dir: env.Topdir, LookupEnv: lookup, Quiet: true})
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", filepath.Join(env.Topdir, "Config.in"), err)
	}
	if readDef != "" {
		err = k.ReadDefconfig(readDef)
	} else {
		err = k.ReadConfig(cfg)
	}
	if err != nil {
		return nil, err
	}
	dest := filepath.Join(env.ConfigDir, "defconfig")
	if raw != "" {
		if dest, err = env.Expand(raw); err != nil {
			return nil, fmt.Errorf("BR2_DEFCONFIG in %s: %w", cfg, err)
		}
	}
	return NewKconfigEngine(k, KconfigFiles{Source: source, ConfigPath: cfg, DefconfigPath: dest}), nil
}

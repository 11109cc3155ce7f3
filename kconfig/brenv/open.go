package brenv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
	"github.com/ultravioletrs/cube-hal/kconfig"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// Session is a workspace's configuration, opened as make would see it:
// the Buildroot tree with the Cube external and $(O)/.config (or, with no
// .config yet, the Cube defconfig, as `make cube_defconfig` would load
// it); or, without a Buildroot checkout, the Cube tree standalone with
// its configs/cube_defconfig.
type Session struct {
	K          *kconfig.Kconfig
	Env        *Env // nil in standalone mode
	Standalone bool
	// Source is the file the values were read from.
	Source string
	// ConfigPath is the .config Save writes ("" in standalone mode).
	ConfigPath string
	// DefconfigPath is where a minimal configuration goes: BR2_DEFCONFIG
	// (expanded like make) or $(O)/defconfig; in standalone mode the Cube
	// defconfig that Save edits in place.
	DefconfigPath string
	// Defconfig is DefconfigPath's content when it was read (standalone).
	Defconfig []byte
	// Owned reports the symbols of the external tree: the only ones a
	// standalone save changes.
	Owned func(*kconfig.Symbol) bool
}

// OpenOptions tune Open.
type OpenOptions struct {
	// Defconfig is loaded when there is no .config (default
	// cube_defconfig, looked up like `make NAME`).
	Defconfig string
	// Stderr receives conf's warnings (default: discarded).
	Stderr io.Writer
	// Prepare is passed to Prepare (tests stub the helpers).
	Prepare Options
}

// Open opens the workspace's configuration (see Session).
func Open(w *workspace.Workspace, o OpenOptions) (*Session, error) {
	if o.Defconfig == "" {
		o.Defconfig = "cube_defconfig"
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if w.Standalone() {
		return openStandalone(w, o)
	}
	var exts []string
	if w.ExternalDir != "" {
		exts = []string{w.ExternalDir}
	}
	env, err := Prepare(w.BuildrootDir, w.OutputDir, exts, o.Prepare)
	if err != nil {
		return nil, err
	}
	s := &Session{Env: env, ConfigPath: env.ConfigFile(), Owned: func(*kconfig.Symbol) bool { return true }}
	if w.ExternalDir != "" {
		ext := env.Externals[0].Path
		s.Owned = func(sym *kconfig.Symbol) bool { return sym.InDir(ext) }
	}
	raw := env.DefconfigVar()
	fromDefconfig := false
	if _, err := os.Stat(s.ConfigPath); errors.Is(err, fs.ErrNotExist) {
		if raw, err = env.FindDefconfig(o.Defconfig); err != nil {
			return nil, err
		}
		fromDefconfig = true
	}
	lookup := func(n string) (string, bool) {
		if n == "BR2_DEFCONFIG" {
			return raw, true
		}
		return env.LookupEnv(n)
	}
	k, err := kconfig.Load("Config.in", kconfig.Options{Dir: env.Topdir, LookupEnv: lookup, Stderr: o.Stderr})
	if err != nil {
		return nil, fmt.Errorf("loading %s/Config.in: %w", env.Topdir, err)
	}
	s.K = k
	if fromDefconfig {
		s.Source = raw
		err = k.ReadDefconfig(raw)
	} else {
		s.Source = s.ConfigPath
		err = k.ReadConfig(s.ConfigPath)
	}
	if err != nil {
		return nil, err
	}
	s.DefconfigPath = filepath.Join(env.ConfigDir, "defconfig")
	if raw != "" {
		if p, err := env.Expand(raw); err == nil {
			s.DefconfigPath = p
		}
	}
	return s, nil
}

func openStandalone(w *workspace.Workspace, o OpenOptions) (*Session, error) {
	if w.ExternalDir == "" {
		return nil, errors.New("no Buildroot checkout and no Cube external tree")
	}
	k, err := kconfig.LoadStandalone(w.ExternalDir, kconfig.Options{Stderr: o.Stderr})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(w.ExternalDir, "configs", o.Defconfig)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := k.ReadDefconfig(path); err != nil {
		return nil, err
	}
	ext := k.ExternalDir()
	return &Session{K: k, Standalone: true, Source: path, DefconfigPath: path, Defconfig: data,
		Owned: func(s *kconfig.Symbol) bool { return s.InDir(ext) }}, nil
}

// SaveData computes what Save writes, without writing: the .config (or,
// standalone, the edited Cube defconfig) and its path. It reads the
// engine, so a user interface calls it on its own goroutine and writes the
// result elsewhere (with WriteConfigFile).
func (s *Session) SaveData() (path string, data []byte, err error) {
	if s.Standalone {
		data, err = s.K.UpdateDefconfigText(s.Defconfig, s.Owned)
		return s.DefconfigPath, data, err
	}
	return s.ConfigPath, s.K.ConfigText(), nil
}

// Save writes the configuration: $(O)/.config (atomically, keeping
// .config.old, like conf); standalone, the Cube defconfig edited in place.
func (s *Session) Save() error {
	path, data, err := s.SaveData()
	if err != nil {
		return err
	}
	if err := WriteConfigFile(path, data, !s.Standalone); err != nil {
		return err
	}
	if s.Standalone {
		s.Defconfig = data
	}
	return nil
}

// DefconfigData is the minimal configuration as `make savedefconfig`
// leaves it (without the BR2_DEFCONFIG= line).
func (s *Session) DefconfigData() []byte {
	var b strings.Builder
	for _, l := range strings.SplitAfter(string(s.K.DefconfigText()), "\n") {
		if !strings.HasPrefix(l, "BR2_DEFCONFIG=") {
			b.WriteString(l)
		}
	}
	return []byte(b.String())
}

// WriteConfigFile replaces path with data atomically (the project's
// shared writer: synced temporary file renamed over path, which never
// goes missing, permissions kept); with keepOld the previous content is
// kept as path.old, as conf keeps .config.old. It touches no engine
// state, so it may run on any goroutine.
func WriteConfigFile(path string, data []byte, keepOld bool) error {
	old := ""
	if keepOld {
		old = path + ".old"
	}
	return atomicfile.WriteFileKeepOld(path, old, data, 0o644)
}

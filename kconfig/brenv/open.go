package brenv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
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
	// standalone save changes (secrets are marked, and a defconfig never
	// gets their lines: see SecretSymbols).
	Owned func(*kconfig.Symbol) bool
	// SecretsPath is the workspace's secrets file (<StateDir>/secrets.config),
	// applied on top when the values came from a defconfig and written
	// by Save; the secret symbols are marked (kconfig.MarkSecret).
	SecretsPath string
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
	// The helpers' variables (git over the whole tree for the versions,
	// gcc) are computed while the Kconfig tree is read.
	env, err := PrepareLate(w.BuildrootDir, w.OutputDir, exts, o.Prepare)
	if err != nil {
		return nil, err
	}
	s, err := open(w, env, o)
	if werr := env.Wait(); err == nil && werr != nil {
		return nil, werr
	}
	return s, err
}

// open is Open's load, on an environment whose helpers may still run.
func open(w *workspace.Workspace, env *Env, o OpenOptions) (*Session, error) {
	s := &Session{Env: env, ConfigPath: env.ConfigFile(), Owned: func(*kconfig.Symbol) bool { return true },
		SecretsPath: SecretsFile(w)}
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
	k, err := kconfig.Load("Config.in", kconfig.Options{Dir: env.Topdir, LookupEnv: lookup, Stderr: o.Stderr,
		LateEnv: env.LateEnv(), LateDefaults: env.LateDefaults()})
	if err != nil {
		return nil, fmt.Errorf("loading %s/Config.in: %w", env.Topdir, err)
	}
	s.K = k
	k.MarkSecret(SecretSymbols()...)
	if fromDefconfig {
		s.Source = raw
		err = s.loadDefconfig(raw, o.Stderr)
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
	k.MarkSecret(SecretSymbols()...)
	path := filepath.Join(w.ExternalDir, "configs", o.Defconfig)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ext := k.ExternalDir()
	s := &Session{K: k, Standalone: true, Source: path, DefconfigPath: path, Defconfig: data,
		Owned:       func(s *kconfig.Symbol) bool { return s.InDir(ext) },
		SecretsPath: SecretsFile(w)}
	if err := s.loadDefconfig(path, o.Stderr); err != nil {
		return nil, err
	}
	return s, nil
}

// loadDefconfig reads a defconfig like `make NAME`, warns about secrets
// written in it and applies the secrets file on top.
func (s *Session) loadDefconfig(path string, stderr io.Writer) error {
	if data, err := os.ReadFile(path); err == nil {
		WarnSecretLines(stderr, path, data)
	}
	if err := s.K.ReadDefconfig(path); err != nil {
		return err
	}
	_, err := ApplySecrets(s.K, s.SecretsPath)
	return err
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
// .config.old, like conf); standalone, the Cube defconfig edited in place
// (never its secret lines). The secrets go to SecretsPath.
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
	return s.SaveSecrets()
}

// SecretsData is what SaveSecrets writes to SecretsPath (path "" when
// there is nothing to write: no secret set and no file yet). The file is
// private: write it with mode 0600.
func (s *Session) SecretsData() (path string, data []byte) {
	if s.SecretsPath == "" {
		return "", nil
	}
	values := SecretValues(s.K)
	if _, err := os.Stat(s.SecretsPath); err != nil && !hasValue(values) {
		return "", nil // nothing to keep and no file to update
	}
	return s.SecretsPath, FormatSecrets(values)
}

// SaveSecrets writes the secret values to SecretsPath (0600; nothing when
// no secret is set and there is no file yet).
func (s *Session) SaveSecrets() error {
	if s.SecretsPath == "" {
		return nil
	}
	return WriteSecrets(s.SecretsPath, SecretValues(s.K))
}

// SecretNote says in one line where the secrets that have values are
// kept ("" when none has one).
func (s *Session) SecretNote() string {
	var set []string
	for n, v := range SecretValues(s.K) {
		if v != "" {
			set = append(set, n)
		}
	}
	if len(set) == 0 {
		return ""
	}
	sort.Strings(set)
	where := s.SecretsPath
	if !s.Standalone {
		where += " and " + s.ConfigPath
	}
	return fmt.Sprintf("%s: secret, kept in %s, never in a defconfig", strings.Join(set, ", "), where)
}

// DefconfigData is the minimal configuration as `make savedefconfig`
// leaves it (without the BR2_DEFCONFIG= line), and without the secrets'
// lines (SaveSecrets keeps those).
func (s *Session) DefconfigData() []byte {
	var b strings.Builder
	for _, l := range strings.SplitAfter(string(s.K.DefconfigText()), "\n") {
		if !strings.HasPrefix(l, "BR2_DEFCONFIG=") {
			b.WriteString(l)
		}
	}
	data, _ := DropSecretLines([]byte(b.String()))
	return data
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

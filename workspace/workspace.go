// Package workspace resolves and validates, in one place, the directories
// cube-hal works on: the Buildroot checkout, the output directory (Buildroot's
// O=), the Cube BR2_EXTERNAL tree, the rootfs overlay and cube-hal's own state
// (run records of VMs, SSH keys, known_hosts).
//
// Every command and the TUI take a *Workspace from Resolve; nothing else in
// cube-hal reads BUILDROOT_DIR or guesses paths.
//
// Defaults, in one place:
//   - Buildroot: --buildroot, else $BUILDROOT_DIR, else none ("standalone
//     mode": the Cube packages can still be configured on the external tree
//     alone; build explains how to get a checkout).
//   - Output: --output, else ./output.
//   - External tree: --external, else <repo>/buildroot when run inside a
//     cube-hal checkout, else the copy built into the binary, written once
//     to <cache>/external-<digest> (so a `go install`ed cube-hal works
//     anywhere, and an upgrade with a different tree writes a new copy).
//   - Overlay: --overlay, else <repo>/overlay in a checkout, else
//     <state>/overlay (private to the user, like the SSH keys beside it).
//   - State: --state-dir, else $XDG_STATE_HOME/cube-hal (~/.local/state/cube-hal).
//   - Cache: $XDG_CACHE_HOME/cube-hal (~/.cache/cube-hal).
package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/ultravioletrs/cube-hal/buildroot"
	"github.com/ultravioletrs/cube-hal/kconfig"
)

// Options are the user's choices, from flags and environment. Empty fields
// take defaults.
type Options struct {
	Buildroot string // --buildroot, else $BUILDROOT_DIR; empty: standalone mode
	Output    string // --output; default ./output
	External  string // --external; default ./buildroot in this repo, else the embedded copy
	Overlay   string // --overlay; default <repo>/overlay in this repo, else <StateDir>/overlay
	StateDir  string // default $XDG_STATE_HOME/cube-hal (~/.local/state/cube-hal)
	CacheDir  string // default $XDG_CACHE_HOME/cube-hal (~/.cache/cube-hal)
	Jobs      int    // make -j; 0 means the number of CPUs
	Cwd       string // where relative defaults are taken from; default os.Getwd
	Getenv    func(string) string

	// Version is the cube-hal module version this binary was built from
	// (e.g. v0.3.0), used to find its source in the Go module cache when
	// run outside a checkout; "" means the build info's, and "(devel)"
	// means none.
	Version string

	// Embedded is the built-in external tree and EmbeddedDigest the name
	// of its cache copy; nil and "" mean buildroot.Tree() and
	// buildroot.Digest(). Tests substitute their own.
	Embedded       fs.FS
	EmbeddedDigest string
}

// Where a directory came from, for `cube-hal status`.
const (
	FromFlag     = "flag"
	FromEnv      = "environment"
	FromRepo     = "this repository"
	FromBuiltin  = "built-in copy"
	FromDefault  = "default"
	FromNotFound = "not set"
)

// Workspace is the resolved set of directories, all absolute.
type Workspace struct {
	BuildrootDir string // empty in standalone mode (no Buildroot checkout)
	OutputDir    string // Buildroot O=
	ExternalDir  string // the Cube BR2_EXTERNAL tree
	OverlayDir   string // the rootfs overlay
	StateDir     string // cube-hal's own state: runs/, ssh/, known_hosts
	CacheDir     string // cube-hal's cache: the built-in external tree
	RepoDir      string // the cube-hal source checkout, when run inside one
	// SourceDir is cube-hal's source, which the image's cube-agent is built
	// from (the external tree's cube-agent.mk takes it as CUBE_HAL_DIR):
	// RepoDir in a checkout, else the module's copy in the Go module cache
	// that `go install` left, else "" (a Problem says how to get it).
	SourceDir string
	Jobs      int

	// Where each came from (From* constants), for `cube-hal status`.
	BuildrootFrom, OutputFrom, ExternalFrom, OverlayFrom, StateFrom string

	// Problems found while resolving that do not stop every command
	// (e.g. no Buildroot checkout: configuration still works standalone).
	Problems []Problem
}

// Problem is something missing or wrong in the workspace, with the fix.
type Problem struct {
	What string // e.g. "Buildroot checkout"
	Err  string // what is wrong
	Fix  string // a command or step that fixes it
}

// MissingError is returned when a command needs something the workspace
// lacks. The CLI prints Err on one line and Fix as the hint.
type MissingError struct{ Problem }

func (e *MissingError) Error() string { return e.What + ": " + e.Err }

// Hint is the fix, for the CLI's hint line.
func (e *MissingError) Hint() string { return e.Fix }

// Is lets errors.Is(err, ErrNoBuildroot) match a missing checkout.
func (e *MissingError) Is(target error) bool {
	return target == ErrNoBuildroot && e.What == buildrootWhat
}

// FlagError is a flag or environment variable whose value cannot be used:
// bad usage, which the CLI reports with exit code 2.
type FlagError struct {
	Flag  string // "--buildroot", or "BUILDROOT_DIR" for the environment
	Value string
	Err   string
	Fix   string
}

func (e *FlagError) Error() string {
	if strings.HasPrefix(e.Flag, "--") {
		return e.Flag + " " + e.Value + ": " + e.Err
	}
	return e.Flag + "=" + e.Value + ": " + e.Err
}

// Hint is the fix, for the CLI's hint line.
func (e *FlagError) Hint() string { return e.Fix }

// ConfigFile is the Buildroot .config of this workspace ($(O)/.config).
func (w *Workspace) ConfigFile() string { return filepath.Join(w.OutputDir, ".config") }

// ImagesDir is where Buildroot puts bzImage, rootfs.cpio.gz, ... ($(O)/images).
func (w *Workspace) ImagesDir() string { return filepath.Join(w.OutputDir, "images") }

// RunDir holds the records of running VMs (pidfile, QMP socket, serial log).
func (w *Workspace) RunDir() string { return filepath.Join(w.StateDir, "runs") }

// SSHKeyFile is the private key cube-hal uses to reach the guest
// (`cube-hal certs` makes it; its public half goes into the overlay's
// root/.ssh/authorized_keys).
func (w *Workspace) SSHKeyFile() string { return filepath.Join(w.StateDir, "ssh", "id_ed25519") }

// KnownHostsFile is cube-hal's own known_hosts: the guest host key is pinned
// on first contact, and a change is a loud error.
func (w *Workspace) KnownHostsFile() string { return filepath.Join(w.StateDir, "ssh", "known_hosts") }

// Standalone reports whether there is no Buildroot checkout: only the Cube
// packages can be configured, and build/launch explain what is missing.
func (w *Workspace) Standalone() bool { return w.BuildrootDir == "" }

// ErrNoBuildroot matches (errors.Is) the error RequireBuildroot returns in
// standalone mode.
var ErrNoBuildroot = errors.New("no Buildroot checkout")

const buildrootWhat = "Buildroot checkout"

// RequireBuildroot returns a *MissingError, with the clone command as its
// fix, when there is no Buildroot checkout. Commands that need one (build)
// return it as is; the CLI prints it as an error line and a hint.
func (w *Workspace) RequireBuildroot() error {
	if w.BuildrootDir != "" {
		return nil
	}
	return &MissingError{Problem{
		What: buildrootWhat,
		Err:  "none set (standalone mode): pass --buildroot DIR or set BUILDROOT_DIR",
		Fix:  "get Buildroot " + PinnedBuildrootRelease + " with: " + CloneCommand() + "; then export BUILDROOT_DIR=$PWD/buildroot",
	}}
}

// PinnedBuildrootRelease is the Buildroot release cube-hal points users
// to. 2026.02.x is Buildroot's long-term-support line (a year of security
// and bug fixes, into 2027), while a quarterly line such as 2026.05.x is
// maintained only until the next release. It has the same host Go
// (1.26.3) and systemd (258.7) as 2026.05.1 and kernel headers up to 6.19;
// cube_defconfig configures on it with every symbol kept (checked against
// the tag, and against 2026.08-rc1), and the Cube tree must not use Kconfig
// symbols newer than this release.
const PinnedBuildrootRelease = "2026.02.3"

// BuildrootRepository is Buildroot's official git repository.
const BuildrootRepository = "https://gitlab.com/buildroot.org/buildroot.git"

// CloneCommand is the command that fetches the pinned Buildroot release.
// cube-hal prints it and never runs it itself.
func CloneCommand() string {
	return "git clone --depth 1 --branch " + PinnedBuildrootRelease + " " + BuildrootRepository
}

// Resolve applies defaults and checks the result. It fails only on values
// the user must fix (a --buildroot that is not a Buildroot tree, an
// --external without external.desc: a *FlagError) or when the built-in
// external tree cannot be written; things merely missing go into Problems.
func Resolve(o Options) (*Workspace, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cwd := o.Cwd
	if cwd == "" {
		var err error
		if cwd, err = os.Getwd(); err != nil {
			return nil, err
		}
	}
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		if strings.HasPrefix(p, "~/") {
			if home := getenv("HOME"); home != "" {
				p = filepath.Join(home, p[2:])
			}
		}
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(cwd, p)
	}
	w := &Workspace{Jobs: o.Jobs, RepoDir: findRepo(cwd)}
	home := getenv("HOME")

	// Buildroot.
	br, flag := o.Buildroot, "--buildroot"
	w.BuildrootFrom = FromFlag
	if br == "" {
		br, flag, w.BuildrootFrom = getenv("BUILDROOT_DIR"), "BUILDROOT_DIR", FromEnv
	}
	if br != "" {
		br = abs(br)
		if !isFile(filepath.Join(br, "Config.in")) || !isFile(filepath.Join(br, "Makefile")) {
			return nil, &FlagError{Flag: flag, Value: br, Err: "not a Buildroot tree (no Config.in and Makefile)",
				Fix: "point it at a Buildroot checkout, or get one: " + CloneCommand()}
		}
		w.BuildrootDir = br
	} else {
		w.BuildrootFrom = FromNotFound
		w.Problems = append(w.Problems, Problem{
			What: buildrootWhat,
			Err:  "none (standalone mode: the Cube packages can be configured, but not built)",
			Fix:  CloneCommand() + " && export BUILDROOT_DIR=$PWD/buildroot",
		})
	}

	// Output.
	w.OutputDir, w.OutputFrom = abs(o.Output), FromFlag
	if w.OutputDir == "" {
		w.OutputDir, w.OutputFrom = filepath.Join(cwd, "output"), FromDefault
	}
	if st, err := os.Stat(w.OutputDir); err == nil && !st.IsDir() {
		return nil, &FlagError{Flag: "--output", Value: w.OutputDir, Err: "exists and is not a directory",
			Fix: "choose a directory for Buildroot's output (O=)"}
	}

	// State and cache.
	w.StateDir, w.StateFrom = abs(o.StateDir), FromFlag
	if w.StateDir == "" {
		w.StateFrom = FromDefault
		base := getenv("XDG_STATE_HOME")
		if base == "" {
			h := home
			if h == "" {
				h = cwd
			}
			base = filepath.Join(h, ".local", "state")
		}
		w.StateDir = filepath.Join(abs(base), "cube-hal")
	}
	w.CacheDir = abs(o.CacheDir)
	if w.CacheDir == "" {
		base := getenv("XDG_CACHE_HOME")
		if base == "" {
			h := home
			if h == "" {
				h = cwd
			}
			base = filepath.Join(h, ".cache")
		}
		w.CacheDir = filepath.Join(abs(base), "cube-hal")
	}

	// External tree.
	switch {
	case o.External != "":
		w.ExternalDir, w.ExternalFrom = abs(o.External), FromFlag
		if _, err := externalName(w.ExternalDir); err != nil {
			return nil, &FlagError{Flag: "--external", Value: w.ExternalDir, Err: "not a BR2_EXTERNAL tree (" + err.Error() + ")",
				Fix: "point it at a directory with external.desc, Config.in and external.mk, or leave it out to use the built-in Cube tree"}
		}
	case w.RepoDir != "":
		w.ExternalDir, w.ExternalFrom = filepath.Join(w.RepoDir, "buildroot"), FromRepo
	default:
		fsys, digest := o.Embedded, o.EmbeddedDigest
		if fsys == nil {
			fsys, digest = buildroot.Tree(), buildroot.Digest()
		}
		dir, err := WriteTree(fsys, filepath.Join(w.CacheDir, "external-"+digest))
		if err != nil {
			return nil, fmt.Errorf("writing the built-in Cube external tree: %w", err)
		}
		w.ExternalDir, w.ExternalFrom = dir, FromBuiltin
	}

	// cube-hal's own source, for building the agent into the image.
	w.SourceDir = w.RepoDir
	if w.SourceDir == "" {
		w.SourceDir = moduleSource(o.Version, getenv)
	}
	if w.SourceDir == "" {
		w.Problems = append(w.Problems, Problem{
			What: "cube-hal source",
			Err:  "not found (the image's cube-agent is built from it)",
			Fix:  "git clone https://github.com/ultravioletrs/cube-hal && cd cube-hal, then run cube-hal there",
		})
	}

	// Overlay.
	switch {
	case o.Overlay != "":
		w.OverlayDir, w.OverlayFrom = abs(o.Overlay), FromFlag
		if st, err := os.Stat(w.OverlayDir); err == nil && !st.IsDir() {
			return nil, &FlagError{Flag: "--overlay", Value: w.OverlayDir, Err: "exists and is not a directory",
				Fix: "choose a directory for the rootfs overlay"}
		}
	case w.RepoDir != "":
		w.OverlayDir, w.OverlayFrom = filepath.Join(w.RepoDir, "overlay"), FromRepo
	default:
		w.OverlayDir, w.OverlayFrom = filepath.Join(w.StateDir, "overlay"), FromDefault
	}
	if !isDir(w.OverlayDir) {
		w.Problems = append(w.Problems, Problem{
			What: "overlay",
			Err:  w.OverlayDir + " does not exist yet (it holds the certificates and SSH key the image ships)",
			Fix:  "cube-hal certs",
		})
	}
	return w, nil
}

// modulePath is cube-hal's Go module path.
const modulePath = "github.com/ultravioletrs/cube-hal"

// moduleSource finds the module cache copy of cube-hal at version (default:
// this binary's), which `go install github.com/ultravioletrs/cube-hal@v...`
// downloads; "" when there is none.
func moduleSource(version string, getenv func(string) string) string {
	if version == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			version = bi.Main.Version
		}
	}
	if version == "" || version == "(devel)" {
		return ""
	}
	cache := getenv("GOMODCACHE")
	if cache == "" {
		gopath := getenv("GOPATH")
		if gopath == "" {
			if home := getenv("HOME"); home != "" {
				gopath = filepath.Join(home, "go")
			}
		}
		if gopath == "" {
			return ""
		}
		cache = filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
	}
	// The module path is all lower case, so no case-escaping is needed.
	dir := filepath.Join(cache, filepath.FromSlash(modulePath)+"@"+version)
	if isDir(filepath.Join(dir, "agent", "cmd", "cube-agent")) && isFile(filepath.Join(dir, "go.mod")) {
		return dir
	}
	return ""
}

// externalName reads the name: field of dir/external.desc, as Buildroot
// does (kconfig.ReadExternalDesc).
func externalName(dir string) (string, error) {
	d, err := kconfig.ReadExternalDesc(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", errors.New("no external.desc")
	case err != nil && d.Name == "":
		return "", errors.New("external.desc has no name: line")
	case err != nil:
		return "", err
	}
	return d.Name, nil
}

// findRepo returns the cube-hal checkout containing dir, or "".
func findRepo(dir string) string {
	for d := dir; ; {
		if isFile(filepath.Join(d, "buildroot", "external.desc")) && isDir(filepath.Join(d, "agent", "cmd", "cube-agent")) &&
			isCubeHalModule(filepath.Join(d, "go.mod")) {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			return ""
		}
		d = p
	}
}

func isCubeHalModule(gomod string) bool {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return f[1] == modulePath
		}
	}
	return false
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Package workspace resolves and validates, in one place, the directories
// cube-hal works on: the Buildroot checkout, the output directory (Buildroot's
// O=), the Cube BR2_EXTERNAL tree, the rootfs overlay and cube-hal's own state
// (run records of VMs, SSH keys, known_hosts).
//
// Every command and the TUI take a *Workspace from Resolve; nothing else in
// cube-hal reads BUILDROOT_DIR or guesses paths.
package workspace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Options are the user's choices, from flags and environment. Empty fields
// take defaults.
type Options struct {
	Buildroot string // --buildroot, else $BUILDROOT_DIR; empty: standalone mode
	Output    string // --output; default ./output
	External  string // --external; default ./buildroot in this repo, else the embedded copy
	Overlay   string // --overlay; default <repo>/overlay in this repo, else <StateDir>/overlay
	StateDir  string // default $XDG_STATE_HOME/cube-hal (~/.local/state/cube-hal)
	Jobs      int    // make -j; 0 means the number of CPUs
	Cwd       string // where relative defaults are taken from; default os.Getwd
	Getenv    func(string) string
}

// Workspace is the resolved set of directories, all absolute.
type Workspace struct {
	BuildrootDir string // empty in standalone mode (no Buildroot checkout)
	OutputDir    string // Buildroot O=
	ExternalDir  string // the Cube BR2_EXTERNAL tree
	OverlayDir   string // the rootfs overlay
	StateDir     string // cube-hal's own state: runs/, ssh/, known_hosts
	RepoDir      string // the cube-hal source checkout, when run inside one
	Jobs         int

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

// ErrNoBuildroot is returned by RequireBuildroot in standalone mode.
var ErrNoBuildroot = errors.New("no Buildroot checkout")

// RequireBuildroot returns an error with the fix when there is no Buildroot
// checkout.
func (w *Workspace) RequireBuildroot() error {
	if w.BuildrootDir != "" {
		return nil
	}
	return fmt.Errorf("%w: set --buildroot DIR or BUILDROOT_DIR (get one with: %s)", ErrNoBuildroot, CloneCommand())
}

// PinnedBuildrootRelease is the Buildroot release the Cube tree is tested with.
const PinnedBuildrootRelease = "2026.05.1"

// CloneCommand is the command that fetches the pinned Buildroot release.
// cube-hal prints it and never runs it itself.
func CloneCommand() string {
	return "git clone --depth 1 --branch " + PinnedBuildrootRelease + " https://gitlab.com/buildroot.org/buildroot.git"
}

// Resolve applies defaults and checks the result. It fails only on
// contradictions the user must fix (a --buildroot that is not a Buildroot
// tree, an --external without external.desc); things that are merely
// missing go into Problems.
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
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(cwd, p)
	}
	w := &Workspace{Jobs: o.Jobs, RepoDir: findRepo(cwd)}

	br := o.Buildroot
	if br == "" {
		br = getenv("BUILDROOT_DIR")
	}
	if br != "" {
		br = abs(br)
		if _, err := os.Stat(filepath.Join(br, "Config.in")); err != nil {
			return nil, fmt.Errorf("--buildroot %s: not a Buildroot tree (no Config.in)", br)
		}
		w.BuildrootDir = br
	} else {
		w.Problems = append(w.Problems, Problem{
			What: "Buildroot checkout",
			Err:  "not set (standalone mode: only the Cube packages can be configured)",
			Fix:  CloneCommand() + " && export BUILDROOT_DIR=$PWD/buildroot",
		})
	}

	w.OutputDir = abs(o.Output)
	if w.OutputDir == "" {
		w.OutputDir = filepath.Join(cwd, "output")
	}

	switch {
	case o.External != "":
		w.ExternalDir = abs(o.External)
	case w.RepoDir != "":
		w.ExternalDir = filepath.Join(w.RepoDir, "buildroot")
	}
	if w.ExternalDir != "" {
		if _, err := os.Stat(filepath.Join(w.ExternalDir, "external.desc")); err != nil {
			return nil, fmt.Errorf("--external %s: not a BR2_EXTERNAL tree (no external.desc)", w.ExternalDir)
		}
	}

	w.StateDir = abs(o.StateDir)
	if w.StateDir == "" {
		base := getenv("XDG_STATE_HOME")
		if base == "" {
			home := getenv("HOME")
			if home == "" {
				home = cwd
			}
			base = filepath.Join(home, ".local", "state")
		}
		w.StateDir = filepath.Join(base, "cube-hal")
	}

	switch {
	case o.Overlay != "":
		w.OverlayDir = abs(o.Overlay)
	case w.RepoDir != "":
		w.OverlayDir = filepath.Join(w.RepoDir, "overlay")
	default:
		w.OverlayDir = filepath.Join(w.StateDir, "overlay")
	}
	return w, nil
}

// findRepo returns the cube-hal checkout containing dir, or "".
func findRepo(dir string) string {
	for d := dir; ; {
		if fileExists(filepath.Join(d, "buildroot", "external.desc")) && fileExists(filepath.Join(d, "go.mod")) &&
			fileExists(filepath.Join(d, "agent", "cmd", "cube-agent")) {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			return ""
		}
		d = p
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/launch"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// statusVMs prints the VMs cube-hal started in this workspace (their run
// records live under w.RunDir()) to out, as a table, or returns why it
// cannot. A variable so tests can substitute a lister.
var statusVMs = func(ctx context.Context, w *workspace.Workspace, out io.Writer) error {
	vms, err := launch.List(ctx, w.RunDir())
	if err != nil {
		return err
	}
	launch.WriteStatusTable(out, vms)
	return nil
}

func newStatusCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the workspace and running VMs",
		Long: `status shows what cube-hal resolved (Buildroot checkout, output directory,
external tree, overlay, state directory, each with where it came from), the
state of .config and the built images, the VMs cube-hal started, and what is
missing with the command that fixes it.`,
		Example: "  cube-hal status\n  cube-hal --buildroot ~/src/buildroot status",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.workspace()
			if err != nil {
				return err
			}
			writeStatus(cmd.Context(), cmd.OutOrStdout(), w)
			return nil
		},
	}
}

// writeStatus prints the workspace report `cube-hal status` shows.
func writeStatus(ctx context.Context, out io.Writer, w *workspace.Workspace) {
	type fix struct{ what, fix string }
	var fixes []fix
	for _, p := range w.Problems {
		fixes = append(fixes, fix{p.What + ": " + p.Err, p.Fix})
	}

	fmt.Fprintln(out, "Workspace")
	br := w.BuildrootDir
	if br == "" {
		br = "none: standalone mode (the Cube packages can be configured; building needs a checkout)"
	} else {
		br += "  (" + from(w.BuildrootFrom, "--buildroot", "$BUILDROOT_DIR") + ")"
	}
	row(out, "Buildroot", br)
	row(out, "Output", w.OutputDir+"  ("+from(w.OutputFrom, "--output", "")+")")
	row(out, "External", w.ExternalDir+"  ("+from(w.ExternalFrom, "--external", "")+")")
	row(out, "Overlay", w.OverlayDir+"  ("+from(w.OverlayFrom, "--overlay", "")+")")
	row(out, "State", w.StateDir+"  ("+from(w.StateFrom, "--state-dir", "")+")")
	src := w.SourceDir
	switch {
	case src == "":
		src = "not found (the image's cube-agent is built from it)"
	case src == w.RepoDir:
		src += "  (this repository)"
	default:
		src += "  (Go module cache)"
	}
	row(out, "Source", src)

	fmt.Fprintln(out, "\nConfiguration")
	c := w.Config()
	switch {
	case !c.Exists:
		row(out, ".config", "none yet in "+w.OutputDir)
		fixes = append(fixes, fix{".config: none yet", "cube-hal defconfig cube_defconfig"})
	case c.Err != "":
		row(out, ".config", c.Err) // names the file (and line)
	default:
		var parts []string
		if c.Defconfig != "" {
			parts = append(parts, "from "+c.Defconfig)
		}
		if c.BuildrootVersion != "" {
			parts = append(parts, "Buildroot "+c.BuildrootVersion)
		}
		parts = append(parts, "written "+c.ModTime.Format("2006-01-02 15:04"))
		row(out, ".config", c.Path+"  ("+strings.Join(parts, ", ")+")")
	}

	fmt.Fprintln(out, "\nImages")
	im := w.Images()
	if len(im.Files) == 0 {
		row(out, "images", "none yet in "+im.Dir)
		if c.Exists {
			fixes = append(fixes, fix{"images: none built yet", "cube-hal build"})
		}
	} else {
		row(out, "images", im.Dir)
		for _, f := range im.Files {
			row(out, "", fmt.Sprintf("%-20s %9s  %s", f.Name, workspace.HumanSize(f.Size), f.ModTime.Format("2006-01-02 15:04")))
		}
		if im.Stale {
			row(out, "", "older than .config: the configuration changed since the last build")
			fixes = append(fixes, fix{"images: older than .config", "cube-hal build"})
		}
	}

	fmt.Fprintln(out, "\nVMs")
	iw := &indentWriter{w: out, indent: "  ", bol: true}
	if err := statusVMs(ctx, w, iw); err != nil {
		row(out, "", "cannot list the VMs in "+w.RunDir()+": "+err.Error())
	}

	if len(fixes) > 0 {
		fmt.Fprintln(out, "\nMissing")
		for _, f := range fixes {
			fmt.Fprintf(out, "  %s\n    fix: %s\n", f.what, f.fix)
		}
	}
}

// from says where a workspace directory came from.
func from(source, flag, env string) string {
	switch source {
	case workspace.FromFlag:
		return flag
	case workspace.FromEnv:
		return env
	case workspace.FromBuiltin:
		return "the copy built into cube-hal"
	}
	return source
}

func row(out io.Writer, label, value string) {
	fmt.Fprintf(out, "  %-10s %s\n", label, value)
}

// indentWriter prefixes every line written through it.
type indentWriter struct {
	w      io.Writer
	indent string
	bol    bool // at the beginning of a line
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); {
		if iw.bol {
			if _, err := io.WriteString(iw.w, iw.indent); err != nil {
				return i, err
			}
			iw.bol = false
		}
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			_, err := iw.w.Write(p[i:])
			return len(p), err
		}
		if _, err := iw.w.Write(p[i : i+j+1]); err != nil {
			return i, err
		}
		i += j + 1
		iw.bol = true
	}
	return len(p), nil
}

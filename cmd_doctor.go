package main

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/doctor"
	"github.com/ultravioletrs/cube-hal/host"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// doctorHost is the machine doctor reads; tests point it at a fake root.
var doctorHost = host.Local

func newDoctorCmd(g *globalFlags) *cobra.Command {
	var asJSON bool
	var require []string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this host for building and launching the image",
		Long: `doctor checks this machine for building the Cube HAL image with Buildroot and
launching it, and prints one pass/warn/FAIL line per check with the fix.

Required checks (a failure exits 1): the Buildroot host tools (gcc g++ make
git bc cpio unzip rsync wget python3 perl file patch), 20 GiB free on the
output directory's filesystem, and a working qemu-system-x86_64.
Advisory checks (warn, exit 0): ncurses headers, memory (8 GB recommended),
CPU cores, the Buildroot checkout, QEMU's SEV-SNP and TDX support, OVMF,
a usable /dev/kvm, SEV-SNP and TDX host support. --require makes the kvm,
snp or tdx checks required (snp and tdx imply kvm).`,
		Example: `  cube-hal doctor
  cube-hal doctor --require snp      # exit 1 unless this host can run SEV-SNP guests
  cube-hal doctor --json | jq '.checks[] | select(.status != "pass")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, r := range require {
				if !slices.Contains(doctor.RequirableGroups, r) {
					return usageErrorf("--require %s: unknown check group", r).
						withHint("use one of: %s", strings.Join(doctor.RequirableGroups, ", "))
				}
			}
			w, err := g.workspace()
			if err != nil {
				return err
			}
			r := doctor.Run(cmd.Context(), doctor.Options{
				Host:         doctorHost(),
				OutputDir:    w.OutputDir,
				BuildrootDir: w.BuildrootDir,
				CloneCommand: workspace.CloneCommand(),
				Require:      require,
			})
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return failf("writing the report: %v", err)
				}
			} else {
				r.WriteText(out)
			}
			if !r.OK {
				return exitCode(exitFailed)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (checks and the raw host facts) for scripts")
	cmd.Flags().StringSliceVar(&require, "require", nil, "make advisory checks required: kvm, snp, tdx (comma-separated or repeated)")
	return cmd
}

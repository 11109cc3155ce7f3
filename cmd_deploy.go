package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/launch"
)

func newDeployCmd(g *globalFlags) *cobra.Command {
	var images, dest, firmware string
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Copy bzImage, rootfs and firmware to /etc/cube",
		Long: `Copy the kernel, the rootfs images and the firmware from the images directory
to /etc/cube (as Cube's guide does), each file atomically, and print their
SHA-256 sums. Writing /etc/cube needs root.`,
		Example: "  sudo cube-hal deploy\n  cube-hal deploy --images output/images --dest /srv/cube",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.workspace()
			if err != nil {
				return err
			}
			if images == "" {
				images = w.ImagesDir()
			}
			files, err := launch.DeployFiles(images, firmware)
			if err != nil {
				return failf("%s", err).withHint("build the image first ('cube-hal build'), or pass --images DIR")
			}
			done, err := launch.Deploy(files, dest)
			for _, d := range done {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s (%d bytes)\n", d.SHA256, d.Dst, d.Size)
			}
			if errors.Is(err, launch.ErrNeedRoot) {
				return failf("cannot write %s: %s", dest, err).withHint("run it as root: sudo cube-hal deploy (or pass --dest DIR you can write)")
			}
			if err != nil {
				return failf("deploy: %s", err).withHint("check the images directory and the destination")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deployed %d files to %s; launch them with: cube-hal launch --mode snp --images %s\n", len(done), dest, dest)
			return nil
		},
	}
	cmd.Flags().StringVar(&images, "images", "", "images directory (default: the output's images/)")
	cmd.Flags().StringVar(&dest, "dest", launch.DefaultDeployDir, "destination directory")
	cmd.Flags().StringVar(&firmware, "firmware", "", "firmware to deploy (default: OVMF.fd from the images directory, when there)")
	return cmd
}

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/certs"
	"github.com/ultravioletrs/cube-hal/cubecfg"
)

func newCertsCmd(g *globalFlags) *cobra.Command {
	var (
		force      bool
		configFile string
		days       int
	)
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Generate development certificates and the SSH key into the overlay",
		Long: `Generate the development credentials of a Cube HAL image:

  - a development CA, the agent's server certificate (SANs localhost,
    127.0.0.1, ::1 and the configured agent host) and key, and a client CA,
    written into the rootfs overlay at the paths the configuration names
    (BR2_PACKAGE_CUBE_AGENT_SERVER_CA_CERTS, _SERVER_CERT, _SERVER_KEY,
    _CLIENT_CA_CERTS); the CA keys and a client certificate and key for
    mutual TLS stay on the host, in <state-dir>/certs;
  - the SSH key pair cube-hal uses to reach the guest: the private key in
    <state-dir>/ssh/id_ed25519, the public key added to the overlay's
    root/.ssh/authorized_keys.

Keys are ECDSA P-256 (TLS) and Ed25519 (SSH), written with mode 0600. The
paths and host come from the workspace .config (or --config); without one,
from the Kconfig defaults. Existing files are never overwritten without
--force. Rebuild the image afterwards: the overlay is part of it.`,
		Example: "  cube-hal certs\n  cube-hal certs --force\n  cube-hal --overlay ./overlay certs --config output/.config",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if days <= 0 {
				return usageErrorf("--days %d: must be a positive number of days", days).withHint("the default is 825")
			}
			w, err := g.workspace()
			if err != nil {
				return err
			}
			vals, source, err := readCertsConfig(configFile, w.ConfigFile())
			if err != nil {
				return err
			}
			paths := certs.Paths{
				ServerCA:   vals.Get(cubecfg.SymServerCA),
				ServerCert: vals.Get(cubecfg.SymServerCert),
				ServerKey:  vals.Get(cubecfg.SymServerKey),
				ClientCA:   vals.Get(cubecfg.SymClientCA),
			}
			for _, sym := range []string{cubecfg.SymServerCA, cubecfg.SymServerCert, cubecfg.SymServerKey, cubecfg.SymClientCA} {
				p := vals.Get(sym)
				err := cubecfg.ValidateGuestPath(p)
				if err == nil && p == "" {
					err = errors.New("empty")
				}
				if err != nil {
					return usageErrorf("%s: %s: %v", source, sym, err).
						withHint("set it to a path inside the VM (default %s) with 'cube-hal set' or the configurator", optionDefault(sym))
				}
			}
			host := vals.Get(cubecfg.SymHost)
			if err := cubecfg.ValidateHost(host); err != nil {
				return usageErrorf("%s: %s: %v", source, cubecfg.SymHost, err).withHint("fix the Agent Host option")
			}

			tlsReq := certs.TLSRequest{
				OverlayDir: w.OverlayDir,
				HostDir:    filepath.Join(w.StateDir, "certs"),
				Paths:      paths,
				Host:       host,
				Force:      force,
				Validity:   time.Duration(days) * 24 * time.Hour,
			}
			sshReq := certs.SSHRequest{
				PrivateKeyPath:     w.SSHKeyFile(),
				AuthorizedKeysPath: filepath.Join(w.OverlayDir, "root", ".ssh", "authorized_keys"),
				Force:              force,
			}
			if !force {
				if exist := certs.Existing(append(tlsReq.Outputs(), sshReq.Outputs()...)...); len(exist) > 0 {
					return failf("refusing to overwrite %d existing file(s): %s", len(exist), strings.Join(exist, ", ")).
						withHint("pass --force to replace them all (images built with the old ones then need a rebuild)")
				}
			}

			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Configuration: %s\n", source)
			tlsFiles, err := certs.GenerateTLS(tlsReq)
			if err != nil {
				return failf("generating certificates: %v", err)
			}
			sshFiles, err := certs.GenerateSSH(sshReq)
			if err != nil {
				return failf("generating the SSH key: %v", err)
			}
			fmt.Fprintln(out, "Wrote:")
			for _, f := range append(tlsFiles, sshFiles...) {
				fmt.Fprintf(out, "  %04o  %s\n        %s\n", f.Mode, f.Path, f.What)
			}
			fmt.Fprintf(out, "Server certificate names: localhost, 127.0.0.1, ::1%s; valid %d days.\n", extraName(host), days)
			if vals.Get(cubecfg.SymCAURL) != "" {
				fmt.Fprintln(out, "Note: an Agent CA URL is set, so the agent takes its certificate from that CA; these files are used only without it.")
			}
			fmt.Fprintln(out, "Rebuild the image (cube-hal build) to put them into it.")
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&force, "force", false, "replace existing keys and certificates")
	f.StringVar(&configFile, "config", "", "read the certificate paths and agent host from this .config or defconfig (default: the workspace .config)")
	f.IntVar(&days, "days", 825, "validity of the server and client certificates, in days")
	return cmd
}

// readCertsConfig reads the configuration `certs` takes its paths from: the
// --config file (which must exist), else the workspace .config when there
// is one, else nothing (Kconfig defaults). It returns a description of the
// source for messages.
func readCertsConfig(flagFile, workspaceFile string) (cubecfg.Values, string, error) {
	file := flagFile
	if file == "" {
		file = workspaceFile
	}
	vals, err := cubecfg.ReadConfig(file)
	switch {
	case err == nil:
		return vals, file, nil
	case flagFile == "" && errors.Is(err, os.ErrNotExist):
		return cubecfg.Values{}, "defaults (no " + file + ")", nil
	case errors.Is(err, os.ErrNotExist):
		return nil, "", usageErrorf("--config %s: no such file", flagFile).withHint("give a .config or defconfig path")
	default:
		return nil, "", usageErrorf("%v", err).withHint("fix the line named, or run 'cube-hal olddefconfig' to rewrite the file")
	}
}

func optionDefault(sym string) string {
	if o, ok := cubecfg.Lookup(sym); ok {
		return o.Default
	}
	return ""
}

func extraName(host string) string {
	if host == "" || host == "0.0.0.0" || host == "::" || host == "localhost" || host == "127.0.0.1" || host == "::1" {
		return ""
	}
	return ", " + host
}

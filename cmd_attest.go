package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
	"github.com/ultravioletrs/cube-hal/agent/verify"
	"github.com/ultravioletrs/cube-hal/launch"
)

// attestFlags are cube-hal attest's flags.
type attestFlags struct {
	agent       string
	mode        string
	measurement string
	policy      string
	vmpl        int
	hostData    string
	allowDebug  bool
	testRoots   bool
	certs       string
	fetchCerts  bool
	atls        bool
	caCert      string
	cert, key   string
	json        bool
	timeout     time.Duration
	// --measurement-from-images DIR and the launch settings it needs
	// (issue 10, cmd_measure.go).
	fromImages imagesMeasurement
	changed    func(flag string) bool
	// vm is the cube-hal VM attested (--vm, or the only running one when
	// --agent is not given): its agent's forwarded port and the launch
	// measurement recorded when it started.
	vm string
}

func newAttestCmd(g *globalFlags) *cobra.Command {
	f := &attestFlags{}
	cmd := &cobra.Command{
		Use:   "attest",
		Short: "Fetch and verify an attestation report from the guest's agent",
		Long: `attest asks the cube-agent in the guest for an attestation report (SEV-SNP) or
quote (TDX) bound to a fresh random nonce, verifies its signature chain to AMD's
or Intel's root, and checks it: the nonce, the launch measurement, the VMPL,
debug off, TCB minimums and any go-sev-guest / go-tdx-guest policy file.

Each check is printed with the expected and the actual value; the exit status
is 0 only when every check passed. Nothing is fetched from the network unless
--fetch-certs is given: the VCEK comes from the report's certificate table, the
--certs directory or the local cache.`,
		Example: `  cube-hal attest --test-roots   # the running VM: its agent, and the measurement recorded at launch
  cube-hal attest --agent http://localhost:6193 --measurement 5f3a...e1
  cube-hal attest --agent http://localhost:6193 --measurement-from-images output/images --cpus 4
  cube-hal attest --agent https://localhost:6193 --atls --policy policy.json --json
  cube-hal attest --agent http://localhost:6193 --test-roots   # agent with UV_CUBE_AGENT_TSM=fake`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttest(cmd, g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.agent, "agent", "", "the agent's URL, e.g. http://localhost:6193 (default: the agent of the VM cube-hal runs)")
	fl.StringVar(&f.vm, "vm", "", "the cube-hal VM to attest (default: the only running one, when --agent is not given); the launch measurement recorded when it started is expected unless a flag or --policy gives one")
	fl.StringVar(&f.mode, "mode", "", "expected platform: snp or tdx (default: whatever the agent serves)")
	fl.StringVar(&f.measurement, "measurement", "", "expected launch measurement, 96 hex digits (SNP MEASUREMENT or TDX MRTD)")
	fl.StringVar(&f.policy, "policy", "", "go-sev-guest check.Config or go-tdx-guest checkconfig.Config JSON policy file")
	fl.IntVar(&f.vmpl, "vmpl", -1, "expected SEV-SNP VMPL of the report, 0..3 (default: not checked)")
	fl.StringVar(&f.hostData, "host-data", "", "expected SEV-SNP HOST_DATA, 64 hex digits")
	fl.BoolVar(&f.allowDebug, "allow-debug", false, "accept a guest that allows debugging (never in production)")
	fl.BoolVar(&f.testRoots, "test-roots", false, "trust go-sev-guest's TEST-ONLY AMD roots (for an agent with UV_CUBE_AGENT_TSM=fake)")
	fl.StringVar(&f.certs, "certs", "", "directory with certificates to use: vcek.pem / vcek.der (SNP), intel_sgx_root.pem (TDX)")
	fl.BoolVar(&f.fetchCerts, "fetch-certs", false, "allow fetching the VCEK and collateral from AMD KDS / Intel PCS, and revocation checks")
	fl.BoolVar(&f.atls, "atls", false, "get the evidence from an attested-TLS handshake instead of POST /attestation")
	fl.StringVar(&f.caCert, "cacert", "", "CA certificate to verify the agent's TLS certificate (https agents)")
	fl.StringVar(&f.cert, "cert", "", "client certificate for an agent that requires mutual TLS")
	fl.StringVar(&f.key, "key", "", "client key for --cert")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up fetching after this long")
	f.fromImages.register(fl)
	f.changed = fl.Changed
	return cmd
}

// decodeHexFlag reads a hex flag of an exact size, tolerating a 0x prefix,
// colons and spaces (as tools print digests).
func decodeHexFlag(name, v string, size int) ([]byte, error) {
	clean := strings.NewReplacer(":", "", " ", "", "\t", "").Replace(strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X"))
	b, err := hex.DecodeString(clean)
	if err != nil {
		return nil, usageErrorf("--%s: not hex: %v", name, err).withHint("give %d hex digits", 2*size)
	}
	if len(b) != size {
		return nil, usageErrorf("--%s: %d bytes, want %d (%d hex digits)", name, len(b), size, 2*size)
	}
	return b, nil
}

// expectedMeasurement resolves the launch measurement to expect from the
// flags: --measurement as given, or --measurement-from-images DIR computed
// with launch/measure from the images and launch settings.
func (f *attestFlags) expectedMeasurement() (m []byte, source string, err error) {
	if f.fromImages.dir != "" {
		if f.measurement != "" {
			return nil, "", usageErrorf("--measurement and --measurement-from-images both given").withHint("give one expected value")
		}
		if f.mode == "tdx" {
			return nil, "", usageErrorf("--measurement-from-images computes an SEV-SNP measurement, not a TDX MRTD").withHint("use --measurement with the MRTD of a known-good TD")
		}
	}
	if m, source, err = f.fromImages.expected(f.changed); m != nil || err != nil {
		return m, source, err
	}
	if f.measurement == "" {
		return nil, "", nil
	}
	m, err = decodeHexFlag("measurement", f.measurement, 48)
	return m, "--measurement", err
}

// options turns the flags into verify options.
func (f *attestFlags) options() (verify.Options, error) {
	opts := verify.Options{Agent: f.agent, Timeout: f.timeout, Transport: verify.Endpoint}
	if f.agent == "" {
		return opts, usageErrorf("--agent is required").withHint("the agent's URL, e.g. --agent http://localhost:6193 (cube-hal launch forwards host port 6193 to the agent)")
	}
	if f.atls {
		opts.Transport = verify.ATLS
	}
	if f.mode != "" {
		p, err := evidence.ParsePlatform(f.mode)
		if err != nil {
			return opts, usageErrorf("--mode: %v", err)
		}
		opts.Mode = p
	}
	var pol verify.Policy
	if f.policy != "" {
		p, err := verify.LoadPolicy(f.policy)
		if err != nil {
			return opts, usageErrorf("--policy: %v", err)
		}
		pol = *p
	}
	var over verify.Policy
	m, src, err := f.expectedMeasurement()
	if err != nil {
		return opts, err
	}
	over.Measurement, over.MeasurementSource = m, src
	if f.vmpl != -1 {
		if f.vmpl < 0 || f.vmpl > 3 {
			return opts, usageErrorf("--vmpl %d: want 0..3", f.vmpl)
		}
		v := f.vmpl
		over.VMPL = &v
	}
	if f.hostData != "" {
		if over.HostData, err = decodeHexFlag("host-data", f.hostData, 32); err != nil {
			return opts, err
		}
	}
	over.AllowDebug = f.allowDebug
	opts.Policy = pol.Merge(over)
	opts.Roots = verify.Roots{TestRoots: f.testRoots, CertsDir: f.certs, Fetch: f.fetchCerts}
	if f.certs != "" {
		if st, err := os.Stat(f.certs); err != nil || !st.IsDir() {
			return opts, usageErrorf("--certs %s: not a directory", f.certs)
		}
	}
	if dir, err := os.UserCacheDir(); err == nil {
		opts.Roots.CacheDir = filepath.Join(dir, "cube-hal", "certs")
	}
	opts.TLS = verify.ClientTLS{CAFile: f.caCert, CertFile: f.cert, KeyFile: f.key}
	if (f.cert == "") != (f.key == "") {
		return opts, usageErrorf("--cert and --key go together")
	}
	return opts, nil
}

func runAttest(cmd *cobra.Command, g *globalFlags, f *attestFlags) error {
	rec, err := f.resolveVM(g)
	if err != nil {
		return err
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	if rec != nil && opts.Policy.Measurement == nil {
		m, err := rec.Measurement()
		if err != nil {
			return failf("%v", err)
		}
		if m != nil {
			opts.Policy.Measurement, opts.Policy.MeasurementSource = m, fmt.Sprintf("VM %s's launch record", rec.Name)
		}
	}
	res, err := verify.Attest(cmd.Context(), opts)
	if err != nil {
		var fe *verify.FetchError
		if errors.As(err, &fe) {
			return failf("%s: %v", f.agent, err).withHint("is the VM running and the agent up? try: curl %s/health", strings.TrimSuffix(f.agent, "/"))
		}
		return failf("%v", err)
	}
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return failf("writing JSON: %v", err)
		}
	} else if err := res.WriteText(out); err != nil {
		return failf("writing the summary: %v", err)
	}
	if !res.Verified {
		if f.json {
			// The JSON carries the details; say the verdict on stderr.
			cmd.PrintErrln("cube-hal: " + res.Verdict())
		}
		return exitCode(exitFailed)
	}
	return nil
}

// resolveVM finds the VM to attest: --vm by name, or, when --agent is not
// given, the only VM running (its forwarded agent port becomes --agent).
// It returns nil when --agent is given without --vm.
func (f *attestFlags) resolveVM(g *globalFlags) (*launch.Record, error) {
	if f.vm == "" && f.agent != "" {
		return nil, nil
	}
	w, err := g.workspace()
	if err != nil {
		return nil, err
	}
	vm, err := launch.Open(w.RunDir(), f.vm)
	if err != nil {
		if f.vm == "" {
			return nil, usageErrorf("--agent is required: no VM to attest (%v)", err).withHint("the agent's URL, e.g. --agent http://localhost:6193, or start a VM with 'cube-hal launch'")
		}
		return nil, failf("--vm %s: %v", f.vm, err).withHint("'cube-hal status' lists the VMs")
	}
	rec := vm.Record
	if f.agent == "" {
		if !vm.Running() {
			return nil, failf("VM %q is not running", rec.Name).withHint("start it with 'cube-hal launch', or give --agent URL")
		}
		if rec.Ports.Agent == 0 {
			return nil, failf("VM %q forwards no agent port", rec.Name).withHint("give --agent URL")
		}
		f.agent = fmt.Sprintf("http://127.0.0.1:%d", rec.Ports.Agent)
	}
	return &rec, nil
}

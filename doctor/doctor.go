// Package doctor runs cube-hal's preflight checks: can this machine build
// the Cube HAL image with Buildroot, and launch it as a plain, SEV-SNP or
// TDX VM? Each check turns facts from package host into a pass, warn or
// fail line with the fix.
//
// Required checks fail (and make `cube-hal doctor` exit 1) when a build or
// every launch would fail without them: the Buildroot host tools, 20 GiB
// free for the output directory, and a working QEMU. Everything else is
// advisory and warns: the machine still works, only slower or without
// confidential VMs. Options.Require turns advisory groups (kvm, snp, tdx)
// into required ones for scripts that need them.
package doctor

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ultravioletrs/cube-hal/host"
)

// Status is the outcome of one check.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn" // an advisory check did not pass
	Fail Status = "fail" // a required check did not pass
)

// Groups of checks; Require names the advisory ones to make required.
const (
	GroupBuild  = "build"
	GroupLaunch = "launch"
	GroupKVM    = "kvm"
	GroupSNP    = "snp"
	GroupTDX    = "tdx"
)

// RequirableGroups are the values Options.Require accepts.
var RequirableGroups = []string{GroupKVM, GroupSNP, GroupTDX}

// Thresholds from the HAL build guide (cube hal/buildroot/linux/README.md:
// "At least 8GB RAM", "20GB free disk space").
const (
	MinFreeDisk     = 20 << 30  // bytes free on the output directory's filesystem
	RecommendedRAM  = 8 << 30   // the guide's 8 GB ...
	ramSlack        = 512 << 20 // ... of which the kernel keeps some: MemTotal of an 8 GB machine is below 8 GiB
	RecommendedCPUs = 4
)

// BuildTools are the programs Buildroot needs on the host (the HAL build
// guide and Buildroot's support/dependencies/dependencies.sh), with the
// Debian package that provides each.
var BuildTools = []struct{ Name, Package string }{
	{"gcc", "gcc"}, {"g++", "g++"}, {"make", "make"}, {"git", "git"}, {"bc", "bc"},
	{"cpio", "cpio"}, {"unzip", "unzip"}, {"rsync", "rsync"}, {"wget", "wget"},
	{"python3", "python3"}, {"perl", "perl"}, {"file", "file"}, {"patch", "patch"},
}

// Check is one preflight line.
type Check struct {
	ID       string `json:"id"`    // stable, for scripts: tool.gcc, disk, memory, kvm, snp, ...
	Group    string `json:"group"` // build, launch, kvm, snp, tdx
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Required bool   `json:"required"`
	Detail   string `json:"detail"`        // what was found
	Fix      string `json:"fix,omitempty"` // what to do when it did not pass
}

// Options say what to check and where.
type Options struct {
	Host      *host.Host // nil: the real machine
	OutputDir string     // Buildroot O=; its filesystem needs MinFreeDisk
	// BuildrootDir is the resolved checkout, "" in standalone mode, and
	// CloneCommand how to get one (printed, never run).
	BuildrootDir string
	CloneCommand string
	Require      []string // advisory groups to treat as required: kvm, snp, tdx
}

// Report is the result of Run.
type Report struct {
	OK       bool        `json:"ok"` // no required check failed
	Failed   int         `json:"failed"`
	Warnings int         `json:"warnings"`
	Checks   []Check     `json:"checks"`
	Host     *host.Facts `json:"host"` // the raw facts the checks read
}

// Run reads the machine and runs every check.
func Run(ctx context.Context, o Options) *Report {
	h := o.Host
	if h == nil {
		h = host.Local()
	}
	f := h.Probe(ctx)
	r := &Report{Host: f}
	require := slices.Clone(o.Require)
	if slices.Contains(require, GroupSNP) || slices.Contains(require, GroupTDX) {
		require = append(require, GroupKVM) // confidential guests run only under KVM
	}
	add := func(c Check) {
		c.Required = c.Required || slices.Contains(require, c.Group)
		if c.Status == Warn && c.Required {
			c.Status = Fail
		}
		r.Checks = append(r.Checks, c)
	}
	for _, c := range buildChecks(h, f, o) {
		add(c)
	}
	for _, c := range launchChecks(f) {
		add(c)
	}
	for _, c := range r.Checks {
		switch c.Status {
		case Fail:
			r.Failed++
		case Warn:
			r.Warnings++
		}
	}
	r.OK = r.Failed == 0
	return r
}

// notOK is the status of a check that did not pass: Fail when required,
// else Warn (Run upgrades Warn for groups in Options.Require).
func notOK(required bool) Status {
	if required {
		return Fail
	}
	return Warn
}

func buildChecks(h *host.Host, f *host.Facts, o Options) []Check {
	var cs []Check
	for _, t := range BuildTools {
		c := Check{ID: "tool." + t.Name, Group: GroupBuild, Title: t.Name, Required: true}
		if p, err := h.LookPath(t.Name); err == nil {
			c.Status, c.Detail = Pass, p
		} else {
			c.Status, c.Detail = Fail, "not on PATH (Buildroot needs it)"
			c.Fix = "sudo apt-get install " + t.Package
		}
		cs = append(cs, c)
	}

	c := Check{ID: "ncurses", Group: GroupBuild, Title: "ncurses headers"}
	if f.NcursesHeader != "" {
		c.Status, c.Detail = Pass, f.NcursesHeader
	} else {
		c.Status = Warn
		c.Detail = "not found; only Buildroot's own 'make menuconfig' needs them (cube-hal's configurator does not)"
		c.Fix = "sudo apt-get install libncurses-dev"
	}
	cs = append(cs, c)

	c = Check{ID: "disk", Group: GroupBuild, Title: "disk space", Required: true}
	if o.OutputDir == "" {
		c.Status, c.Detail = Fail, "no output directory given"
	} else if d, err := h.FreeDisk(o.OutputDir); err != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("cannot measure the filesystem of %s: %v", o.OutputDir, err)
		c.Fix = "pass an output directory on a writable filesystem with --output DIR"
	} else {
		c.Detail = fmt.Sprintf("%s free on the filesystem of %s (a build needs %s)", GiB(d.Avail), o.OutputDir, GiB(MinFreeDisk))
		if d.Avail >= MinFreeDisk {
			c.Status = Pass
		} else {
			c.Status = Fail
			c.Fix = "free some space, or put the output on a larger disk with --output DIR"
		}
	}
	cs = append(cs, c)

	c = Check{ID: "memory", Group: GroupBuild, Title: "memory"}
	switch {
	case f.Memory.Err != "":
		c.Status, c.Detail = Warn, f.Memory.Err
	case f.Memory.Total+ramSlack >= RecommendedRAM:
		c.Status, c.Detail = Pass, fmt.Sprintf("%s (%s recommended)", GiB(f.Memory.Total), GiB(RecommendedRAM))
	default:
		c.Status = Warn
		c.Detail = fmt.Sprintf("%s; %s recommended: builds may run out of memory, and the guest VM gets less", GiB(f.Memory.Total), GiB(RecommendedRAM))
		c.Fix = "build with fewer jobs (cube-hal build --jobs 2) or on a larger machine"
	}
	cs = append(cs, c)

	c = Check{ID: "cores", Group: GroupBuild, Title: "CPU cores"}
	if f.Cores >= RecommendedCPUs {
		c.Status, c.Detail = Pass, fmt.Sprintf("%d online", f.Cores)
	} else {
		c.Status = Warn
		c.Detail = fmt.Sprintf("%d online; %d or more recommended (a first build compiles a toolchain and a kernel)", f.Cores, RecommendedCPUs)
		c.Fix = "build on a machine with more cores if you can"
	}
	cs = append(cs, c)

	c = Check{ID: "buildroot", Group: GroupBuild, Title: "Buildroot checkout"}
	if o.BuildrootDir != "" {
		c.Status, c.Detail = Pass, o.BuildrootDir
	} else {
		c.Status = Warn
		c.Detail = "none (standalone mode: only the Cube packages can be configured; build needs one)"
		if o.CloneCommand != "" {
			c.Fix = o.CloneCommand + " && export BUILDROOT_DIR=$PWD/buildroot"
		}
	}
	cs = append(cs, c)
	return cs
}

func launchChecks(f *host.Facts) []Check {
	var cs []Check
	q := f.QEMU

	c := Check{ID: "qemu", Group: GroupLaunch, Title: "QEMU", Required: true}
	switch {
	case !q.Found():
		c.Status, c.Detail = Fail, host.DefaultQEMU+" not on PATH (every launch needs it)"
		c.Fix = "sudo apt-get install qemu-system-x86"
	case q.Err != "":
		c.Status, c.Detail = Fail, q.Err
		c.Fix = "reinstall QEMU (sudo apt-get install --reinstall qemu-system-x86)"
	default:
		c.Status, c.Detail = Pass, fmt.Sprintf("%s %s", q.Path, q.Version)
	}
	cs = append(cs, c)

	if q.Found() && q.Err == "" {
		cs = append(cs,
			qemuObjectCheck("qemu.snp", GroupSNP, "QEMU for SEV-SNP", q, host.ObjectSEVSNPGuest, "9.1"),
			qemuObjectCheck("qemu.tdx", GroupTDX, "QEMU for TDX", q, host.ObjectTDXGuest, "10.1"))
	}

	cs = append(cs, ovmfCheck(f.Firmware))

	c = Check{ID: "kvm", Group: GroupKVM, Title: "KVM"}
	if f.KVM.Usable {
		c.Status, c.Detail = Pass, "/dev/kvm usable ("+strings.Join(f.KVM.Modules, ", ")+")"
	} else {
		c.Status = Warn
		c.Detail = f.KVM.Why + "; VMs fall back to TCG emulation (slow, no SEV-SNP or TDX)"
		switch {
		case !f.KVM.Device.Present:
			c.Fix = "enable virtualisation (VT-x/AMD-V) in the firmware, then: sudo modprobe kvm_intel (or kvm_amd)"
		case !f.KVM.Device.ReadWrite:
			c.Fix = "sudo usermod -aG kvm $USER, then log in again"
		default:
			c.Fix = "use a host with hardware virtualisation (bare metal, or a VM with nested virtualisation)"
		}
	}
	cs = append(cs, c)

	cs = append(cs, snpCheck(f), tdxCheck(f))
	return cs
}

func qemuObjectCheck(id, group, title string, q host.QEMU, object, minVersion string) Check {
	c := Check{ID: id, Group: group, Title: title}
	if q.HasObject(object) {
		c.Status, c.Detail = Pass, fmt.Sprintf("%s has %s", q.Version, object)
		return c
	}
	c.Status = Warn
	c.Detail = fmt.Sprintf("QEMU %s has no %s object (needs QEMU %s or later)", q.Version, object, minVersion)
	c.Fix = fmt.Sprintf("install QEMU %s or later (your distribution's newer release or backports, or upstream)", minVersion)
	return c
}

func ovmfCheck(fws []host.Firmware) Check {
	c := Check{ID: "ovmf", Group: GroupLaunch, Title: "OVMF firmware"}
	var bios []host.Firmware
	for _, fw := range fws {
		if fw.Kind == host.FirmwareBIOS && fw.Err == "" {
			bios = append(bios, fw)
		}
	}
	if len(bios) == 0 {
		c.Status = Warn
		if len(fws) > 0 {
			c.Detail = fmt.Sprintf("only pflash images (%s); SEV-SNP and TDX load a single-file OVMF with -bios", fws[0].Path)
		} else {
			c.Detail = "none found; plain VMs boot without it, SEV-SNP and TDX need it"
		}
		c.Fix = "sudo apt-get install ovmf"
		return c
	}
	// Prefer an image that can do measured direct boot.
	best := bios[0]
	for _, fw := range bios {
		if fw.SEVHashTable && !best.SEVHashTable {
			best = fw
		}
	}
	var has []string
	if best.SEVMetadata {
		has = append(has, "SEV-SNP")
	}
	if best.TDXMetadata {
		has = append(has, "TDX")
	}
	c.Status = Pass
	c.Detail = best.Path
	if len(has) > 0 {
		c.Detail += " (" + strings.Join(has, ", ") + " capable"
	} else {
		c.Detail += " (no SEV-SNP or TDX metadata"
	}
	if best.SEVHashTable {
		c.Detail += "; kernel-hashes for measured SEV-SNP direct boot)"
	} else {
		c.Detail += "; no kernel-hashes area: measured SEV-SNP direct boot needs an AmdSevX64 build)"
	}
	return c
}

func snpCheck(f *host.Facts) Check {
	c := Check{ID: "snp", Group: GroupSNP, Title: "SEV-SNP host"}
	if problemsCheck(&c, host.SNPProblems(f.CPU, f.KVM, f.SEV)) {
		c.Detail = "CPU sev_snp, kvm_amd sev_snp=" + f.SEV.ParamSEVSNP + ", /dev/sev read-write"
	}
	return c
}

func tdxCheck(f *host.Facts) Check {
	c := Check{ID: "tdx", Group: GroupTDX, Title: "TDX host"}
	if problemsCheck(&c, host.TDXProblems(f.CPU, f.KVM, f.TDX)) {
		c.Detail = "CPU tdx_host_platform, kvm_intel tdx=" + f.TDX.ParamTDX
		if !f.TDX.SGXEnclave.Present {
			c.Detail += "; no /dev/sgx_enclave, so TD quotes (QGS) will not work"
		}
	}
	return c
}

// problemsCheck sets c from a host's problems for a kind of guest: a
// warning listing them all with the first one's fix (the others usually
// follow from it), or a pass, which it reports.
func problemsCheck(c *Check, ps []host.Problem) bool {
	if len(ps) == 0 {
		c.Status = Pass
		return true
	}
	var what []string
	for _, p := range ps {
		what = append(what, p.Reason)
	}
	c.Status, c.Detail, c.Fix = Warn, "no: "+strings.Join(what, "; "), ps[0].Fix
	return false
}

// GiB formats a byte count in GiB with one decimal.
func GiB(b uint64) string {
	return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
}

// WriteText prints the report for people: one line per check, the fix
// under each that did not pass, then a summary.
func (r *Report) WriteText(w io.Writer) {
	titleWidth := 0
	for _, c := range r.Checks {
		titleWidth = max(titleWidth, len(c.Title))
	}
	group := ""
	for _, c := range r.Checks {
		g := sectionOf(c.Group)
		if g != group {
			if group != "" {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s\n", g)
			group = g
		}
		label := string(c.Status)
		if c.Status == Fail {
			label = "FAIL"
		}
		fmt.Fprintf(w, "  %-4s  %-*s  %s\n", label, titleWidth, c.Title, c.Detail)
		if c.Status != Pass && c.Fix != "" {
			fmt.Fprintf(w, "  %-4s  %-*s  fix: %s\n", "", titleWidth, "", c.Fix)
		}
	}
	fmt.Fprintln(w)
	switch {
	case r.Failed > 0:
		fmt.Fprintf(w, "%d required check(s) failed, %d warning(s).\n", r.Failed, r.Warnings)
	case r.Warnings > 0:
		fmt.Fprintf(w, "All required checks pass; %d warning(s) for optional features.\n", r.Warnings)
	default:
		fmt.Fprintln(w, "All checks pass.")
	}
}

func sectionOf(group string) string {
	if group == GroupBuild {
		return "Build"
	}
	return "Launch"
}

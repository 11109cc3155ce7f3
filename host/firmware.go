package host

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ultravioletrs/cube-hal/internal/ovmf"
)

// Firmware is an OVMF (UEFI for QEMU) image found on this machine.
type Firmware struct {
	Path string `json:"path"` // real path, openable as is
	// Kind is how QEMU loads it: "bios" for a single-file image given to
	// -bios (what SEV-SNP and TDX need), "pflash" for a CODE image mapped as
	// flash together with a VARS template.
	Kind       string   `json:"kind"`
	Vars       string   `json:"vars,omitempty"` // pflash: the matching VARS template, if found
	Size       int64    `json:"size"`
	Descriptor string   `json:"descriptor,omitempty"` // the QEMU firmware descriptor (JSON) naming it
	Features   []string `json:"features,omitempty"`   // from that descriptor: amd-sev, amd-sev-snp, intel-tdx, secure-boot, ...
	// From the GUIDed table at the end of the image (edk2 ResetVector):
	SEVMetadata  bool   `json:"sev_metadata"`   // SEV-SNP launch metadata: the image can boot an SNP guest
	SEVHashTable bool   `json:"sev_hash_table"` // kernel-hashes=on works (AmdSevX64 builds): direct boot is measured
	TDXMetadata  bool   `json:"tdx_metadata"`   // a TDVF: the image can boot a TD
	Err          string `json:"error,omitempty"`
}

// Firmware kinds.
const (
	FirmwareBIOS   = "bios"
	FirmwarePflash = "pflash"
)

// firmwareDirs are where distributions install OVMF images: Debian and
// Ubuntu (ovmf), Fedora (edk2-ovmf), Arch (edk2-ovmf), and QEMU's own
// data directory.
var firmwareDirs = []string{
	"/usr/share/ovmf",
	"/usr/share/OVMF",
	"/usr/share/qemu",
	"/usr/share/edk2/ovmf",
	"/usr/share/edk2/x64",
	"/usr/share/edk2-ovmf/x64",
}

// descriptorDirs hold QEMU firmware descriptors (docs/interop/firmware.json).
var descriptorDirs = []string{"/usr/share/qemu/firmware", "/etc/qemu/firmware"}

// Firmware lists the x86-64 OVMF images on this machine: those named by
// QEMU firmware descriptors and the *.fd files in the usual directories,
// once each (symlinks resolved), in the order found. VARS templates are
// not listed on their own; they are attached to their CODE image.
func (h *Host) Firmware() []Firmware {
	list := []Firmware{}
	seen := map[string]int{} // resolved path -> index in list
	add := func(sysPath, kind, vars string) *Firmware {
		real := h.path(sysPath)
		key := real
		if r, err := filepath.EvalSymlinks(real); err == nil {
			key = r
		}
		if i, ok := seen[key]; ok {
			return &list[i]
		}
		st, err := os.Stat(real)
		if err != nil || !st.Mode().IsRegular() {
			return nil
		}
		fw := Firmware{Path: real, Kind: kind, Size: st.Size()}
		if vars != "" && h.exists(vars) {
			fw.Vars = h.path(vars)
		}
		readFooter(&fw)
		seen[key] = len(list)
		list = append(list, fw)
		return &list[len(list)-1]
	}

	for _, dir := range descriptorDirs {
		files, _ := filepath.Glob(filepath.Join(h.path(dir), "*.json"))
		sort.Strings(files)
		for _, f := range files {
			d, ok := readDescriptor(f)
			if !ok {
				continue
			}
			if fw := add(d.path, d.kind, d.vars); fw != nil && fw.Descriptor == "" {
				fw.Descriptor = f
				fw.Features = d.features
			}
		}
	}
	for _, dir := range firmwareDirs {
		files, _ := filepath.Glob(filepath.Join(h.path(dir), "*.fd"))
		sort.Strings(files)
		for _, f := range files {
			name := filepath.Base(f)
			if strings.Contains(strings.ToUpper(name), "VARS") {
				continue
			}
			sys := h.unroot(f)
			if strings.Contains(strings.ToUpper(name), "CODE") {
				add(sys, FirmwarePflash, filepath.Join(dir, varsName(name)))
			} else {
				add(sys, FirmwareBIOS, "")
			}
		}
	}
	return list
}

// varsName guesses the VARS template of a CODE image the way the
// distributions name them: OVMF_CODE_4M.fd -> OVMF_VARS_4M.fd. Variants
// with enrolled keys (.ms, .secboot) share the plain template's name
// minus the suffix on Debian, which the descriptor states exactly.
func varsName(code string) string {
	return strings.Replace(strings.Replace(code, "CODE", "VARS", 1), ".secboot", "", 1)
}

type descriptor struct {
	path, kind, vars string
	features         []string
}

// readDescriptor reads a QEMU firmware descriptor for an x86_64 UEFI image.
func readDescriptor(file string) (descriptor, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return descriptor{}, false
	}
	var j struct {
		InterfaceTypes []string `json:"interface-types"`
		Mapping        struct {
			Device     string `json:"device"`
			Filename   string `json:"filename"` // device "memory"
			Executable struct {
				Filename string `json:"filename"`
			} `json:"executable"`
			NVRAMTemplate struct {
				Filename string `json:"filename"`
			} `json:"nvram-template"`
		} `json:"mapping"`
		Targets []struct {
			Architecture string `json:"architecture"`
		} `json:"targets"`
		Features []string `json:"features"`
	}
	if json.Unmarshal(b, &j) != nil || !slices.Contains(j.InterfaceTypes, "uefi") {
		return descriptor{}, false
	}
	x86 := false
	for _, t := range j.Targets {
		x86 = x86 || t.Architecture == "x86_64"
	}
	if !x86 {
		return descriptor{}, false
	}
	d := descriptor{features: j.Features}
	switch j.Mapping.Device {
	case "flash":
		d.path, d.kind, d.vars = j.Mapping.Executable.Filename, FirmwarePflash, j.Mapping.NVRAMTemplate.Filename
	case "memory":
		d.path, d.kind = j.Mapping.Filename, FirmwareBIOS
	default:
		return descriptor{}, false
	}
	return d, d.path != ""
}

// footerTail is how much of the end of an image is read for the table;
// real tables are a few hundred bytes.
const footerTail = 64 * 1024

func readFooter(fw *Firmware) {
	f, err := os.Open(fw.Path)
	if err != nil {
		fw.Err = err.Error()
		return
	}
	defer f.Close()
	n := int64(footerTail)
	if fw.Size < n {
		n = fw.Size
	}
	tail := make([]byte, n)
	if _, err := f.ReadAt(tail, fw.Size-n); err != nil && err != io.EOF {
		fw.Err = err.Error()
		return
	}
	// A damaged table still tells what its intact entries offer; the
	// measurement (launch/measure) refuses it.
	t, _ := ovmf.ParseTable(tail)
	_, fw.SEVMetadata = t[ovmf.SEVMetadata]
	// QEMU and sev-snp-measure accept the hashes table only with a
	// non-zero base address; plain OvmfPkgX64 builds carry the entry
	// with base 0.
	if e, ok := t[ovmf.SEVHashTable]; ok && len(e) >= 4 {
		fw.SEVHashTable = binary.LittleEndian.Uint32(e) != 0
	}
	_, fw.TDXMetadata = t[ovmf.TDXMetadata]
}

// InspectFirmware reads the GUIDed table of one firmware image the user
// names (e.g. `cube-hal launch --firmware F`): whether it carries SEV-SNP
// metadata, a usable kernel-hashes area, TDX metadata. Kind is "bios"; Err
// says why the file could not be read.
func InspectFirmware(path string) Firmware {
	fw := Firmware{Path: path, Kind: FirmwareBIOS}
	st, err := os.Stat(path)
	if err != nil {
		fw.Err = err.Error()
		return fw
	}
	fw.Size = st.Size()
	readFooter(&fw)
	return fw
}

package host

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
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

// GUIDs of OVMF's GUIDed table (edk2 OvmfPkg/ResetVector; the same names
// QEMU and sev-snp-measure use).
var (
	// GUIDTableFooter marks the table itself; its length covers all entries.
	GUIDTableFooter = mustGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
	// GUIDSEVMetadata: offset of the SEV-SNP metadata (pages to pre-validate).
	GUIDSEVMetadata = mustGUID("dc886566-984a-4798-a75e-5585a7bf67cc")
	// GUIDSEVHashTable: base and size of the area QEMU fills with the kernel,
	// initrd and cmdline hashes for kernel-hashes=on (base 0: no area).
	GUIDSEVHashTable = mustGUID("7255371f-3a3b-4b04-927b-1da6efa8d454")
	// GUIDSEVESResetBlock: the SEV-ES AP reset vector.
	GUIDSEVESResetBlock = mustGUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
	// GUIDTDXMetadata: offset of the TDVF metadata (a TD-capable image).
	GUIDTDXMetadata = mustGUID("e47a6535-984a-4798-865e-4685a7bf8ec2")
)

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
	t := ParseGUIDTable(tail)
	_, fw.SEVMetadata = t[GUIDSEVMetadata]
	// QEMU and sev-snp-measure accept the hashes table only with a
	// non-zero base address; plain OvmfPkgX64 builds carry the entry
	// with base 0.
	if e, ok := t[GUIDSEVHashTable]; ok && len(e) >= 4 {
		fw.SEVHashTable = binary.LittleEndian.Uint32(e) != 0
	}
	_, fw.TDXMetadata = t[GUIDTDXMetadata]
}

// GUID is a UEFI GUID in its on-disk (mixed-endian) byte order.
type GUID [16]byte

// String formats g the usual way, e.g. 96b582de-1fb2-45f7-baea-a366c55a082d.
func (g GUID) String() string {
	b := []byte{g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6]}
	b = append(b, g[8:]...)
	s := hex.EncodeToString(b)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// ParseGUID parses the usual text form of a GUID.
func ParseGUID(s string) (GUID, bool) {
	var g GUID
	h := strings.ReplaceAll(s, "-", "")
	if len(s) != 36 || len(h) != 32 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, false
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return g, false
	}
	copy(g[:], []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]})
	copy(g[8:], b[8:])
	return g, true
}

func mustGUID(s string) GUID {
	g, ok := ParseGUID(s)
	if !ok {
		panic("bad GUID " + s)
	}
	return g
}

// ParseGUIDTable reads the GUIDed table edk2's reset vector places at the
// end of an OVMF image (what QEMU's pc_system_ovmf_table_find and
// sev-snp-measure read). tail is the end of the image. The table ends 32
// bytes before the end; walking back from there, each entry is its data,
// then a little-endian uint16 length (data + 18), then its GUID; the
// outermost entry is the footer, whose length covers the whole table. It
// returns the data of each entry by GUID, or nil when there is no table.
func ParseGUIDTable(tail []byte) map[GUID][]byte {
	const hdr = 18 // uint16 length + GUID
	end := len(tail) - 32
	if end < hdr {
		return nil
	}
	var g GUID
	copy(g[:], tail[end-16:end])
	if g != GUIDTableFooter {
		return nil
	}
	size := int(binary.LittleEndian.Uint16(tail[end-hdr : end-16]))
	if size < hdr || size > end {
		return nil
	}
	table := map[GUID][]byte{}
	start := end - size
	p := end - hdr // end of the entries
	for p-start >= hdr {
		var eg GUID
		copy(eg[:], tail[p-16:p])
		n := int(binary.LittleEndian.Uint16(tail[p-hdr : p-16]))
		if n < hdr || n > p-start {
			break
		}
		table[eg] = tail[p-n : p-hdr]
		p -= n
	}
	return table
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

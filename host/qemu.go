package host

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// QEMU is a QEMU system emulator binary and what it says about itself.
type QEMU struct {
	Name        string   `json:"name"`                   // what was looked up, e.g. qemu-system-x86_64
	Path        string   `json:"path,omitempty"`         // where it was found; "" when not on PATH
	Version     Version  `json:"version"`                // from --version
	VersionText string   `json:"version_text,omitempty"` // the first line of --version
	Objects     []string `json:"objects,omitempty"`      // user-creatable object types (-object help), sorted
	Accels      []string `json:"accels,omitempty"`       // accelerators compiled in (-accel help), sorted; empty if it cannot say
	Err         string   `json:"error,omitempty"`        // why something above is missing
}

// Object types that tell what confidential guests a QEMU can start.
const (
	ObjectSEVGuest    = "sev-guest"            // SEV / SEV-ES
	ObjectSEVSNPGuest = "sev-snp-guest"        // SEV-SNP, QEMU >= 9.1
	ObjectTDXGuest    = "tdx-guest"            // TDX, QEMU >= 10.1
	ObjectIGVMCfg     = "igvm-cfg"             // IGVM firmware (COCONUT-SVSM), QEMU >= 10.1
	ObjectMemfd       = "memory-backend-memfd" // guest RAM for SNP and TDX
)

// Found reports whether the binary was found.
func (q QEMU) Found() bool { return q.Path != "" }

// HasObject reports whether -object help listed the object type t.
func (q QEMU) HasObject(t string) bool {
	_, ok := slices.BinarySearch(q.Objects, t)
	return ok
}

// HasAccel reports whether -accel help listed the accelerator a (kvm, tcg).
func (q QEMU) HasAccel(a string) bool {
	_, ok := slices.BinarySearch(q.Accels, a)
	return ok
}

// Version is a QEMU release number.
type Version struct {
	Major int `json:"major"`
	Minor int `json:"minor"`
	Micro int `json:"micro"`
}

func (v Version) String() string {
	if v == (Version{}) {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Micro)
}

// AtLeast reports whether v is major.minor or later.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// QEMU finds the named QEMU binary on PATH (or takes a path containing a
// slash as is) and asks it for its version, object types and
// accelerators. A missing binary or one that fails to answer is reported
// in Err; whatever was learnt before that is kept.
func (h *Host) QEMU(ctx context.Context, name string) QEMU {
	q := QEMU{Name: name}
	p, err := h.LookPath(name)
	if err != nil {
		q.Err = err.Error()
		return q
	}
	q.Path = p

	out, err := h.run(ctx, p, "--version")
	if err != nil {
		q.Err = fmt.Sprintf("%s --version: %v%s", p, err, firstLineSuffix(out))
		return q
	}
	q.VersionText = firstLine(string(out))
	v, ok := ParseQEMUVersion(string(out))
	if !ok {
		q.Err = fmt.Sprintf("%s --version: no version in %q", p, q.VersionText)
		return q
	}
	q.Version = v

	out, err = h.run(ctx, p, "-object", "help")
	if err != nil {
		q.Err = fmt.Sprintf("%s -object help: %v%s", p, err, firstLineSuffix(out))
		return q
	}
	q.Objects = ParseHelpList(string(out))

	// Best effort: QEMU releases before -accel help leave Accels empty
	// without making the binary look broken.
	if out, err = h.run(ctx, p, "-accel", "help"); err == nil {
		q.Accels = ParseHelpList(string(out))
	}
	return q
}

var qemuVersionRE = regexp.MustCompile(`(?m)^QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?`)

// ParseQEMUVersion finds the release number in the output of
// `qemu-system-x86_64 --version`, e.g. "QEMU emulator version 7.2.22
// (Debian 1:7.2+dfsg-7+deb12u18+b3)".
func ParseQEMUVersion(s string) (Version, bool) {
	m := qemuVersionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, false
	}
	var v Version
	var err error
	if v.Major, err = strconv.Atoi(m[1]); err != nil {
		return Version{}, false
	}
	if v.Minor, err = strconv.Atoi(m[2]); err != nil {
		return Version{}, false
	}
	if m[3] != "" {
		if v.Micro, err = strconv.Atoi(m[3]); err != nil {
			return Version{}, false
		}
	}
	return v, true
}

// ParseHelpList reads the names QEMU prints for `-object help` or `-accel
// help`: every line after the heading (the first line ending in ":") that
// is a single word. The result is sorted and without duplicates.
func ParseHelpList(s string) []string {
	var names []string
	inList := false
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if !inList {
			inList = strings.HasSuffix(t, ":")
			continue
		}
		if t == "" || strings.ContainsAny(t, " \t:") {
			continue
		}
		names = append(names, t)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func firstLineSuffix(out []byte) string {
	if l := firstLine(string(out)); l != "" {
		return ": " + l
	}
	return ""
}

package build

import (
	"bytes"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// StepLine is one of Buildroot's progress messages, printed by
// support/misc/utils.mk's MESSAGE macro as
// "$(TERM_BOLD)>>> $(NAME) $(VERSION) $(MSG)$(TERM_RESET)".
// Global steps (finalizing, filesystem images, overlays) have an empty
// Package and Version.
type StepLine struct {
	Package string // "host-tar"; empty for a global step
	Version string // "1.35"; empty for packages without one (host-skeleton)
	Label   string // "Extracting", "Installing to target", "Generating filesystem image rootfs.cpio"
}

// displayText is what a terminal shows for one raw output line: the text
// after the last carriage return (progress bars redraw with CR), without
// escape sequences.
func displayText(raw []byte) string {
	raw = bytes.TrimRight(raw, "\r")
	if i := bytes.LastIndexByte(raw, '\r'); i >= 0 {
		raw = raw[i+1:]
	}
	if bytes.IndexByte(raw, 0x1b) < 0 && bytes.IndexByte(raw, 0x9b) < 0 {
		return string(raw)
	}
	return ansi.Strip(string(raw))
}

var stepMarker = []byte(">>> ")

// ParseStepLine recognises a Buildroot ">>>" message in one raw output line
// (as a pty delivers it: standout escapes, trailing CR). The version is
// separated from the name by exactly one space and may be empty (">>>
// host-skeleton  Extracting"), so the line is split on single spaces rather
// than on runs of blanks.
func ParseStepLine(raw []byte) (StepLine, bool) {
	if !bytes.Contains(raw, stepMarker) {
		return StepLine{}, false
	}
	s := displayText(raw)
	if !strings.HasPrefix(s, ">>> ") {
		return StepLine{}, false
	}
	s = s[len(">>> "):]
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return StepLine{}, false
	}
	name, rest := s[:i], s[i+1:]
	j := strings.IndexByte(rest, ' ')
	if j < 0 {
		return StepLine{}, false
	}
	version, label := rest[:j], strings.TrimRight(rest[j+1:], " \t")
	if label == "" || strings.ContainsAny(name, "/:") {
		return StepLine{}, false
	}
	return StepLine{Package: name, Version: version, Label: label}, true
}

// MakeError is one of make's "*** [target] Error N" lines. When the target is
// one of Buildroot's stamp files it names the package directory and the step
// that failed: "make: *** [package/pkg-generic.mk:179:
// /o/build/host-tar-1.35/.stamp_downloaded] Error 1".
type MakeError struct {
	Line        string // the whole line, plain text
	Target      string // "/o/build/host-tar-1.35/.stamp_downloaded"
	Dir         string // "host-tar-1.35" when Target is a stamp file
	Step        string // "download" when Target is a stamp file
	Status      int    // N of "Error N"; 0 for "Interrupt"
	Interrupted bool   // "*** [...] Interrupt": make was signalled
}

var makeErrMarker = []byte("*** ")

var (
	makeErrRe  = regexp.MustCompile(`^(?:g?make|\S*/g?make)(?:\[\d+\])?: \*\*\* \[(.*)\] (Error (\d+)|Interrupt)`)
	makeStopRe = regexp.MustCompile(`^(?:g?make|\S*/g?make)(?:\[\d+\])?: \*\*\* (.*)\.\s+Stop\.`)
)

// stampSteps maps Buildroot's stamp files to the instrumentation step that
// creates them (package/pkg-generic.mk).
var stampSteps = map[string]string{
	".stamp_downloaded":        "download",
	".stamp_actual_downloaded": "actual-download",
	".stamp_extracted":         "extract",
	".stamp_rsynced":           "rsync",
	".stamp_patched":           "patch",
	".stamp_configured":        "configure",
	".stamp_built":             "build",
	".stamp_host_installed":    "install-host",
	".stamp_staging_installed": "install-staging",
	".stamp_images_installed":  "install-image",
	".stamp_target_installed":  "install-target",
	".stamp_installed":         "install",
}

// ParseMakeError recognises make's error line for a failed recipe.
func ParseMakeError(raw []byte) (MakeError, bool) {
	if !bytes.Contains(raw, makeErrMarker) {
		return MakeError{}, false
	}
	s := displayText(raw)
	m := makeErrRe.FindStringSubmatch(s)
	if m == nil {
		return MakeError{}, false
	}
	e := MakeError{Line: s, Target: m[1]}
	// GNU make 4.3+ prefixes the recipe location: "file.mk:179: target".
	if i := strings.LastIndex(e.Target, ": "); i >= 0 {
		e.Target = e.Target[i+2:]
	}
	if m[2] == "Interrupt" {
		e.Interrupted = true
	} else {
		e.Status, _ = strconv.Atoi(m[3])
	}
	if step, ok := stampSteps[path.Base(e.Target)]; ok {
		e.Step = step
		e.Dir = path.Base(path.Dir(e.Target))
	}
	return e, true
}

// parseMakeStop recognises make's fatal "*** No rule to make target 'x'.
// Stop." style lines and returns the reason.
func parseMakeStop(raw []byte) (string, bool) {
	if !bytes.Contains(raw, makeErrMarker) {
		return "", false
	}
	m := makeStopRe.FindStringSubmatch(displayText(raw))
	if m == nil {
		return "", false
	}
	return m[1], true
}

var warningMarker = []byte("warning:")

// isWarning reports whether a raw line is a compiler or linker diagnostic of
// warning level: "foo.c:12:5: warning: ...", "cc1: warning: ...",
// "ld: warning: ...". GCC colours the word, so the test runs on the plain
// text; lines without "warning:" in the raw bytes are rejected without
// stripping anything.
func isWarning(raw []byte) bool {
	if !bytes.Contains(raw, warningMarker) {
		return false
	}
	return strings.Contains(displayText(raw), ": warning: ")
}

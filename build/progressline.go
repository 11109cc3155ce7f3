package build

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// stepLabels are the words Buildroot's ">>>" lines use for each
// instrumentation step (package/pkg-generic.mk).
var stepLabels = map[string]string{
	"download":        "Downloading",
	"actual-download": "Downloading",
	"extract":         "Extracting",
	"rsync":           "Syncing",
	"patch":           "Patching",
	"configure":       "Configuring",
	"build":           "Building",
	"install-host":    "Installing to host",
	"install-staging": "Installing to staging",
	"install-image":   "Installing to images",
	"install-target":  "Installing to target",
}

// StepLabel is the human word for an instrumentation step ("build" →
// "Building"); unknown steps are returned as they are.
func StepLabel(step string) string {
	if l, ok := stepLabels[step]; ok {
		return l
	}
	return step
}

// FormatDuration prints a duration the way build tools do: "0:07",
// "12:04", "1:02:03".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Activity describes what the build is doing now: "host-gcc-final:
// Building", several packages joined by ", ", a global step, or else the
// last line of output.
func (s Snapshot) Activity() string {
	if len(s.Active) > 0 {
		parts := make([]string, len(s.Active))
		for i, p := range s.Active {
			parts[i] = p.Name + ": " + StepLabel(p.Step)
		}
		return strings.Join(parts, ", ")
	}
	if s.GlobalStep != "" {
		return s.GlobalStep
	}
	// Between steps, and before the first one (make's own checks,
	// syncconfig, ...): the last line of output.
	return s.LastLine
}

const barWidth = 24

// ProgressLine renders the one-line status cargo-style, cut to width
// display columns:
//
//	Building [=========>              ] 35/61 host-gcc-final: Building  12:04 ETA 18:30
//
// With color, the verb is bold cyan. Width 0 means no limit.
func ProgressLine(s Snapshot, width int, color bool) string {
	verb := "Building"
	switch {
	case s.Cancelling:
		verb = "Cancelling"
	case s.Phase == Preparing:
		verb = "Preparing"
	case s.Phase == Cancelled:
		verb = "Cancelled"
	case s.Phase == Failed:
		verb = "Failed"
	case s.Phase == Succeeded:
		verb = "Finished"
	}
	if color {
		verb = "\x1b[1;36m" + verb + "\x1b[0m"
		if s.Phase == Failed || s.Phase == Cancelled || s.Cancelling {
			verb = "\x1b[1;31m" + ansi.Strip(verb) + "\x1b[0m"
		}
	}
	var b strings.Builder
	b.WriteString(verb)
	if s.Total > 0 && s.Percent >= 0 {
		fill := int(s.Percent / 100 * barWidth)
		fill = min(max(fill, 0), barWidth)
		b.WriteString(" [")
		b.WriteString(strings.Repeat("=", fill))
		if fill < barWidth {
			b.WriteByte('>')
			b.WriteString(strings.Repeat(" ", barWidth-fill-1))
		}
		fmt.Fprintf(&b, "] %d/%d", s.Done, s.Total)
	}
	act := s.Activity()
	if s.Phase.Finished() {
		act = ""
	}
	if s.Phase == Preparing && act == "" && !s.Cancelling {
		act = "reading the package list (make show-info)"
	}
	if act != "" {
		b.WriteString(" " + act)
	}
	b.WriteString("  " + FormatDuration(s.Elapsed))
	if s.ETA > 0 && !s.Phase.Finished() {
		b.WriteString(" ETA " + FormatDuration(s.ETA))
	}
	line := b.String()
	if width > 0 && ansi.StringWidth(line) > width {
		line = ansi.Truncate(line, width, "…")
	}
	return line
}

// EventLine renders a journal entry as one line of plain output (for logs
// and CI), with the time since the build started:
//
//	[0:12] 3/61 host-pkgconf: Downloading
//	[0:40] 4/61 host-pkgconf built in 0:28
//	[12:01] Generating filesystem image rootfs.cpio
//
// It returns "" for entries not worth a line of their own (step ends).
func EventLine(e Event, started time.Time) string {
	at := "[" + FormatDuration(e.Time.Sub(started)) + "] "
	count := ""
	if e.Total > 0 {
		count = fmt.Sprintf("%d/%d ", e.Done, e.Total)
	}
	switch e.Kind {
	case StepStarted:
		return at + count + e.Package + ": " + StepLabel(e.Step)
	case PackageBuilt:
		return at + count + e.Package + " built in " + FormatDuration(e.Elapsed)
	case GlobalStep:
		return at + e.Step
	case Note:
		return "note: " + e.Step
	}
	return ""
}

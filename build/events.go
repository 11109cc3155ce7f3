package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EventsEnv names the FIFO the instrumentation script writes to. make passes
// its environment to every recipe, so the script finds it there.
const EventsEnv = "CUBE_HAL_EVENTS"

// instrumentScript is the BR2_INSTRUMENTATION_SCRIPTS hook cube-hal writes
// for each build. Buildroot runs it at the start and end of every package
// step with three arguments: start|end, the step (download, extract, patch,
// configure, build, install-target, ...) and the package name
// (package/pkg-generic.mk, step_user). One short write to a FIFO is atomic,
// so steps of packages built in parallel never interleave. When the
// variable is unset (make run by hand with the same .config), it does
// nothing.
const instrumentScript = `#!/bin/sh
# Written by cube-hal for one build: reports Buildroot's step events
# ("start|end STEP PACKAGE") to the cube-hal process that runs make.
[ -p "${` + EventsEnv + `:-}" ] || exit 0
printf '%s %s %s\n' "$1" "$2" "$3" >"$` + EventsEnv + `"
exit 0
`

// StepEvent is one instrumentation call: a package step starting or ending.
type StepEvent struct {
	Start   bool   // true for "start", false for "end"
	Step    string // "download", "build", "install-target", ...
	Package string // "host-tar"
}

// ParseStepEvent parses one line written by the instrumentation script.
func ParseStepEvent(line string) (StepEvent, error) {
	f := strings.Fields(line)
	if len(f) < 2 || len(f) > 3 {
		return StepEvent{}, fmt.Errorf("instrumentation event %q: want \"start|end STEP PACKAGE\"", line)
	}
	var ev StepEvent
	switch f[0] {
	case "start":
		ev.Start = true
	case "end":
	default:
		return StepEvent{}, fmt.Errorf("instrumentation event %q: %q is neither start nor end", line, f[0])
	}
	ev.Step = f[1]
	if len(f) == 3 {
		ev.Package = f[2]
	}
	return ev, nil
}

// instrumentDir makes the per-build directory holding the script and the
// FIFO. BR2_INSTRUMENTATION_SCRIPTS is a space-separated list, so the path
// must not contain blanks; a TMPDIR that does falls back to /tmp.
func instrumentDir() (dir, script, fifo string, err error) {
	base := os.TempDir()
	if strings.ContainsAny(base, " \t\n") {
		base = "/tmp"
	}
	dir, err = os.MkdirTemp(base, "cube-hal-build-")
	if err != nil {
		return "", "", "", fmt.Errorf("instrumentation directory: %w", err)
	}
	script = filepath.Join(dir, "instrument.sh")
	if err := os.WriteFile(script, []byte(instrumentScript), 0o755); err != nil {
		os.RemoveAll(dir)
		return "", "", "", fmt.Errorf("instrumentation script: %w", err)
	}
	fifo = filepath.Join(dir, "events")
	if err := mkfifo(fifo); err != nil {
		os.RemoveAll(dir)
		return "", "", "", fmt.Errorf("instrumentation FIFO %s: %w", fifo, err)
	}
	return dir, script, fifo, nil
}

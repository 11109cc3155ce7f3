package build

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// History holds how long each package step took in earlier builds of this
// output directory, read from Buildroot's $(O)/build/build-time.log. It is
// what the ETA and the per-package weights are made of.
type History struct {
	steps map[string]map[string]time.Duration // package → step → latest duration
}

// Step returns the latest recorded duration of a package step.
func (h *History) Step(pkg, step string) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	d, ok := h.steps[pkg][step]
	return d, ok
}

// Package returns the sum of a package's latest step durations.
func (h *History) Package(pkg string) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	s, ok := h.steps[pkg]
	if !ok {
		return 0, false
	}
	var total time.Duration
	for _, d := range s {
		total += d
	}
	return total, true
}

// Len is the number of packages with a recorded duration.
func (h *History) Len() int {
	if h == nil {
		return 0
	}
	return len(h.steps)
}

// ParseBuildTimeLog reads build-time.log records, written by
// package/pkg-generic.mk's step_time hook as
//
//	printf "%s:%-5.5s:%-20.20s: %s\n" "$(date +%s.%N)" start|end STEP PKG
//
// e.g. "1795626331.282190285:start:download            : host-skeleton".
// The file is append-only across builds, so a later record of the same step
// replaces an earlier one; a start with no end (a failed or cancelled step)
// is ignored. Step names longer than 20 characters are truncated by the
// format, which is harmless here since they are only used as keys.
func ParseBuildTimeLog(r io.Reader) (*History, error) {
	h := &History{steps: map[string]map[string]time.Duration{}}
	type key struct{ pkg, step string }
	open := map[key]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: %q: want TIME:start|end:STEP: PACKAGE", n, line)
		}
		ts, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad timestamp %q", n, f[0])
		}
		k := key{pkg: strings.TrimSpace(f[3]), step: strings.TrimSpace(f[2])}
		switch strings.TrimSpace(f[1]) {
		case "start":
			open[k] = ts
		case "end":
			start, ok := open[k]
			if !ok {
				continue
			}
			delete(open, k)
			d := time.Duration((ts - start) * float64(time.Second))
			if d < 0 {
				d = 0
			}
			if h.steps[k.pkg] == nil {
				h.steps[k.pkg] = map[string]time.Duration{}
			}
			h.steps[k.pkg][k.step] = d
		default:
			return nil, fmt.Errorf("line %d: %q is neither start nor end", n, f[1])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n, err)
	}
	return h, nil
}

// readHistory reads the build-time.log of an output directory; a missing
// file is an empty history (a first build).
func readHistory(path string) (*History, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &History{steps: map[string]map[string]time.Duration{}}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := ParseBuildTimeLog(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

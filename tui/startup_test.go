package tui

import (
	"errors"
	"runtime/debug"
	"testing"
)

// withoutGC turns the collector off (bounded by a memory limit) while
// the configuration loads, passes the load's result through, and puts
// the caller's settings back.
func TestWithoutGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(77))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(2 << 30))
	boom := errors.New("boom")
	var during int
	var limit int64
	_, err := withoutGC(func() (Engine, error) {
		during = debug.SetGCPercent(-1)
		limit = debug.SetMemoryLimit(-1)
		return nil, boom
	})()
	if !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
	if during != -1 || limit != loadMemoryLimit {
		t.Errorf("while loading: GC percent %d, memory limit %d", during, limit)
	}
	if p := debug.SetGCPercent(77); p != 77 {
		t.Errorf("GC percent after the load %d, want 77", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 2<<30 {
		t.Errorf("memory limit after the load %d, want %d", l, int64(2<<30))
	}
}

package build

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

func TestProgressLine(t *testing.T) {
	s := Snapshot{
		Phase: Running, Done: 35, Total: 61, Percent: 40,
		Elapsed: 12*time.Minute + 4*time.Second, ETA: 18*time.Minute + 30*time.Second,
		Active: []Package{{Name: "host-gcc-final", Step: "build"}},
	}
	want := "Building [=========>              ] 35/61 host-gcc-final: Building  12:04 ETA 18:30"
	if got := ProgressLine(s, 0, false); got != want {
		t.Errorf("ProgressLine =\n%q\nwant\n%q", got, want)
	}
	if got := ProgressLine(s, 0, true); ansi.Strip(got) != want || !strings.HasPrefix(got, "\x1b[1;36mBuilding\x1b[0m") {
		t.Errorf("coloured: %q", got)
	}
	for _, w := range []int{10, 40, 79, 200} {
		got := ProgressLine(s, w, true)
		if ansi.StringWidth(got) > w {
			t.Errorf("width %d: %d columns: %q", w, ansi.StringWidth(got), got)
		}
	}
	tests := []struct {
		s    Snapshot
		want string
	}{
		{Snapshot{Phase: Preparing, Elapsed: 3 * time.Second, ETA: -1, Percent: -1}, "Preparing reading the package list (make show-info)  0:03"},
		{Snapshot{Phase: Running, Elapsed: 2 * time.Second, ETA: -1, Percent: -1, Active: []Package{{Name: "a", Step: "extract"}, {Name: "b", Step: "install-target"}}}, "Building a: Extracting, b: Installing to target  0:02"},
		{Snapshot{Phase: Running, Done: 61, Total: 61, Percent: 99.9, Elapsed: time.Hour + 2*time.Minute + 3*time.Second, ETA: -1, GlobalStep: "Generating filesystem image rootfs.cpio"}, "Building [=======================>] 61/61 Generating filesystem image rootfs.cpio  1:02:03"},
		{Snapshot{Phase: Succeeded, Done: 7, Total: 7, Percent: 100, Elapsed: 90 * time.Second}, "Finished [========================] 7/7  1:30"},
		{Snapshot{Phase: Running, Cancelling: true, Done: 3, Total: 7, Percent: 50, Elapsed: 9 * time.Second, ETA: time.Minute, Active: []Package{{Name: "busybox", Step: "build"}}}, "Cancelling [============>           ] 3/7 busybox: Building  0:09 ETA 1:00"},
		{Snapshot{Phase: Preparing, Cancelling: true, Elapsed: 3 * time.Second, ETA: -1, Percent: -1}, "Cancelling  0:03"},
		{Snapshot{Phase: Running, Done: 1, Total: 4, Percent: 25, ETA: -1, Current: "x", LastLine: ">>> x 1.0 Configuring", Packages: []Package{{Name: "x", Status: Building, Step: "configure"}}}, "Building [======>                 ] 1/4 >>> x 1.0 Configuring  0:00"},
	}
	for _, tc := range tests {
		if got := ProgressLine(tc.s, 0, false); got != tc.want {
			t.Errorf("ProgressLine =\n%q\nwant\n%q", got, tc.want)
		}
	}
}

func TestEventLine(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Time: t0.Add(12 * time.Second), Kind: StepStarted, Package: "host-pkgconf", Step: "download", Done: 3, Total: 61}, "[0:12] 3/61 host-pkgconf: Downloading"},
		{Event{Time: t0.Add(40 * time.Second), Kind: PackageBuilt, Package: "host-pkgconf", Elapsed: 28 * time.Second, Done: 4, Total: 61}, "[0:40] 4/61 host-pkgconf built in 0:28"},
		{Event{Time: t0.Add(721 * time.Second), Kind: GlobalStep, Step: "Finalizing target directory"}, "[12:01] Finalizing target directory"},
		{Event{Kind: Note, Step: "removed from make's environment: X"}, "note: removed from make's environment: X"},
		{Event{Kind: StepStarted, Time: t0, Package: "p", Step: "odd-step"}, "[0:00] p: odd-step"},
		{Event{Kind: StepEnded}, ""},
	} {
		if got := EventLine(tc.e, t0); got != tc.want {
			t.Errorf("EventLine = %q, want %q", got, tc.want)
		}
	}
}

func TestProgressLineBeforeTheFirstStep(t *testing.T) {
	s := Snapshot{Phase: Running, Total: 61, Percent: 0, ETA: -1, Elapsed: 5 * time.Second, LastLine: "GEN     /o/Makefile"}
	if got, want := ProgressLine(s, 0, false), "Building [>                       ] 0/61 GEN     /o/Makefile  0:05"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

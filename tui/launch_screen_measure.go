package tui

import (
	"encoding/hex"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/launch"
	"github.com/ultravioletrs/cube-hal/launch/measure"
)

// The launch screen shows the SEV-SNP launch digest an SNP VM started
// from it would carry (s, with the images and settings on screen), before
// any launch and on any host: the value a user checks reports against,
// and the one 'cube-hal launch --mode snp --dry-run' prints for the same
// files. Once an SNP VM runs, its run record's digest takes its place, and
// that one is what the Attest screen checks.

// snpExpect is the SEV-SNP launch digest of a configuration, or why there
// is none.
type snpExpect struct {
	key    string // the configuration and its files' sizes and times
	cfg    launch.Config
	opts   measure.Options // what is measured
	digest string          // hex; "" when err is set
	notes  []string
	err    error
}

// snpMsg is a computed digest (nil snp: the inputs did not change).
type snpMsg struct {
	seq int
	snp *snpExpect
}

// launchConfig is the configuration the launch screen starts mode with:
// the images found and the settings. It is also what the SEV-SNP digest
// is computed from, so the value shown is that of the VM s starts.
func launchConfig(mode launch.Mode, im launch.Images, set launchSettings) launch.Config {
	cfg := launch.Config{
		Mode: mode, Name: set.Name, Kernel: im.Kernel, Initrd: im.Initrd,
		Append: set.Append, MemoryMB: set.MemoryMB, CPUs: set.CPUs,
		Ports: launch.Ports{SSH: launch.DefaultSSHPort, Agent: launch.DefaultAgentPort, GuestAgent: launch.DefaultGuestAgentPort},
	}
	switch mode {
	case launch.ModeSNP:
		cfg.Firmware, cfg.SNP = im.Firmware, launch.DefaultSNP
	case launch.ModeTDX:
		cfg.Firmware, cfg.TDX = im.Firmware, launch.DefaultTDX
	}
	return cfg
}

// expectSNP computes the digest of an SNP launch of im with set (it reads
// the files: call it in a command). It returns nil when the inputs are
// those of prevKey, whose result stands.
func expectSNP(im launch.Images, set launchSettings, prevKey string) *snpExpect {
	cfg := launchConfig(launch.ModeSNP, im, set).WithDefaults()
	key := fmt.Sprintf("%q %q %q %q %d %q %v", cfg.Firmware, cfg.Kernel, cfg.Initrd, cfg.Append, cfg.CPUs, cfg.SNP.CPUModel, cfg.SNP.KernelHashes)
	for _, f := range []string{cfg.Firmware, cfg.Kernel, cfg.Initrd} {
		if st, err := os.Stat(f); err == nil {
			key += fmt.Sprintf(" %d@%d", st.Size(), st.ModTime().UnixNano())
		}
	}
	if key == prevKey {
		return nil
	}
	e := &snpExpect{key: key, cfg: cfg}
	e.opts, e.notes, e.err = cfg.SNPMeasureOptions()
	if e.err != nil {
		return e
	}
	d, _, err := cfg.ExpectedSNPMeasurement()
	if err != nil {
		e.err = err
		return e
	}
	e.digest = hex.EncodeToString(d)
	return e
}

// measureCmd recomputes the digest for the images and settings now.
func (s *launchScreen) measureCmd() tea.Cmd {
	if s.imagesErr != nil || s.images.Kernel == "" {
		return nil
	}
	s.snpSeq++
	seq, im, set, prev := s.snpSeq, s.images, s.settings, ""
	if s.snp != nil {
		prev = s.snp.key
	}
	return func() tea.Msg { return snpMsg{seq: seq, snp: expectSNP(im, set, prev)} }
}

// digestText fits a hex digest into w columns: whole when it fits, else
// its first and last digits around an ellipsis (the details show it all).
func digestText(h string, w int) string {
	if len(h) <= w {
		return h
	}
	n := max(2, (w-1)/2)
	if 2*n >= len(h) {
		return h
	}
	return h[:n] + "…" + h[len(h)-n:]
}

// digestLines is a 96-digit digest in two halves, one a line: they line
// up on any screen 52 columns wide or more (a whole one was broken
// wherever the width fell).
func digestLines(h string) []string {
	if len(h) <= 48 {
		return []string{h}
	}
	return []string{h[:len(h)/2], h[len(h)/2:]}
}

// snpLine is the launch panel's line about the digest an SNP launch
// would have; "" when there is no firmware to launch SNP with (the host
// line says so).
func (v launchView) snpLine(st *Styles, lw, w int) string {
	if v.images.Firmware == "" || v.imagesErr != nil {
		return ""
	}
	room := w - lw - 4
	e := v.snp
	switch {
	case e == nil:
		return kvLine(st, "Measure", st.Work.Muted.Render(truncate("computing the SEV-SNP launch digest…", room)), lw, w)
	case e.err != nil:
		return kvLine(st, "Measure", st.Work.Bad.Render("✗ ")+st.Work.Muted.Render(truncate("no SEV-SNP digest: "+e.err.Error(), room-2)), lw, w)
	}
	tail := " if launched with s (i: details)"
	return kvLine(st, "Measure", st.Work.Value.Render(digestText(e.digest, max(8, room-len(tail))))+st.Work.Muted.Render(tail), lw, w)
}

// snpDetails is the info pane's section about the digest an SNP launch
// would have, with what it covers.
func (s *launchScreen) snpDetails() []Section {
	e := s.snp
	if e == nil || s.imagesErr != nil {
		return nil
	}
	title := "Expected SEV-SNP measurement of a launch with s (these images and settings)"
	if e.err != nil {
		return []Section{{Title: title, Lines: []string{"none: " + e.err.Error()}}}
	}
	o := e.opts
	l := append(digestLines(e.digest), "", "firmware      "+o.OVMF)
	if o.Kernel != "" {
		l = append(l, "kernel        "+o.Kernel, "initrd        "+o.Initrd, fmt.Sprintf("command line  %q", o.Append))
	}
	features := o.GuestFeatures
	if features == 0 {
		features = measure.DefaultGuestFeatures
	}
	l = append(l, fmt.Sprintf("vCPUs         %d × %s, guest features 0x%x, VMM qemu", o.VCPUs, o.VCPUType, features))
	for _, n := range e.notes {
		l = append(l, "note: "+n)
	}
	l = append(l, "", "'cube-hal launch --mode snp --dry-run' prints the same value for the same files and settings; "+
		"the Attest screen checks an SNP VM's reports against the digest it was started with.")
	return []Section{{Title: title, Lines: l}}
}

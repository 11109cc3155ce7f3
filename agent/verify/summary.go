package verify

import (
	"fmt"
	"io"
	"strings"

	"github.com/ultravioletrs/cube-hal/agent/evidence"
)

// PlatformName is the human name of a platform.
func PlatformName(p evidence.Platform) string {
	switch p {
	case evidence.SNP:
		return "AMD SEV-SNP"
	case evidence.TDX:
		return "Intel TDX"
	}
	return string(p)
}

var statusLabel = map[Status]string{Pass: "ok", Fail: "FAIL", Skip: "skip", Warn: "warn"}

// WriteText writes a readable summary: what was attested, each check (with
// expected and actual values for failures), and the verdict on the last
// line.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	tags := []string{PlatformName(r.Platform), string(r.Transport)}
	if r.Fake {
		tags = append(tags, "FAKE TSM / TEST ROOTS")
	}
	fmt.Fprintf(&b, "Attestation of %s (%s)\n", r.Agent, strings.Join(tags, ", "))
	fmt.Fprintf(&b, "  measurement  %s\n", r.Measurement)
	fmt.Fprintf(&b, "  report data  %s\n", r.ReportData)
	fmt.Fprintf(&b, "  nonce        %s\n", r.Nonce)
	d := r.Details
	switch r.Platform {
	case evidence.SNP:
		if d.Product != "" {
			fmt.Fprintf(&b, "  product      %s\n", d.Product)
		}
		if d.VMPL != nil {
			fmt.Fprintf(&b, "  vmpl         %d\n", *d.VMPL)
		}
		fmt.Fprintf(&b, "  guest policy %s\n", d.GuestPolicy)
		fmt.Fprintf(&b, "  reported TCB %s\n", d.ReportedTCB)
	case evidence.TDX:
		fmt.Fprintf(&b, "  TD attrs     %s\n", d.TdAttributes)
		fmt.Fprintf(&b, "  TEE TCB SVN  %s\n", d.TeeTcbSvn)
		fmt.Fprintf(&b, "  MRSEAM       %s\n", d.MrSeam)
		for i, rt := range d.Rtmrs {
			fmt.Fprintf(&b, "  RTMR[%d]      %s\n", i, rt)
		}
	}
	b.WriteString("\n")
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		pad := strings.Repeat(" ", 4+2+width+2+2)
		var line string
		var more []string
		switch c.Status {
		case Pass:
			line = c.Actual
			if c.Detail != "" {
				line = c.Detail
			}
		case Skip:
			line = c.Actual
			if c.Detail != "" {
				line = strings.TrimSpace(line + "  (" + c.Detail + ")")
			}
		case Warn, Fail:
			if c.Expected == "" && c.Actual == "" {
				line = c.Detail
				break
			}
			if c.Expected != "" {
				more = append(more, "expected: "+c.Expected)
			}
			if c.Actual != "" {
				more = append(more, "actual:   "+c.Actual)
			}
			if c.Detail != "" {
				more = append(more, c.Detail)
			}
		}
		fmt.Fprintf(&b, "%s", strings.TrimRight(fmt.Sprintf("  %-4s  %-*s  %s", statusLabel[c.Status], width, c.Name, line), " ")+"\n")
		for _, m := range more {
			fmt.Fprintf(&b, "%s%s\n", pad, m)
		}
	}
	b.WriteString("\n")
	b.WriteString(r.Verdict())
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Verdict is the one-line conclusion.
func (r *Result) Verdict() string {
	if !r.Verified {
		var names []string
		for _, c := range r.Failed() {
			names = append(names, c.Name)
		}
		return fmt.Sprintf("NOT VERIFIED: %d check(s) failed: %s", len(names), strings.Join(names, ", "))
	}
	if r.Fake {
		return "VERIFIED against TEST roots: the plumbing works; this is not evidence about real hardware"
	}
	var skipped []string
	for _, c := range r.Checks {
		if c.Status == Skip {
			skipped = append(skipped, c.Name)
		}
	}
	if len(skipped) > 0 {
		return "VERIFIED (not checked: " + strings.Join(skipped, ", ") + ")"
	}
	return "VERIFIED"
}

package tui

import (
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/ultravioletrs/cube-hal/build"
)

// Pure render functions of the build, launch and attest screens: each
// takes what it draws and a size, and returns lines exactly that wide, so
// the goldens in testdata/ pin them at several widths.

// renderBox draws lines in a rounded box w x h with title in the top
// border and right (a position, a state) at the top border's end. The
// lines are cut or padded to the inner width; missing lines are blank.
func renderBox(st *Styles, title, right string, lines []string, focused bool, w, h int) []string {
	if w < 4 || h < 2 {
		return fitLines(lines, w, h)
	}
	bs := st.Work.Box
	if focused {
		bs = st.Work.BoxFocused
	}
	inner := w - 2
	// ╭─ title ─────── right ─╮
	t := truncate(title, max(0, inner-4))
	r := ""
	if right != "" && inner-ansi.StringWidth(t)-6 > 4 {
		r = truncate(right, inner-ansi.StringWidth(t)-6)
	}
	head := bs.Render("╭─")
	used := 2
	if t != "" {
		head += " " + st.Work.BoxTitle.Render(t) + " "
		used += ansi.StringWidth(t) + 2
	}
	tail := ""
	if r != "" {
		tail = " " + st.Work.Muted.Render(r) + " "
	}
	fill := w - used - ansi.StringWidth(tail) - 2
	head += bs.Render(strings.Repeat("─", max(0, fill))) + tail + bs.Render("─╮")
	out := []string{fitLine(head, w)}
	side := bs.Render("│")
	for i := 0; i < h-2; i++ {
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		out = append(out, side+fitLine(l, inner)+side)
	}
	out = append(out, bs.Render("╰"+strings.Repeat("─", inner)+"╯"))
	return out
}

// fitLines makes exactly h lines of exactly w columns.
func fitLines(lines []string, w, h int) []string {
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fitLine(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", max(0, w))
		}
	}
	return out
}

// renderProgressBar draws a w-wide bar for a fraction 0..1; a negative
// fraction draws a block bouncing with t (the build's size is unknown).
func renderProgressBar(st *Styles, frac float64, t time.Duration, w int) string {
	if w < 3 {
		return strings.Repeat(" ", max(0, w))
	}
	inner := w - 2
	var bar string
	if frac < 0 {
		// Bouncing: a quarter-width block moving once a second.
		blk := max(1, inner/4)
		span := inner - blk
		pos := 0
		if span > 0 {
			step := int(t/(250*time.Millisecond)) % (2 * span)
			pos = step
			if step > span {
				pos = 2*span - step
			}
		}
		bar = st.Work.BarEmpty.Render(strings.Repeat("░", pos)) + st.Work.BarFull.Render(strings.Repeat("█", blk)) +
			st.Work.BarEmpty.Render(strings.Repeat("░", inner-pos-blk))
	} else {
		frac = math.Min(1, frac)
		full := int(math.Round(frac * float64(inner)))
		bar = st.Work.BarFull.Render(strings.Repeat("█", full)) + st.Work.BarEmpty.Render(strings.Repeat("░", inner-full))
	}
	return st.Work.Muted.Render("▕") + bar + st.Work.Muted.Render("▏")
}

// kvLine is "  label  value" with the label padded to lw.
func kvLine(st *Styles, label, value string, lw, w int) string {
	pad := max(0, lw-ansi.StringWidth(label))
	return fitLine("  "+st.Work.Label.Render(label)+strings.Repeat(" ", pad)+"  "+value, w)
}

// renderConfirm asks a yes/no question in a centred box.
func renderConfirm(st *Styles, title string, lines []string, keys []key.Binding, w, h int) string {
	var b strings.Builder
	b.WriteString(st.Dialog.Title.Render(title))
	b.WriteString("\n\n")
	inner := dialogInner(st, w)
	for _, l := range lines {
		for _, wl := range wrap(l, inner) {
			b.WriteString(st.Dialog.Text.Render(wl))
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	b.WriteString(keyLine(st, keys, inner))
	return placeCenter(st.Dialog.Box.Width(inner+st.Dialog.Box.GetHorizontalPadding()).Render(b.String()), w, h)
}

// mark is a check's marker: a symbol and a word, so the state reads
// without colour.
func mark(st *Styles, ok bool) string {
	if ok {
		return st.Work.OK.Render("✓")
	}
	return st.Work.Bad.Render("✗")
}

// clock is a duration as build tools print it ("0:07", "1:02:03").
func clock(d time.Duration) string { return build.FormatDuration(d) }

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

package tui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// The functions in this file are pure: they take plain data and a size and
// return exactly that many lines of exactly that width. The screens only
// gather the data; golden tests pin the drawing at several widths.

// listRow is one row of a menu list as drawn.
type listRow struct {
	Group      bool // a heading of the Cube view (not an item)
	Note       bool // a muted line of text (not an item)
	Comment    bool // a Kconfig comment: "*** text ***"
	Depth      int  // indentation level (dependent symbols)
	Box        string
	Prompt     string
	Name       string // the symbol name, drawn after the prompt (names mode)
	Value      string // the value column; "" for none
	ValueMuted bool   // the value is a placeholder such as "(empty)"
	Submenu    bool   // "--->": Enter opens a menu or a choice
	Changed    bool
	Invalid    bool
	Forced     bool
	Hidden     bool
	// Edit, when set, is the rendered text input that replaces the value
	// column of this row while it is being edited.
	Edit string
}

// Column widths of the list.
const (
	cursorCols = 2 // "> "
	boxCols    = 4 // "[*] "
	markCols   = 4 // " !*^"
)

// marks is the text form of a row's markers, so they survive NO_COLOR:
// ! invalid, * changed from the default, ^ forced by a select, ~ hidden.
func (r listRow) marks() string {
	m := ""
	if r.Invalid {
		m += "!"
	}
	if r.Changed {
		m += "*"
	}
	if r.Forced {
		m += "^"
	}
	if r.Hidden {
		m += "~"
	}
	if len(m) > markCols-1 {
		m = m[:markCols-1]
	}
	return m
}

// valueCols is the width of the value column for a list w wide: about
// two fifths of the room, so prompts keep most of it.
func valueCols(w int) int {
	v := (w - cursorCols - boxCols - markCols) * 2 / 5
	if v > 48 {
		v = 48
	}
	if v < 6 {
		v = 6
	}
	return v
}

// renderList draws rows[offset:] into w x h, the row at cursor focused.
func renderList(st *Styles, rows []listRow, cursor, offset, w, h int) string {
	hasValues := false
	for _, r := range rows {
		if r.Value != "" || r.Edit != "" {
			hasValues = true
			break
		}
	}
	valW := 0
	if hasValues {
		valW = valueCols(w)
	}
	lines := make([]string, 0, h)
	for i := offset; i < len(rows) && len(lines) < h; i++ {
		lines = append(lines, renderRow(st, rows[i], i == cursor, valW, w))
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}

// renderRow draws one row w wide with a value column valW wide (0: none).
func renderRow(st *Styles, r listRow, focused bool, valW, w int) string {
	r.Prompt, r.Name, r.Value, r.Box = validUTF8(r.Prompt), validUTF8(r.Name), validUTF8(r.Value), validUTF8(r.Box)
	if r.Group {
		title := "── " + r.Prompt + " "
		return st.List.Group.Render(fitLine(truncate(title, w)+strings.Repeat("─", max(0, w-ansi.StringWidth(title))), w))
	}
	if r.Note {
		return st.List.Comment.Render(fitLine(strings.Repeat(" ", cursorCols+boxCols)+truncate(r.Prompt, w-cursorCols-boxCols), w))
	}

	cur := "  "
	if focused {
		cur = "> "
	}
	box := fitLine(r.Box, boxCols-1) + " "
	promptW := w - cursorCols - boxCols - markCols
	if r.Value == "" && r.Edit == "" {
		valW = 0 // a row without a value lends its column to the prompt
	}
	if valW > 0 {
		promptW -= valW + 1
	}
	if promptW < 4 {
		promptW = 4
	}

	indent := strings.Repeat("  ", r.Depth)
	suffix := ""
	if r.Submenu {
		suffix = " --->"
	}
	text := r.Prompt
	if r.Comment {
		text = "*** " + r.Prompt + " ***"
	}
	room := promptW - len(indent) - len(suffix)
	var prompt, name string
	if r.Name != "" && room > 0 {
		full := text + "  " + r.Name
		if ansi.StringWidth(full) <= room {
			prompt, name = text, "  "+r.Name
		} else if ansi.StringWidth(text)+3 < room {
			prompt, name = text, truncate("  "+r.Name, room-ansi.StringWidth(text))
		} else {
			prompt = truncate(text, room)
		}
	} else {
		prompt = truncate(text, max(0, room))
	}
	pad := promptW - len(indent) - ansi.StringWidth(prompt) - ansi.StringWidth(name) - len(suffix)
	if pad < 0 {
		pad = 0
	}

	value := ""
	if valW > 0 {
		if r.Edit != "" {
			value = " " + fitLine(r.Edit, valW)
		} else {
			value = " " + fitLine(truncate(r.Value, valW), valW)
		}
	}
	marks := fmt.Sprintf("%*s", markCols, r.marks())

	if focused || r.Hidden {
		// One style over the whole line: inner styles would end the
		// cursor's background (or the grey) at the first segment.
		line := cur + box + indent + prompt + name + suffix + strings.Repeat(" ", pad) + value + marks
		if r.Edit != "" {
			// The editor draws its own cursor: keep its styling.
			before := cur + box + indent + prompt + name + suffix + strings.Repeat(" ", pad)
			return fitLine(st.List.Cursor.Render(before)+value+st.List.Cursor.Render(marks), w)
		}
		if focused {
			return st.List.Cursor.Render(fitLine(line, w))
		}
		return st.List.Hidden.Render(fitLine(line, w))
	}

	var b strings.Builder
	b.WriteString(cur)
	boxStyle := st.List.Normal
	if r.Forced {
		boxStyle = st.List.Forced
	}
	b.WriteString(boxStyle.Render(box))
	b.WriteString(indent)
	promptStyle := st.List.Normal
	if r.Comment {
		promptStyle = st.List.Comment
	}
	b.WriteString(promptStyle.Render(prompt))
	if name != "" {
		b.WriteString(st.List.Name.Render(name))
	}
	if suffix != "" {
		b.WriteString(st.List.Submenu.Render(suffix))
	}
	b.WriteString(strings.Repeat(" ", pad))
	if value != "" {
		vs := st.List.Value
		if r.ValueMuted {
			vs = st.List.Name
		}
		b.WriteString(vs.Render(value))
	}
	ms := st.List.Changed
	switch {
	case r.Invalid:
		ms = st.List.Invalid
	case r.Forced && !r.Changed:
		ms = st.List.Forced
	}
	b.WriteString(ms.Render(marks))
	return fitLine(b.String(), w)
}

// renderBar draws a one-line bar: left text, right text, w wide.
func renderBar(left, right lipgloss.Style, l, r string, w int) string {
	rw := ansi.StringWidth(r)
	if rw > w/2 {
		r = truncate(r, w/2)
		rw = ansi.StringWidth(r)
	}
	l = truncate(l, max(0, w-rw-1))
	gap := w - ansi.StringWidth(l) - rw
	return fitLine(left.Render(l)+strings.Repeat(" ", max(0, gap))+right.Render(r), w)
}

// wrap breaks plain text into lines at most w wide, at spaces (never
// inside a path or a name with hyphens); a word longer than a line is cut.
// Leading indentation is kept, and a list item ("- ...") continues under
// its text rather than its dash.
func wrap(text string, w int) []string {
	if w < 1 {
		w = 1
	}
	var out []string
	for _, para := range strings.Split(text, "\n") {
		if ansi.StringWidth(para) <= w {
			out = append(out, para)
			continue
		}
		body := strings.TrimLeft(para, " \t")
		lead := strings.ReplaceAll(para[:len(para)-len(body)], "\t", "    ")
		if len(lead) > w/2 {
			lead = ""
		}
		cont := lead
		if strings.HasPrefix(body, "- ") && len(lead)+2 <= w/2 {
			cont = lead + "  "
		}
		line, empty := lead, true
		flush := func() {
			out = append(out, line)
			line, empty = cont, true
		}
		for _, word := range strings.Fields(body) {
			for word != "" {
				room := w - ansi.StringWidth(line)
				if !empty {
					room--
				}
				n := ansi.StringWidth(word)
				switch {
				case n <= room:
					if !empty {
						line += " "
					}
					line += word
					word, empty = "", false
				case !empty:
					flush()
				default: // alone on its line and still too long: cut it
					room = max(room, 1)
					head := ansi.Cut(word, 0, room)
					if head == "" {
						// A wide character on a line narrower than
						// itself: it goes alone, over the edge.
						_, size := utf8.DecodeRuneInString(word)
						head = word[:size]
					}
					line += head
					word = word[len(head):]
					flush()
				}
			}
		}
		if !empty {
			out = append(out, line)
		}
	}
	return out
}

// layoutSections renders sections as lines for a pager w wide: a heading,
// then its lines wrapped and indented by two.
func layoutSections(st *Styles, secs []Section, w int) []string {
	var out []string
	for i, s := range secs {
		if i > 0 {
			out = append(out, "")
		}
		if s.Title != "" {
			for _, l := range wrap(s.Title, w) {
				out = append(out, st.Pane.Heading.Render(l))
			}
		}
		for _, line := range s.Lines {
			for _, l := range wrap(line, w-2) {
				out = append(out, "  "+st.Pane.Text.Render(l))
			}
		}
	}
	return out
}

// renderPager draws a titled, scrolled text pane w x h: the title line, the
// lines from offset, and a position line.
func renderPager(st *Styles, title string, lines []string, offset, w, h int) string {
	if h < 2 {
		return fitBlock(st.Pane.Title.Render(title), w, h)
	}
	body := h - 1
	end := min(len(lines), offset+body)
	pos := "all shown"
	if len(lines) > body {
		pos = fmt.Sprintf("lines %d-%d of %d", offset+1, end, len(lines))
	}
	var b strings.Builder
	b.WriteString(renderBar(st.Pane.Title, st.Pane.Muted, title, pos, w))
	for i := offset; i < offset+body; i++ {
		b.WriteString("\n")
		if i < end {
			b.WriteString(fitLine(lines[i], w))
		} else {
			b.WriteString(strings.Repeat(" ", w))
		}
	}
	return b.String()
}

// searchRow is one search result as drawn: two lines, the item and where it
// is in the menus.
type searchRow struct {
	Prompt string
	Name   string
	Path   string
	Hidden bool
}

// renderSearch draws the search pane: the query line (already rendered,
// with its cursor), a count, then the results from offset.
func renderSearch(st *Styles, input, count string, rows []searchRow, cursor, offset, w, h int) string {
	var lines []string
	lines = append(lines, fitLine(st.Input.Prompt.Render("Search: ")+input, w))
	lines = append(lines, renderBar(st.Pane.Muted, st.Pane.Muted, count, "terms: name, prompt, help", w))
	for i := offset; i < len(rows) && len(lines)+2 <= h; i++ {
		r := rows[i]
		cur := "  "
		if i == cursor {
			cur = "> "
		}
		tag := ""
		if r.Hidden {
			tag = " ~hidden"
		}
		first := cur + r.Prompt
		if r.Name != "" {
			first += "  " + r.Name
		}
		first = fitLine(truncate(first, w-len(tag))+tag, w)
		second := fitLine("    "+truncate(r.Path, w-4), w)
		switch {
		case i == cursor:
			first, second = st.List.Cursor.Render(first), st.List.Cursor.Render(second)
		case r.Hidden:
			first, second = st.List.Hidden.Render(first), st.List.Hidden.Render(second)
		default:
			first, second = st.List.Normal.Render(first), st.List.Name.Render(second)
		}
		lines = append(lines, first, second)
	}
	return fitBlock(strings.Join(lines, "\n"), w, h)
}

// saveView is what the save dialog shows.
type saveView struct {
	Changes  []string // "Agent Port: 7001 -> 7002"
	Files    []saveFile
	Problems []string
	Saving   bool
	Err      string
}

type saveFile struct {
	On   bool
	Lock bool // cannot be turned off (standalone: the defconfig)
	What string
	Path string
	Note string
	Warn string // shown in the warning colour when the file is written
}

// renderSave draws the save dialog w x h. What the save does and how it
// went (the files, the problems, "Saving…" or the error) always fit; the
// list of changes gets the room left and says how many it could not show.
func renderSave(st *Styles, v saveView, w, h int) string {
	inner := w - 2
	pad := func(lines []string) []string {
		for i, l := range lines {
			lines[i] = " " + l
		}
		return lines
	}

	files := []string{"", st.Pane.Heading.Render("Files:")}
	for _, f := range v.Files {
		box := "[ ]"
		if f.On {
			box = "[x]"
		}
		files = append(files, truncate(fmt.Sprintf("  %s %-9s %s", box, f.What, f.Path), inner))
		if f.Note != "" && f.On {
			files = append(files, st.Pane.Muted.Render(truncate("                "+f.Note, inner)))
		}
		if f.Warn != "" && f.On {
			files = append(files, st.Dialog.Warn.Render(truncate("                "+f.Warn, inner)))
		}
	}
	var outcome []string
	switch {
	case v.Saving:
		outcome = []string{"", st.Status.Info.Render("Saving…")}
	case v.Err != "":
		outcome = []string{""}
		for _, l := range wrap("Not saved: "+v.Err, inner) {
			outcome = append(outcome, st.Status.Error.Render(l))
		}
		outcome = append(outcome, st.Pane.Muted.Render(truncate("Nothing was lost: your changes are still here; fix it and save again.", inner)))
	}

	// The changes and the problems share the room left: as many items as
	// fit, then how many more there are; at the least their heading,
	// which has their count. The problems take no more than half of it
	// from changes that need it.
	room := h - 2 - len(files) - len(outcome)
	var problems []string
	if n := len(v.Problems); n > 0 {
		if want := len(v.Changes) + 1; want+2+n > room {
			room -= min(want, max(2, room/2))
		} else {
			room -= want
		}
		problems = []string{"", st.Dialog.Warn.Render(truncate(plural(n, "problem", "problems")+" (saved anyway; 'cube-hal build' refuses until fixed):", inner))}
		marked := make([]string, n)
		for i, p := range v.Problems {
			marked[i] = "! " + p
		}
		for _, p := range fitItems(marked, room-2, "… and %d more") {
			problems = append(problems, st.Dialog.Warn.Render(truncate(p, inner)))
		}
	}
	room = h - 2 - len(files) - len(outcome) - len(problems)

	var changes []string
	switch n := len(v.Changes); n {
	case 0:
		changes = []string{st.Pane.Muted.Render(truncate("No unsaved changes; saving writes the files as they are.", inner))}
	default:
		items := fitItems(v.Changes, room-1, "… and %d more (esc, then d lists them all)")
		heading := plural(n, "change", "changes") + ":"
		if len(items) == 0 {
			heading = plural(n, "change", "changes") + " (esc, then d lists them)"
		}
		changes = []string{st.Pane.Heading.Render(truncate(heading, inner))}
		for _, c := range items {
			changes = append(changes, truncate(c, inner))
		}
	}

	lines := []string{st.Dialog.Title.Render("Save the configuration"), ""}
	lines = append(lines, changes...)
	lines = append(lines, files...)
	lines = append(lines, problems...)
	lines = append(lines, outcome...)
	return fitBlock(strings.Join(pad(lines), "\n"), w, h)
}

// fitItems lists items in at most room lines, indented: all of them, or as
// many as fit and a last line saying how many more there are (more is its
// format); none when not even that fits.
func fitItems(items []string, room int, more string) []string {
	shown := items
	if len(items) > room {
		if room < 2 {
			return nil
		}
		shown = items[:room-1]
	}
	out := make([]string, 0, len(shown)+1)
	for _, it := range shown {
		out = append(out, "  "+it)
	}
	if len(shown) < len(items) {
		out = append(out, "  "+fmt.Sprintf(more, len(items)-len(shown)))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// validUTF8 replaces bytes that are not UTF-8, which would throw widths off.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

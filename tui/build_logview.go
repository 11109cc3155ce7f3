package tui

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// logViewer shows a whole build log (or its last logViewMax bytes) as
// plain text: carriage-return progress collapsed to what a terminal would
// have left, escapes removed. It opens at the end, where a failure is,
// and searches like less: / then n and N. Long lines wrap, as less shows
// them (a compiler's error is often past the screen's edge); w cuts them
// at the edge instead.
type logViewer struct {
	path      string
	lines     []string
	truncated bool
	err       error
	loading   bool

	// The lines as drawn: lines wrapped to the width (or not), and
	// where each line starts among them.
	cut   bool
	disp  []string
	start []int

	offset int // the first display line shown
	w, h   int

	searching bool
	input     textinput.Model
	query     string
	note      string
}

// logViewMax bounds what the viewer reads of a log: a real Buildroot build
// writes tens of MB, and the failure is at the end.
const logViewMax = 16 << 20

type logLoadedMsg struct {
	path      string
	lines     []string
	truncated bool
	err       error
}

func newLogViewer(path string, c *Common) *logViewer {
	in := newInput()
	in.Placeholder = "text to find"
	return &logViewer{path: path, loading: true, input: in}
}

// load reads the log in a command.
func (v *logViewer) load() tea.Cmd {
	path := v.path
	return func() tea.Msg {
		lines, truncated, err := readLogLines(path, logViewMax)
		return logLoadedMsg{path: path, lines: lines, truncated: truncated, err: err}
	}
}

func (v *logViewer) loaded(msg logLoadedMsg) {
	v.loading = false
	v.lines, v.truncated, v.err = msg.lines, msg.truncated, msg.err
	v.layout()
	v.offset = v.maxOffset()
	if msg.truncated {
		v.note = fmt.Sprintf("showing the last %d MiB; the whole log is %s", logViewMax>>20, v.path)
	}
}

// readLogLines reads the end of a log as display lines.
func readLogLines(path string, most int64) ([]string, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	truncated := false
	if st.Size() > most {
		if _, err := f.Seek(st.Size()-most, io.SeekStart); err != nil {
			return nil, false, err
		}
		truncated = true
	}
	r := bufio.NewReaderSize(f, 64<<10)
	if truncated {
		r.ReadBytes('\n') // a partial first line
	}
	var lines []string
	for {
		l, err := r.ReadBytes('\n')
		if len(l) > 0 {
			lines = append(lines, cleanLogLine(l))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return lines, truncated, err
		}
	}
	return lines, truncated, nil
}

// cleanLogLine turns one raw output line into what a terminal would show
// of it: the text after the last carriage return (a progress bar's final
// state), without escape sequences, tabs expanded.
func cleanLogLine(l []byte) string {
	l = bytes.TrimRight(l, "\r\n")
	if i := bytes.LastIndexByte(l, '\r'); i >= 0 {
		l = l[i+1:]
	}
	s := ansi.Strip(string(l))
	if !strings.ContainsAny(s, "\t\b\a") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch r {
		case '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case '\b', '\a':
		default:
			b.WriteRune(r)
			col++
		}
	}
	return b.String()
}

func (v *logViewer) resize(w, h int) {
	top := v.lineAt(v.offset)
	v.w, v.h = w, h
	v.input.Width = max(1, w-10)
	v.layout()
	v.offset = min(v.startOf(top), v.maxOffset())
}

// layout wraps the lines to the width (unless cut).
func (v *logViewer) layout() {
	v.disp, v.start = v.disp[:0], v.start[:0]
	for _, l := range v.lines {
		v.start = append(v.start, len(v.disp))
		if v.cut || v.w <= 0 || ansi.StringWidth(l) <= v.w {
			v.disp = append(v.disp, l)
			continue
		}
		v.disp = append(v.disp, strings.Split(ansi.Hardwrap(l, v.w, true), "\n")...)
	}
}

// lineAt is the log line display line d belongs to; startOf is where log
// line i starts.
func (v *logViewer) lineAt(d int) int {
	i, _ := slices.BinarySearch(v.start, d+1)
	return max(0, i-1)
}

func (v *logViewer) startOf(i int) int {
	if i < len(v.start) {
		return v.start[i]
	}
	return 0
}

func (v *logViewer) bodyRows() int { return max(1, v.h-2) }

func (v *logViewer) maxOffset() int { return max(0, len(v.disp)-v.bodyRows()) }

// update handles a key; it reports whether the viewer closed.
func (v *logViewer) update(msg tea.KeyMsg, k *KeyMap) bool {
	if v.searching {
		switch msg.Type {
		case tea.KeyEnter:
			v.searching = false
			v.query = v.input.Value()
			v.find(1, true)
		case tea.KeyEscape:
			v.searching = false
		default:
			v.input, _ = v.input.Update(msg)
		}
		return false
	}
	p := k.Pager
	switch {
	case key.Matches(msg, p.Close):
		return true
	case key.Matches(msg, p.Up):
		v.offset = max(0, v.offset-1)
	case key.Matches(msg, p.Down):
		v.offset = min(v.maxOffset(), v.offset+1)
	case key.Matches(msg, p.PageUp):
		v.offset = max(0, v.offset-v.bodyRows())
	case key.Matches(msg, p.PageDown):
		v.offset = min(v.maxOffset(), v.offset+v.bodyRows())
	case key.Matches(msg, k.Build.Top):
		v.offset = 0
	case key.Matches(msg, k.Build.Bottom):
		v.offset = v.maxOffset()
	case key.Matches(msg, k.LogView.Search):
		v.searching = true
		v.input.SetValue("")
		v.input.Focus()
	case key.Matches(msg, k.LogView.Next):
		v.find(1, false)
	case key.Matches(msg, k.LogView.Prev):
		v.find(-1, false)
	case key.Matches(msg, k.LogView.Wrap):
		top := v.lineAt(v.offset)
		v.cut = !v.cut
		v.layout()
		v.offset = min(v.startOf(top), v.maxOffset())
	}
	return false
}

// find moves to the next (dir 1) or previous (-1) line holding the query,
// ignoring case, wrapping around; from the top line shown, or after it.
func (v *logViewer) find(dir int, fromHere bool) {
	if v.query == "" || len(v.lines) == 0 {
		return
	}
	q := strings.ToLower(v.query)
	here := v.lineAt(v.offset)
	start := here + dir
	if fromHere {
		start = here
	}
	n := len(v.lines)
	for i := 0; i < n; i++ {
		j := ((start+dir*i)%n + n) % n
		if strings.Contains(strings.ToLower(v.lines[j]), q) {
			d := v.startOf(j)
			v.offset = min(d, v.maxOffset())
			v.note = fmt.Sprintf("%q on line %d", v.query, j+1)
			if d > v.maxOffset() {
				v.note += fmt.Sprintf(" (row %d below)", d-v.offset+1)
			}
			return
		}
	}
	v.note = fmt.Sprintf("%q is not in the log", v.query)
}

func (v *logViewer) help(k *KeyMap) []key.Binding {
	if v.searching {
		return []key.Binding{k.Edit.Accept, k.Edit.Cancel}
	}
	out := []key.Binding{k.Pager.Close, k.Pager.Up, k.Pager.PageDown, k.Build.Top, k.Build.Bottom, k.LogView.Search}
	if v.query != "" {
		out = append(out, k.LogView.Next, k.LogView.Prev)
	}
	wrap := withHelp(k.LogView.Wrap, "cut long lines")
	if v.cut {
		wrap = withHelp(k.LogView.Wrap, "wrap long lines")
	}
	return append(out, wrap)
}

func (v *logViewer) view(st *Styles) string {
	title := "Build log " + v.path
	var body string
	switch {
	case v.loading:
		body = fitBlock(st.Pane.Title.Render(title)+"\n\n"+st.Pane.Muted.Render("Reading…"), v.w, v.h-1)
	case v.err != nil && len(v.lines) == 0:
		body = fitBlock(st.Pane.Title.Render(title)+"\n\n"+st.Status.Error.Render(truncate(v.err.Error(), v.w)), v.w, v.h-1)
	default:
		body = renderPager(st, title, v.disp, v.offset, v.w, v.h-1)
	}
	var last string
	switch {
	case v.searching:
		last = fitLine(st.Input.Prompt.Render("/")+v.input.View(), v.w)
	default:
		last = fitLine(st.Status.Info.Render(truncate(v.note, v.w)), v.w)
	}
	return body + "\n" + last
}

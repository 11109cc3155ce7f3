package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestMain pins the colour profile and background, so rendering does not
// depend on where `go test` runs (lipgloss reads the terminal otherwise).
func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath)) // the binary the tmux tests built
	}
	os.Exit(code)
}

// harness drives an App the way Bubble Tea does, without a terminal: it
// sends messages to Update and runs the commands that come back, feeding
// their messages in too, until nothing is left to do.
type harness struct {
	t    *testing.T
	app  *App
	quit bool
}

func newHarness(t *testing.T, eng Engine, w, h int, overlay string) *harness {
	t.Helper()
	app := New(Options{Open: func() (Engine, error) { return eng, nil }, OverlayDir: overlay, Context: "test"})
	hs := &harness{t: t, app: app}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(app.Init())
	return hs
}

func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.app.Update(msg)
	h.run(cmd)
}

// run executes cmd and everything it leads to. A command that blocks
// for minutes (none should take more than a moment, even on a loaded
// machine) fails the test rather than hanging it.
func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		var msg tea.Msg
		select {
		case msg = <-done:
		case <-time.After(2 * time.Minute):
			h.t.Fatal("a command did not return within 2 minutes")
		}
		switch m := msg.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, m...)
		case tea.QuitMsg:
			h.quit = true
		default:
			if strings.HasPrefix(typeName(m), "cursor.") {
				continue // the text input's blink: not needed here
			}
			_, next := h.app.Update(m)
			queue = append(queue, next)
		}
	}
}

func typeName(v any) string { return strings.TrimPrefix(fmt.Sprintf("%T", v), "*") }

// keys sends key presses: names ("enter", "esc", "down", "ctrl+u", "tab",
// "space") or single characters.
func (h *harness) keys(names ...string) {
	h.t.Helper()
	for _, n := range names {
		h.send(keyMsg(n))
	}
}

// typeText types s one character at a time, as a user (or tmux) does.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func keyMsg(n string) tea.KeyMsg {
	types := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
		"ctrl+u": tea.KeyCtrlU, "ctrl+r": tea.KeyCtrlR, "ctrl+c": tea.KeyCtrlC, "pgdown": tea.KeyPgDown,
		"pgup": tea.KeyPgUp, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if t, ok := types[n]; ok {
		return tea.KeyMsg{Type: t}
	}
	if n == "space" || n == " " {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(n)}
}

// screen is the current frame as plain text, lines right-trimmed.
func (h *harness) screen() string {
	lines := strings.Split(ansi.Strip(h.app.View()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// mustShow fails unless the screen contains every one of want.
func (h *harness) mustShow(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			h.t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
}

// mustNotShow fails if the screen contains any of bad.
func (h *harness) mustNotShow(bad ...string) {
	h.t.Helper()
	s := h.screen()
	for _, b := range bad {
		if strings.Contains(s, b) {
			h.t.Fatalf("screen shows %q:\n%s", b, s)
		}
	}
}

// cursorLine is the focused row of the list (the line starting with ">").
func (h *harness) cursorLine() string {
	for _, l := range strings.Split(h.screen(), "\n") {
		if strings.HasPrefix(l, "> ") {
			return l
		}
	}
	return ""
}

// focus moves the cursor down (then up) until the focused row contains
// text; it fails when no row does.
func (h *harness) focus(text string) {
	h.t.Helper()
	cfg := h.app.config
	for i := 0; i < 200; i++ {
		if r, ok := cfg.focused(); ok && strings.Contains(h.cursorLine(), text) {
			_ = r
			return
		}
		before := cfg.pos().cursor
		h.keys("down")
		if cfg.pos().cursor == before {
			break
		}
	}
	h.keys("g")
	for i := 0; i < 200; i++ {
		if strings.Contains(h.cursorLine(), text) {
			return
		}
		before := cfg.pos().cursor
		h.keys("down")
		if cfg.pos().cursor == before {
			break
		}
	}
	h.t.Fatalf("no row shows %q:\n%s", text, h.screen())
}

// checkFrame asserts the frame is exactly w x h.
func checkFrame(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Fatalf("line %d is %d wide, want %d: %q", i, n, w, ansi.Strip(l))
		}
	}
}

func windowSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

package tui

import (
	"context"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/ultravioletrs/cube-hal/workspace"
)

// Options configure the app.
type Options struct {
	// Open loads the configuration to edit. It runs in a command, off the
	// UI loop, so the first frame shows at once even on a large tree.
	Open func() (Engine, error)
	// OverlayDir is the rootfs overlay, where the certificate files the
	// configuration names must exist (checked as the user types).
	OverlayDir string
	// Context is the right side of the header: the workspace in a few
	// words ("standalone", "Buildroot ~/buildroot").
	Context string

	// Workspace is what the build, launch and attest screens work on.
	Workspace *workspace.Workspace
	// Backends replace the real build, launch and attest back ends
	// (tests); nil fields use the real ones.
	Backends Backends

	// Input and Output replace the terminal (tests); nil means stdin and
	// stdout.
	Input  io.Reader
	Output io.Writer

	// openStart is when Run started Open (the load's duration counts
	// from there).
	openStart time.Time
}

// App is the root model: a header with the screens as tabs, the active
// screen, and a help bar built from the keys the active screen offers
// now. It is the only tea.Model; screens are plain structs it drives.
type App struct {
	common *Common

	screens []Screen
	active  int
	config  *configScreen

	// confirmQuit is set while the "quit anyway?" question is shown.
	confirmQuit []string
}

// New builds the app.
func New(o Options) *App {
	c := &Common{Styles: DefaultStyles(nil), Keys: DefaultKeyMap(), Width: 80, Height: 24}
	a := &App{common: c}
	a.config = newConfigScreen(c, o)
	a.screens = []Screen{a.config}
	a.screens = append(a.screens, newWorkflowScreens(c, o, a.config.QuitConcerns)...)
	a.layout()
	return a
}

// Run opens the app on the terminal and returns when the user quits.
func Run(ctx context.Context, o Options) error {
	// Start loading the configuration now, so it overlaps the terminal's
	// set-up below (the configurator's Init then waits for it).
	if o.Open != nil {
		load := sync.OnceValues(withoutGC(o.Open))
		o.Open, o.openStart = load, time.Now()
		go load()
	}
	// Ask the terminal for its background now: the query reads the
	// terminal's answer from standard input, which the program owns once
	// it runs (asked later, the answer would arrive as key presses).
	lipgloss.HasDarkBackground()
	opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx)}
	if o.Input != nil {
		opts = append(opts, tea.WithInput(o.Input))
	}
	if o.Output != nil {
		opts = append(opts, tea.WithOutput(o.Output))
	}
	app := New(o)
	_, err := tea.NewProgram(app, opts...).Run()
	app.close()
	if err == tea.ErrProgramKilled && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// loadMemoryLimit bounds the heap while withoutGC has the collector off.
const loadMemoryLimit = 1 << 30

// withoutGC wraps open to run with the garbage collector paused: a load
// allocates a few tens of megabytes (Buildroot's tree: about 25 MB) that
// it mostly keeps, so collecting again and again while the heap grows
// from nothing costs CPU the load needs (a tenth of the start-up on the
// 2-core machine it was measured on) and frees little. A memory limit
// keeps the heap in check should a tree be far larger; the collector's
// settings come back when open returns.
func withoutGC(open func() (Engine, error)) func() (Engine, error) {
	return func() (Engine, error) {
		percent := debug.SetGCPercent(-1)
		limit := debug.SetMemoryLimit(-1)
		if limit > loadMemoryLimit {
			debug.SetMemoryLimit(loadMemoryLimit)
		}
		defer func() {
			debug.SetMemoryLimit(limit)
			debug.SetGCPercent(percent)
		}()
		return open()
	}
}

// Init starts every screen.
func (a *App) Init() tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(a.screens))
	for _, s := range a.screens {
		cmds = append(cmds, s.Init())
	}
	return tea.Batch(cmds...)
}

// Update routes a message: sizes and quit requests are the app's own, keys
// go to the active screen, everything else to every screen.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.common.Width, a.common.Height = msg.Width, msg.Height
		a.layout()
		return a, nil
	case quitRequestMsg:
		if concerns := a.concerns(); len(concerns) > 0 {
			a.confirmQuit = concerns
			return a, nil
		}
		return a, tea.Quit
	case quitNowMsg:
		return a, tea.Quit
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !msg.Alt && !a.screens[a.active].Capturing() {
			return a, a.splitKeys(msg.Runes)
		}
		if a.confirmQuit != nil {
			return a, a.updateQuitDialog(msg)
		}
		s := a.screens[a.active]
		if kc, ok := s.(keyClaimer); ok && kc.ClaimsKey(msg) {
			return a, s.Update(msg)
		}
		if key.Matches(msg, a.common.Keys.App.ForceQuit) {
			return a, quitRequest
		}
		if key.Matches(msg, a.common.Keys.App.Screens) && (msg.Type != tea.KeyRunes || msg.Alt || !s.Capturing()) {
			if i := screenIndex(msg.String()); i >= 0 && i < len(a.screens) {
				return a, a.show(i)
			}
		}
		return a, s.Update(msg)
	}
	cmds := make([]tea.Cmd, 0, len(a.screens))
	for _, s := range a.screens {
		cmds = append(cmds, s.Update(msg))
	}
	return a, tea.Batch(cmds...)
}

// splitKeys handles letters that arrived in one read (a fast typist, a
// slow SSH link, tmux) as the separate keys they were: Bubble Tea merges
// them into one KeyMsg ("jk") that no binding matches. Once a key opens a
// text field, the rest is typed into it whole.
func (a *App) splitKeys(runes []rune) tea.Cmd {
	var cmds []tea.Cmd
	for i, r := range runes {
		k := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}
		if a.screens[a.active].Capturing() {
			k.Runes = runes[i:]
		}
		_, cmd := a.Update(k)
		cmds = append(cmds, cmd)
		if len(k.Runes) > 1 {
			break
		}
	}
	return tea.Batch(cmds...)
}

func (a *App) concerns() []string {
	var out []string
	for _, s := range a.screens {
		for _, c := range s.QuitConcerns() {
			out = append(out, s.Title()+": "+c)
		}
	}
	return out
}

func (a *App) updateQuitDialog(msg tea.KeyMsg) tea.Cmd {
	k := a.quitKeys()
	switch {
	case key.Matches(msg, k.Discard), key.Matches(msg, a.common.Keys.App.ForceQuit):
		return tea.Quit
	case key.Matches(msg, k.Save):
		a.confirmQuit = nil
		for i, s := range a.screens {
			if s == Screen(a.config) {
				a.active = i
			}
		}
		return a.config.Update(saveThenQuitMsg{})
	case key.Matches(msg, k.Stay):
		a.confirmQuit = nil
	default:
		for i, s := range a.screens {
			if qo, ok := s.(quitOptioner); ok {
				for _, o := range qo.QuitOptions() {
					if key.Matches(msg, o.Key) {
						a.confirmQuit = nil
						a.active = i
						return s.Update(o.Msg)
					}
				}
			}
		}
	}
	return nil
}

// screenIndex is the screen a screen key names: "2", "alt+2" and "f2" all
// name the second; -1 for anything else.
func screenIndex(k string) int {
	k = strings.TrimPrefix(strings.TrimPrefix(k, "alt+"), "f")
	if len(k) == 1 && k[0] >= '1' && k[0] <= '9' {
		return int(k[0] - '1')
	}
	return -1
}

// show makes screen i the active one.
func (a *App) show(i int) tea.Cmd {
	a.active = i
	if ac, ok := a.screens[i].(activator); ok {
		return ac.Activate()
	}
	return nil
}

// quitOptions are the screens' own answers to the quit question.
func (a *App) quitOptions() []key.Binding {
	var out []key.Binding
	for _, s := range a.screens {
		if qo, ok := s.(quitOptioner); ok {
			for _, o := range qo.QuitOptions() {
				out = append(out, o.Key)
			}
		}
	}
	return out
}

// close ends what the screens started, once the program has stopped.
func (a *App) close() {
	for _, s := range a.screens {
		if c, ok := s.(closer); ok {
			c.Close()
		}
	}
}

// quitKeys are the quit dialog's bindings, "save first" only when the
// configurator has something to save.
func (a *App) quitKeys() struct{ Discard, Save, Stay key.Binding } {
	k := a.common.Keys.Quit
	k.Save.SetEnabled(len(a.config.QuitConcerns()) > 0)
	if !k.Save.Enabled() {
		k.Discard.SetHelp("y", "quit")
	}
	return k
}

// layout gives each screen the area between the header and the help bar.
func (a *App) layout() {
	w, h := a.common.Width, a.common.Height-headerHeight-footerHeight
	if h < 1 {
		h = 1
	}
	for _, s := range a.screens {
		s.SetSize(w, h)
	}
}

const (
	headerHeight = 1
	footerHeight = 1
)

// View draws the header, the active screen (or the quit question) and the
// help bar, exactly Width x Height.
func (a *App) View() string {
	w, h := a.common.Width, a.common.Height
	if w <= 0 || h <= 0 {
		return ""
	}
	titles := make([]string, len(a.screens))
	for i, s := range a.screens {
		titles[i] = s.Title()
	}
	header := renderHeader(a.common.Styles, titles, a.active, a.context(), w)

	bodyH := h - headerHeight - footerHeight
	var body string
	var bindings []key.Binding
	if a.confirmQuit != nil {
		k := a.quitKeys()
		bindings = append([]key.Binding{k.Discard, k.Save}, a.quitOptions()...)
		bindings = append(bindings, k.Stay)
		body = renderQuitDialog(a.common.Styles, a.confirmQuit, bindings, w, bodyH)
	} else {
		body = a.screens[a.active].View()
		bindings = a.screens[a.active].ShortHelp()
		if !a.screens[a.active].Capturing() {
			bindings = append(bindings, a.common.Keys.App.Screens)
		}
	}
	footer := renderHelpBar(a.common.Styles, bindings, w)
	return fitBlock(header, w, headerHeight) + "\n" + fitBlock(body, w, bodyH) + "\n" + fitBlock(footer, w, footerHeight)
}

func (a *App) context() string { return a.config.context() }

// renderHeader draws the app name, the tabs and the context, w wide.
func renderHeader(st *Styles, titles []string, active int, context string, w int) string {
	left := st.Header.Title.Render(" cube-hal ")
	for i, t := range titles {
		if i == active {
			left += st.Header.ActiveTab.Render(t)
		} else {
			left += st.Header.Tab.Render(t)
		}
		left += st.Header.Bar.Render("  ")
	}
	room := w - ansi.StringWidth(left) - 1
	right := ""
	if room > 3 && context != "" {
		right = st.Header.Info.Render(truncate(context, room) + " ")
	}
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 0 {
		return ansi.Truncate(left, w, "")
	}
	return left + st.Header.Bar.Render(strings.Repeat(" ", gap)) + right
}

// renderQuitDialog asks whether to quit with what would be lost listed.
func renderQuitDialog(st *Styles, concerns []string, keys []key.Binding, w, h int) string {
	var b strings.Builder
	b.WriteString(st.Dialog.Title.Render("Quit cube-hal?"))
	b.WriteString("\n\n")
	inner := dialogInner(st, w)
	for _, c := range concerns {
		b.WriteString(st.Dialog.Warn.Render(truncate("• "+c, inner)))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	b.WriteString(keyLine(st, keys, inner))
	return placeCenter(st.Dialog.Box.Width(inner+st.Dialog.Box.GetHorizontalPadding()).Render(b.String()), w, h)
}

// dialogInner is the text width of a dialog box on a w-wide screen.
func dialogInner(st *Styles, w int) int {
	inner := w - st.Dialog.Box.GetHorizontalFrameSize() - 4
	if inner > 72 {
		inner = 72
	}
	if inner < 10 {
		inner = 10
	}
	return inner
}

// keyLine lists enabled bindings as "key action · key action".
func keyLine(st *Styles, keys []key.Binding, w int) string {
	var parts []string
	for _, k := range keys {
		if !k.Enabled() {
			continue
		}
		h := k.Help()
		parts = append(parts, st.Dialog.Key.Render(h.Key)+" "+st.Dialog.Text.Render(h.Desc))
	}
	return ansi.Truncate(strings.Join(parts, "  "), w, "…")
}

// placeCenter centres a block in a w x h area.
func placeCenter(block string, w, h int) string {
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, block)
}

// fitBlock makes s exactly w columns wide and h lines high: longer lines
// are cut, shorter ones padded, missing lines added, extra ones dropped.
// Every frame goes through it, so a screen that draws one column too many
// can never wrap the terminal and scroll the header away.
func fitBlock(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = fitLine(l, w)
	}
	return strings.Join(lines, "\n")
}

// fitLine cuts or pads one line to exactly w columns. Bytes that are not
// UTF-8 (a Kconfig file can hold anything) are replaced first, as
// terminals and width counting disagree on them.
func fitLine(l string, w int) string {
	if !utf8.ValidString(l) {
		l = strings.ToValidUTF8(l, "\uFFFD")
	}
	n := ansi.StringWidth(l)
	if n > w {
		// A wide character across the edge is dropped whole: pad after.
		l = ansi.Truncate(l, w, "")
		n = ansi.StringWidth(l)
	}
	switch {
	case n < w:
		return l + strings.Repeat(" ", w-n)
	}
	return l
}

// truncate cuts plain text to w columns with an ellipsis.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// renderHelpBar lists the enabled bindings as "key action · key action",
// as many as fit in w, with "…" when some did not. (bubbles' help adds
// items past its width when the ellipsis itself does not fit.)
func renderHelpBar(st *Styles, bindings []key.Binding, w int) string {
	const sep, more = " · ", " …"
	var items []key.Binding
	for _, k := range bindings {
		if k.Enabled() && k.Help().Key != "" {
			items = append(items, k)
		}
	}
	var b strings.Builder
	used := 0
	for i, k := range items {
		h := k.Help()
		need := ansi.StringWidth(h.Key + " " + h.Desc)
		if used > 0 {
			need += len(sep)
		}
		room := w
		if i < len(items)-1 {
			room -= ansi.StringWidth(more) // keep space for the ellipsis unless this is the last
		}
		if used+need > room {
			if used+ansi.StringWidth(more) <= w {
				b.WriteString(st.Help.Ellipsis.Render(more))
			}
			break
		}
		if used > 0 {
			b.WriteString(st.Help.ShortSeparator.Render(sep))
		}
		b.WriteString(st.Help.ShortKey.Render(h.Key) + " " + st.Help.ShortDesc.Render(h.Desc))
		used += need
	}
	return b.String()
}

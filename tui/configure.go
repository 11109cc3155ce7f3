package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/cubecfg"
)

// configScreen is the configurator: the Cube view and the full menu tree
// of the configuration, with inline editing, search, explanations, a diff
// and save. It holds the Engine and is the only code that touches it,
// always from the UI loop.
type configScreen struct {
	c    *Common
	opts Options

	width, height int

	eng      Engine
	loading  bool
	loadErr  error
	loadedIn time.Duration

	view    viewKind
	showAll bool
	names   bool
	reveal  bool // the focused secret is shown in clear

	cube      listPos     // the Cube view's cursor
	tree      []treeLevel // the menus opened in the tree view, root first
	rows      []row       // the rows of the list on screen
	cubeItems []cubeItem

	mode   mode
	edit   editState
	choice choiceState
	search searchState
	pager  pagerState
	save   saveState

	problems map[string]cubecfg.Problem // option symbol (or Choice* id) -> its (first) problem
	valSeq   int                        // id of the latest validation request

	status        status
	quitAfterSave bool

	// home and cwd shorten paths on screen (~/..., relative), taken once
	// when the screen is made.
	home, cwd string
}

type viewKind uint8

const (
	viewCube viewKind = iota
	viewTree
)

type mode uint8

const (
	modeBrowse mode = iota
	modeEdit
	modeChoice
	modeSearch
	modePager
	modeSave
)

// listPos is a cursor in a list and the first row shown.
type listPos struct {
	cursor, offset int
	node           Node // the focused node, to find it again after a change
}

// treeLevel is one opened menu of the tree view.
type treeLevel struct {
	menu Node
	pos  listPos
}

type statusKind uint8

const (
	statusInfo statusKind = iota
	statusOK
	statusError
)

type status struct {
	text string
	kind statusKind
}

// Messages of the configurator's commands.
type (
	loadedMsg struct {
		eng Engine
		err error
		dur time.Duration
	}
	problemsMsg struct {
		seq      int
		problems []cubecfg.Problem
	}
	fileCheckMsg struct {
		seq int
		err error
	}
	savedMsg struct {
		seq     int
		written []string
		err     error
	}
)

func newConfigScreen(c *Common, o Options) *configScreen {
	s := &configScreen{c: c, opts: o, loading: true, problems: map[string]cubecfg.Problem{}}
	s.home, _ = os.UserHomeDir()
	s.cwd, _ = os.Getwd()
	s.edit.input = newInput()
	s.search.input = newInput()
	s.search.input.Placeholder = "words of a name, prompt or help"
	return s
}

// newInput is a text input with a steady cursor: a blinking one would
// redraw the screen twice a second for nothing and make captures flaky.
func newInput() textinput.Model {
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = 4096
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}

func (s *configScreen) Title() string { return "Configure" }

func (s *configScreen) Init() tea.Cmd {
	open := s.opts.Open
	return func() tea.Msg {
		if open == nil {
			return loadedMsg{err: fmt.Errorf("no configuration to open")}
		}
		start := time.Now()
		if !s.opts.openStart.IsZero() {
			start = s.opts.openStart
		}
		eng, err := open()
		return loadedMsg{eng: eng, err: err, dur: time.Since(start)}
	}
}

func (s *configScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.edit.input.Width = max(1, valueCols(w)-1)
	s.search.input.Width = max(1, w-10)
	if s.eng != nil {
		s.clampAll()
	}
}

// listHeight is the number of list rows: the body less the crumb bar,
// the detail line and the status line.
func (s *configScreen) listHeight() int { return max(1, s.height-3) }

func (s *configScreen) Capturing() bool { return s.mode == modeEdit || s.mode == modeSearch }

func (s *configScreen) QuitConcerns() []string {
	if s.eng == nil {
		return nil
	}
	if n := len(s.eng.Changes()); n > 0 {
		return []string{plural(n, "unsaved change", "unsaved changes")}
	}
	return nil
}

// context is the header's right side: the workspace and the values' source.
func (s *configScreen) context() string {
	parts := []string{}
	if s.opts.Context != "" {
		parts = append(parts, s.opts.Context)
	}
	if s.eng != nil && s.eng.Standalone() && !strings.Contains(s.opts.Context, "standalone") {
		parts = append(parts, "standalone")
	}
	if s.eng != nil && s.eng.Source() != "" {
		parts = append(parts, s.shortPath(s.eng.Source()))
	}
	return strings.Join(parts, " · ")
}

func (s *configScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		s.loading = false
		s.eng, s.loadErr, s.loadedIn = msg.eng, msg.err, msg.dur
		if s.eng == nil {
			return nil
		}
		s.start()
		return s.revalidate()
	case problemsMsg:
		if msg.seq == s.valSeq {
			s.problems = map[string]cubecfg.Problem{}
			for _, p := range msg.problems {
				if _, dup := s.problems[p.Symbol]; !dup {
					s.problems[p.Symbol] = p
				}
			}
		}
		return nil
	case fileCheckMsg:
		if s.mode == modeEdit && msg.seq == s.edit.seq {
			s.edit.fileErr = msg.err
			s.edit.fileChecked = true
		}
		return nil
	case savedMsg:
		return s.saved(msg)
	case saveThenQuitMsg:
		if s.eng == nil {
			return quitNow
		}
		s.quitAfterSave = true
		s.mode = modeBrowse
		s.openSave()
		return nil
	case tea.KeyMsg:
		if s.eng == nil {
			if key.Matches(msg, s.c.Keys.Browse.Quit) {
				return quitRequest
			}
			return nil
		}
		switch s.mode {
		case modeEdit:
			return s.updateEdit(msg)
		case modeChoice:
			return s.updateChoice(msg)
		case modeSearch:
			return s.updateSearch(msg)
		case modePager:
			s.updatePager(msg)
			return nil
		case modeSave:
			return s.updateSave(msg)
		}
		return s.updateBrowse(msg)
	}
	return nil
}

// start sets up the views once the configuration is loaded.
func (s *configScreen) start() {
	s.cubeItems = cubeItemsOf(s.eng)
	s.tree = []treeLevel{{menu: s.eng.Root()}}
	if len(s.cubeItems) == 0 {
		s.view = viewTree
	}
	s.refresh()
	s.setStatus(statusInfo, fmt.Sprintf("Loaded %s in %d ms", s.shortPath(s.eng.Source()), s.loadedIn.Milliseconds()))
}

func (s *configScreen) setStatus(k statusKind, text string) {
	s.status = status{text: s.redact(text), kind: k}
}

// updateBrowse handles a key on the menu list.
func (s *configScreen) updateBrowse(msg tea.KeyMsg) tea.Cmd {
	k := s.browseKeys()
	s.status = status{}
	// A revealed secret is hidden again once the cursor leaves its row:
	// coming back must not show it without a new ctrl+r.
	was := s.pos().node
	defer func() {
		if s.pos().node != was {
			s.reveal = false
		}
	}()
	switch {
	case key.Matches(msg, k.Up):
		s.move(-1)
	case key.Matches(msg, k.Down):
		s.move(1)
	case key.Matches(msg, k.PageUp):
		s.move(-s.listHeight())
	case key.Matches(msg, k.PageDown):
		s.move(s.listHeight())
	case key.Matches(msg, k.Top):
		s.move(-len(s.rows))
	case key.Matches(msg, k.Bottom):
		s.move(len(s.rows))
	case key.Matches(msg, k.Open):
		return s.open()
	case key.Matches(msg, k.Toggle):
		return s.toggle()
	case key.Matches(msg, k.Yes):
		return s.setBool("y")
	case key.Matches(msg, k.No):
		return s.setBool("n")
	case key.Matches(msg, s.c.Keys.Browse.Back):
		s.back() // at the top it only says how to quit: Esc never quits
	case key.Matches(msg, k.Search):
		return s.openSearch()
	case key.Matches(msg, k.Help):
		s.openHelp()
	case key.Matches(msg, k.Info):
		s.openInfo()
	case key.Matches(msg, k.Diff):
		s.openDiff()
	case key.Matches(msg, k.ShowAll):
		s.showAll = !s.showAll
		s.refresh()
		s.setStatus(statusInfo, onOff("Show all (hidden symbols greyed, marked ~)", s.showAll))
	case key.Matches(msg, k.Names):
		s.names = !s.names
		s.setStatus(statusInfo, onOff("Symbol names", s.names))
	case key.Matches(msg, k.View):
		s.switchView()
	case key.Matches(msg, k.Reveal):
		s.reveal = !s.reveal
	case key.Matches(msg, k.Save):
		s.openSave()
	case key.Matches(msg, k.Quit):
		return quitRequest
	default:
		// A key that cannot act on this row says why, rather than
		// doing nothing.
		raw := s.c.Keys.Browse
		if r, ok := s.focused(); ok && r.entry.Kind == NodeSymbol && !r.entry.Changeable &&
			key.Matches(msg, raw.Open, raw.Toggle, raw.Yes, raw.No) {
			s.setStatus(statusError, s.whyUnchangeable(r))
		}
	}
	return nil
}

func onOff(what string, on bool) string {
	if on {
		return what + ": on"
	}
	return what + ": off"
}

// browseKeys returns the list's bindings with only those that act on the
// focused row enabled, and Enter's help saying what it does there.
func (s *configScreen) browseKeys() struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open                                    key.Binding
	Toggle                                  key.Binding
	Yes, No                                 key.Binding
	Back                                    key.Binding
	Search, Help, Info, Diff                key.Binding
	ShowAll, Names, View                    key.Binding
	Reveal                                  key.Binding
	Save, Quit                              key.Binding
} {
	k := s.c.Keys.Browse
	r, ok := s.focused()
	var e Entry
	if ok {
		e = r.entry
	}
	isSym := ok && e.Kind == NodeSymbol
	isBool := isSym && (e.Type == TypeBool || e.Type == TypeTristate)
	opens := ok && (e.Kind == NodeMenu || e.Kind == NodeChoice || e.Menuconfig)

	switch {
	case !ok || e.Kind == NodeComment:
		k.Open.SetEnabled(false)
	case e.Kind == NodeMenu, e.Menuconfig:
		k.Open.SetHelp("enter", "open")
	case e.Kind == NodeChoice:
		k.Open.SetHelp("enter", "choose")
	case e.Type.textual():
		k.Open.SetHelp("enter", "edit")
		k.Open.SetEnabled(e.Changeable)
	case isBool:
		k.Open.SetHelp("enter", "toggle")
		k.Open.SetEnabled(e.Changeable)
	default:
		k.Open.SetEnabled(false)
	}
	k.Toggle.SetEnabled(isBool && e.Changeable || opens && !isBool || isSym && e.Type.textual() && e.Changeable)
	if isBool {
		k.Toggle.SetHelp("space", "toggle")
	} else {
		k.Toggle.SetHelp("space", "open")
	}
	k.Yes.SetEnabled(isBool && e.Changeable && e.Value != "y")
	k.No.SetEnabled(isBool && e.Changeable && e.Value != "n" && !e.Forced)
	k.Back.SetEnabled(s.view == viewTree && len(s.tree) > 1)
	k.Help.SetEnabled(true)
	k.Info.SetEnabled(ok && (isSym || e.Kind == NodeChoice || e.Kind == NodeMenu))
	k.Diff.SetEnabled(len(s.eng.Changes()) > 0)
	k.Reveal.SetEnabled(ok && s.isSecret(r))
	if s.reveal {
		k.Reveal.SetHelp("ctrl+r", "hide")
	}
	if s.view == viewCube {
		k.View.SetHelp("tab", "full tree")
	} else {
		k.View.SetHelp("tab", "Cube view")
	}
	k.View.SetEnabled(len(s.cubeItems) > 0)
	if s.showAll {
		k.ShowAll.SetHelp("A", "hide hidden")
	}
	return k
}

// ShortHelp is the help bar: the keys that act on what is focused, the
// row's own first.
func (s *configScreen) ShortHelp() []key.Binding {
	if s.eng == nil {
		return []key.Binding{s.c.Keys.Browse.Quit}
	}
	switch s.mode {
	case modeEdit:
		k := s.editKeys()
		return []key.Binding{k.Accept, k.Cancel, k.Clear, k.Reveal}
	case modeChoice:
		k := s.c.Keys.Choice
		if ch := s.choice; ch.cursor < len(ch.members) {
			// A member of a hidden choice cannot be picked: no Enter.
			e := s.eng.Entry(ch.members[ch.cursor])
			k.Pick.SetEnabled(e.Visible && e.Changeable)
		}
		return []key.Binding{k.Pick, k.Cancel, k.Up, k.Down}
	case modeSearch:
		k := s.searchKeys()
		return []key.Binding{k.Jump, k.Up, k.Down, k.Cancel}
	case modePager:
		k := s.c.Keys.Pager
		return []key.Binding{k.Close, k.Down, k.PageDown}
	case modeSave:
		k := s.saveKeys()
		return []key.Binding{k.Confirm, k.Defconfig, k.Cancel}
	}
	k := s.browseKeys()
	// Enter and space often do the same thing: offer the one menuconfig
	// users expect for the row (space on a bool, Enter elsewhere).
	first := k.Open
	if r, ok := s.focused(); ok && r.entry.Kind == NodeSymbol && (r.entry.Type == TypeBool || r.entry.Type == TypeTristate) {
		first = k.Toggle
	}
	return []key.Binding{first, k.Yes, k.No, k.Reveal, k.Back, k.Info, k.Search, k.Save, k.Diff,
		k.View, k.Help, k.Quit, k.ShowAll, k.Names}
}

// FullHelp is every key of the list, for the ? pane.
func (s *configScreen) FullHelp() [][]key.Binding {
	k := s.c.Keys.Browse
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Back},
		{k.Open, k.Toggle, k.Yes, k.No, k.Reveal},
		{k.Search, k.Help, k.Info, k.Diff, k.ShowAll, k.Names, k.View},
		{k.Save, k.Quit, s.c.Keys.App.ForceQuit},
	}
}

// View draws the screen into its area.
func (s *configScreen) View() string {
	w, h := s.width, s.height
	st := s.c.Styles
	switch {
	case s.loading:
		return fitBlock(st.Status.Info.Render("Loading the configuration…"), w, h)
	case s.eng == nil:
		msg := "cannot open the configuration"
		if s.loadErr != nil {
			msg = s.loadErr.Error()
		}
		lines := []string{st.Status.Error.Render("Cannot open the configuration:")}
		for _, l := range wrap(msg, w-2) {
			lines = append(lines, "  "+st.Status.Error.Render(l))
		}
		lines = append(lines, "", st.Pane.Muted.Render("Press q to quit."))
		return fitBlock(strings.Join(lines, "\n"), w, h)
	}
	switch s.mode {
	case modeSearch:
		return s.viewSearch()
	case modePager:
		return renderPager(st, s.pager.title, s.pager.lines(st, w), s.pager.offset, w, h)
	case modeSave:
		return s.viewSave()
	case modeChoice:
		return s.viewChoice()
	}
	return s.viewList()
}

// viewList draws the crumb bar, the list, the focused row's detail and the
// status line.
func (s *configScreen) viewList() string {
	st := s.c.Styles
	w := s.width
	pos := s.pos()
	rows := make([]listRow, len(s.rows))
	for i, r := range s.rows {
		rows[i] = s.listRow(r, i == pos.cursor)
	}
	var b strings.Builder
	b.WriteString(renderBar(st.Crumb.Path, st.Crumb.Flag, s.crumb(), s.flags(), w))
	b.WriteString("\n")
	b.WriteString(renderList(st, rows, pos.cursor, pos.offset, w, s.listHeight()))
	b.WriteString("\n")
	detail, bad := s.detail()
	ds := st.List.Detail
	if bad {
		ds = st.List.DetailBad
	}
	b.WriteString(ds.Render(fitLine(truncate(detail, w), w)))
	b.WriteString("\n")
	b.WriteString(s.statusLine())
	return fitBlock(b.String(), w, s.height)
}

// statusLine is the last message, else a summary of the state.
func (s *configScreen) statusLine() string {
	st := s.c.Styles
	w := s.width
	if s.status.text != "" {
		style := st.Status.Info
		switch s.status.kind {
		case statusError:
			style = st.Status.Error
		case statusOK:
			style = st.Status.OK
		}
		return style.Render(fitLine(truncate(s.status.text, w), w))
	}
	parts := []string{}
	if n := len(s.eng.Changes()); n > 0 {
		parts = append(parts, plural(n, "unsaved change", "unsaved changes")+" (d diff, s save)")
	} else {
		parts = append(parts, "no unsaved changes")
	}
	if n := len(s.problems); n > 0 {
		parts = append(parts, plural(n, "problem", "problems")+" (!)")
	}
	style := st.Status.Info
	return style.Render(fitLine(truncate(strings.Join(parts, " · "), w), w))
}

// crumb is where the list is: the Cube view or the path of opened menus.
func (s *configScreen) crumb() string {
	if s.view == viewCube {
		return "Cube packages"
	}
	parts := []string{s.eng.Title()}
	for _, l := range s.tree[1:] {
		parts = append(parts, s.eng.Entry(l.menu).Prompt)
	}
	p := strings.Join(parts, " > ")
	if w := s.width * 2 / 3; len(parts) > 1 && len(p) > w {
		// Keep the innermost menus: they say where the user is.
		for len(parts) > 1 && len(strings.Join(parts, " > "))+2 > w {
			parts = parts[1:]
		}
		p = "… > " + strings.Join(parts, " > ")
	}
	return p
}

// flags are the crumb bar's right side: the modes that are on and the
// position in the list.
func (s *configScreen) flags() string {
	var f []string
	if s.showAll {
		f = append(f, "show-all")
	}
	if s.names {
		f = append(f, "names")
	}
	if len(s.rows) > s.listHeight() {
		// Items only: headings and notes are not counted.
		n, at := 0, 0
		for i, r := range s.rows {
			if r.kind == rowNode {
				n++
				if i == s.pos().cursor {
					at = n
				}
			}
		}
		f = append(f, fmt.Sprintf("%d/%d", at, n))
	}
	return strings.Join(f, " ")
}

// shortPath shows a path relative to the working directory when it is
// under it, else under ~ when in the home directory, else as is.
func (s *configScreen) shortPath(p string) string {
	if p == "" || !filepath.IsAbs(p) {
		return p
	}
	if s.cwd != "" {
		if rel, err := filepath.Rel(s.cwd, p); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	if s.home != "" && s.home != "/" {
		if rel, err := filepath.Rel(s.home, p); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join("~", rel)
		}
	}
	return p
}

// shortPaths shortens the absolute paths in a text the way shortPath does
// one path: relative to the working directory, else under ~.
func (s *configScreen) shortPaths(text string) string {
	if s.cwd != "" && s.cwd != "/" {
		text = strings.ReplaceAll(text, s.cwd+"/", "")
	}
	if s.home != "" && s.home != "/" {
		text = strings.ReplaceAll(text, s.home+"/", "~/")
	}
	return text
}

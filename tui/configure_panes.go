package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/cubecfg"
)

// The panes that take the list's place: the choice list, search, the text
// panes (help, why, diff) and the save dialog.

// choiceState is an open choice: its members and the cursor.
type choiceState struct {
	node    Node
	members []Node
	cursor  int
	offset  int
}

// openChoice shows the members of a choice, the cursor on focus (or on
// the selected member).
func (s *configScreen) openChoice(n Node, focus Node) {
	s.choice = choiceState{node: n}
	sel := s.eng.Entry(n).Value
	for _, m := range s.eng.Children(n) {
		e := s.eng.Entry(m)
		if e.Kind != NodeSymbol || (!e.Visible && !s.showAll && m != focus) {
			continue
		}
		if m == focus || focus == nil && e.Symbol == sel {
			s.choice.cursor = len(s.choice.members)
		}
		s.choice.members = append(s.choice.members, m)
	}
	s.mode = modeChoice
}

func (s *configScreen) updateChoice(msg tea.KeyMsg) tea.Cmd {
	k := s.c.Keys.Choice
	ch := &s.choice
	switch {
	case key.Matches(msg, k.Up):
		ch.cursor = max(0, ch.cursor-1)
	case key.Matches(msg, k.Down):
		ch.cursor = min(len(ch.members)-1, ch.cursor+1)
	case key.Matches(msg, k.Cancel):
		s.mode = modeBrowse
	case key.Matches(msg, k.Pick):
		if len(ch.members) == 0 {
			s.mode = modeBrowse
			return nil
		}
		m := ch.members[ch.cursor]
		e := s.eng.Entry(m)
		if !e.Visible || !e.Changeable {
			s.setStatus(statusError, s.whyUnchangeable(row{node: m, entry: e}))
			return nil
		}
		s.mode = modeBrowse
		if e.Value == "y" {
			s.setStatus(statusInfo, "Not changed")
			return nil
		}
		return s.apply(e.Symbol, "y")
	}
	h := s.listHeight()
	if ch.cursor < ch.offset {
		ch.offset = ch.cursor
	}
	if ch.cursor >= ch.offset+h {
		ch.offset = ch.cursor - h + 1
	}
	return nil
}

func (s *configScreen) viewChoice() string {
	st := s.c.Styles
	w := s.width
	ch := s.choice
	rows := make([]listRow, len(ch.members))
	for i, m := range ch.members {
		rows[i] = s.listRow(row{kind: rowNode, node: m, entry: s.eng.Entry(m)}, i == ch.cursor)
	}
	var b strings.Builder
	b.WriteString(renderBar(st.Crumb.Path, st.Crumb.Flag, s.eng.Entry(ch.node).Prompt, "choose one", w))
	b.WriteString("\n")
	b.WriteString(renderList(st, rows, ch.cursor, ch.offset, w, s.listHeight()))
	b.WriteString("\n")
	detail := ""
	if len(ch.members) > 0 {
		m := ch.members[ch.cursor]
		if e := s.eng.Entry(m); !e.Visible {
			detail = "hidden: " + s.eng.WhyHidden(m)
		} else {
			detail = helpSummary(s.eng.Help(m))
		}
	}
	b.WriteString(st.List.Detail.Render(fitLine(truncate(detail, w), w)))
	b.WriteString("\n")
	b.WriteString(s.statusLine())
	return fitBlock(b.String(), w, s.height)
}

// searchState is the search pane: the query and its results.
type searchState struct {
	input  textinput.Model
	hits   []Hit
	cursor int
	offset int
}

// maxHits bounds a search's results: more is noise, and the list stays
// fast to draw.
const maxHits = 200

func (s *configScreen) openSearch() tea.Cmd {
	s.mode = modeSearch
	s.search.input.SetValue("")
	s.search.hits, s.search.cursor, s.search.offset = nil, 0, 0
	s.search.input.Width = max(1, s.width-10)
	return s.search.input.Focus()
}

func (s *configScreen) searchKeys() struct{ Up, Down, Jump, Cancel key.Binding } {
	k := s.c.Keys.Search
	has := len(s.search.hits) > 0
	k.Jump.SetEnabled(has)
	k.Up.SetEnabled(has)
	k.Down.SetEnabled(has)
	return k
}

// searchRowsHeight is how many results fit (two lines each, under the
// query and count lines).
func (s *configScreen) searchRowsHeight() int { return max(1, (s.height-2)/2) }

func (s *configScreen) updateSearch(msg tea.KeyMsg) tea.Cmd {
	k := s.searchKeys()
	ss := &s.search
	switch {
	case key.Matches(msg, k.Cancel):
		s.mode = modeBrowse
		ss.input.Blur()
		return nil
	case key.Matches(msg, k.Jump):
		n := ss.hits[ss.cursor].Node
		s.mode = modeBrowse
		ss.input.Blur()
		s.jump(n, true)
		return nil
	case key.Matches(msg, k.Up):
		ss.cursor = max(0, ss.cursor-1)
		ss.scroll(s.searchRowsHeight())
		return nil
	case key.Matches(msg, k.Down):
		ss.cursor = min(len(ss.hits)-1, ss.cursor+1)
		ss.scroll(s.searchRowsHeight())
		return nil
	}
	before := ss.input.Value()
	var cmd tea.Cmd
	ss.input, cmd = ss.input.Update(msg)
	if q := ss.input.Value(); q != before {
		ss.hits = nil
		if strings.TrimSpace(q) != "" {
			ss.hits = s.eng.Search(q, maxHits)
		}
		ss.cursor, ss.offset = 0, 0
	}
	return cmd
}

// scroll keeps the cursor within the h results shown.
func (ss *searchState) scroll(h int) {
	if ss.cursor < ss.offset {
		ss.offset = ss.cursor
	}
	if ss.cursor >= ss.offset+h {
		ss.offset = ss.cursor - h + 1
	}
}

func (s *configScreen) viewSearch() string {
	ss := s.search
	h := s.searchRowsHeight()
	rows := make([]searchRow, len(ss.hits))
	for i := ss.offset; i < len(ss.hits) && i < ss.offset+h; i++ {
		n := ss.hits[i].Node
		e := s.eng.Entry(n)
		r := searchRow{Prompt: s.shortPaths(e.Prompt), Name: e.Symbol, Path: s.menuPath(n), Hidden: !e.Visible}
		if r.Prompt == "" {
			r.Prompt, r.Name = e.Symbol, ""
		}
		if e.Kind == NodeComment {
			r.Prompt = "*** " + r.Prompt + " ***"
		}
		rows[i] = r
	}
	count := "type words to search"
	switch q := strings.TrimSpace(ss.input.Value()); {
	case q != "" && len(ss.hits) == 0:
		count = "no match"
	case len(ss.hits) >= maxHits:
		count = fmt.Sprintf("first %d matches", maxHits)
	case q != "":
		count = plural(len(ss.hits), "match", "matches")
	}
	return renderSearch(s.c.Styles, ss.input.View(), count, rows, ss.cursor, ss.offset, s.width, s.height)
}

// menuPath is where a node is in the menus: its ancestors' prompts from
// the top ("Target packages > Cube packages > cube-agent").
func (s *configScreen) menuPath(n Node) string {
	var parts []string
	for a := s.eng.Parent(n); a != nil && a != s.eng.Root(); a = s.eng.Parent(a) {
		if p := s.eng.Entry(a).Prompt; p != "" {
			parts = append(parts, p)
		}
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	if len(parts) == 0 {
		return "(top menu)"
	}
	return strings.Join(parts, " > ")
}

// pagerState is a scrollable text pane: help, why, diff.
type pagerState struct {
	title  string
	secs   []Section
	offset int
}

func (p *pagerState) lines(st *Styles, w int) []string { return layoutSections(st, p.secs, w) }

func (s *configScreen) openPager(title string, secs []Section) {
	for i := range secs {
		secs[i].Title = s.redact(secs[i].Title)
		for j := range secs[i].Lines {
			secs[i].Lines[j] = s.shortPaths(s.redact(secs[i].Lines[j]))
		}
	}
	s.pager = pagerState{title: s.redact(title), secs: secs}
	s.mode = modePager
}

func (s *configScreen) updatePager(msg tea.KeyMsg) {
	k := s.c.Keys.Pager
	p := &s.pager
	body := max(1, s.height-1)
	n := len(p.lines(s.c.Styles, s.width))
	switch {
	case key.Matches(msg, k.Close):
		s.mode = modeBrowse
		return
	case key.Matches(msg, k.Up):
		p.offset--
	case key.Matches(msg, k.Down):
		p.offset++
	case key.Matches(msg, k.PageUp):
		p.offset -= body
	case key.Matches(msg, k.PageDown):
		p.offset += body
	case msg.String() == "?" || msg.String() == "i" || msg.String() == "d":
		s.mode = modeBrowse // the key that opened a pane also closes it
		return
	}
	p.offset = max(0, min(p.offset, n-body))
}

// openHelp shows the focused entry's help, what it is, and the keys.
func (s *configScreen) openHelp() {
	var secs []Section
	title := "Help"
	if r, ok := s.focused(); ok {
		e := r.entry
		title = "Help: " + firstNonEmpty(e.Prompt, e.Symbol)
		var about []string
		if e.Symbol != "" {
			about = append(about, "Symbol: "+e.Symbol+" ("+e.Type.String()+")")
		}
		if e.Kind == NodeSymbol || e.Kind == NodeChoice {
			v, d := e.Value, e.Default
			if e.Kind == NodeChoice {
				v, d = s.memberLabel(v), s.memberLabel(d)
			}
			if s.isSecret(r) {
				v, d = maskNonEmpty(v), maskNonEmpty(d)
			}
			about = append(about, fmt.Sprintf("Value: %s    Default: %s", quoteEmpty(v), quoteEmpty(d)))
		}
		about = append(about, "Location: "+s.menuPath(r.node))
		if o, ok := cubecfg.Lookup(e.Symbol); ok && o.Symbol == e.Symbol && o.Env != "" {
			about = append(about, "Agent environment: "+o.Env)
		}
		secs = append(secs, Section{Lines: about})
		if h := strings.TrimRight(s.eng.Help(r.node), "\n"); h != "" {
			secs = append(secs, Section{Title: "Help", Lines: strings.Split(h, "\n")})
		} else {
			secs = append(secs, Section{Title: "Help", Lines: []string{"There is no help for this entry."}})
		}
	}
	var keys []string
	for _, group := range s.FullHelp() {
		for _, b := range group {
			h := b.Help()
			keys = append(keys, fmt.Sprintf("%-8s %s", h.Key, h.Desc))
		}
	}
	secs = append(secs,
		Section{Title: "Keys", Lines: keys},
		Section{Title: "Markers", Lines: []string{
			"[*] on   [ ] off   -*- forced on by a select   (X) the chosen entry of a choice",
			"--->  opens a menu or a choice",
			"!  invalid (the line under the list says why)",
			"*  changed from the default",
			"^  forced by a select",
			"~  hidden: its dependencies are not met (shown greyed with A, show-all)",
		}},
	)
	s.openPager(title, secs)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func quoteEmpty(v string) string {
	if v == "" {
		return "(empty)"
	}
	return v
}

func maskNonEmpty(v string) string {
	if v == "" {
		return ""
	}
	return mask
}

// openInfo explains the focused entry: "why" it is what it is.
func (s *configScreen) openInfo() {
	r, ok := s.focused()
	if !ok {
		return
	}
	e := r.entry
	title := "Why: " + firstNonEmpty(e.Prompt, e.Symbol)
	if e.Symbol != "" && e.Prompt != "" {
		title += " (" + e.Symbol + ")"
	}
	secs := s.eng.Explain(r.node)
	if p := s.problemFor(r); p != "" {
		secs = append([]Section{{Title: "Problem", Lines: []string{p}}}, secs...)
	}
	if len(secs) == 0 {
		secs = []Section{{Lines: []string{"Nothing to explain: this entry has no dependencies."}}}
	}
	s.openPager(title, secs)
}

// openDiff lists the unsaved changes.
func (s *configScreen) openDiff() {
	changes := s.eng.Changes()
	lines := s.diffLines(changes)
	if len(lines) == 0 {
		lines = []string{"No unsaved changes."}
	}
	s.openPager("Unsaved changes", []Section{{Title: plural(len(changes), "symbol", "symbols") + " changed since the last save:", Lines: lines}})
}

// diffLines are the changes as "Prompt (SYMBOL): old -> new", secrets
// masked.
func (s *configScreen) diffLines(changes []Change) []string {
	lines := make([]string, 0, len(changes))
	for _, c := range changes {
		old, nw := c.Old, c.New
		if isSecretSymbol(c.Symbol) {
			old, nw = maskNonEmpty(old), maskNonEmpty(nw)
		}
		name := c.Symbol
		if c.Prompt != "" && c.Prompt != c.Symbol {
			name = c.Prompt + " (" + c.Symbol + ")"
		}
		line := fmt.Sprintf("%s: %s -> %s", name, diffValue(old), diffValue(nw))
		if !s.eng.Kept(c.Symbol) {
			line += " (not saved: standalone mode writes only the Cube lines)"
		}
		lines = append(lines, line)
	}
	return lines
}

func diffValue(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

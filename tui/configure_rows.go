package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ultravioletrs/cube-hal/cubecfg"
)

// row is one line of the list: a heading, a note, or a menu node with its
// state as of the last refresh.
type row struct {
	kind   rowKind
	node   Node
	entry  Entry
	depth  int
	text   string          // heading or note text
	option *cubecfg.Option // the Cube option the row shows (Cube view)
}

type rowKind uint8

const (
	rowNode rowKind = iota
	rowGroup
	rowNote
)

// cubeItem is a Cube option and the node it is shown at.
type cubeItem struct {
	opt   cubecfg.Option
	node  Node
	depth int
}

// cubeItemsOf finds the Cube options in the configuration, in the table's
// order. A choice is found through its first member.
func cubeItemsOf(eng Engine) []cubeItem {
	var items []cubeItem
	for _, o := range cubecfg.Options() {
		var n Node
		if o.Kind == cubecfg.Choice {
			if len(o.Members) == 0 {
				continue
			}
			if m := eng.Lookup(o.Members[0].Symbol); m != nil {
				if p := eng.Parent(m); p != nil && eng.Entry(p).Kind == NodeChoice {
					n = p
				}
			}
		} else {
			n = eng.Lookup(o.Symbol)
		}
		if n == nil {
			continue
		}
		depth := 0
		switch {
		case o.DependsOn != "":
			depth = 2
		case o.Package != "":
			depth = 1
		}
		items = append(items, cubeItem{opt: o, node: n, depth: depth})
	}
	return items
}

// cubeRows are the Cube view: the groups in screen order, each with its
// options; hidden ones only in show-all mode.
func (s *configScreen) cubeRows() []row {
	var rows []row
	for _, g := range []cubecfg.Group{cubecfg.GroupAgent, cubecfg.GroupLLM, cubecfg.GroupTLS} {
		rows = append(rows, row{kind: rowGroup, text: string(g)})
		shown, hidden := 0, 0
		var firstHidden Node
		for i := range s.cubeItems {
			it := &s.cubeItems[i]
			if it.opt.Group != g {
				continue
			}
			e := s.eng.Entry(it.node)
			if !e.Visible && !s.showAll {
				hidden++
				if firstHidden == nil {
					firstHidden = it.node
				}
				continue
			}
			rows = append(rows, row{kind: rowNode, node: it.node, entry: e, depth: it.depth, option: &it.opt})
			shown++
		}
		if hidden > 0 {
			// Say what is not shown; when the whole group is, say why.
			note := plural(hidden, "option", "options") + " hidden (A shows them)"
			if why := s.eng.WhyHidden(firstHidden); why != "" && shown == 0 {
				note += ": " + why
			}
			rows = append(rows, row{kind: rowNote, text: note})
		}
	}
	return rows
}

// treeRows are the entries of one menu as menuconfig lists them: symbols
// that depend on the symbol above them are indented under it, menus,
// menuconfigs and choices open on Enter. Hidden entries (and prompt-less
// symbols) only in show-all mode.
func (s *configScreen) treeRows(menu Node) []row {
	var rows []row
	var walk func(parent Node, depth int)
	walk = func(parent Node, depth int) {
		for _, ch := range s.eng.Children(parent) {
			e := s.eng.Entry(ch)
			if (!e.Visible || e.Kind == NodeSymbol && e.Prompt == "") && !s.showAll {
				continue
			}
			rows = append(rows, row{kind: rowNode, node: ch, entry: e, depth: depth})
			switch {
			case e.Kind == NodeSymbol && !e.Menuconfig:
				walk(ch, depth+1)
			case e.Kind == NodeChoice:
				// As menuconfig does, the options of the selected entry
				// are listed under the choice (openssl's under "ssl
				// library"): the choice's own list has only its entries.
				if m := s.selectedMember(ch, e.Value); m != nil {
					walk(m, depth+1)
				}
			}
		}
	}
	walk(menu, 0)
	if len(rows) == 0 {
		text := "nothing to set here"
		if !s.showAll {
			text += " (A shows hidden entries)"
		}
		rows = append(rows, row{kind: rowNote, text: text})
	}
	return rows
}

// selectedMember is the node of a choice's selected entry (sym), nil when
// none is selected.
func (s *configScreen) selectedMember(choice Node, sym string) Node {
	if sym == "" {
		return nil
	}
	for _, m := range s.eng.Children(choice) {
		if s.eng.Entry(m).Symbol == sym {
			return m
		}
	}
	return nil
}

// opens reports whether a node opens a menu of its own in the tree.
func opens(e Entry) bool { return e.Kind == NodeMenu || e.Kind == NodeChoice || e.Menuconfig }

// pos is the cursor of the list on screen.
func (s *configScreen) pos() *listPos {
	if s.view == viewCube {
		return &s.cube
	}
	return &s.tree[len(s.tree)-1].pos
}

// focused returns the row under the cursor.
func (s *configScreen) focused() (row, bool) {
	p := s.pos()
	if p.cursor < 0 || p.cursor >= len(s.rows) || s.rows[p.cursor].kind != rowNode {
		return row{}, false
	}
	return s.rows[p.cursor], true
}

// refresh rebuilds the rows after any change and puts the cursor back on
// the node it was on (or the nearest row when that node is gone).
func (s *configScreen) refresh() {
	if s.view == viewCube {
		s.rows = s.cubeRows()
	} else {
		s.rows = s.treeRows(s.tree[len(s.tree)-1].menu)
	}
	p := s.pos()
	idx := -1
	if p.node != nil {
		for i, r := range s.rows {
			if r.kind == rowNode && r.node == p.node {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		idx = s.nearestFocusable(min(max(p.cursor, 0), len(s.rows)-1), 1)
	}
	s.setCursor(idx)
}

// clampAll keeps the cursor on screen after a resize.
func (s *configScreen) clampAll() {
	if s.mode == modeSearch {
		s.search.scroll(s.searchRowsHeight())
	}
	s.setCursor(s.pos().cursor)
}

// nearestFocusable finds a node row from i, looking in direction dir
// first; -1 when the list has none.
func (s *configScreen) nearestFocusable(i, dir int) int {
	for j := i; j >= 0 && j < len(s.rows); j += dir {
		if s.rows[j].kind == rowNode {
			return j
		}
	}
	for j := i; j >= 0 && j < len(s.rows); j -= dir {
		if s.rows[j].kind == rowNode {
			return j
		}
	}
	return -1
}

// setCursor moves the cursor to row i and scrolls it into view.
func (s *configScreen) setCursor(i int) {
	p := s.pos()
	h := s.listHeight()
	if i < 0 {
		p.cursor, p.node, p.offset = -1, nil, 0
		return
	}
	p.cursor = i
	p.node = s.rows[i].node
	if p.offset > i {
		p.offset = i
		// Show the heading above the first item of a group.
		if i > 0 && s.rows[i-1].kind == rowGroup {
			p.offset = i - 1
		}
	}
	if i >= p.offset+h {
		p.offset = i - h + 1
	}
	if maxOff := max(0, len(s.rows)-h); p.offset > maxOff {
		p.offset = maxOff
	}
	if p.offset < 0 {
		p.offset = 0
	}
}

// move moves the cursor by delta rows, skipping headings.
func (s *configScreen) move(delta int) {
	p := s.pos()
	if len(s.rows) == 0 || p.cursor < 0 {
		return
	}
	dir := 1
	if delta < 0 {
		dir = -1
	}
	target := min(max(p.cursor+delta, 0), len(s.rows)-1)
	if i := s.nearestFocusable(target, dir); i >= 0 {
		s.setCursor(i)
	}
	if delta == -len(s.rows) || p.cursor == s.nearestFocusable(0, 1) {
		p.offset = 0
	}
}

// switchView flips between the Cube view and the tree.
func (s *configScreen) switchView() {
	if s.view == viewCube {
		s.view = viewTree
	} else {
		s.view = viewCube
	}
	s.reveal = false
	s.refresh()
}

// back leaves the current submenu for its parent.
func (s *configScreen) back() {
	if s.view != viewTree || len(s.tree) < 2 {
		s.setStatus(statusInfo, "At the top: q quits, tab switches views")
		return
	}
	s.tree = s.tree[:len(s.tree)-1]
	s.refresh()
}

// enterMenu opens a menu (or menuconfig) in the tree view.
func (s *configScreen) enterMenu(n Node) {
	if s.view == viewCube {
		s.jump(n, false)
	}
	s.tree = append(s.tree, treeLevel{menu: n})
	s.view = viewTree
	s.reveal = false
	s.refresh()
	s.setCursor(s.nearestFocusable(0, 1))
	s.pos().offset = 0
}

// jump shows node n in place: in the Cube view when it is a Cube option
// and that view is on screen, else in its menu of the tree with the menus
// above it opened (so Esc walks back up). A member of a choice opens the
// choice. A hidden node turns show-all on, and the status says why the
// node is hidden.
func (s *configScreen) jump(n Node, pickMember bool) {
	target, member := n, Node(nil)
	if p := s.eng.Parent(n); p != nil && s.eng.Entry(p).Kind == NodeChoice {
		target, member = p, n
	}
	hiddenWhy := ""
	visible := true
	for a := target; a != nil && a != s.eng.Root(); a = s.eng.Parent(a) {
		e := s.eng.Entry(a)
		if !e.Visible || e.Kind == NodeSymbol && e.Prompt == "" {
			visible = false
			if hiddenWhy == "" {
				hiddenWhy = s.eng.WhyHidden(a)
			}
		}
	}
	if member != nil && !s.eng.Entry(member).Visible {
		visible = false
		if hiddenWhy == "" {
			hiddenWhy = s.eng.WhyHidden(member)
		}
	}

	inCube := false
	if s.view == viewCube {
		for _, it := range s.cubeItems {
			if it.node == target {
				inCube = true
			}
		}
	}
	if !inCube {
		// The menus that open on the way down from the root.
		var chain []Node
		for a := s.eng.Parent(target); a != nil; a = s.eng.Parent(a) {
			chain = append(chain, a)
		}
		levels := []treeLevel{{menu: s.eng.Root()}}
		for i := len(chain) - 1; i >= 0; i-- {
			a := chain[i]
			e := s.eng.Entry(a)
			if a == s.eng.Root() || !opens(e) {
				continue
			}
			if e.Kind == NodeChoice && i > 0 && e.Value != "" && s.eng.Entry(chain[i-1]).Symbol == e.Value {
				continue // under the selected entry: listed under the choice, in its menu
			}
			levels[len(levels)-1].pos.node = a
			levels = append(levels, treeLevel{menu: a})
		}
		levels[len(levels)-1].pos.node = target
		s.tree = levels
		s.view = viewTree
	} else {
		s.cube.node = target
	}
	if !visible && !s.showAll {
		s.showAll = true
	}
	s.reveal = false
	s.refresh()
	// Centre the target, so what is around it shows too.
	if p := s.pos(); p.cursor >= 0 {
		h := s.listHeight()
		p.offset = max(0, min(p.cursor-h/2, len(s.rows)-h))
	}

	e := s.eng.Entry(target)
	what := e.Prompt
	if member != nil {
		what = s.eng.Entry(member).Prompt
	}
	if sym := s.eng.Entry(n).Symbol; sym != "" {
		what = strings.TrimSpace(what + " (" + sym + ")")
	}
	if !visible {
		msg := what + " is hidden (shown greyed, show-all is on)"
		if hiddenWhy != "" {
			msg += ": " + hiddenWhy
		}
		s.setStatus(statusError, msg)
	} else {
		s.setStatus(statusInfo, "Jumped to "+what)
	}
	if member != nil && pickMember {
		s.openChoice(target, member)
	}
}

// listRow turns a row into what renderList draws.
func (s *configScreen) listRow(r row, focused bool) listRow {
	switch r.kind {
	case rowGroup:
		return listRow{Group: true, Prompt: r.text}
	case rowNote:
		return listRow{Note: true, Prompt: r.text}
	}
	e := r.entry
	lr := listRow{Depth: r.depth, Prompt: e.Prompt, Hidden: !e.Visible}
	if lr.Prompt == "" {
		lr.Prompt = e.Symbol
	}
	if s.names && e.Symbol != "" && e.Prompt != "" {
		lr.Name = e.Symbol
	}
	switch e.Kind {
	case NodeMenu:
		lr.Submenu = true
	case NodeComment:
		lr.Comment = true
	case NodeChoice:
		lr.Submenu = true
		lr.Value = s.memberLabel(e.Value)
		if e.Value == "" {
			lr.Value, lr.ValueMuted = "(none)", true
		}
		lr.Changed = e.Value != e.Default
	case NodeSymbol:
		lr.Submenu = e.Menuconfig
		if e.Type == TypeBool || e.Type == TypeTristate {
			lr.Box = boolBox(e)
		} else {
			lr.Value, lr.ValueMuted = s.displayValue(r, focused)
		}
		lr.Changed = e.Value != e.Default
		lr.Forced = e.Forced
	}
	lr.Invalid = s.problemFor(r) != ""
	if focused && s.mode == modeEdit {
		lr.Edit = s.edit.input.View()
	}
	return lr
}

// boolBox is menuconfig's box for a bool or tristate: [*] [ ], -*- when a
// select forces it, (X) ( ) for a choice member.
func boolBox(e Entry) string {
	switch {
	case e.Member:
		if e.Value == "y" {
			return "(X)"
		}
		return "( )"
	case e.Forced && e.Value == "y":
		return "-*-"
	case e.Forced && e.Value == "m":
		return "-M-"
	case e.Type == TypeTristate:
		switch e.Value {
		case "y":
			return "<*>"
		case "m":
			return "<M>"
		}
		return "< >"
	case e.Value == "y":
		return "[*]"
	}
	return "[ ]"
}

// displayValue is a text value as the list shows it: secrets masked
// unless revealed on the focused row, "(empty)" for nothing.
func (s *configScreen) displayValue(r row, focused bool) (string, bool) {
	v := r.entry.Value
	if v == "" {
		return "(empty)", true
	}
	if s.isSecret(r) && !(focused && s.reveal) {
		return mask, false
	}
	return v, false
}

// mask replaces a secret on screen; it has a fixed length so it says
// nothing about the secret.
const mask = "********"

// memberLabel is the prompt of a choice member given its symbol.
func (s *configScreen) memberLabel(sym string) string {
	if sym == "" {
		return ""
	}
	if n := s.eng.Lookup(sym); n != nil {
		if p := s.eng.Entry(n).Prompt; p != "" {
			return p
		}
	}
	return sym
}

// isSecret reports whether the row shows a secret (the certs token).
func (s *configScreen) isSecret(r row) bool {
	if r.option != nil {
		return r.option.Secret
	}
	return isSecretSymbol(r.entry.Symbol)
}

func isSecretSymbol(sym string) bool {
	if sym == "" {
		return false
	}
	o, ok := cubecfg.Lookup(sym)
	return ok && o.Symbol == sym && o.Secret
}

// redact masks the values of secret options in a text meant for the
// screen (status lines, explanations, diffs).
func (s *configScreen) redact(text string) string {
	if s.eng == nil {
		return text
	}
	for _, o := range cubecfg.Options() {
		if !o.Secret {
			continue
		}
		v := s.eng.Value(o.Symbol)
		if v == "" {
			continue
		}
		text = strings.ReplaceAll(text, `"`+v+`"`, `"`+mask+`"`)
		if len(v) >= 4 {
			text = strings.ReplaceAll(text, v, mask)
		}
	}
	return text
}

// problemFor is the validation problem of the option a row shows, if any,
// with its hint: the row is shown alone.
func (s *configScreen) problemFor(r row) string {
	if r.kind != rowNode {
		return ""
	}
	if r.option != nil {
		return s.problemText(r.option.Symbol)
	}
	e := r.entry
	if e.Symbol != "" {
		if o, ok := cubecfg.Lookup(e.Symbol); ok && o.Symbol == e.Symbol {
			return s.problemText(o.Symbol)
		}
		return ""
	}
	if e.Kind == NodeChoice {
		for _, ch := range s.eng.Children(r.node) {
			if o, ok := cubecfg.Lookup(s.eng.Entry(ch).Symbol); ok && o.Kind == cubecfg.Choice {
				return s.problemText(o.Symbol)
			}
		}
	}
	return ""
}

// problemText is the problem of option sym, with its hint ("" if none).
func (s *configScreen) problemText(sym string) string {
	if p, ok := s.problems[sym]; ok {
		return p.Text()
	}
	return ""
}

// detail is the line under the list about the focused row: the problem,
// why it is hidden or forced, what it was changed from, else its help's
// first line. bad marks a problem.
func (s *configScreen) detail() (string, bool) {
	r, ok := s.focused()
	if !ok {
		return "", false
	}
	if s.mode == modeEdit {
		return s.editDetail()
	}
	e := r.entry
	if p := s.problemFor(r); p != "" {
		return "! " + s.shortProblem(r, p), true
	}
	if !e.Visible {
		why := s.eng.WhyHidden(r.node)
		if why == "" {
			why = "no prompt: set only by other symbols"
		}
		return "hidden: " + s.redact(why), false
	}
	if e.Forced {
		return "forced to " + e.Value + " by a select; i shows who selects it", false
	}
	if e.Value != e.Default && e.Kind != NodeMenu && e.Kind != NodeComment {
		def := e.Default
		switch {
		case e.Kind == NodeChoice:
			def = s.memberLabel(def)
		case s.isSecret(r) && def != "":
			def = mask
		case def == "":
			def = "(empty)"
		}
		return "changed from the default: " + def, false
	}
	if h := helpSummary(s.eng.Help(r.node)); h != "" {
		return h, false
	}
	if e.Symbol != "" {
		return e.Symbol, false
	}
	return "", false
}

// describeChanges is the status after a Set: the symbol's new value and
// what else changed with it.
func (s *configScreen) describeChanges(sym string, changes []Change) string {
	if len(changes) == 0 {
		return sym + " is unchanged"
	}
	first := changes[0]
	name := first.Prompt
	if name == "" {
		name = first.Symbol
	}
	val := first.New
	switch {
	case isSecretSymbol(first.Symbol):
		val = "(set, hidden)"
		if first.New == "" {
			val = "(empty)"
		}
	case val == "":
		val = "n"
	}
	msg := fmt.Sprintf("%s = %s", name, val)
	if rest := changes[1:]; len(rest) > 0 {
		var also []string
		for i, c := range rest {
			if i == 3 {
				also = append(also, fmt.Sprintf("and %d more (d shows all)", len(rest)-3))
				break
			}
			v := c.New
			if v == "" {
				v = "n"
			}
			if isSecretSymbol(c.Symbol) {
				v = mask
			}
			also = append(also, c.Symbol+"="+v)
		}
		msg += "; also changed: " + strings.Join(also, ", ")
	}
	return msg
}

// shortProblem fits a problem on the detail line: without the option's
// label (the row shows it) and with the overlay's path shortened to its
// last element. The why pane (i) has it in full.
func (s *configScreen) shortProblem(r row, p string) string {
	if label := r.entry.Prompt; label != "" {
		p = strings.TrimPrefix(p, label+": ")
	}
	return s.shortOverlay(p)
}

// shortOverlay shortens the overlay's path in a message to its last
// element ("overlay/etc/cube/certs/ca.pem").
func (s *configScreen) shortOverlay(p string) string {
	if o := s.opts.OverlayDir; o != "" {
		p = strings.ReplaceAll(p, strings.TrimSuffix(o, "/")+"/", filepath.Base(o)+"/")
	}
	return p
}

// helpSummary is the first paragraph of a help text on one line, for the
// detail line (which cuts it to the width with an ellipsis): its first
// line alone often stops mid-sentence.
func helpSummary(h string) string {
	var words []string
	for _, l := range strings.Split(strings.TrimSpace(h), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			break
		}
		words = append(words, f...)
	}
	return strings.Join(words, " ")
}

package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap holds every key binding of the app, grouped by what has the
// focus. The keys of the configurator are the ones menuconfig users know
// (arrows or j/k, Enter, space or y/n, /, ?, Esc, s, q) plus a few of
// kconfiglib's (A show-all, c names) and cube-hal's own (i why, d diff).
//
// A screen enables only the bindings that work on what is focused before it
// builds its help, so the help bar never offers a key that does nothing.
type KeyMap struct {
	App struct {
		ForceQuit key.Binding // ctrl+c: quit (asks when something would be lost)
		Screens   key.Binding // 1-9 (when no text is being typed), alt+1-9, F1-F9: show that screen
	}
	Browse struct {
		Up, Down, PageUp, PageDown, Top, Bottom key.Binding
		Open                                    key.Binding // enter: open a menu, edit a value, pick a choice
		Toggle                                  key.Binding // space
		Yes, No                                 key.Binding
		Back                                    key.Binding // esc
		Search, Help, Info, Diff                key.Binding
		ShowAll, Names, View                    key.Binding
		Reveal                                  key.Binding
		Save, Quit                              key.Binding
	}
	Edit struct {
		Accept, Cancel, Clear, Reveal key.Binding
	}
	Choice struct {
		Up, Down, Pick, Cancel key.Binding
	}
	Search struct {
		Up, Down, Jump, Cancel key.Binding
	}
	Pager struct {
		Up, Down, PageUp, PageDown, Close key.Binding
	}
	Save struct {
		Confirm, Defconfig, Cancel key.Binding
	}
	Quit struct {
		Discard, Save, Stay key.Binding
	}

	// The build, launch and attest screens.
	Build struct {
		Start, Rebuild, Cancel, Follow, Log     key.Binding
		Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	}
	Launch struct {
		SNP, TDX, Plain, Console, Serial, Stop, Settings key.Binding
		Details                                          key.Binding
		Up, Down, PageUp, PageDown, Bottom               key.Binding
		QuitStop                                         key.Binding // in the quit dialog: stop the VM, then quit
	}
	Term struct {
		Leave key.Binding // the one key a terminal pane does not forward
	}
	Attest struct {
		Run, TestRoots, Measurement, VMPL key.Binding
	}
	LogView struct {
		Search, Next, Prev, Wrap key.Binding
	}
	Confirm struct {
		Yes, No key.Binding
	}
	Form struct {
		Next, Prev, Accept, Cancel key.Binding
	}
}

// DefaultKeyMap returns the app's key bindings.
func DefaultKeyMap() *KeyMap {
	k := new(KeyMap)
	nb := key.NewBinding
	keys, hlp := key.WithKeys, key.WithHelp

	k.App.ForceQuit = nb(keys("ctrl+c"), hlp("ctrl+c", "quit"))
	var screens []string
	for i := '1'; i <= '9'; i++ {
		screens = append(screens, string(i), "alt+"+string(i), "f"+string(i))
	}
	k.App.Screens = nb(keys(screens...), hlp("1-4", "screens"))

	b := &k.Browse
	b.Up = nb(keys("up", "k"), hlp("↑/k", "up"))
	b.Down = nb(keys("down", "j"), hlp("↓/j", "down"))
	b.PageUp = nb(keys("pgup", "ctrl+b"), hlp("pgup", "page up"))
	b.PageDown = nb(keys("pgdown", "ctrl+f"), hlp("pgdn", "page down"))
	b.Top = nb(keys("home", "g"), hlp("g", "top"))
	b.Bottom = nb(keys("end", "G"), hlp("G", "bottom"))
	b.Open = nb(keys("enter"), hlp("enter", "open"))
	b.Toggle = nb(keys(" "), hlp("space", "toggle"))
	b.Yes = nb(keys("y"), hlp("y", "yes"))
	b.No = nb(keys("n"), hlp("n", "no"))
	b.Back = nb(keys("esc", "left", "h"), hlp("esc", "back"))
	b.Search = nb(keys("/"), hlp("/", "search"))
	b.Help = nb(keys("?"), hlp("?", "help"))
	b.Info = nb(keys("i"), hlp("i", "why"))
	b.Diff = nb(keys("d"), hlp("d", "diff"))
	b.ShowAll = nb(keys("A"), hlp("A", "show all"))
	b.Names = nb(keys("c"), hlp("c", "names"))
	b.View = nb(keys("tab"), hlp("tab", "full tree"))
	b.Reveal = nb(keys("ctrl+r"), hlp("ctrl+r", "reveal"))
	b.Save = nb(keys("s"), hlp("s", "save"))
	b.Quit = nb(keys("q"), hlp("q", "quit"))

	e := &k.Edit
	e.Accept = nb(keys("enter"), hlp("enter", "set"))
	e.Cancel = nb(keys("esc"), hlp("esc", "cancel"))
	e.Clear = nb(keys("ctrl+u"), hlp("ctrl+u", "clear"))
	e.Reveal = nb(keys("ctrl+r"), hlp("ctrl+r", "reveal"))

	c := &k.Choice
	c.Up = nb(keys("up", "k"), hlp("↑/k", "up"))
	c.Down = nb(keys("down", "j"), hlp("↓/j", "down"))
	c.Pick = nb(keys("enter", " "), hlp("enter", "select"))
	c.Cancel = nb(keys("esc"), hlp("esc", "cancel"))

	s := &k.Search
	s.Up = nb(keys("up", "ctrl+p"), hlp("↑", "up"))
	s.Down = nb(keys("down", "ctrl+n"), hlp("↓", "down"))
	s.Jump = nb(keys("enter"), hlp("enter", "jump"))
	s.Cancel = nb(keys("esc"), hlp("esc", "close"))

	p := &k.Pager
	p.Up = nb(keys("up", "k"), hlp("↑/k", "scroll"))
	p.Down = nb(keys("down", "j"), hlp("↓/j", "scroll"))
	p.PageUp = nb(keys("pgup", "b"), hlp("pgup", "page up"))
	p.PageDown = nb(keys("pgdown", " ", "f"), hlp("pgdn", "page down"))
	p.Close = nb(keys("esc", "q", "enter"), hlp("esc", "close"))

	sv := &k.Save
	sv.Confirm = nb(keys("enter", "y"), hlp("enter", "save"))
	sv.Defconfig = nb(keys("D", " "), hlp("D", "defconfig too"))
	sv.Cancel = nb(keys("esc", "n"), hlp("esc", "cancel"))

	q := &k.Quit
	q.Discard = nb(keys("y", "q"), hlp("y", "quit without saving"))
	q.Save = nb(keys("s"), hlp("s", "save first"))
	q.Stay = nb(keys("esc", "n"), hlp("esc", "stay"))

	bu := &k.Build
	bu.Start = nb(keys("b"), hlp("b", "build"))
	bu.Rebuild = nb(keys("r"), hlp("r", "rebuild package"))
	bu.Cancel = nb(keys("ctrl+c"), hlp("ctrl+c", "cancel build"))
	bu.Follow = nb(keys("f"), hlp("f", "follow"))
	bu.Log = nb(keys("l"), hlp("l", "full log"))
	bu.Up = nb(keys("up", "k"), hlp("↑/k", "scroll"))
	bu.Down = nb(keys("down", "j"), hlp("↓/j", "scroll"))
	bu.PageUp = nb(keys("pgup", "ctrl+b"), hlp("pgup", "page up"))
	bu.PageDown = nb(keys("pgdown", "ctrl+f"), hlp("pgdn", "page down"))
	bu.Top = nb(keys("home", "g"), hlp("g", "top"))
	bu.Bottom = nb(keys("end", "G"), hlp("G", "end"))

	la := &k.Launch
	la.SNP = nb(keys("s"), hlp("s", "launch SNP"))
	la.TDX = nb(keys("t"), hlp("t", "launch TDX"))
	la.Plain = nb(keys("p"), hlp("p", "launch plain"))
	la.Console = nb(keys("c", "enter"), hlp("c", "SSH console"))
	la.Serial = nb(keys("v"), hlp("v", "serial/SSH"))
	la.Stop = nb(keys("x"), hlp("x", "stop VM"))
	la.Settings = nb(keys("e"), hlp("e", "settings"))
	la.Details = nb(keys("i"), hlp("i", "host details"))
	la.Up = nb(keys("up", "k"), hlp("↑/k", "scroll"))
	la.Down = nb(keys("down", "j"), hlp("↓/j", "scroll"))
	la.PageUp = nb(keys("pgup", "ctrl+b"), hlp("pgup", "page up"))
	la.PageDown = nb(keys("pgdown", "ctrl+f"), hlp("pgdn", "page down"))
	la.Bottom = nb(keys("end", "G"), hlp("G", "follow"))
	la.QuitStop = nb(keys("x"), hlp("x", "stop the VM, then quit"))

	k.Term.Leave = nb(keys("ctrl+]"), hlp("ctrl+]", "leave console"))

	at := &k.Attest
	at.Run = nb(keys("a", "enter"), hlp("a", "attest"))
	at.TestRoots = nb(keys("T"), hlp("T", "test roots"))
	at.Measurement = nb(keys("m"), hlp("m", "expected measurement"))
	at.VMPL = nb(keys("v"), hlp("v", "expected VMPL"))

	lv := &k.LogView
	lv.Search = nb(keys("/"), hlp("/", "search"))
	lv.Next = nb(keys("n"), hlp("n", "next"))
	lv.Prev = nb(keys("N"), hlp("N", "previous"))
	lv.Wrap = nb(keys("w"), hlp("w", "cut long lines"))

	cf := &k.Confirm
	cf.Yes = nb(keys("y"), hlp("y", "yes"))
	cf.No = nb(keys("n", "esc"), hlp("n", "no"))

	fm := &k.Form
	fm.Next = nb(keys("tab", "down"), hlp("tab", "next field"))
	fm.Prev = nb(keys("shift+tab", "up"), hlp("shift+tab", "previous"))
	fm.Accept = nb(keys("enter"), hlp("enter", "apply"))
	fm.Cancel = nb(keys("esc"), hlp("esc", "cancel"))
	return k
}

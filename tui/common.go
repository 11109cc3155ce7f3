package tui

import (
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
)

// Common is what every part of the app shares: styles, keys and the size
// of the area the part draws in. The app owns one and hands a pointer to
// each screen, so a theme or key change reaches every screen at once.
type Common struct {
	Styles *Styles
	Keys   *KeyMap
	// Width and Height are the size of the whole terminal.
	Width, Height int
}

// Component is the contract of every pane of the app (soft-serve's):
// Elm-style Init/Update/View, the key bindings it offers now (for the help
// bar) and the area it is given. Update mutates the component in place and
// returns the commands to run; it never does I/O itself.
type Component interface {
	Init() tea.Cmd
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
	help.KeyMap
}

// Screen is a tab of the app: the configurator now, and the build, launch
// and attest screens after it. Keys go to the active screen only; every
// other message goes to all screens, so background work of an inactive
// screen (a build log, a VM's console) keeps flowing.
type Screen interface {
	Component
	// Title is the tab's name.
	Title() string
	// Capturing reports that the screen is taking text (an input field
	// has the focus), so the app must not act on printable keys itself.
	Capturing() bool
	// QuitConcerns lists what quitting now would lose or leave behind
	// ("3 unsaved changes"); the app asks before quitting when any
	// screen has one.
	QuitConcerns() []string
}

// Messages the app and its screens exchange.
type (
	// quitRequestMsg asks the app to quit, asking first when a screen has
	// a concern.
	quitRequestMsg struct{}
	// quitNowMsg quits without asking (after the user confirmed, or saved).
	quitNowMsg struct{}
	// saveThenQuitMsg asks the configurator to save and quit once saved.
	saveThenQuitMsg struct{}
)

func quitRequest() tea.Msg { return quitRequestMsg{} }
func quitNow() tea.Msg     { return quitNowMsg{} }

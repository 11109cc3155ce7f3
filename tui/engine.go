package tui

// This file is the configurator's view of the Kconfig engine: the few
// questions the screens ask of a configuration, in the words the screens
// use. The engine itself (parsing, evaluation, explanations, search, diff,
// writing files) lives in package kconfig; an adapter answers these
// questions from it, so a change in kconfig's API stays local to the
// adapter and the screens never learn kconfig's types.

// Node is one node of the menu tree (a menu, symbol, choice or comment), as
// the engine identifies it. It is opaque to the screens and comparable.
type Node any

// NodeKind says what a menu node is.
type NodeKind uint8

// Kinds of menu nodes.
const (
	NodeMenu    NodeKind = iota // menu ... endmenu: opens a submenu
	NodeSymbol                  // config or menuconfig
	NodeChoice                  // choice: its children are the members
	NodeComment                 // comment: a line of text, nothing to set
)

// SymType is a symbol's Kconfig type.
type SymType uint8

// Symbol types.
const (
	TypeUnknown SymType = iota
	TypeBool
	TypeTristate
	TypeString
	TypeInt
	TypeHex
)

func (t SymType) String() string {
	switch t {
	case TypeBool:
		return "bool"
	case TypeTristate:
		return "tristate"
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeHex:
		return "hex"
	}
	return "unknown"
}

// textual reports whether values of the type are edited as text.
func (t SymType) textual() bool { return t == TypeString || t == TypeInt || t == TypeHex }

// Entry is what one menu node looks like now, after the last change.
type Entry struct {
	Kind   NodeKind
	Prompt string  // the visible prompt; "" for a prompt-less symbol
	Symbol string  // the symbol's name; "" for menus, comments and choices
	Type   SymType // symbols and choices
	// Value is the symbol's value as .config holds it, unquoted: "y", "m"
	// or "n" for bool and tristate, the text of a string, int or hex. For
	// a choice it is the symbol of the selected member ("" when none).
	Value string
	// Default is the value the symbol would have without a user value,
	// so the screen can mark what was changed from it.
	Default string
	// Visible is menuconfig's visibility: the prompt is shown (its
	// dependencies are met). Hidden nodes appear only in show-all mode.
	Visible bool
	// Changeable: the user can set the value (visible, and not pinned by
	// a select). A bool selected by another symbol is Visible but not
	// Changeable and is Forced.
	Changeable bool
	Forced     bool // the value is held at y (or m) by a select
	Menuconfig bool // a symbol node that opens a submenu of its own
	Member     bool // a member of a choice (shown as a radio button)
}

// Change is one symbol whose value differs between two configurations.
type Change struct {
	Symbol string
	Prompt string
	Old    string // "" when the symbol had no value (or was n)
	New    string
}

// Hit is one search result.
type Hit struct {
	Node Node
}

// Section is part of an explanation: a heading and its lines, in plain
// words ("depends on BR2_USE_MMU (n)", "selected by BR2_PACKAGE_X (y)").
type Section struct {
	Title string
	Lines []string
}

// FileWrite is one file a save writes: the bytes are computed while the
// screen holds the engine, and written later by a command, so the UI loop
// never does I/O and the engine is never touched from two goroutines.
type FileWrite struct {
	What   string // ".config", "defconfig"
	Path   string
	Data   []byte
	Backup bool // keep the previous file as Path+".old", as conf does
	// Private: a secrets file, written with mode 0600 in a 0700 directory.
	Private bool
}

// Engine is the configuration the configurator edits. One Engine is used
// from the UI loop only (it need not be safe for concurrent use). Values
// are strings as .config holds them, unquoted.
type Engine interface {
	// Title is the menu's title ("Buildroot 2026.08 Configuration").
	Title() string
	// Root is the top menu.
	Root() Node
	// Children returns a node's children in menu order, hidden ones
	// included.
	Children(n Node) []Node
	// Parent returns the node's parent, nil for the root.
	Parent(n Node) Node
	// Entry describes a node as it is now.
	Entry(n Node) Entry
	// Help returns the help text of a node ("" when it has none).
	Help(n Node) string
	// Lookup returns the node a symbol is best shown at (its first node
	// with a prompt, else its first node), or nil for an unknown symbol.
	Lookup(symbol string) Node
	// Value is the symbol's effective value in the form cubecfg's get
	// takes: strings unquoted, "y" for an enabled bool or the selected
	// member of a choice, "" for n or an unknown symbol.
	Value(symbol string) string
	// Check says whether Set would accept the value for the symbol (type
	// and range), without setting it.
	Check(symbol, value string) error
	// Set gives the symbol a user value (a choice member: "y" selects it)
	// and returns every symbol whose value changed as a result, the
	// symbol itself first.
	Set(symbol, value string) ([]Change, error)
	// Explain says why a symbol or choice is what it is: its
	// dependencies with their current values, who selects it, what it
	// selects, its defaults, where it is defined and how that file was
	// reached.
	Explain(n Node) []Section
	// WhyHidden says in one line why a node is hidden ("" when visible).
	WhyHidden(n Node) string
	// Search finds nodes matching every term of query (symbol names with
	// or without BR2_, prompts, help), best first, at most max.
	Search(query string, max int) []Hit
	// Changes lists the symbols changed since the configuration was
	// loaded or last saved.
	Changes() []Change
	// SavePlan computes the files a save writes: .config, and with
	// defconfig the minimal defconfig (in standalone mode the Cube
	// defconfig edited in place). It does no I/O.
	SavePlan(defconfig bool) ([]FileWrite, error)
	// MarkSaved records that the current values are on disk: Changes
	// becomes empty.
	MarkSaved()
	// Kept reports whether a save writes the symbol's value: in
	// standalone mode only the Cube tree's symbols are (the Buildroot
	// stand-ins are there for dependencies only); otherwise all are.
	Kept(symbol string) bool
	// Source names where the values were read from (a .config or a
	// defconfig), for the header.
	Source() string
	// Standalone reports the standalone mode: no Buildroot checkout, only
	// the Cube defconfig is edited, and no .config is written.
	Standalone() bool
	// ConfigPath is the .config a save writes ("" in standalone mode).
	ConfigPath() string
	// DefconfigPath is where the defconfig is written when asked for.
	DefconfigPath() string
}

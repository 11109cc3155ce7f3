package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// The palette: every colour is named once here, for light and dark
// terminals, and used through Styles only. With NO_COLOR (or a terminal
// without colour) lipgloss drops colour and attributes, so nothing on
// screen may depend on them alone: cursor, markers and hidden rows also
// have a text form.
var (
	colorAccent  = lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B7A6FF"}
	colorText    = lipgloss.AdaptiveColor{Light: "#1F1F1F", Dark: "#E4E4E4"}
	colorMuted   = lipgloss.AdaptiveColor{Light: "#6B6B6B", Dark: "#8E8E8E"}
	colorFaint   = lipgloss.AdaptiveColor{Light: "#A8A8A8", Dark: "#5C5C5C"}
	colorCursorB = lipgloss.AdaptiveColor{Light: "#E3DCFF", Dark: "#3B3260"}
	colorChanged = lipgloss.AdaptiveColor{Light: "#0B6E99", Dark: "#6CC4F0"}
	colorInvalid = lipgloss.AdaptiveColor{Light: "#B3261E", Dark: "#FF7B72"}
	colorForced  = lipgloss.AdaptiveColor{Light: "#8A5A00", Dark: "#E3B341"}
	colorOK      = lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#56D364"}
	colorBarBG   = lipgloss.AdaptiveColor{Light: "#ECEAF5", Dark: "#24213A"}
)

// Styles holds every style of the app, grouped by the part of the screen
// they are for. Screens get them through Common and never build styles
// of their own, so a theme change is made here once.
type Styles struct {
	Header struct {
		Bar, Title, Tab, ActiveTab, Info lipgloss.Style
	}
	Crumb struct {
		Bar, Path, Flag lipgloss.Style
	}
	List struct {
		Cursor    lipgloss.Style // the focused row, whole width
		Normal    lipgloss.Style
		Hidden    lipgloss.Style // greyed: shown only in show-all mode
		Group     lipgloss.Style // a group heading of the Cube view
		Comment   lipgloss.Style
		Name      lipgloss.Style // symbol names (c)
		Value     lipgloss.Style
		Submenu   lipgloss.Style // the "--->" of menus
		Changed   lipgloss.Style
		Invalid   lipgloss.Style
		Forced    lipgloss.Style
		Scroll    lipgloss.Style // the scroll position indicator
		Detail    lipgloss.Style // the focused row's detail line
		DetailBad lipgloss.Style
	}
	Input struct {
		Prompt, Text, Error, OK lipgloss.Style
	}
	Pane struct {
		Title, Heading, Text, Muted, Key lipgloss.Style
	}
	Dialog struct {
		Box, Title, Text, Warn, Key lipgloss.Style
	}
	Status struct {
		Info, Error, OK lipgloss.Style
	}
	Help help.Styles

	// Work is the build, launch and attest screens'.
	Work struct {
		Heading    lipgloss.Style // a screen's or section's title
		Label      lipgloss.Style // "Buildroot", "QEMU", a check's name
		Value      lipgloss.Style
		Muted      lipgloss.Style
		OK         lipgloss.Style // passed, available, running
		Warn       lipgloss.Style // warnings, notes, skipped checks
		Bad        lipgloss.Style // failed, unavailable
		Running    lipgloss.Style // a package building, a VM starting
		BarFull    lipgloss.Style
		BarEmpty   lipgloss.Style
		Box        lipgloss.Style // a pane's border
		BoxFocused lipgloss.Style // the border of the pane that has the keys
		BoxTitle   lipgloss.Style
		FailLine   lipgloss.Style // the failing step's last lines
	}
}

// DefaultStyles builds the styles on a renderer (lipgloss's default one
// when r is nil), so they follow that renderer's colour profile and
// background.
func DefaultStyles(r *lipgloss.Renderer) *Styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	s := new(Styles)
	ns := r.NewStyle

	s.Header.Bar = ns().Background(colorBarBG)
	s.Header.Title = ns().Bold(true).Foreground(colorAccent).Background(colorBarBG)
	s.Header.Tab = ns().Foreground(colorMuted).Background(colorBarBG)
	s.Header.ActiveTab = ns().Bold(true).Underline(true).Foreground(colorText).Background(colorBarBG)
	s.Header.Info = ns().Foreground(colorMuted).Background(colorBarBG)

	s.Crumb.Bar = ns()
	s.Crumb.Path = ns().Bold(true).Foreground(colorAccent)
	s.Crumb.Flag = ns().Foreground(colorMuted)

	s.List.Cursor = ns().Background(colorCursorB).Foreground(colorText).Bold(true)
	s.List.Normal = ns().Foreground(colorText)
	s.List.Hidden = ns().Foreground(colorFaint)
	s.List.Group = ns().Bold(true).Foreground(colorAccent)
	s.List.Comment = ns().Foreground(colorMuted)
	s.List.Name = ns().Foreground(colorMuted)
	s.List.Value = ns().Foreground(colorChanged)
	s.List.Submenu = ns().Foreground(colorMuted)
	s.List.Changed = ns().Foreground(colorChanged).Bold(true)
	s.List.Invalid = ns().Foreground(colorInvalid).Bold(true)
	s.List.Forced = ns().Foreground(colorForced)
	s.List.Scroll = ns().Foreground(colorMuted)
	s.List.Detail = ns().Foreground(colorMuted)
	s.List.DetailBad = ns().Foreground(colorInvalid)

	s.Input.Prompt = ns().Foreground(colorAccent).Bold(true)
	s.Input.Text = ns().Foreground(colorText)
	s.Input.Error = ns().Foreground(colorInvalid)
	s.Input.OK = ns().Foreground(colorOK)

	s.Pane.Title = ns().Bold(true).Foreground(colorAccent)
	s.Pane.Heading = ns().Bold(true).Foreground(colorText)
	s.Pane.Text = ns().Foreground(colorText)
	s.Pane.Muted = ns().Foreground(colorMuted)
	s.Pane.Key = ns().Bold(true).Foreground(colorAccent)

	s.Dialog.Box = ns().Border(lipgloss.RoundedBorder()).BorderForeground(colorAccent).Padding(0, 1)
	s.Dialog.Title = ns().Bold(true).Foreground(colorAccent)
	s.Dialog.Text = ns().Foreground(colorText)
	s.Dialog.Warn = ns().Foreground(colorInvalid)
	s.Dialog.Key = ns().Bold(true).Foreground(colorAccent)

	s.Status.Info = ns().Foreground(colorMuted)
	s.Status.Error = ns().Foreground(colorInvalid).Bold(true)
	s.Status.OK = ns().Foreground(colorOK)

	s.Help = help.Styles{
		ShortKey:       ns().Foreground(colorAccent).Bold(true),
		ShortDesc:      ns().Foreground(colorMuted),
		ShortSeparator: ns().Foreground(colorFaint),
		Ellipsis:       ns().Foreground(colorFaint),
		FullKey:        ns().Foreground(colorAccent).Bold(true),
		FullDesc:       ns().Foreground(colorMuted),
		FullSeparator:  ns().Foreground(colorFaint),
	}

	w := &s.Work
	w.Heading = ns().Bold(true).Foreground(colorAccent)
	w.Label = ns().Foreground(colorMuted)
	w.Value = ns().Foreground(colorText)
	w.Muted = ns().Foreground(colorMuted)
	w.OK = ns().Foreground(colorOK).Bold(true)
	w.Warn = ns().Foreground(colorForced)
	w.Bad = ns().Foreground(colorInvalid).Bold(true)
	w.Running = ns().Foreground(colorChanged).Bold(true)
	w.BarFull = ns().Foreground(colorAccent)
	w.BarEmpty = ns().Foreground(colorFaint)
	w.Box = ns().Foreground(colorFaint)
	w.BoxFocused = ns().Foreground(colorAccent)
	w.BoxTitle = ns().Bold(true).Foreground(colorText)
	w.FailLine = ns().Foreground(colorInvalid)
	return s
}

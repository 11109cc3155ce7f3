package tui

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/launch"
)

// launchForm edits the launch settings: the VM's name, memory, vCPUs and
// kernel command line (the CLI's --name, --memory, --cpus, --append).
// Each field is checked as it is typed; enter applies them all.
type launchForm struct {
	fields []formField
	focus  int
	width  int
}

type formField struct {
	label string
	help  string
	input textinput.Model
	check func(string) error
}

var vmNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func newLaunchForm(s launchSettings, w int) *launchForm {
	mem, cpus := "", ""
	if s.MemoryMB > 0 {
		mem = launch.FormatMemory(s.MemoryMB)
	}
	if s.CPUs > 0 {
		cpus = strconv.Itoa(s.CPUs)
	}
	f := &launchForm{width: w}
	add := func(label, help, v string, check func(string) error) {
		in := newInput()
		in.SetValue(v)
		in.Width = max(10, w-24)
		f.fields = append(f.fields, formField{label: label, help: help, input: in, check: check})
	}
	add("Name", "names the run directory; letters, digits, - _ .", s.Name, func(v string) error {
		if !vmNameRE.MatchString(v) {
			return errors.New("use letters, digits, '-', '_' and '.' only")
		}
		return nil
	})
	add("Memory", "e.g. 512M or 8G; empty: 8G for SNP and TDX, 2G plain", mem, func(v string) error {
		if v == "" {
			return nil
		}
		mb, err := launch.ParseMemory(v)
		if err == nil && mb < 64 {
			err = errors.New("at least 64M")
		}
		return err
	})
	add("vCPUs", "empty: 4 for SNP and TDX, 2 plain", cpus, func(v string) error {
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 255 {
			return errors.New("a number from 1 to 255")
		}
		return nil
	})
	add("Command line", "the kernel command line (-append)", s.Append, func(v string) error {
		if strings.ContainsAny(v, "\n\x00") {
			return errors.New("one line")
		}
		return nil
	})
	f.fields[0].input.Focus()
	return f
}

// update handles a key: done when the form closes, with the new settings
// when they were applied.
func (f *launchForm) update(msg tea.KeyMsg, k *KeyMap) (bool, *launchSettings) {
	switch {
	case key.Matches(msg, k.Form.Cancel):
		return true, nil
	case key.Matches(msg, k.Form.Accept):
		s, err := f.settings()
		if err != nil {
			return false, nil
		}
		return true, &s
	case key.Matches(msg, k.Form.Next):
		f.move(1)
	case key.Matches(msg, k.Form.Prev):
		f.move(-1)
	default:
		f.fields[f.focus].input, _ = f.fields[f.focus].input.Update(msg)
	}
	return false, nil
}

func (f *launchForm) move(d int) {
	f.fields[f.focus].input.Blur()
	f.focus = (f.focus + d + len(f.fields)) % len(f.fields)
	f.fields[f.focus].input.Focus()
}

// settings parses the fields; the error names the first bad one.
func (f *launchForm) settings() (launchSettings, error) {
	for _, fl := range f.fields {
		if err := fl.check(strings.TrimSpace(fl.input.Value())); err != nil {
			return launchSettings{}, fmt.Errorf("%s: %w", fl.label, err)
		}
	}
	v := func(i int) string { return strings.TrimSpace(f.fields[i].input.Value()) }
	s := launchSettings{Name: v(0), Append: f.fields[3].input.Value()}
	if v(1) != "" {
		s.MemoryMB, _ = launch.ParseMemory(v(1))
	}
	if v(2) != "" {
		s.CPUs, _ = strconv.Atoi(v(2))
	}
	return s, nil
}

func (f *launchForm) help(k *KeyMap) []key.Binding {
	return []key.Binding{k.Form.Accept, k.Form.Next, k.Form.Cancel}
}

func (f *launchForm) view(st *Styles, w, h int) string {
	lines := []string{renderBar(st.Work.Heading, st.Work.Muted, "Launch settings", "used by the next launch", w), ""}
	lw := 14
	for i, fl := range f.fields {
		cur := "  "
		if i == f.focus {
			cur = st.Input.Prompt.Render("> ")
		}
		lines = append(lines, fitLine(cur+st.Work.Label.Render(padRight(fl.label, lw))+fl.input.View(), w))
		note := st.Work.Muted.Render(fl.help)
		if err := fl.check(strings.TrimSpace(fl.input.Value())); err != nil {
			note = st.Input.Error.Render("! " + err.Error())
		}
		lines = append(lines, fitLine(strings.Repeat(" ", lw+2)+note, w), "")
	}
	return strings.Join(fitLines(lines, w, h), "\n")
}

package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// The widths the goldens are taken at: the smallest supported terminal,
// the classic one, a wide one and a very wide one.
var goldenWidths = []int{60, 80, 120, 200}

// golden compares got with testdata/<test name>.golden (rewritten with
// -update). Trailing spaces are kept: widths are part of what is tested.
func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(t.Name())+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// exactWidth asserts every line of s is w columns wide.
func exactWidth(t *testing.T, s string, w int) {
	t.Helper()
	for i, l := range strings.Split(s, "\n") {
		if n := ansi.StringWidth(l); n != w {
			t.Fatalf("width %d: line %d is %d wide: %q", w, i, n, ansi.Strip(l))
		}
	}
}

// sampleRows has one of every kind of row the list draws.
func sampleRows() []listRow {
	return []listRow{
		{Group: true, Prompt: "Agent"},
		{Box: "[*]", Prompt: "cube-agent", Changed: true},
		{Depth: 1, Prompt: "Agent Instance ID", Value: "cube-agent-01"},
		{Depth: 1, Prompt: "Agent Port", Value: "7002", Changed: true},
		{Depth: 1, Prompt: "Log Level", Value: "info", Submenu: true},
		{Depth: 1, Prompt: "Custom backend URL", Value: "(empty)", ValueMuted: true, Invalid: true},
		{Depth: 1, Prompt: "Certs Token", Value: mask, Changed: true},
		{Group: true, Prompt: "LLM backend"},
		{Box: "-*-", Prompt: "BR2_PACKAGE_HOST_GO", Forced: true, Hidden: true},
		{Box: "(X)", Prompt: "Ollama"},
		{Box: "( )", Prompt: "vLLM", Hidden: true},
		{Prompt: "Target packages", Submenu: true},
		{Comment: true, Prompt: "ollama needs a toolchain w/ C++, threads and glibc"},
		{Box: "[ ]", Prompt: "A prompt long enough to be cut at every width the golden test draws it at, surely", Name: "BR2_PACKAGE_WITH_A_LONG_NAME", Value: "a value that is also far too long to fit", Changed: true, Invalid: true},
		{Note: true, Prompt: "3 options hidden (A shows them): depends on BR2_USE_WCHAR [=n]"},
	}
}

func TestRenderList(t *testing.T) {
	st := DefaultStyles(nil)
	for _, w := range goldenWidths {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			out := renderList(st, sampleRows(), 3, 0, w, 16)
			exactWidth(t, out, w)
			golden(t, out)
		})
	}
	t.Run("names", func(t *testing.T) {
		rows := sampleRows()
		for i := range rows {
			if !rows[i].Group && !rows[i].Note {
				rows[i].Name = "BR2_PACKAGE_CUBE_AGENT_X"
			}
		}
		out := renderList(st, rows, 1, 0, 80, 16)
		exactWidth(t, out, 80)
		golden(t, out)
	})
	t.Run("editing", func(t *testing.T) {
		rows := sampleRows()
		rows[3].Edit = "70000"
		out := renderList(st, rows, 3, 2, 80, 6)
		exactWidth(t, out, 80)
		golden(t, out)
	})
}

func TestRenderPager(t *testing.T) {
	st := DefaultStyles(nil)
	secs := []Section{
		{Title: "Value", Lines: []string{"BR2_PACKAGE_CUBE_AGENT_PORT is 7002."}},
		{Title: "Depends on", Lines: []string{
			"BR2_PACKAGE_CUBE_AGENT [=y] is y",
			"BR2_PACKAGE_HOST_GO_TARGET_ARCH_SUPPORTS [=y] && BR2_TOOLCHAIN_HAS_THREADS [=y] && a very long dependency line that has to wrap at the smaller widths",
		}},
		{Title: "Defined at", Lines: []string{"/work/buildroot/package/cube-agent/Config.in:44, sourced from /work/buildroot/Config.in:5"}},
	}
	for _, w := range goldenWidths {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			lines := layoutSections(st, secs, w)
			out := renderPager(st, "Why: Agent Port (BR2_PACKAGE_CUBE_AGENT_PORT)", lines, 0, w, 12)
			exactWidth(t, out, w)
			golden(t, out)
		})
	}
}

func TestRenderSearch(t *testing.T) {
	st := DefaultStyles(nil)
	rows := []searchRow{
		{Prompt: "Agent Port", Name: "BR2_PACKAGE_CUBE_AGENT_PORT", Path: "External options > Cube packages > cube-agent"},
		{Prompt: "vLLM package to install", Name: "BR2_PACKAGE_VLLM_PIP_SPEC", Path: "External options > Cube packages > vllm", Hidden: true},
		{Prompt: "*** Agent ***", Path: "External options > Cube packages > cube-agent"},
	}
	for _, w := range goldenWidths {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			out := renderSearch(st, "agent port", "3 matches", rows, 0, 0, w, 9)
			exactWidth(t, out, w)
			golden(t, out)
		})
	}
}

func TestRenderSave(t *testing.T) {
	st := DefaultStyles(nil)
	v := saveView{
		Changes: []string{"Agent Port (BR2_PACKAGE_CUBE_AGENT_PORT): 7001 -> 7002", "Certs Token (BR2_PACKAGE_CUBE_AGENT_CERTS_TOKEN): (unset) -> ********"},
		Files: []saveFile{
			{On: true, Lock: true, What: ".config", Path: "/home/user/cube-hal/output/.config", Note: "the previous one is kept as .config.old"},
			{What: "defconfig", Path: "/home/user/cube-hal/buildroot/configs/cube_defconfig", Note: "the minimal defconfig (savedefconfig)"},
		},
		Problems: []string{"Server Certificate File: overlay/etc/cube/certs/server.crt is missing; run 'cube-hal certs'"},
		Err:      "defconfig: open /home/user/cube-hal/buildroot/configs/.cube_defconfig.tmp-1: read-only file system",
	}
	for _, w := range goldenWidths {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			out := renderSave(st, v, w, 18)
			exactWidth(t, out, w)
			golden(t, out)
		})
	}
	// Far more changes and problems than fit (turning a package off
	// changes dozens of symbols): the files and the error still show,
	// and the lists say how much they left out.
	many := v
	many.Changes, many.Problems = nil, nil
	for i := 0; i < 40; i++ {
		many.Changes = append(many.Changes, fmt.Sprintf("Symbol %d (BR2_SYMBOL_%d): y -> n", i, i))
	}
	for i := 0; i < 6; i++ {
		many.Problems = append(many.Problems, fmt.Sprintf("Problem %d", i))
	}
	many.Files[1].On = true
	many.Files[1].Warn = "the certs token is written into it in clear"
	always := []string{"[x] .config", "[x] defconfig", "the certs token is written", "6 problems", "Not saved: defconfig: open", "Nothing was lost"}
	for _, c := range []struct {
		w, h int
		want []string
	}{
		{60, 18, []string{"40 changes (esc, then d lists them)"}},
		{80, 24, []string{"40 changes:", "  Symbol 2 ", "  … and 37 more (esc, then d lists them all)", "  ! Problem 1", "  … and 4 more"}},
		{120, 40, []string{"40 changes:", "  Symbol 17 ", "  … and 22 more (esc, then d lists them all)", "  ! Problem 5"}},
	} {
		t.Run(fmt.Sprintf("many/w%dh%d", c.w, c.h), func(t *testing.T) {
			sz := [2]int{c.w, c.h}
			out := renderSave(st, many, sz[0], sz[1])
			exactWidth(t, out, sz[0])
			plain := ansi.Strip(out)
			for _, want := range append(always, c.want...) {
				if !strings.Contains(plain, want) {
					t.Errorf("lacks %q:\n%s", want, plain)
				}
			}
			if n := len(strings.Split(out, "\n")); n != sz[1] {
				t.Errorf("%d lines, want %d", n, sz[1])
			}
			golden(t, out)
		})
	}
}

func TestRenderChrome(t *testing.T) {
	st := DefaultStyles(nil)
	k := DefaultKeyMap()
	bindings := []key.Binding{k.Browse.Open, k.Browse.Info, k.Browse.Search, k.Browse.Save, k.Browse.Diff, k.Browse.View, k.Browse.Help, k.Browse.Quit}
	for _, w := range goldenWidths {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			var b strings.Builder
			b.WriteString(renderHeader(st, []string{"Configure", "Build", "Launch"}, 0, "Buildroot /work/buildroot-src · /work/cube/output/.config", w))
			b.WriteString("\n")
			b.WriteString(fitLine(renderHelpBar(st, bindings, w), w))
			b.WriteString("\n")
			b.WriteString(renderQuitDialog(st, []string{"Configure: 2 unsaved changes"}, []key.Binding{k.Quit.Discard, k.Quit.Save, k.Quit.Stay}, w, 9))
			out := b.String()
			exactWidth(t, out, w)
			golden(t, out)
		})
	}
}

// Every render function fills exactly the width it is given, at every
// width from tiny to huge, in plain text and in colour (where escape
// sequences must not count).
func TestRenderWidthInvariant(t *testing.T) {
	for _, c := range []struct {
		profile termenv.Profile
		dark    bool
	}{{termenv.Ascii, true}, {termenv.TrueColor, true}, {termenv.TrueColor, false}, {termenv.ANSI256, false}} {
		lipgloss.SetColorProfile(c.profile)
		lipgloss.SetHasDarkBackground(c.dark)
		st := DefaultStyles(nil)
		k := DefaultKeyMap()
		secs := []Section{{Title: "Help", Lines: []string{strings.Repeat("word ", 60), "BR2_AN_UNBREAKABLE_SYMBOL_NAME_THAT_IS_LONGER_THAN_NARROW_WIDTHS"}}}
		for w := 20; w <= 220; w += 7 {
			exactWidth(t, renderList(st, sampleRows(), 1, 0, w, 10), w)
			rows := sampleRows()
			rows[3].Edit = "70000"
			exactWidth(t, renderList(st, rows, 3, 0, w, 10), w)
			exactWidth(t, renderPager(st, "Help: Agent Port", layoutSections(st, secs, w), 0, w, 10), w)
			exactWidth(t, renderSearch(st, "x", "1 match", []searchRow{{Prompt: "Agent Port", Name: "BR2_X", Path: "a > b"}}, 0, 0, w, 6), w)
			exactWidth(t, renderSave(st, saveView{Changes: []string{"a: 1 -> 2"}, Files: []saveFile{{On: true, What: ".config", Path: "/x"}}}, w, 10), w)
			exactWidth(t, renderHeader(st, []string{"Configure"}, 0, "standalone", w), w)
			exactWidth(t, fitLine(renderHelpBar(st, []key.Binding{k.Browse.Open, k.Browse.Search, k.Browse.Quit}, w), w), w)
			if ansi.StringWidth(renderHelpBar(st, []key.Binding{k.Browse.Open, k.Browse.Search, k.Browse.Quit, k.Browse.Save, k.Browse.Diff}, w)) > w {
				t.Fatalf("help bar wider than %d", w)
			}
			exactWidth(t, renderQuitDialog(st, []string{"Configure: 1 unsaved change"}, []key.Binding{k.Quit.Discard}, w, 8), w)
		}
	}
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
}

// In colour, the focused row is one highlighted band, and hidden rows are
// drawn in the faint colour (the text markers stay, for NO_COLOR).
func TestRenderColour(t *testing.T) {
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	st := DefaultStyles(nil)
	rows := sampleRows()
	out := strings.Split(renderList(st, rows, 3, 0, 80, len(rows)), "\n")
	if !strings.Contains(out[3], "\x1b[") || !strings.Contains(out[3], "48;2;") {
		t.Errorf("focused row has no background: %q", out[3])
	}
	if !strings.Contains(out[8], "38;2;") || !strings.HasSuffix(ansi.Strip(out[8]), "^~") {
		t.Errorf("hidden forced row: %q", out[8])
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in   string
		w    int
		want []string
	}{
		{"short", 10, []string{"short"}},
		{"two words here", 9, []string{"two words", "here"}},
		{"  indented text that wraps", 12, []string{"  indented", "  text that", "  wraps"}},
		{"  - a list item that wraps", 12, []string{"  - a list", "    item", "    that", "    wraps"}},
		{"open /home/user/cube-hal/buildroot: read-only", 20, []string{"open", "/home/user/cube-hal/", "buildroot: read-only"}},
		{"BR2_A_VERY_LONG_SYMBOL_NAME", 10, []string{"BR2_A_VERY", "_LONG_SYMB", "OL_NAME"}},
		{"para one\n\npara two", 20, []string{"para one", "", "para two"}},
		{"x", 0, []string{"x"}},
	}
	for _, tt := range tests {
		got := wrap(tt.in, tt.w)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
		}
		for _, l := range got {
			if w := max(tt.w, 1); ansi.StringWidth(l) > w {
				t.Errorf("wrap(%q, %d): line %q too wide", tt.in, tt.w, l)
			}
		}
	}
}

// Light and dark terminals get different colours for the same row.
func TestRenderLightAndDark(t *testing.T) {
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer func() {
		lipgloss.SetColorProfile(termenv.Ascii)
		lipgloss.SetHasDarkBackground(true)
	}()
	draw := func(dark bool) string {
		lipgloss.SetHasDarkBackground(dark)
		return renderList(DefaultStyles(nil), sampleRows(), 3, 0, 80, 6)
	}
	dark, light := draw(true), draw(false)
	if dark == light {
		t.Fatal("same colours on light and dark backgrounds")
	}
	if ansi.Strip(dark) != ansi.Strip(light) {
		t.Fatal("the text differs between light and dark backgrounds")
	}
}

// Wrapping never makes a line wider than asked and loses no word.
func FuzzWrap(f *testing.F) {
	f.Add("a list of words that wraps", 10)
	f.Add("  - an indented item with a /very/long/path/that-has-hyphens", 12)
	f.Add("tabs\tand\nnew lines\n\n", 5)
	f.Add("ünïcödé wörds ånd 漢字 wide ones", 7)
	f.Fuzz(func(t *testing.T, text string, w int) {
		if w < 1 || w > 300 || !utf8.ValidString(text) || strings.ContainsAny(text, "\x1b\r") {
			t.Skip()
		}
		lines := wrap(text, w)
		for _, l := range lines {
			if n := ansi.StringWidth(l); n > w && n > 2 {
				t.Fatalf("wrap(%q, %d): line %q is %d wide", text, w, l, n)
			}
		}
		joined := strings.Join(strings.Fields(strings.Join(lines, "")), "")
		want := strings.Join(strings.Fields(text), "")
		if w > 2 && joined != want {
			t.Fatalf("wrap(%q, %d) lost text: %q", text, w, lines)
		}
	})
}

// A list row of any content is drawn exactly as wide as the list.
func FuzzRenderRow(f *testing.F) {
	f.Add("Agent Port", "BR2_PACKAGE_CUBE_AGENT_PORT", "7001", "[*]", 2, 80, true)
	f.Add("", "", "", "", 0, 20, false)
	f.Add("漢字のプロンプト", "X", "値", "(X)", 5, 61, true)
	st := DefaultStyles(nil)
	f.Fuzz(func(t *testing.T, prompt, name, value, box string, depth, w int, focused bool) {
		if w < 20 || w > 400 || depth < 0 || depth > 20 || strings.ContainsAny(prompt+name+value+box, "\x1b\n\r\t") {
			t.Skip()
		}
		r := listRow{Prompt: prompt, Name: name, Value: value, Box: box, Depth: depth, Submenu: depth%2 == 1, Changed: focused}
		out := renderList(st, []listRow{r, {Group: true, Prompt: prompt}, {Note: true, Prompt: value}}, 0, 0, w, 3)
		exactWidth(t, out, w)
	})
}

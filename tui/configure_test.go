package tui

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/agent/agenttest"
	"github.com/ultravioletrs/cube-hal/cubecfg"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// newTestApp opens testdata/tree (the Cube tree under a small base, read
// by the Kconfig engine) at 100x40, room for every row of the Cube view;
// with off, cube-agent is turned off first (and that counts as saved).
func newTestApp(t *testing.T, off bool) (*harness, Engine) {
	t.Helper()
	eng, _ := openTestTree(t)
	h := newHarness(t, eng, 100, 40, t.TempDir())
	if off {
		h.focus("cube-agent")
		h.keys("n")
		eng.MarkSaved()
		h.keys("g")
	}
	return h, eng
}

func TestOpensOnCubeView(t *testing.T) {
	h, _ := newTestApp(t, true)
	h.mustShow("Cube packages", "── Agent", "── LLM backend", "── Certificates and TLS", "[ ] cube-agent", "[ ] ollama")
	// vllm's toolchain dependency is not met: it is hidden, and so are
	// the agent's options while the agent is off.
	h.mustNotShow("vllm", "Agent Port")
	h.mustShow("options hidden (A shows them): depends on BR2_PACKAGE_CUBE_AGENT [=n]")
	if !strings.Contains(h.cursorLine(), "cube-agent") {
		t.Fatalf("cursor not on the first option:\n%s", h.screen())
	}
}

func TestNavigation(t *testing.T) {
	h, _ := newTestApp(t, true)
	h.keys("space") // enable cube-agent: its options appear
	h.mustShow("[*] cube-agent", "Agent Instance ID", "cube-agent-01", "Agent Port", "7001", "Log Level", "info")
	// The CVM ID is an Agent option, right after the instance ID.
	scr := h.screen()
	agent, id, cvm, llm := strings.Index(scr, "── Agent "), strings.Index(scr, "Agent Instance ID"),
		strings.Index(scr, "CVM ID"), strings.Index(scr, "── LLM backend")
	if agent < 0 || !(agent < id && id < cvm && cvm < llm) || strings.Count(scr[id:cvm], "\n") != 1 {
		t.Fatalf("CVM ID is not under Agent, after the instance ID:\n%s", scr)
	}
	h.keys("down")
	if !strings.Contains(h.cursorLine(), "Agent Instance ID") {
		t.Fatalf("down did not go to the next option:\n%s", h.screen())
	}
	// Down at the last option of a group skips the next heading.
	h.focus("Agent VMPL")
	h.keys("down")
	if !strings.Contains(h.cursorLine(), "LLM Backend") {
		t.Fatalf("down did not skip the group heading:\n%s", h.screen())
	}
	h.keys("up")
	if !strings.Contains(h.cursorLine(), "Agent VMPL") {
		t.Fatalf("up did not skip back over the heading:\n%s", h.screen())
	}

	// Tab: the full tree, menu by menu; Esc walks back to the same row.
	h.keys("tab")
	h.mustShow("Test 1.0 Configuration", "Toolchain --->", "Target packages --->")
	h.focus("Target packages")
	h.keys("enter")
	h.mustShow("Test 1.0 Configuration > Target packages", "Cube packages --->")
	h.focus("Cube packages")
	h.keys("enter")
	h.mustShow("Target packages > Cube packages", "[*] cube-agent", "*** Agent ***")
	// Options that depend on cube-agent are indented under it.
	if !strings.Contains(h.screen(), "\n        Agent Instance ID") {
		t.Fatalf("dependent options not indented:\n%s", h.screen())
	}
	h.keys("esc")
	if !strings.Contains(h.cursorLine(), "Cube packages") {
		t.Fatalf("esc did not return to the submenu's row:\n%s", h.screen())
	}
	h.keys("esc")
	if !strings.Contains(h.cursorLine(), "Target packages") {
		t.Fatalf("esc did not return to the top row:\n%s", h.screen())
	}
	h.keys("esc") // at the top, Esc does not quit
	if h.quit {
		t.Fatal("esc at the top quit the app")
	}
	h.mustShow("At the top: q quits")
	h.keys("tab")
	h.mustShow("Cube packages", "── Agent")
}

func TestHelpBarShowsOnlyWorkingKeys(t *testing.T) {
	h, _ := newTestApp(t, false)
	help := func() string {
		lines := strings.Split(h.screen(), "\n")
		return lines[len(lines)-1]
	}
	h.focus("cube-agent")
	if hb := help(); !strings.Contains(hb, "space toggle") || strings.Contains(hb, "enter edit") || strings.Contains(hb, "ctrl+r") {
		t.Errorf("bool row help bar: %q", hb)
	}
	h.focus("Agent Port")
	if hb := help(); !strings.Contains(hb, "enter edit") || strings.Contains(hb, "toggle") || strings.Contains(hb, "y yes") {
		t.Errorf("int row help bar: %q", hb)
	}
	if hb := help(); strings.Contains(hb, "d diff") || strings.Contains(hb, "esc back") {
		t.Errorf("help bar offers diff with no change or back at the top: %q", hb)
	}
	h.focus("Log Level")
	if hb := help(); !strings.Contains(hb, "enter choose") {
		t.Errorf("choice row help bar: %q", hb)
	}
	h.focus("Certs Token")
	if hb := help(); !strings.Contains(hb, "ctrl+r reveal") {
		t.Errorf("secret row help bar: %q", hb)
	}
}

func TestEditWithValidation(t *testing.T) {
	h, eng := newTestApp(t, false)
	h.focus("Agent Port")
	h.keys("enter", "ctrl+u")
	h.typeText("70000")
	h.mustShow("! 70000 is not in 1-65535")
	if hb := strings.Split(h.screen(), "\n"); strings.Contains(hb[len(hb)-1], "enter set") {
		t.Errorf("help bar offers to set an invalid value: %q", hb[len(hb)-1])
	}
	h.keys("enter") // refused: still editing
	h.mustShow("Not set: 70000 is not in 1-65535")
	if got := eng.Value(cubecfg.SymPort); got != "7001" {
		t.Fatalf("invalid value was set: %q", got)
	}
	h.keys("backspace")
	h.mustShow("ok (1-65535)")
	h.mustNotShow("Not set:") // about the text before
	h.keys("enter")
	if got := eng.Value(cubecfg.SymPort); got != "7000" {
		t.Fatalf("port = %q, want 7000", got)
	}
	h.mustShow("Agent Port = 7000")
	if l := h.cursorLine(); !strings.Contains(l, "7000") || !strings.HasSuffix(l, "*") {
		t.Fatalf("row does not show the new value marked as changed: %q", l)
	}
	h.mustShow("changed from the default: 7001")

	// Esc cancels; a bad host is named with the reason.
	h.focus("Agent Host")
	h.keys("enter", "ctrl+u")
	h.typeText("bad host!")
	h.mustShow(`! "bad host!" is neither an IP address nor a host name`)
	// What looks like an IPv4 address must be one.
	h.keys("ctrl+u")
	h.typeText("10.0.0.300")
	h.mustShow(`! "10.0.0.300": 300 is not an IPv4 octet (0-255)`)
	h.keys("enter") // refused
	h.mustShow(`Not set: "10.0.0.300": 300 is not an IPv4 octet (0-255)`)
	h.keys("esc")
	h.mustShow("Not changed")
	if got := eng.Value(cubecfg.SymHost); got != "0.0.0.0" {
		t.Fatalf("host = %q after esc", got)
	}
}

func TestToggleChoice(t *testing.T) {
	h, eng := newTestApp(t, false)
	h.focus("Log Level")
	if l := h.cursorLine(); !strings.Contains(l, "info") || strings.HasSuffix(l, "*") {
		t.Fatalf("log level row: %q", l)
	}
	h.keys("enter")
	h.mustShow("Log Level", "choose one", "( ) debug", "(X) info", "( ) warn", "( ) error")
	if !strings.Contains(h.cursorLine(), "(X) info") {
		t.Fatalf("choice opened away from the selected member:\n%s", h.screen())
	}
	h.keys("down", "enter")
	if eng.Value(cubecfg.SymLogWarn) != "y" || eng.Value(cubecfg.SymLogInfo) != "" {
		t.Fatalf("warn not selected: warn=%q info=%q", eng.Value(cubecfg.SymLogWarn), eng.Value(cubecfg.SymLogInfo))
	}
	if l := h.cursorLine(); !strings.Contains(l, "Log Level") || !strings.Contains(l, "warn") || !strings.HasSuffix(l, "*") {
		t.Fatalf("row after the choice: %q", l)
	}
	h.mustShow("warn = y; also changed: " + cubecfg.SymLogInfo + "=n, " + cubecfg.SymLogLevel + "=w")
	// Esc in the list leaves the choice as it is.
	h.keys("enter", "down", "esc")
	if eng.Value(cubecfg.SymLogWarn) != "y" {
		t.Fatal("esc changed the choice")
	}
	h.keys("i")
	h.mustShow("Log Level is a choice: exactly one of its entries is on.", "Selected: warn ("+cubecfg.SymLogWarn+")",
		"- debug ("+cubecfg.SymLogDebug+")")
}

func TestSearchAndJump(t *testing.T) {
	h, _ := newTestApp(t, true)

	// From the tree: the agent's port is hidden while the agent is off;
	// the jump turns show-all on and says why.
	h.keys("tab", "/")
	h.typeText("agent port")
	h.mustShow("Search: agent port", "matches", "> Agent Port  BR2_PACKAGE_CUBE_AGENT_PORT", "    Target packages > Cube packages > cube-agent")
	h.keys("enter")
	h.mustShow("Test 1.0 Configuration > Target packages > Cube packages", "show-all",
		"Agent Port (BR2_PACKAGE_CUBE_AGENT_PORT) is hidden (shown greyed, show-all is on)",
		"hidden: depends on BR2_PACKAGE_CUBE_AGENT [=n]")
	if l := h.cursorLine(); !strings.Contains(l, "Agent Port") || !strings.HasSuffix(l, "~") {
		t.Fatalf("cursor not on the hidden Agent Port: %q\n%s", l, h.screen())
	}
	h.keys("esc")
	if !strings.Contains(h.cursorLine(), "Cube packages") {
		t.Fatalf("esc after a jump did not go up one menu:\n%s", h.screen())
	}

	// The name with its BR2_ prefix comes first; words that match
	// nothing together say so.
	h.keys("/")
	h.typeText("BR2_PACKAGE_CUBE_AGENT_PORT")
	h.mustShow("> Agent Port  BR2_PACKAGE_CUBE_AGENT_PORT")
	h.keys("ctrl+u")
	h.typeText("PACKAGE_CUBE_AGENT_PORT")
	h.mustShow("> Agent Port  BR2_PACKAGE_CUBE_AGENT_PORT")
	h.keys("ctrl+u")
	h.typeText("port nosuchword")
	h.mustShow("no match")
	h.keys("esc")

	// From the Cube view, a Cube option is found in place there.
	h.keys("A", "tab") // show-all off, back to the Cube view
	h.focus("cube-agent")
	h.keys("space", "/")
	h.typeText("vmpl")
	h.keys("enter")
	h.mustShow("Cube packages", "Jumped to Agent VMPL (BR2_PACKAGE_CUBE_AGENT_VMPL)")
	h.mustNotShow("show-all")
	if !strings.Contains(h.cursorLine(), "Agent VMPL") {
		t.Fatalf("cursor not on Agent VMPL:\n%s", h.screen())
	}

	// A choice member opens its choice with the member focused.
	h.keys("/")
	h.typeText(cubecfg.SymLogDebug)
	h.keys("enter")
	h.mustShow("choose one")
	if !strings.Contains(h.cursorLine(), "( ) debug") {
		t.Fatalf("member not focused:\n%s", h.screen())
	}
	h.keys("esc")

	// A package hidden by the toolchain says which dependency.
	h.keys("/")
	h.typeText(cubecfg.SymVLLM)
	h.keys("enter")
	h.mustShow("vllm (BR2_PACKAGE_VLLM) is hidden", "BR2_USE_WCHAR [=n]")
}

func TestInfoExplainsForcedSymbol(t *testing.T) {
	h, eng := newTestApp(t, false)
	h.keys("tab", "A")
	h.focus("Target packages")
	h.keys("enter")
	h.focus("BR2_PACKAGE_HOST_GO")
	if l := h.cursorLine(); !strings.Contains(l, "-*- BR2_PACKAGE_HOST_GO") || !strings.HasSuffix(l, "^~") {
		t.Fatalf("forced prompt-less symbol row: %q", l)
	}
	h.keys("n")
	h.mustShow("BR2_PACKAGE_HOST_GO cannot be set here: no prompt: only defaults and selects set it")
	if eng.Value("BR2_PACKAGE_HOST_GO") != "y" {
		t.Fatal("a forced symbol was changed")
	}
	h.keys("i")
	h.mustShow("Why: BR2_PACKAGE_HOST_GO", "BR2_PACKAGE_HOST_GO is y.", "forced on by select", "BR2_PACKAGE_CUBE_AGENT [=y]",
		"Defined at Config.in:")
	h.keys("i") // the key that opened the pane closes it
	h.mustShow("Test 1.0 Configuration > Target packages")

	h.keys("?")
	h.mustShow("Help: BR2_PACKAGE_HOST_GO", "Symbol: BR2_PACKAGE_HOST_GO (bool)", "Location: Target packages", "Keys", "Markers")
	h.keys("esc")

	// Why a package is hidden: each dependency with its value.
	h.focus("python3")
	h.keys("i")
	h.mustShow("Why: python3 (BR2_PACKAGE_PYTHON3)", "hidden because these dependencies are not met", "BR2_USE_WCHAR [=n]")
}

func TestDiffMasksSecrets(t *testing.T) {
	h, _ := newTestApp(t, false)
	const token = "tok-very-secret-42"
	h.focus("Agent Port")
	h.keys("enter", "ctrl+u")
	h.typeText("7002")
	h.keys("enter")
	h.focus("Certs Token")
	h.keys("enter")
	h.typeText(token)
	h.mustNotShow(token) // masked while typed
	h.mustShow("******************")
	h.keys("ctrl+r")
	h.mustShow(token) // revealed on request
	h.keys("enter")
	h.mustShow("Certs Token = (set, hidden)")
	h.mustNotShow(token)
	h.keys("d")
	h.mustShow("Unsaved changes", "2 symbols changed since the last save:",
		"Agent Port (BR2_PACKAGE_CUBE_AGENT_PORT): 7001 -> 7002",
		`Certs Token (BR2_PACKAGE_CUBE_AGENT_CERTS_TOKEN): "" -> ********`)
	h.mustNotShow(token)
	h.keys("esc")
	// The list masks it; ctrl+r shows it on the focused row only.
	h.focus("Certs Token")
	h.mustNotShow(token)
	h.keys("ctrl+r")
	h.mustShow(token)
	h.keys("up") // it is the last row: move off upwards
	h.mustNotShow(token)
	h.keys("down") // back on its row: hidden until asked again
	h.mustNotShow(token)
	h.keys("ctrl+r", "tab", "tab")
	h.mustNotShow(token)
	h.keys("s")
	h.mustNotShow(token, "in clear")
	h.keys("D") // a defconfig is often kept in git: the dialog warns
	h.mustShow("[x] defconfig", "holds the Certs Token in clear: keep it out of git")
	h.mustNotShow(token)
}

func TestSaveWritesFiles(t *testing.T) {
	h, eng := newTestApp(t, false)
	h.focus("Agent Port")
	h.keys("enter", "ctrl+u")
	h.typeText("7002")
	h.keys("enter", "s")
	h.mustShow("Save the configuration", "1 change:", "Agent Port (BR2_PACKAGE_CUBE_AGENT_PORT): 7001 -> 7002",
		"[x] .config", eng.ConfigPath(), "[ ] defconfig", eng.DefconfigPath())
	h.keys("D")
	h.mustShow("[x] defconfig")
	h.keys("enter")
	h.mustShow("Saved .config (" + eng.ConfigPath() + ") and defconfig (")
	cfg, err := os.ReadFile(eng.ConfigPath())
	if err != nil || !strings.Contains(string(cfg), "BR2_PACKAGE_CUBE_AGENT_PORT=7002\n") {
		t.Fatalf(".config: %v\n%s", err, cfg)
	}
	if !strings.HasPrefix(string(cfg), "#\n# Automatically generated file; DO NOT EDIT.\n# Test 1.0 Configuration\n#\n") {
		t.Fatalf(".config lacks conf's header:\n%s", cfg)
	}
	def, err := os.ReadFile(eng.DefconfigPath())
	if err != nil || string(def) != "BR2_PACKAGE_CUBE_AGENT=y\nBR2_PACKAGE_CUBE_AGENT_PORT=7002\n" {
		t.Fatalf("defconfig: %v\n%s", err, def)
	}
	if n := len(eng.Changes()); n != 0 {
		t.Fatalf("%d changes left after a save", n)
	}
	h.keys("g")
	h.mustShow("no unsaved changes")

	// The next save keeps the previous .config as .config.old.
	h.focus("Agent VMPL")
	h.keys("enter", "ctrl+u")
	h.typeText("3")
	h.keys("enter", "s", "enter")
	old, err := os.ReadFile(eng.ConfigPath() + ".old")
	if err != nil || string(old) != string(cfg) {
		t.Fatalf(".config.old is not the previous .config: %v\n%s", err, old)
	}
	now, _ := os.ReadFile(eng.ConfigPath())
	if !strings.Contains(string(now), "BR2_PACKAGE_CUBE_AGENT_VMPL=3\n") {
		t.Fatalf("new .config:\n%s", now)
	}
}

func TestSaveErrorsKeepChanges(t *testing.T) {
	h, eng := newTestApp(t, false)
	h.focus("Agent Port")
	h.keys("enter", "ctrl+u")
	h.typeText("7002")
	h.keys("enter")

	// The output directory cannot be created: a file is in the way.
	out := filepath.Dir(eng.ConfigPath())
	if err := os.WriteFile(out, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.keys("s", "enter")
	h.mustShow("Not saved: .config: mkdir "+out+": not a directory", "Nothing was lost", "enter try again")
	if len(eng.Changes()) != 1 {
		t.Fatal("the change was lost")
	}
	os.Remove(out)

	// A full disk: the write fails, the old file stays, no temp is left.
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(eng.ConfigPath(), []byte("OLD\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	realWrite := writeFile
	defer func() { writeFile = realWrite }()
	writeFile = func(path string, data []byte, backup bool) error {
		return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
	}
	h.keys("enter")
	h.mustShow("Not saved: .config: write "+eng.ConfigPath()+": no space", "Nothing was lost")
	if b, _ := os.ReadFile(eng.ConfigPath()); string(b) != "OLD\n" {
		t.Fatalf(".config changed by a failed save: %q", b)
	}
	if len(eng.Changes()) != 1 {
		t.Fatal("the change was lost")
	}

	// Fixed: the same dialog saves.
	writeFile = realWrite
	h.keys("enter")
	h.mustShow("Saved .config")
	if b, _ := os.ReadFile(eng.ConfigPath()); !strings.Contains(string(b), "BR2_PACKAGE_CUBE_AGENT_PORT=7002") {
		t.Fatalf(".config after the retry:\n%s", b)
	}
	if b, _ := os.ReadFile(eng.ConfigPath() + ".old"); string(b) != "OLD\n" {
		t.Fatalf(".config.old after the retry: %q", b)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != ".config .config.old" {
		t.Errorf("files in the output directory: %s (a temporary file left behind?)", got)
	}
}

func TestStandaloneSavesDefconfigOnly(t *testing.T) {
	ext := filepath.Join(t.TempDir(), "external")
	copyTree(t, filepath.Join(testenv.RepoRoot(t), "buildroot"), ext)
	path := filepath.Join(ext, "configs", "cube_defconfig")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.Resolve(workspace.Options{External: ext, Overlay: t.TempDir(), StateDir: t.TempDir(),
		CacheDir: t.TempDir(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := OpenWorkspace(ws)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, eng, 100, 40, t.TempDir())
	h.mustShow("standalone")
	h.focus("Agent VMPL")
	h.keys("enter", "ctrl+u")
	h.typeText("3")
	h.keys("enter", "s")
	h.mustShow("[x] defconfig", "edited in place")
	h.mustNotShow("[x] .config", "[ ] .config", "D defconfig too")
	h.keys("D") // locked on
	h.mustShow("[x] defconfig")
	h.keys("enter")
	h.mustShow("Saved defconfig")
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(before) + "BR2_PACKAGE_CUBE_AGENT_VMPL=3\n"; string(after) != want {
		t.Fatalf("defconfig after the save:\n%s", after)
	}
	if eng.ConfigPath() != "" {
		t.Fatalf("standalone engine has a .config: %s", eng.ConfigPath())
	}
	// A second change edits the line in place.
	h.keys("enter", "ctrl+u")
	h.typeText("1")
	h.keys("enter", "s", "enter")
	after, _ = os.ReadFile(path)
	if want := string(before) + "BR2_PACKAGE_CUBE_AGENT_VMPL=1\n"; string(after) != want {
		t.Fatalf("defconfig after the second save:\n%s", after)
	}

	// A Buildroot stand-in can be changed (to see what depends on it),
	// but the diff and the save say it is not written.
	h.keys("tab")
	h.focus("Buildroot options")
	h.keys("enter")
	h.focus("BR2_PACKAGE_CA_CERTIFICATES")
	h.keys("n")
	h.keys("d")
	h.mustShow("BR2_PACKAGE_CA_CERTIFICATES: y -> n (not saved: standalone mode writes only the Cube")
	h.keys("esc", "s")
	h.mustShow("BR2_PACKAGE_CA_CERTIFICATES: y -> n (not saved: standalone mode writes only")
	h.keys("enter")
	h.mustShow("Saved defconfig")
	if again, _ := os.ReadFile(path); !bytes.Equal(again, after) {
		t.Fatalf("a stand-in's change was written:\n%s", again)
	}
}

func TestQuitAsksWithUnsavedChanges(t *testing.T) {
	h, eng := newTestApp(t, false)
	h.keys("q")
	if !h.quit {
		t.Fatal("q with nothing to save did not quit")
	}

	h, eng = newTestApp(t, false)
	h.focus("Agent VMPL")
	h.keys("enter", "ctrl+u")
	h.typeText("1")
	h.keys("enter", "q")
	if h.quit {
		t.Fatal("quit without asking")
	}
	h.mustShow("Quit cube-hal?", "Configure: 1 unsaved change", "y quit without saving", "s save first", "esc stay")
	h.keys("esc")
	h.mustNotShow("Quit cube-hal?")
	h.keys("ctrl+c")
	h.mustShow("Quit cube-hal?")
	h.keys("s") // save first: the save dialog, then quit once saved
	h.mustShow("Save the configuration")
	h.keys("enter")
	if !h.quit {
		t.Fatal("did not quit after saving")
	}
	if b, _ := os.ReadFile(eng.ConfigPath()); !strings.Contains(string(b), "BR2_PACKAGE_CUBE_AGENT_VMPL=1") {
		t.Fatalf(".config:\n%s", b)
	}

	h, _ = newTestApp(t, false)
	h.keys("n") // turn cube-agent off
	h.keys("q", "y")
	if !h.quit {
		t.Fatal("y in the quit dialog did not quit")
	}
}

func TestValidationMarksRows(t *testing.T) {
	h, _ := newTestApp(t, false)
	// No CA URL: the certificate files must be in the overlay; they are not.
	h.focus("Server Certificate File")
	if l := h.cursorLine(); !strings.Contains(l, "!") {
		t.Fatalf("missing certificate not marked: %q", l)
	}
	h.mustShow("! "+filepath.Base(h.app.config.opts.OverlayDir)+"/etc/cube/certs/server.crt is missing; run 'cube-hal certs'", "problems (!)")
	h.keys("i")
	h.mustShow("Problem", "Server Certificate File: "+h.app.config.opts.OverlayDir+"/etc/cube/certs/server.crt is", "missing; run")
	h.keys("esc")
	// The save dialog lists the four files and says what to do once.
	h.focus("Agent Port")
	h.keys("s")
	h.mustShow("4 problems (saved anyway", "! Server CA Certificates File: ", "! Server Key File: ", "run 'cube-hal certs'")
	if n := strings.Count(h.screen(), "cube-hal certs"); n != 1 {
		t.Errorf("the save dialog says 'cube-hal certs' %d times, want once:\n%s", n, h.screen())
	}
	h.keys("esc")

	// With a CA URL the files are not needed, but the token is.
	h.focus("Agent CA URL")
	h.keys("enter")
	h.typeText("http://ca.example")
	h.mustShow("the CA URL must be https://")
	h.keys("ctrl+u")
	h.typeText("https://ca.example")
	h.keys("enter")
	h.focus("Server Certificate File")
	if l := h.cursorLine(); strings.Contains(l, "!") {
		t.Fatalf("certificate still marked with a CA URL: %q", l)
	}
	h.focus("Certs Token")
	h.mustShow("! required when the Agent CA URL is set")
	h.keys("enter")
	h.mustShow("! required when the Agent CA URL is set", "esc cancel")
	h.typeText("abc")
	h.mustShow("ok ·")
	h.keys("enter")
	h.mustNotShow("problems (!)")
}

func TestCertificatePathCheckedInOverlay(t *testing.T) {
	eng, _ := openTestTree(t)
	overlay := t.TempDir()
	h := newHarness(t, eng, 100, 40, overlay)
	h.focus("Server CA Certificates File")
	h.keys("enter", "ctrl+u")
	h.typeText("etc/ca.pem")
	h.mustShow("give an absolute path inside the VM")
	h.keys("ctrl+u")
	h.typeText("/etc/ca.pem")
	h.mustShow(filepath.Join(overlay, "etc/ca.pem") + " is missing")
	if err := os.MkdirAll(filepath.Join(overlay, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	agenttest.NewCerts(t, filepath.Join(overlay, "etc")) // etc/ca.pem among them
	h.keys("backspace")
	h.typeText("m")
	h.mustShow("ok: the file is in the overlay")
}

func TestResizeKeepsFrameExact(t *testing.T) {
	h, _ := newTestApp(t, false)
	h.focus("Agent VMPL")
	h.keys("enter", "ctrl+u", "1", "enter")
	cfg := h.app.config
	states := []struct {
		name string
		keys []string
		mode mode
	}{
		{"browse", nil, modeBrowse},
		{"tree", []string{"tab", "enter"}, modeBrowse},
		{"edit", []string{"tab", "/", "p", "o", "r", "t", "enter", "enter"}, modeEdit},
		{"choice", []string{"esc", "/", "d", "e", "b", "u", "g", "enter"}, modeChoice},
		{"search", []string{"esc", "/", "a"}, modeSearch},
		{"pager", []string{"esc", "?"}, modePager},
		{"save", []string{"esc", "s"}, modeSave},
		{"quit", []string{"esc", "q"}, modeBrowse},
	}
	for _, st := range states {
		h.keys(st.keys...)
		if cfg.mode != st.mode || (st.name == "tree") != (cfg.view == viewTree && len(cfg.tree) > 1) || (st.name == "quit") != (h.app.confirmQuit != nil) {
			t.Fatalf("%s: not in that state:\n%s", st.name, h.screen())
		}
		for _, sz := range [][2]int{{60, 20}, {80, 24}, {120, 40}, {200, 50}, {61, 21}, {40, 12}} {
			h.send(windowSize(sz[0], sz[1]))
			checkFrame(t, h.app.View(), sz[0], sz[1])
		}
	}
	h.mustShow("Quit cube-hal?")
}

func TestLoadErrorIsShown(t *testing.T) {
	app := New(Options{Open: func() (Engine, error) {
		return nil, errors.New("Config.in:3: syntax error: unexpected 'endmenu'")
	}})
	h := &harness{t: t, app: app}
	h.send(windowSize(80, 24))
	h.mustShow("Loading the configuration")
	h.run(app.Init())
	h.mustShow("Cannot open the configuration:", "Config.in:3: syntax error: unexpected 'endmenu'", "Press q to quit.")
	h.keys("q")
	if !h.quit {
		t.Fatal("q did not quit after a load error")
	}
}

func TestShowAllAndNamesInCubeView(t *testing.T) {
	h, _ := newTestApp(t, false)
	h.mustShow("options hidden (A shows them)")
	h.mustNotShow("vllm")
	h.keys("A")
	h.mustShow("show-all", "vllm", "Model to use", "Custom backend URL")
	h.focus("vllm")
	if l := h.cursorLine(); !strings.HasSuffix(l, "~") {
		t.Fatalf("hidden vllm not marked: %q", l)
	}
	h.mustShow("hidden: depends on", "BR2_USE_WCHAR [=n]")
	h.keys("y")
	h.mustShow("vllm cannot be set here:", "BR2_USE_WCHAR")
	h.keys("c")
	h.mustShow("names", "vllm  BR2_PACKAGE_VLLM")
	h.keys("c", "A")
	h.mustNotShow("vllm", "names", "show-all")
}

// As in menuconfig, the options of a choice's selected entry are listed
// under the choice in its menu (the choice's own list has only its
// entries), and a search jumps to them there.
func TestChoiceEntryOptionsInMenu(t *testing.T) {
	h, eng := newTestApp(t, false)
	h.keys("tab")
	h.focus("Target packages")
	h.keys("enter")
	h.focus("openssl support")
	h.keys("y")
	h.mustShow("openssl support = y; also changed: BR2_PACKAGE_LIBOPENSSL=y\n")
	if !strings.Contains(h.screen(), "\n        ssl library --->                                    openssl\n  [ ]     openssl binary\n") {
		t.Fatalf("the selected entry's option is not under the choice:\n%s", h.screen())
	}
	h.mustNotShow("libressl binary")
	h.focus("openssl binary")
	h.keys("y")
	if eng.Value("BR2_PACKAGE_LIBOPENSSL_BIN") != "y" {
		t.Fatal("openssl binary not set from the menu")
	}

	// The choice's own list has its entries only.
	h.focus("ssl library")
	h.keys("enter")
	h.mustShow("choose one", "(X) openssl", "( ) libressl")
	h.mustNotShow("binary")
	h.keys("down", "enter")
	h.mustShow("ssl library --->                                    libressl", "libressl binary")
	h.mustNotShow("openssl binary")

	// A search jumps to the selected entry's option in the menu...
	h.keys("/")
	h.typeText("libressl binary")
	h.keys("enter")
	h.mustShow("Jumped to libressl binary")
	if crumb := strings.Split(h.screen(), "\n")[1]; !strings.HasSuffix(crumb, "> Target packages") {
		t.Fatalf("jump opened more than the menu: %q", crumb)
	}
	if !strings.Contains(h.cursorLine(), "libressl binary") {
		t.Fatalf("cursor not on libressl binary:\n%s", h.screen())
	}
	// ...and to another entry's option inside the choice, shown hidden.
	h.keys("/")
	h.typeText("openssl binary")
	h.keys("enter")
	h.mustShow("> Target packages > ssl library", "openssl binary (BR2_PACKAGE_LIBOPENSSL_BIN) is hidden", "BR2_PACKAGE_LIBOPENSSL [=n]")
	if !strings.Contains(h.cursorLine(), "openssl binary") {
		t.Fatalf("cursor not on openssl binary:\n%s", h.screen())
	}
}

// Letters that arrive in one read (tmux, a slow SSH link) act as the keys
// they were; once one opens a text field, the rest is typed into it.
func TestMergedKeysActOneByOne(t *testing.T) {
	h, eng := newTestApp(t, false)
	runes := func(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }
	h.focus("cube-agent")
	h.send(runes("jj"))
	if !strings.Contains(h.cursorLine(), "CVM ID") {
		t.Fatalf("jj did not move two rows:\n%s", h.screen())
	}
	h.send(runes("j/agent port"))
	h.mustShow("Search: agent port", "> Agent Port  BR2_PACKAGE_CUBE_AGENT_PORT")
	h.keys("enter", "enter", "ctrl+u")
	h.send(runes("7002"))
	h.keys("enter")
	if got := eng.Value(cubecfg.SymPort); got != "7002" {
		t.Fatalf("port = %q, want 7002", got)
	}
}

// The line under the list gives the first paragraph of the help, not its
// first line cut mid-sentence.
func TestDetailIsHelpsFirstParagraph(t *testing.T) {
	h, _ := newTestApp(t, false)
	h.send(windowSize(200, 40))
	h.focus("Agent VMPL")
	h.mustShow("\nAMD SEV-SNP virtual machine privilege level (0-3) at which the agent requests attestation reports: the report")
	h.mustNotShow("Environment: UV_CUBE_AGENT_VMPL")
	for in, want := range map[string]string{
		"":                             "",
		"one line":                     "one line",
		"  first\n  second\n\n  other": "first second",
		"\n\n  lead blank\n":           "lead blank",
	} {
		if got := helpSummary(in); got != want {
			t.Errorf("helpSummary(%q) = %q, want %q", in, got, want)
		}
	}
}

// The custom backend's URL appears with the custom backend and is
// required by it; a URL is checked as it is typed.
func TestCustomBackendURL(t *testing.T) {
	h, eng := newTestApp(t, false)
	h.mustNotShow("Custom backend URL")
	h.focus("LLM Backend")
	h.keys("enter", "down", "enter")
	h.focus("Custom backend URL")
	if l := h.cursorLine(); !strings.Contains(l, "(empty)") || !strings.HasSuffix(l, "!") {
		t.Fatalf("an empty URL with the custom backend is not marked: %q", l)
	}
	h.mustShow("! required with the custom backend")
	h.keys("enter")
	h.typeText("ftp://llm.example")
	h.mustShow(`! "ftp://llm.example": the URL must start with http:// or https://`)
	h.keys("ctrl+u")
	h.typeText("http://10.0.0.5:8000")
	h.mustShow("ok · enter sets")
	h.keys("enter")
	if got := eng.Value(cubecfg.SymTargetURL); got != "http://10.0.0.5:8000" {
		t.Fatalf("URL = %q", got)
	}
	if l := h.cursorLine(); strings.HasSuffix(l, "!") {
		t.Fatalf("a set URL is still marked: %q", l)
	}
}

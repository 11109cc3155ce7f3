package tui

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/shellquote"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// These tests run the real cube-hal binary in a tmux pane, type into it one
// key at a time and read the screen back, then check the files on disk.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// cubeHal builds the cube-hal binary once for the test run.
func cubeHal(t *testing.T) string {
	t.Helper()
	root := testenv.RepoRoot(t)
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cube-hal-e2e-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "cube-hal")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// tmuxPane is a tmux server of its own (-L, no user config) with one pane
// running a command.
type tmuxPane struct {
	t      *testing.T
	tmux   string
	sock   string
	status string // the file the command's exit status is written to
}

// startPane runs argv in a fresh w x h pane with env added to a clean
// terminal environment (TERM, LANG and NO_COLOR pinned; "NO_COLOR=" in env
// leaves NO_COLOR out). A shell around
// the command writes its exit status to a file: tmux's own pane status
// was seen missing when the server did not reap the process in time.
func startPane(t *testing.T, w, h int, env []string, argv ...string) *tmuxPane {
	t.Helper()
	p := &tmuxPane{t: t, tmux: testenv.Tool(t, "tmux")[0], sock: fmt.Sprintf("cubehal-test-%d-%d", os.Getpid(), time.Now().UnixNano()),
		status: filepath.Join(t.TempDir(), "status")}
	var socket string
	t.Cleanup(func() {
		exec.Command(p.tmux, "-L", p.sock, "kill-server").Run()
		if socket != "" {
			os.Remove(socket) // tmux 3.3 leaves it behind
		}
	})
	// CI is emptied: the tmux server inherits the test's environment, and
	// termenv takes a non-empty CI (set by .ci/run) to mean "no terminal".
	base := map[string]string{"TERM": "xterm-256color", "LANG": "C.UTF-8", "NO_COLOR": "1", "COLORTERM": "", "CI": ""}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		base[k] = v
	}
	args := []string{"new-session", "-d", "-s", "t", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for k, v := range base {
		if k == "NO_COLOR" && v == "" {
			continue // unset: an empty NO_COLOR still counts for some programs
		}
		args = append(args, "-e", k+"="+v)
	}
	p.run(append(args, shellquote.Join(argv)+"; echo $? >"+shellquote.Quote(p.status)+"; sleep 3600")...)
	socket = strings.TrimSpace(p.run("display-message", "-p", "-t", "t", "#{socket_path}"))
	return p
}

func (p *tmuxPane) run(args ...string) string {
	p.t.Helper()
	cmd := exec.Command(p.tmux, append([]string{"-L", p.sock, "-f", "/dev/null"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// key sends key presses, one send-keys each, with a pause so each is
// usually read on its own (letters read together still act one by one).
// Escape is the exception: Esc and the next key in one read make alt+key,
// so after an Escape it waits for the screen to change.
func (p *tmuxPane) key(keys ...string) {
	p.t.Helper()
	for _, k := range keys {
		if k != "Escape" {
			p.run("send-keys", "-t", "t", k)
			time.Sleep(40 * time.Millisecond)
			continue
		}
		before := p.screen()
		p.run("send-keys", "-t", "t", k)
		deadline := time.Now().Add(time.Minute)
		for p.screen() == before {
			if time.Now().After(deadline) {
				p.t.Fatalf("Escape changed nothing on the screen:\n%s", before)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// typeText types text literally, one character per send-keys.
func (p *tmuxPane) typeText(text string) {
	p.t.Helper()
	for _, r := range text {
		p.run("send-keys", "-t", "t", "-l", string(r))
		time.Sleep(40 * time.Millisecond)
	}
}

// screen is the pane's text, lines right-trimmed.
func (p *tmuxPane) screen() string {
	out := p.run("capture-pane", "-p", "-t", "t")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// waitFor polls the screen until it shows every one of want, for up to a
// minute: a deadline only a real failure reaches on a loaded machine.
func (p *tmuxPane) waitFor(want ...string) string {
	p.t.Helper()
	return p.waitLong(time.Minute, want...)
}

// waitExit waits for the command to end and returns its exit status.
func (p *tmuxPane) waitExit() int {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if b, err := os.ReadFile(p.status); err == nil && strings.HasSuffix(string(b), "\n") {
			var code int
			if _, err := fmt.Sscan(string(b), &code); err != nil {
				p.t.Fatalf("exit status %q: %v", b, err)
			}
			return code
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("cube-hal did not exit:\n%s", p.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// copyTree copies a directory (the external tree, so the test can edit its
// defconfig).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// capture saves a screen for the README tour when CUBE_HAL_CAPTURE_DIR is
// set (the README's captures are made this way, from the real binary).
func capture(t *testing.T, name, screen string) {
	if dir := os.Getenv("CUBE_HAL_CAPTURE_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(screen+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The whole path of issue 8 in standalone mode: open, search for the
// agent port, set it to 7002, save, and find it in the Cube defconfig,
// which keeps every other line as it was.
func TestTmuxStandaloneSetPort(t *testing.T) {
	bin := cubeHal(t)
	dir := t.TempDir()
	ext := filepath.Join(dir, "external")
	copyTree(t, filepath.Join(testenv.RepoRoot(t), "buildroot"), ext)
	defconfig := filepath.Join(ext, "configs", "cube_defconfig")
	before, err := os.ReadFile(defconfig)
	if err != nil {
		t.Fatal(err)
	}

	p := startPane(t, 80, 24, []string{"HOME=" + dir, "BUILDROOT_DIR="},
		bin, "--external", ext, "--overlay", filepath.Join(dir, "overlay"),
		"--state-dir", filepath.Join(dir, "state"), "-O", filepath.Join(dir, "output"))
	s := p.waitFor("Cube packages", "standalone", "Agent Port", "7001", "Loaded ")
	capture(t, "cube-view", s)

	p.key("/")
	p.typeText("agent port")
	s = p.waitFor("Search: agent port", "Agent Port  BR2_PACKAGE_CUBE_AGENT_PORT", "> Cube packages > cube-agent")
	capture(t, "search", s)
	p.key("Enter")
	p.waitFor("Jumped to Agent Port (BR2_PACKAGE_CUBE_AGENT_PORT)")
	p.key("Enter", "C-u")
	p.typeText("70000")
	s = p.waitFor("! 70000 is not in 1-65535")
	capture(t, "edit-invalid", s)
	p.key("BSpace", "BSpace", "BSpace")
	p.typeText("02")
	p.waitFor("ok (1-65535)")
	p.key("Enter")
	p.waitFor("Agent Port = 7002")
	p.key("s")
	s = p.waitFor("Save the configuration", "Agent Port (BR2_PACKAGE_CUBE_AGENT_PORT): 7001 -> 7002", "[x] defconfig", "edited in place")
	capture(t, "save", s)
	p.key("Enter")
	p.waitFor("Saved defconfig (~/external/configs/cube_defconfig)")

	after, err := os.ReadFile(defconfig)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte{}, before...), "BR2_PACKAGE_CUBE_AGENT_PORT=7002\n"...); !bytes.Equal(after, want) {
		t.Fatalf("defconfig after the save:\n%s\nwant the original plus the port line", after)
	}
	if _, err := os.Stat(filepath.Join(dir, "output", ".config")); !os.IsNotExist(err) {
		t.Fatalf("standalone mode wrote a .config: %v", err)
	}

	// Resize: the frame is drawn again for the smallest supported size
	// (tmux only clips the old one): the crumb bar's position ends at
	// column 60 and the help bar is on row 20.
	p.run("resize-window", "-t", "t", "-x", "60", "-y", "20")
	deadline := time.Now().Add(time.Minute)
	for {
		lines := strings.Split(p.screen(), "\n")
		if len(lines) == 20 && len([]rune(lines[1])) == 60 && strings.HasSuffix(lines[1], "/23") &&
			strings.HasPrefix(lines[0], " cube-hal Configure") && strings.Contains(lines[19], "/ search") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 60x20 frame after the resize:\n%s", strings.Join(lines, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}

	p.key("q")
	if code := p.waitExit(); code != 0 {
		t.Fatalf("cube-hal exited with %d", code)
	}
}

// A tour of the screens under tmux, each checked (and saved for the
// README with CUBE_HAL_CAPTURE_DIR): the why pane on a forced package,
// the diff, the full tree with show-all, the certs token masked on every
// screen it reaches.
func TestTmuxTour(t *testing.T) {
	bin := cubeHal(t)
	dir := t.TempDir()
	ext := filepath.Join(dir, "external")
	copyTree(t, filepath.Join(testenv.RepoRoot(t), "buildroot"), ext)
	p := startPane(t, 80, 24, []string{"HOME=" + dir, "BUILDROOT_DIR="},
		bin, "--external", ext, "--overlay", filepath.Join(dir, "overlay"),
		"--state-dir", filepath.Join(dir, "state"), "-O", filepath.Join(dir, "output"))
	p.waitFor("Cube packages", "Loaded ")

	// The why pane: ollama is forced on by the backend choice.
	p.key("/")
	p.typeText("ollama")
	p.waitFor("ollama  BR2_PACKAGE_OLLAMA")
	p.key("Enter")
	p.waitFor("Jumped to ollama (BR2_PACKAGE_OLLAMA)")
	p.key("i")
	s := p.waitFor("Why: ollama (BR2_PACKAGE_OLLAMA)", "forced on by select", "BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA")
	capture(t, "why", s)
	p.key("Escape")

	// A secret: typed masked, never shown afterwards unless revealed.
	const token = "tour-secret-token-5150"
	p.key("/")
	p.typeText("ca url")
	p.waitFor("Agent CA URL  BR2_PACKAGE_CUBE_AGENT_CA_URL")
	p.key("Enter", "Enter")
	p.typeText("https://ca.example.com")
	p.waitFor("ok · enter sets")
	p.key("Enter")
	p.waitFor("Agent CA URL = https://ca.example.com")
	p.key("j")
	s = p.waitFor("Certs Token", "1 problem (!)")
	capture(t, "cube-view-problem", s)
	p.key("/")
	p.typeText("certs token")
	p.waitFor("Certs Token  BR2_PACKAGE_CUBE_AGENT_CERTS_TOKEN")
	p.key("Enter", "Enter")
	p.typeText(token)
	s = p.waitFor("ok · enter sets", "ctrl+r reveal")
	if strings.Contains(s, token) {
		t.Fatalf("token shown while typed:\n%s", s)
	}
	p.key("Enter")
	s = p.waitFor("Certs Token = (set, hidden)", "********")
	noSecret(t, s, token)
	p.key("d")
	s = p.waitFor("Unsaved changes", `Agent CA URL (BR2_PACKAGE_CUBE_AGENT_CA_URL): "" ->`, "https://ca.example.com",
		`Certs Token (BR2_PACKAGE_CUBE_AGENT_CERTS_TOKEN): "" -> ********`)
	noSecret(t, s, token)
	capture(t, "diff", s)
	p.key("Escape", "i")
	s = p.waitFor("Why: Certs Token")
	noSecret(t, s, token)
	p.key("Escape")

	// The full tree, with show-all: hidden entries greyed and marked ~.
	p.key("Tab", "A")
	s = p.waitFor("show-all", "Buildroot options (stand-ins: no Buildroot tree) --->", "External options --->")
	p.key("Down", "Enter")
	s = p.waitFor("> External options")
	p.key("Down", "Down", "Enter")
	s = p.waitFor("> Cube packages", "~")
	capture(t, "tree-show-all", s)
	noSecret(t, s, token)

	p.key("s")
	s = p.waitFor("Save the configuration")
	noSecret(t, s, token)
	p.key("Escape", "q")
	p.waitFor("Quit cube-hal?", "Configure: 2 unsaved changes")
	capture(t, "quit", p.screen())
	p.key("y")
	if code := p.waitExit(); code != 0 {
		t.Fatalf("cube-hal exited with %d", code)
	}
	data, _ := os.ReadFile(filepath.Join(ext, "configs", "cube_defconfig"))
	if strings.Contains(string(data), token) {
		t.Fatal("quitting without saving wrote the defconfig")
	}
}

func noSecret(t *testing.T, screen, secret string) {
	t.Helper()
	if strings.Contains(screen, secret) {
		t.Fatalf("secret on screen:\n%s", screen)
	}
}

// With NO_COLOR the screen has no colour or attribute at all (markers and
// the cursor are text); without it, a 256-colour terminal gets colours.
func TestTmuxNoColor(t *testing.T) {
	bin := cubeHal(t)
	for _, noColor := range []bool{true, false} {
		t.Run(fmt.Sprintf("NO_COLOR=%v", noColor), func(t *testing.T) {
			dir := t.TempDir()
			ext := filepath.Join(dir, "external")
			copyTree(t, filepath.Join(testenv.RepoRoot(t), "buildroot"), ext)
			env := []string{"HOME=" + dir, "BUILDROOT_DIR="}
			if !noColor {
				env = append(env, "NO_COLOR=")
			}
			p := startPane(t, 80, 24, env, bin, "--external", ext, "--overlay", filepath.Join(dir, "overlay"),
				"--state-dir", filepath.Join(dir, "state"), "-O", filepath.Join(dir, "output"))
			p.waitFor("Cube packages", "Loaded ")
			raw := p.run("capture-pane", "-p", "-e", "-t", "t")
			hasSGR := strings.Contains(raw, "\x1b[")
			if noColor && hasSGR {
				t.Fatalf("escape sequences on screen with NO_COLOR:\n%q", raw)
			}
			if !noColor && !strings.Contains(raw, "38;5;") {
				t.Fatalf("no colour on a 256-colour terminal:\n%q", raw)
			}
			if !strings.Contains(p.screen(), "> [*] cube-agent") {
				t.Fatalf("the cursor has no text form:\n%s", p.screen())
			}
			p.key("q")
			p.waitExit()
		})
	}
}

// With a Buildroot checkout: the whole path of issue 8 on Buildroot's own
// menu. No .config yet, so the Cube defconfig is read (like `make
// cube_defconfig`); the save writes .config and, on request, the minimal
// defconfig back to configs/cube_defconfig. Both must be exactly what
// cube-hal's conf-compatible commands produce from them.
func TestTmuxBuildrootSetPort(t *testing.T) {
	br := testenv.BuildrootDir(t)
	bin := cubeHal(t)
	dir := t.TempDir()
	ext := filepath.Join(dir, "external")
	copyTree(t, filepath.Join(testenv.RepoRoot(t), "buildroot"), ext)
	out := filepath.Join(dir, "output")
	flags := []string{"--buildroot", br, "--external", ext, "--overlay", filepath.Join(dir, "overlay"),
		"--state-dir", filepath.Join(dir, "state"), "-O", out}

	p := startPane(t, 100, 30, []string{"HOME=" + dir}, append([]string{bin}, flags...)...)
	p.waitFor("Cube packages", "Buildroot "+br, "Loaded ~/external/configs/cube_defconfig (no .config yet) in")
	p.key("Tab")
	capture(t, "buildroot-tree", p.waitFor("Buildroot ", " Configuration", "Target packages --->", "External options --->"))
	p.key("/")
	p.typeText("agent port")
	p.waitFor("Agent Port  BR2_PACKAGE_CUBE_AGENT_PORT", "External options > Cube packages > cube-agent")
	p.key("Enter")
	p.waitFor("> External options > Cube packages", "Jumped to Agent Port (BR2_PACKAGE_CUBE_AGENT_PORT)")
	p.key("Enter", "C-u")
	p.typeText("7002")
	p.waitFor("ok (1-65535)")
	p.key("Enter")
	p.waitFor("Agent Port = 7002")
	p.key("s")
	p.waitFor("[x] .config   ~/output/.config", "[ ] defconfig ~/external/configs/cube_defconfig")
	p.key("D")
	p.waitFor("[x] defconfig ~/external/configs/cube_defconfig")
	p.key("Enter")
	p.waitFor("Saved .config (~/output/.config) and defconfig (~/external/configs/cube_defconfig)")
	p.key("q")
	if code := p.waitExit(); code != 0 {
		t.Fatalf("cube-hal exited with %d", code)
	}

	cfg, err := os.ReadFile(filepath.Join(out, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "\nBR2_PACKAGE_CUBE_AGENT_PORT=7002\n") {
		t.Fatal(".config lacks the new port")
	}
	def, err := os.ReadFile(filepath.Join(ext, "configs", "cube_defconfig"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(def), "\nBR2_PACKAGE_CUBE_AGENT_PORT=7002\n") || strings.Contains(string(def), "BR2_DEFCONFIG=") {
		t.Fatalf("defconfig:\n%s", def)
	}

	// The files are what the conf-compatible commands make of them:
	// olddefconfig leaves the .config as it is, savedefconfig writes the
	// same defconfig.
	run := func(args ...string) {
		cmd := exec.Command(bin, append(flags, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cube-hal %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	run("olddefconfig")
	if again, _ := os.ReadFile(filepath.Join(out, ".config")); !bytes.Equal(again, cfg) {
		t.Fatal("olddefconfig changed the .config the configurator wrote")
	}
	mine := filepath.Join(dir, "savedefconfig")
	run("savedefconfig", mine)
	if theirs, _ := os.ReadFile(mine); !bytes.Equal(theirs, def) {
		t.Fatalf("savedefconfig writes\n%s\nthe configurator wrote\n%s", theirs, def)
	}
}

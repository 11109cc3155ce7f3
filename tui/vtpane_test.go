package tui

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// waitText polls the pane's screen until it contains want.
func waitText(t *testing.T, p *vtPane, want string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		s := p.Text()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("pane never showed %q; it shows:\n%s", want, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitEnded(t *testing.T, p *vtPane) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatalf("the child did not end; screen:\n%s", p.Text())
	}
}

func startPaneCmd(t *testing.T, cols, rows int, script string) *vtPane {
	t.Helper()
	sh := testenv.Tool(t, "sh", "stty")[0]
	p := newVTPane(cols, rows)
	cmd := exec.Command(sh, "-c", script)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	if err := p.StartCommand(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func typeInto(p *vtPane, s string) {
	for _, r := range s {
		p.SendKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// Keys typed into the pane reach the child through the pty, and the
// child's status is reported when it exits.
func TestVTPaneKeysReachChild(t *testing.T) {
	p := startPaneCmd(t, 60, 8, `stty -echo; printf 'ready> '; read line; printf '\ngot <%s>\n' "$line"; exit 3`)
	waitText(t, p, "ready>")
	typeInto(p, "uname -a")
	p.SendKey(tea.KeyMsg{Type: tea.KeyEnter})
	waitText(t, p, "got <uname -a>")
	waitEnded(t, p)
	if got := p.ExitStatus(); got != "exited with status 3" {
		t.Errorf("ExitStatus = %q", got)
	}
	if p.Interactive() {
		t.Error("an ended pane still takes keys")
	}
}

// A child that asks the terminal where its cursor is (DSR) gets the answer:
// the emulator's replies are drained and written to the pty. Without that
// the emulator blocks on its pipe and the pane freezes (tui-facts §4.2).
func TestVTPaneAnswersCursorQuery(t *testing.T) {
	p := startPaneCmd(t, 40, 6, `stty raw -echo; printf 'ab\033[6n'; r=$(dd bs=1 count=6 2>/dev/null | od -An -c | tr -d ' \n'); printf '\r\nreply=%s\r\n' "$r"`)
	waitText(t, p, `reply=033[1;3R`)
	waitEnded(t, p)
}

// A resize reaches the child as a new window size.
func TestVTPaneResize(t *testing.T) {
	p := startPaneCmd(t, 60, 8, `stty -echo; stty size; read x; stty size; read x`)
	waitText(t, p, "8 60")
	p.Resize(50, 10)
	if c, r := p.Size(); c != 50 || r != 10 {
		t.Fatalf("Size = %dx%d", c, r)
	}
	p.SendKey(tea.KeyMsg{Type: tea.KeyEnter})
	waitText(t, p, "10 50")
	for _, l := range p.Lines(true) {
		if w := ansi.StringWidth(l); w != 50 {
			t.Fatalf("line %q is %d wide after a resize to 50", ansi.Strip(l), w)
		}
	}
}

// Close ends the child and whatever it started in its session.
func TestVTPaneCloseEndsSession(t *testing.T) {
	p := startPaneCmd(t, 40, 5, `sleep 300 & echo "child=$!"; wait`)
	s := waitText(t, p, "child=")
	var child int
	fmt.Sscanf(s[strings.Index(s, "child=")+6:], "%d", &child)
	leader := p.proc.Process.Pid
	p.Close()
	if !p.Ended() {
		t.Fatal("pane not ended after Close")
	}
	for _, pid := range []int{leader, child} {
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(pid, 0) == nil && !testenv.IsZombie(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d still alive after Close", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// A followed stream (a serial log) shows lone line feeds as new lines and
// ends with the stream.
func TestVTPaneFollow(t *testing.T) {
	r, w := io.Pipe()
	p := newVTPane(30, 4)
	p.Follow(r)
	t.Cleanup(p.Close)
	io.WriteString(w, "one\ntwo\r\nthr")
	io.WriteString(w, "ee\n")
	waitText(t, p, "three")
	if got := p.Text(); !strings.HasPrefix(got, "one\ntwo\nthree") {
		t.Fatalf("screen = %q", got)
	}
	if p.Interactive() {
		t.Error("a followed stream takes keys")
	}
	w.Close()
	waitEnded(t, p)
	if got := p.ExitStatus(); got != "ended" {
		t.Errorf("ExitStatus = %q", got)
	}
}

// The frames command delivers one message per burst and the end.
func TestVTPaneFrames(t *testing.T) {
	r, w := io.Pipe()
	p := newVTPane(30, 4)
	p.Follow(r)
	t.Cleanup(p.Close)
	for i := 0; i < 50; i++ {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if msg, ok := p.wait()().(vtFrameMsg); !ok || msg.id != p.id || len(msg.frame.lines) != 4 {
		t.Fatalf("wait() = %#v", msg)
	}
	w.Close()
	deadline := time.After(5 * time.Second)
	for {
		done := make(chan tea.Msg, 1)
		go func() { done <- p.wait()() }()
		select {
		case msg := <-done:
			if _, ok := msg.(vtEndMsg); ok {
				waitText(t, p, "line 49")
				return
			}
		case <-deadline:
			t.Fatal("no vtEndMsg after the stream ended")
		}
	}
}

// Scrolling back shows older lines; new output keeps a scrolled view on
// the same lines; Lines is always exactly the pane's size.
func TestVTPaneScrollback(t *testing.T) {
	p := newVTPane(20, 5)
	t.Cleanup(p.Close)
	go p.replies()
	write := func(from, to int) {
		p.mu.Lock()
		for i := from; i < to; i++ {
			fmt.Fprintf(p.emu, "line %02d\r\n", i)
		}
		p.mu.Unlock()
	}
	write(0, 30)
	plain := func() []string {
		p.Apply(vtFrameMsg{id: p.id, frame: p.render()})
		var out []string
		for _, l := range p.Lines(false) {
			if w := ansi.StringWidth(l); w != 20 {
				t.Fatalf("line %q is %d wide", ansi.Strip(l), w)
			}
			out = append(out, strings.TrimRight(ansi.Strip(l), " "))
		}
		return out
	}
	if got := plain(); got[0] != "line 26" || got[3] != "line 29" {
		t.Fatalf("live view = %q", got)
	}
	p.ScrollBy(10)
	if got := plain(); got[0] != "line 16" || got[4] != "line 20" {
		t.Fatalf("scrolled view = %q", got)
	}
	write(30, 33)
	if got := plain(); got[0] != "line 16" {
		t.Fatalf("scrolled view moved with new output: %q", got)
	}
	p.ScrollToTop()
	if got := plain(); got[0] != "line 00" {
		t.Fatalf("top = %q", got)
	}
	p.ScrollToBottom()
	if got := plain(); got[3] != "line 32" || !p.Following() {
		t.Fatalf("bottom = %q", got)
	}
}

// Keys are encoded as an xterm sends them, arrows following the child's
// cursor-key mode.
func TestSendKeyEncoding(t *testing.T) {
	cases := []struct {
		name  string
		decck bool
		msg   tea.KeyMsg
		want  string
	}{
		{"rune", false, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("é")}, "é"},
		{"alt rune", false, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("b"), Alt: true}, "\x1bb"},
		{"space", false, tea.KeyMsg{Type: tea.KeySpace, Runes: []rune(" ")}, " "},
		{"enter", false, tea.KeyMsg{Type: tea.KeyEnter}, "\r"},
		{"tab", false, tea.KeyMsg{Type: tea.KeyTab}, "\t"},
		{"backspace", false, tea.KeyMsg{Type: tea.KeyBackspace}, "\x7f"},
		{"ctrl+c", false, tea.KeyMsg{Type: tea.KeyCtrlC}, "\x03"},
		{"ctrl+d", false, tea.KeyMsg{Type: tea.KeyCtrlD}, "\x04"},
		{"esc", false, tea.KeyMsg{Type: tea.KeyEscape}, "\x1b"},
		{"up", false, tea.KeyMsg{Type: tea.KeyUp}, "\x1b[A"},
		{"up, application mode", true, tea.KeyMsg{Type: tea.KeyUp}, "\x1bOA"},
		{"ctrl+left", false, tea.KeyMsg{Type: tea.KeyCtrlLeft}, "\x1b[1;5D"},
		{"pgdown", false, tea.KeyMsg{Type: tea.KeyPgDown}, "\x1b[6~"},
		{"shift+tab", false, tea.KeyMsg{Type: tea.KeyShiftTab}, "\x1b[Z"},
		{"f1", false, tea.KeyMsg{Type: tea.KeyF1}, "\x1bOP"},
		{"paste", false, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a b"), Paste: true}, "a b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := vt.NewEmulator(20, 5)
			got := make(chan string, 1)
			go func() {
				buf := make([]byte, 64)
				n, _ := e.Read(buf)
				got <- string(buf[:n])
			}()
			if tc.decck {
				e.Write([]byte("\x1b[?1h"))
			}
			sendKey(e, tc.msg)
			select {
			case s := <-got:
				if s != tc.want {
					t.Errorf("sent %q, want %q", s, tc.want)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("nothing sent")
			}
		})
	}
}

// The cursor is drawn where the child left it, without changing the width.
func TestVTPaneCursor(t *testing.T) {
	p := newVTPane(10, 3)
	t.Cleanup(p.Close)
	go p.replies()
	p.mu.Lock()
	p.emu.Write([]byte("abc\r\nde"))
	p.mu.Unlock()
	p.Apply(vtFrameMsg{id: p.id, frame: p.render()})
	lines := p.Lines(true)
	i := strings.Index(lines[1], "\x1b[0;7m \x1b[0m")
	if i < 0 || ansi.Strip(lines[1][:i]) != "de" {
		t.Errorf("no cursor after %q: %q", "de", lines[1])
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w != 10 {
			t.Errorf("line %q is %d wide", l, w)
		}
	}
}

// BenchmarkVTPaneThroughput pushes output through a pane the way an SSH
// console gets it: a child writing to a pty as fast as it can, the pump
// feeding x/vt (README "TUI part 2").
func BenchmarkVTPaneThroughput(b *testing.B) {
	sh := testenv.Tool(b, "sh", "cat")[0]
	line := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz ", 3) + "\n"
	data := strings.Repeat(line, (256<<10)/len(line))
	path := b.TempDir() + "/out"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		p := newVTPane(160, 40)
		if err := p.StartCommand(exec.Command(sh, "-c", "stty -echo -onlcr; cat "+path)); err != nil {
			b.Fatal(err)
		}
		<-p.done
		p.Close()
	}
}

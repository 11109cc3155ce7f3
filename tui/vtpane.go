package tui

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
)

// vtPane is a terminal inside the app: what a child program writes to its
// pty (the ssh client of the SSH console) or what a stream carries (a VM's
// serial console), interpreted by an x/vt emulator and drawn into a part
// of the screen. Keys typed while the pane has the focus go to the child.
//
// Three goroutines keep it from ever stalling the UI or the child
// (tui-facts §4.2):
//
//   - the pump reads the child's output as fast as it comes and feeds the
//     emulator, then signals a one-slot frames channel: a burst of output
//     is one frame, and the last output is never lost;
//   - the replies goroutine always reads the emulator's input pipe (keys
//     encoded by the emulator, and its answers to cursor and colour
//     queries): the pipe is synchronous, so without a reader a key press
//     or a query in the output would block forever;
//   - the writer hands what the replies goroutine queued to the child, so a
//     child that does not read its input for a while blocks nobody.
//
// x/vt is slow to parse (scrolling moves every cell: about 100 KB/s on a
// 160x40 screen) and to render (milliseconds per frame), so none of that
// happens on the UI goroutine: the command that waits for a frame renders
// it and hands the finished lines over in the message (wait), at most one
// per frameInterval; keys and resizes go through a queue to an ops
// goroutine. The UI only draws strings. The pump feeds the emulator in
// small pieces, so nothing waits long for its lock either.
type vtPane struct {
	id int64

	mu         sync.Mutex // guards emu, cols, rows
	emu        *vt.Emulator
	cols, rows int

	frames chan struct{} // one slot: output arrived since the last frame
	done   chan struct{} // closed when the source ended (EOF, the child exited)
	input  *byteQueue    // keys and replies on their way to the child; nil: read-only
	ops    chan func()   // keys and resizes, applied to the emulator in order
	stop   chan struct{} // closed by Close: ends the ops goroutine

	src  io.Closer // the stream (read-only panes)
	proc *exec.Cmd // the child (pty panes)
	ptmx *os.File

	// Set by the pump before done is closed.
	exitErr error

	lastFrame atomic.Int64 // UnixNano of the latest frame message

	size struct{ cols, rows int } // UI side: the size asked for

	closeOnce sync.Once

	// UI side only.
	closing   bool     // the UI has asked for Close (it may still run)
	live      vtFrame  // the latest rendered live screen
	scroll    int      // lines scrolled back from the live screen; 0 follows it
	scrolled  []string // the scrolled view, rendered when scrolling
	lastSBLen int      // scrollback length at the last scrolled render, to keep the view still
	started   bool
}

// vtFrame is the live screen as rendered off the UI goroutine.
type vtFrame struct {
	lines      []string // rows lines, cols wide
	cols, rows int
	cursorX    int
	cursorY    int
	cursorCell string // the character under the cursor, " " when blank
	cursorShow bool
	sbLen      int // scrollback lines
	altScreen  bool
}

// frameInterval is the shortest time between two frames of a pane: Bubble
// Tea draws at most 60 frames a second anyway, and a pane flooded with
// output must leave the UI loop time for keys.
const frameInterval = time.Second / 60

// readChunk is how much the pump reads from the child at once, and
// feedChunk how much of it goes into the emulator per lock: small, so that
// a render or a key waits for at most a couple of milliseconds.
const (
	readChunk = 4096
	feedChunk = 256
)

// vtScrollback is how many lines a pane keeps above its screen.
const vtScrollback = 5000

var vtPaneIDs atomic.Int64

// Messages of a pane, tagged with its id so several panes share the
// program and a closed pane's late messages are recognised.
type (
	// vtFrameMsg: new output to draw, already rendered.
	vtFrameMsg struct {
		id    int64
		frame vtFrame
	}
	// vtEndMsg: the source ended; err says how (nil: EOF or exit 0).
	vtEndMsg struct {
		id  int64
		err error
	}
)

// newVTPane makes a pane with a cols x rows screen and nothing attached.
func newVTPane(cols, rows int) *vtPane {
	cols, rows = max(cols, 1), max(rows, 1)
	p := &vtPane{
		id:     vtPaneIDs.Add(1),
		emu:    vt.NewEmulator(cols, rows),
		cols:   cols,
		rows:   rows,
		frames: make(chan struct{}, 1),
		done:   make(chan struct{}),
		ops:    make(chan func(), 1024),
		size:   struct{ cols, rows int }{cols, rows},
		stop:   make(chan struct{}),
	}
	p.emu.SetScrollbackSize(vtScrollback)
	p.live = p.render()
	go p.runOps()
	return p
}

// runOps applies queued keys and resizes to the emulator, in order.
func (p *vtPane) runOps() {
	for {
		select {
		case f := <-p.ops:
			p.mu.Lock()
			f()
			p.mu.Unlock()
		case <-p.stop:
			return
		}
	}
}

// do queues f to run on the emulator; it never waits (a full queue, which
// takes a thousand keys the child does not read, drops the key).
func (p *vtPane) do(f func()) {
	select {
	case p.ops <- f:
	default:
	}
}

// StartCommand runs cmd in a new pty the size of the pane and attaches
// the pane to it (TakeInput, startPTY and Attach in one go, for callers
// that may block).
func (p *vtPane) StartCommand(cmd *exec.Cmd) error {
	if p.started {
		return errors.New("the pane already shows something")
	}
	p.TakeInput()
	ptmx, err := startPTY(cmd, p.size.cols, p.size.rows)
	if err != nil {
		return err
	}
	p.Attach(cmd, ptmx)
	return nil
}

// TakeInput makes the pane take keys before its child runs: they wait in
// its queue, and reach the child once Attach gives it one. (The UI opens
// a console at once and starts its child in a command: keys typed
// meanwhile are the child's, not the screen's.)
func (p *vtPane) TakeInput() {
	if p.input != nil {
		return
	}
	p.input = newByteQueue()
	go p.replies()
}

// startPTY runs cmd in a new pty of cols x rows, as the leader of its own
// session (so Close can end it and everything it started). It forks: call
// it in a command, then hand the result to Attach on the UI goroutine.
func startPTY(cmd *exec.Cmd, cols, rows int) (*os.File, error) {
	return pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(max(cols, 1)), Rows: uint16(max(rows, 1))})
}

// Attach shows what cmd (started by startPTY on ptmx) writes, and sends it
// the keys queued since TakeInput and those to come. The pty gets the
// pane's size, which may have changed since the start.
func (p *vtPane) Attach(cmd *exec.Cmd, ptmx *os.File) {
	p.TakeInput()
	p.started = true
	p.proc, p.ptmx = cmd, ptmx
	cols, rows := p.size.cols, p.size.rows
	p.do(func() { pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}) })
	go p.pump(ptmx, false)
	go p.writer(ptmx)
}

// Follow attaches the pane to a stream it only shows (a serial console
// log). Lone line feeds are shown as new lines, as a terminal with ONLCR
// would.
func (p *vtPane) Follow(r io.ReadCloser) {
	if p.started {
		r.Close()
		return
	}
	p.started = true
	p.src = r
	go p.pump(r, true)
	if p.input == nil {
		go p.replies() // drained, the replies are dropped
	}
}

// pump feeds the source's output to the emulator until it ends.
func (p *vtPane) pump(r io.Reader, crlf bool) {
	buf := make([]byte, readChunk)
	var conv []byte
	prevCR := false
	for {
		n, err := r.Read(buf)
		if n > 0 {
			data := buf[:n]
			if crlf {
				conv, prevCR = addCR(conv[:0], data, prevCR)
				data = conv
			}
			start := time.Now()
			for len(data) > 0 {
				n := min(len(data), feedChunk)
				p.mu.Lock()
				p.emu.Write(data[:n])
				p.mu.Unlock()
				data = data[n:]
			}
			p.signal()
			// Under a flood, parsing would take a whole core (x/vt scrolls
			// by moving every cell): rest half as long as it worked, so a
			// third of the core is left to the UI. The child waits on the
			// full pty meanwhile, as it would on a slow terminal.
			if d := time.Since(start); d > time.Millisecond {
				time.Sleep(d / 2)
			}
		}
		if err != nil {
			break
		}
	}
	if p.proc != nil {
		// The pty reports EIO once the child and everything holding the
		// terminal are gone; collect the child's status.
		p.exitErr = p.proc.Wait()
	}
	p.signal()
	close(p.done)
}

// addCR appends data to dst with a CR put before every LF that lacks one.
func addCR(dst, data []byte, prevCR bool) ([]byte, bool) {
	for _, b := range data {
		if b == '\n' && !prevCR {
			dst = append(dst, '\r')
		}
		dst = append(dst, b)
		prevCR = b == '\r'
	}
	return dst, prevCR
}

func (p *vtPane) signal() {
	select {
	case p.frames <- struct{}{}:
	default:
	}
}

// replies drains the emulator's input pipe for as long as the emulator
// lives, queueing what it reads for the child (or dropping it when there
// is no child to write to).
func (p *vtPane) replies() {
	buf := make([]byte, 1024)
	for {
		n, err := p.emu.Read(buf)
		if n > 0 && p.input != nil {
			p.input.push(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// writer hands queued input to the child.
func (p *vtPane) writer(w io.Writer) {
	for {
		b, ok := p.input.pop()
		if !ok {
			return
		}
		if _, err := w.Write(b); err != nil {
			p.input.close()
			return
		}
	}
}

// wait is the command that delivers the pane's next frame, rendered, or
// its end. The UI re-arms it after each vtFrameMsg and passes the message
// to Apply.
func (p *vtPane) wait() tea.Cmd {
	return func() tea.Msg {
		select {
		case <-p.frames:
		case <-p.done:
			return vtEndMsg{id: p.id, err: p.exitErr}
		case <-p.stop:
			// Closed: Close ends the source before stop, so a pane
			// whose source ended still says so (select picks at random
			// among ready channels).
			select {
			case <-p.done:
				return vtEndMsg{id: p.id, err: p.exitErr}
			default:
				return nil
			}
		}
		if d := frameInterval - time.Since(time.Unix(0, p.lastFrame.Load())); d > 0 {
			time.Sleep(d) // output meanwhile is in the slot: the next frame
		}
		p.lastFrame.Store(time.Now().UnixNano())
		return vtFrameMsg{id: p.id, frame: p.render()}
	}
}

// render draws the live screen (called off the UI goroutine).
func (p *vtPane) render() vtFrame {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := vtFrame{cols: p.cols, rows: p.rows, sbLen: p.emu.ScrollbackLen(), altScreen: p.emu.IsAltScreen()}
	screen := strings.Split(p.emu.Render(), "\n")
	f.lines = make([]string, p.rows)
	for i := range f.lines {
		l := ""
		if i < len(screen) {
			l = screen[i]
		}
		f.lines[i] = vtFit(l, p.cols)
	}
	pos := p.emu.CursorPosition()
	f.cursorX, f.cursorY, f.cursorShow = pos.X, pos.Y, !p.emu.CursorHidden()
	f.cursorCell = " "
	if c := p.emu.CellAt(pos.X, pos.Y); c != nil && c.Content != "" {
		f.cursorCell = c.Content
	}
	return f
}

// Apply takes a rendered frame from the wait command.
func (p *vtPane) Apply(msg vtFrameMsg) {
	if msg.id == p.id {
		p.live = msg.frame
	}
}

// Ended reports whether the source has ended.
func (p *vtPane) Ended() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Interactive reports whether keys can reach a child (or wait for one
// about to start).
func (p *vtPane) Interactive() bool { return p.input != nil && !p.Ended() }

// Resize gives the pane a new screen size, and the child a SIGWINCH. The
// pty and the emulator follow on the ops goroutine (the UI does no I/O),
// then a frame is drawn.
func (p *vtPane) Resize(cols, rows int) {
	cols, rows = max(cols, 1), max(rows, 1)
	if cols == p.size.cols && rows == p.size.rows {
		return
	}
	p.size.cols, p.size.rows = cols, rows
	ptmx := p.ptmx
	p.scrolled = nil
	p.do(func() {
		if ptmx != nil {
			pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
		}
		p.cols, p.rows = cols, rows
		p.emu.Resize(cols, rows)
		p.signal()
	})
}

// Size is the pane's screen size as the UI last set it.
func (p *vtPane) Size() (cols, rows int) { return p.size.cols, p.size.rows }

// SendKey forwards a key press to the child, encoded as an xterm would
// send it (arrow keys follow the child's cursor-key mode). It never waits:
// the key is queued for the ops goroutine.
func (p *vtPane) SendKey(msg tea.KeyMsg) {
	if !p.Interactive() {
		return
	}
	p.ScrollToBottom() // typing goes back to the live screen, as terminals do
	p.do(func() { sendKey(p.emu, msg) })
}

// sendKey encodes one Bubble Tea key press into the emulator's input.
func sendKey(e *vt.Emulator, msg tea.KeyMsg) {
	alt := ""
	if msg.Alt {
		alt = "\x1b"
	}
	switch {
	case msg.Type == tea.KeyRunes:
		if msg.Paste {
			e.Paste(string(msg.Runes))
			return
		}
		e.SendText(alt + string(msg.Runes))
	case msg.Type == tea.KeySpace:
		e.SendText(alt + " ")
	case msg.Type >= 0 && msg.Type <= 127:
		// C0 controls (ctrl+letter, Enter, Tab, Esc) and DEL (Backspace)
		// are their own byte.
		e.SendText(alt + string(rune(msg.Type)))
	default:
		if seq, ok := modifiedKeys[msg.Type]; ok {
			e.SendText(alt + seq)
			return
		}
		if code, ok := specialKeys[msg.Type]; ok {
			k := vt.KeyPressEvent{Code: code}
			if msg.Type == tea.KeyShiftTab {
				k.Mod = vt.ModShift
			}
			if msg.Alt {
				k.Mod |= vt.ModAlt
			}
			e.SendKey(k)
		}
	}
}

// specialKeys are the keys the emulator encodes itself (they depend on the
// child's cursor-key mode).
var specialKeys = map[tea.KeyType]rune{
	tea.KeyUp: vt.KeyUp, tea.KeyDown: vt.KeyDown, tea.KeyRight: vt.KeyRight, tea.KeyLeft: vt.KeyLeft,
	tea.KeyHome: vt.KeyHome, tea.KeyEnd: vt.KeyEnd, tea.KeyPgUp: vt.KeyPgUp, tea.KeyPgDown: vt.KeyPgDown,
	tea.KeyDelete: vt.KeyDelete, tea.KeyInsert: vt.KeyInsert, tea.KeyShiftTab: vt.KeyTab,
	tea.KeyF1: vt.KeyF1, tea.KeyF2: vt.KeyF2, tea.KeyF3: vt.KeyF3, tea.KeyF4: vt.KeyF4,
	tea.KeyF5: vt.KeyF5, tea.KeyF6: vt.KeyF6, tea.KeyF7: vt.KeyF7, tea.KeyF8: vt.KeyF8,
	tea.KeyF9: vt.KeyF9, tea.KeyF10: vt.KeyF10, tea.KeyF11: vt.KeyF11, tea.KeyF12: vt.KeyF12,
}

// modifiedKeys are xterm's sequences for modified cursor keys, which x/vt
// does not encode.
var modifiedKeys = map[tea.KeyType]string{
	tea.KeyCtrlUp: "\x1b[1;5A", tea.KeyCtrlDown: "\x1b[1;5B", tea.KeyCtrlRight: "\x1b[1;5C", tea.KeyCtrlLeft: "\x1b[1;5D",
	tea.KeyShiftUp: "\x1b[1;2A", tea.KeyShiftDown: "\x1b[1;2B", tea.KeyShiftRight: "\x1b[1;2C", tea.KeyShiftLeft: "\x1b[1;2D",
	tea.KeyCtrlShiftUp: "\x1b[1;6A", tea.KeyCtrlShiftDown: "\x1b[1;6B", tea.KeyCtrlShiftRight: "\x1b[1;6C", tea.KeyCtrlShiftLeft: "\x1b[1;6D",
	tea.KeyCtrlHome: "\x1b[1;5H", tea.KeyCtrlEnd: "\x1b[1;5F", tea.KeyShiftHome: "\x1b[1;2H", tea.KeyShiftEnd: "\x1b[1;2F",
	tea.KeyCtrlShiftHome: "\x1b[1;6H", tea.KeyCtrlShiftEnd: "\x1b[1;6F",
	tea.KeyCtrlPgUp: "\x1b[5;5~", tea.KeyCtrlPgDown: "\x1b[6;5~",
}

// ScrollBy moves the view n lines back into the scrollback (negative: down
// towards the live screen). The scrolled view is rendered here, on the
// user's key, and stays as it is while output goes on (the title says
// so); new output moves it only when the scrollback is full.
func (p *vtPane) ScrollBy(n int) {
	if p.emu == nil {
		return
	}
	limit := p.live.sbLen
	if p.live.altScreen {
		limit = 0
	}
	was := p.scroll
	p.scroll = min(max(p.scroll+n, 0), limit)
	if p.scroll == 0 {
		p.scrolled = nil
		return
	}
	if was == 0 {
		p.lastSBLen = -1 // anchored from now on
	}
	p.scrolled = p.renderScrolled()
}

// ScrollToBottom follows the live screen again.
func (p *vtPane) ScrollToBottom() { p.scroll, p.scrolled = 0, nil }

// ScrollToTop shows the oldest line kept.
func (p *vtPane) ScrollToTop() { p.ScrollBy(vtScrollback + 1) }

// Following reports whether the view is on the live screen.
func (p *vtPane) Following() bool { return p.scroll == 0 }

// Scrolled is how many lines the view is above the live screen.
func (p *vtPane) Scrolled() int { return p.scroll }

// renderScrolled draws the view scrolled back into the scrollback (on
// the UI goroutine, on a scroll key).
func (p *vtPane) renderScrolled() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	cols, rows := p.cols, p.rows
	sb := p.emu.Scrollback()
	n := sb.Len()
	if p.lastSBLen >= 0 && n > p.lastSBLen {
		p.scroll += n - p.lastSBLen // output arrived: stay on the same lines
	}
	p.lastSBLen = n
	p.scroll = min(p.scroll, n)
	screen := strings.Split(p.emu.Render(), "\n")
	var view []string
	// The window ends p.scroll lines above the screen's last line.
	for i := n - p.scroll; i < n && len(view) < rows; i++ {
		view = append(view, sb.Line(i).Render())
	}
	for i := 0; len(view) < rows; i++ {
		l := ""
		if i < len(screen) {
			l = screen[i]
		}
		view = append(view, l)
	}
	for i := range view {
		view[i] = vtFit(view[i], cols)
	}
	return view
}

// Lines is the pane's screen (or the part of the scrollback scrolled to)
// as exactly rows lines of exactly cols columns, colours kept. With
// cursor, the cursor is drawn in reverse video where the child left it.
// It draws what the last frame rendered: no emulator work.
func (p *vtPane) Lines(cursor bool) []string {
	cols, rows := p.Size()
	if p.scroll > 0 && p.scrolled != nil {
		return fitLines(p.scrolled, cols, rows)
	}
	f := p.live
	view := append([]string(nil), f.lines...)
	if cursor && f.cursorShow && f.cursorY >= 0 && f.cursorY < len(view) && f.cursorX >= 0 && f.cursorX < f.cols {
		l := view[f.cursorY]
		view[f.cursorY] = ansi.Truncate(l, f.cursorX, "") + "\x1b[0;7m" + f.cursorCell + "\x1b[0m" + ansi.TruncateLeft(l, f.cursorX+ansi.StringWidth(f.cursorCell), "")
	}
	if f.cols != cols || f.rows != rows {
		// Resized since the frame: the next frame redraws at the new size.
		for i := range view {
			view[i] = vtFit(view[i], cols)
		}
	}
	return fitLines(view, cols, rows)
}

// vtFit cuts or pads one rendered line to exactly w columns, ending every
// style the child left on.
func vtFit(l string, w int) string {
	if n := ansi.StringWidth(l); n > w {
		l = ansi.Truncate(l, w, "")
	} else if n < w {
		l += "\x1b[0m" + strings.Repeat(" ", w-n)
	}
	return l + "\x1b[0m"
}

// Text is the live screen as plain text, trailing blanks trimmed (tests,
// and captures for bug reports).
func (p *vtPane) Text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.emu.String()
}

// ExitStatus describes how the child ended, once it has.
func (p *vtPane) ExitStatus() string {
	if !p.Ended() {
		return ""
	}
	var ee *exec.ExitError
	switch {
	case p.exitErr == nil:
		if p.proc == nil {
			return "ended"
		}
		return "exited with status 0"
	case errors.As(p.exitErr, &ee):
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return "killed by " + st.Signal().String()
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	return p.exitErr.Error()
}

// Close ends the child (SIGHUP to its session, as a closing terminal
// does, then SIGKILL if it lingers) or the stream, and waits for the pump;
// it is safe to call more than once and from any state.
func (p *vtPane) Close() {
	p.closeOnce.Do(func() {
		if p.proc != nil && p.proc.Process != nil && !p.Ended() {
			pid := p.proc.Process.Pid
			syscall.Kill(-pid, syscall.SIGHUP)
			p.ptmx.Close()
			select {
			case <-p.done:
			case <-time.After(2 * time.Second):
				syscall.Kill(-pid, syscall.SIGKILL)
				p.proc.Process.Kill()
				<-p.done
			}
		} else if p.ptmx != nil {
			p.ptmx.Close()
		}
		if p.src != nil {
			p.src.Close()
			if p.started {
				select {
				case <-p.done:
				case <-time.After(2 * time.Second):
				}
			}
		}
		if p.input != nil {
			p.input.close()
		}
		close(p.stop)
		// End the emulator's input pipe: the replies goroutine sees EOF.
		// (Emulator.Close would do the same but writes a field its Read
		// checks without a lock.)
		if pw, ok := p.emu.InputPipe().(*io.PipeWriter); ok {
			pw.CloseWithError(io.EOF)
		}
	})
}

// byteQueue is an unbounded FIFO of byte slices between two goroutines.
type byteQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  [][]byte
	closed bool
}

func newByteQueue() *byteQueue {
	q := &byteQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *byteQueue) push(b []byte) {
	q.mu.Lock()
	if !q.closed {
		q.items = append(q.items, append([]byte(nil), b...))
		q.cond.Signal()
	}
	q.mu.Unlock()
}

// pop waits for the next item; false once the queue is closed.
func (q *byteQueue) pop() ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, false
	}
	b := q.items[0]
	q.items = q.items[1:]
	return b, true
}

func (q *byteQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

package build

import (
	"bytes"
	"io"
	"strings"
	"sync"

	"github.com/charmbracelet/x/vt"
)

// screen renders the end of the build output through a VT emulator, so
// carriage-return progress bars, colours and cursor motion look as they
// would on a terminal.
//
// The emulator is not fed the whole stream: x/vt parses a few MB/s, far
// less than a build can print, and only the last screenful matters. Each
// render replays the last lines of the output tail into a reset emulator.
// The cost is bounded by the pane size, never by the output rate, and the
// pty reader never waits for it. What a replay cannot know is state set
// before the tail (a colour left on many lines earlier); build output does
// not rely on that.
//
// One emulator serves every build of the process: the emulator writes
// replies (cursor reports, colour queries) into a synchronous pipe that must
// always be drained, or emu.Write blocks forever (tui-facts §4.2), and a
// drain goroutine per build would outlive it.
var screen struct {
	once sync.Once
	mu   sync.Mutex
	emu  *vt.Emulator
}

var crlf = []byte("\r\n")

// renderScreen replays tail (raw output, whole lines) into a cols×rows
// screen and returns the rows down to the cursor, styled with SGR sequences
// and not padded. Newlines become CR LF, as a terminal's ONLCR would make
// them (cube-hal turns ONLCR off so the log holds exactly what make wrote).
func renderScreen(tail []byte, cols, rows int) []string {
	if cols < 1 || rows < 1 {
		return nil
	}
	screen.once.Do(func() {
		screen.emu = vt.NewEmulator(cols, rows)
		go io.Copy(io.Discard, screen.emu)
	})
	screen.mu.Lock()
	defer screen.mu.Unlock()
	e := screen.emu
	if e.Width() != cols || e.Height() != rows {
		e.Resize(cols, rows)
	}
	e.Write([]byte("\x1bc")) // RIS: full reset, cursor home
	e.ClearScrollback()
	e.Write(bytes.ReplaceAll(tail, []byte("\n"), crlf))
	out := strings.Split(e.Render(), "\n")
	if last := e.CursorPosition().Y; last+1 < len(out) {
		out = out[:last+1]
	}
	return out
}

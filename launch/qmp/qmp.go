// Package qmp is a small client for the QEMU Machine Protocol: newline-
// delimited JSON over a unix socket (docs/interop/qmp-spec.rst; verified
// against QEMU 7.2, cvm-facts §2.1).
//
// Dial reads the greeting and negotiates capabilities. Execute sends a
// command with an id and waits for the reply carrying that id; events that
// arrive meanwhile are queued, never dropped, and WaitEvent picks them up.
// A reader goroutine owns the socket, so a slow consumer of events never
// stalls QEMU's replies.
package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Greeting is the banner QEMU sends on connect.
type Greeting struct {
	QMP struct {
		Version struct {
			QEMU struct {
				Major int `json:"major"`
				Minor int `json:"minor"`
				Micro int `json:"micro"`
			} `json:"qemu"`
			Package string `json:"package"`
		} `json:"version"`
		Capabilities []string `json:"capabilities"`
	} `json:"QMP"`
}

// Event is an asynchronous QMP event (SHUTDOWN, POWERDOWN, STOP, ...).
type Event struct {
	Name      string          `json:"event"`
	Data      json.RawMessage `json:"data,omitempty"`
	Timestamp struct {
		Seconds      int64 `json:"seconds"`
		Microseconds int64 `json:"microseconds"`
	} `json:"timestamp"`
}

// Error is a QMP error reply.
type Error struct {
	Class string `json:"class"`
	Desc  string `json:"desc"`
}

func (e *Error) Error() string { return "qmp: " + e.Class + ": " + e.Desc }

// ErrClosed is returned once the connection is gone (QEMU exited or the
// socket was closed).
var ErrClosed = errors.New("qmp: connection closed")

// Message is one decoded line from QEMU: a greeting, a reply or an event.
type Message struct {
	QMP    json.RawMessage `json:"QMP,omitempty"`
	Event  string          `json:"event,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
	Return json.RawMessage `json:"return,omitempty"`
	Error  *Error          `json:"error,omitempty"`
	ID     json.RawMessage `json:"id,omitempty"`
	raw    []byte
}

// Decode parses one line of the protocol. It rejects anything that is not
// exactly one of greeting, event, return or error.
func Decode(line []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(line, &m); err != nil {
		return m, fmt.Errorf("qmp: bad message %.80q: %w", line, err)
	}
	kinds := 0
	for _, present := range []bool{m.QMP != nil, m.Event != "", m.Return != nil, m.Error != nil} {
		if present {
			kinds++
		}
	}
	if kinds != 1 {
		return m, fmt.Errorf("qmp: message %.80q is not one greeting, event, return or error", line)
	}
	if m.Error != nil && m.Error.Class == "" {
		return m, fmt.Errorf("qmp: error without a class in %.80q", line)
	}
	m.raw = append([]byte(nil), line...)
	return m, nil
}

// Conn is a negotiated QMP connection. It is safe for concurrent use.
type Conn struct {
	conn     net.Conn
	greeting Greeting

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int
	pending map[string]chan Message
	events  []Event
	evSig   chan struct{} // closed and replaced whenever an event arrives
	done    chan struct{} // closed when the reader stops
	err     error         // why the reader stopped
}

// Dial connects to the QMP socket at path, reads the greeting and sends
// qmp_capabilities. QEMU serves one QMP client at a time per socket, so
// connect, do the work and Close: a held connection blocks everyone else.
func Dial(ctx context.Context, path string) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	c, err := newConn(ctx, nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func newConn(ctx context.Context, nc net.Conn) (*Conn, error) {
	c := &Conn{conn: nc, pending: map[string]chan Message{}, evSig: make(chan struct{}), done: make(chan struct{})}
	r := bufio.NewReaderSize(nc, 64*1024)
	// The greeting: bounded by ctx, because a busy socket (another client
	// holds it) accepts the connection but says nothing.
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	nc.SetReadDeadline(deadline)
	line, err := readLine(r)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil, fmt.Errorf("qmp: no greeting before the deadline (another client may hold the QMP socket)")
		}
		return nil, fmt.Errorf("qmp: reading greeting: %w", err)
	}
	m, err := Decode(line)
	if err != nil {
		return nil, err
	}
	if m.QMP == nil {
		return nil, fmt.Errorf("qmp: expected a greeting, got %.80q", line)
	}
	if err := json.Unmarshal(line, &c.greeting); err != nil {
		return nil, fmt.Errorf("qmp: bad greeting: %w", err)
	}
	nc.SetReadDeadline(time.Time{})
	go c.readLoop(r)
	if _, err := c.Execute(ctx, "qmp_capabilities", nil); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > 16<<20 {
			return nil, fmt.Errorf("qmp: message longer than 16 MiB")
		}
		if !isPrefix {
			return line, nil
		}
	}
}

func (c *Conn) readLoop(r *bufio.Reader) {
	var err error
	defer func() {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		for id, ch := range c.pending {
			close(ch)
			delete(c.pending, id)
		}
		c.mu.Unlock()
		close(c.done)
	}()
	for {
		var line []byte
		line, err = readLine(r)
		if err != nil {
			return
		}
		var m Message
		m, err = Decode(line)
		if err != nil {
			return
		}
		if m.Event != "" {
			var ev Event
			if json.Unmarshal(line, &ev) == nil {
				c.mu.Lock()
				c.events = append(c.events, ev)
				close(c.evSig)
				c.evSig = make(chan struct{})
				c.mu.Unlock()
			}
			continue
		}
		id := string(m.ID)
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// Greeting returns what QEMU said on connect (its version).
func (c *Conn) Greeting() Greeting { return c.greeting }

// Execute runs cmd with args (nil for none) and returns the "return"
// value. A QMP error reply is a *Error.
func (c *Conn) Execute(ctx context.Context, cmd string, args any) (json.RawMessage, error) {
	c.mu.Lock()
	if c.err != nil || isClosed(c.done) {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.nextID++
	id := strconv.Quote("c" + strconv.Itoa(c.nextID))
	ch := make(chan Message, 1)
	c.pending[id] = ch
	c.mu.Unlock()

	req := map[string]any{"execute": cmd, "id": json.RawMessage(id)}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		c.forget(id)
		return nil, err
	}
	c.writeMu.Lock()
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetWriteDeadline(dl)
	}
	_, err = c.conn.Write(append(b, '\n'))
	c.conn.SetWriteDeadline(time.Time{})
	c.writeMu.Unlock()
	if err != nil {
		c.forget(id)
		return nil, fmt.Errorf("qmp: %s: %w", cmd, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return nil, ErrClosed
		}
		if m.Error != nil {
			return nil, m.Error
		}
		return m.Return, nil
	case <-ctx.Done():
		c.forget(id)
		return nil, fmt.Errorf("qmp: %s: %w", cmd, ctx.Err())
	}
}

func (c *Conn) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Status is the reply of query-status.
type Status struct {
	Status  string `json:"status"` // "running", "paused", "shutdown", ...
	Running bool   `json:"running"`
}

// QueryStatus runs query-status.
func (c *Conn) QueryStatus(ctx context.Context) (Status, error) {
	var s Status
	raw, err := c.Execute(ctx, "query-status", nil)
	if err != nil {
		return s, err
	}
	err = json.Unmarshal(raw, &s)
	return s, err
}

// WaitEvent returns the first queued event (oldest first) whose name is
// one of names, removing it from the queue, waiting for it if needed. It
// returns ErrClosed when the connection ends first (for SHUTDOWN that
// usually means QEMU has exited: check the process).
func (c *Conn) WaitEvent(ctx context.Context, names ...string) (Event, error) {
	for {
		c.mu.Lock()
		ev, ok := c.takeEvent(names)
		sig := c.evSig
		c.mu.Unlock()
		if ok {
			return ev, nil
		}
		select {
		case <-sig:
		case <-c.done:
			// Drain whatever arrived just before the end.
			c.mu.Lock()
			ev, ok := c.takeEvent(names)
			c.mu.Unlock()
			if ok {
				return ev, nil
			}
			return Event{}, ErrClosed
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// takeEvent removes and returns the oldest queued event named one of
// names. The caller holds c.mu.
func (c *Conn) takeEvent(names []string) (Event, bool) {
	for i, ev := range c.events {
		for _, n := range names {
			if ev.Name == n {
				c.events = append(c.events[:i:i], c.events[i+1:]...)
				return ev, true
			}
		}
	}
	return Event{}, false
}

// Events returns the events received so far, oldest first, and clears the
// queue.
func (c *Conn) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.events
	c.events = nil
	return ev
}

// Done is closed when the connection ends (QEMU exited, or Close).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Close closes the connection.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.err == nil {
		c.err = ErrClosed
	}
	c.mu.Unlock()
	return c.conn.Close()
}

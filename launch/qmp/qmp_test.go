package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

const greeting = `{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}`

// fakeQEMU serves one connection on a unix socket with handle, which sees
// each decoded command and writes raw lines back.
func fakeQEMU(t *testing.T, handle func(cmd map[string]any, w func(string))) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "qmp.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		w := func(s string) { c.Write([]byte(s + "\n")) }
		w(greeting)
		sc := bufio.NewScanner(c)
		negotiated := false
		for sc.Scan() {
			var cmd map[string]any
			if err := json.Unmarshal(sc.Bytes(), &cmd); err != nil {
				w(`{"error": {"class": "GenericError", "desc": "JSON parse error"}}`)
				continue
			}
			id, _ := json.Marshal(cmd["id"])
			if cmd["execute"] == "qmp_capabilities" {
				negotiated = true
				w(`{"return": {}, "id": ` + string(id) + `}`)
				continue
			}
			if !negotiated {
				w(`{"id": ` + string(id) + `, "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}`)
				continue
			}
			handle(cmd, func(s string) { w(strings.ReplaceAll(s, "$ID", string(id))) })
		}
	}()
	return sock
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestExecuteCorrelatesRepliesAndQueuesEvents(t *testing.T) {
	sock := fakeQEMU(t, func(cmd map[string]any, w func(string)) {
		switch cmd["execute"] {
		case "query-status":
			// An event arrives before the reply: it must be queued, and the
			// reply still found by its id.
			w(`{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RTC_CHANGE", "data": {"offset": 0}}`)
			w(`{"return": {"status": "running", "singlestep": false, "running": true}, "id": $ID}`)
		case "system_powerdown":
			w(`{"timestamp": {"seconds": 3, "microseconds": 4}, "event": "POWERDOWN"}`)
			w(`{"return": {}, "id": $ID}`)
			w(`{"timestamp": {"seconds": 5, "microseconds": 6}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}`)
		case "bogus":
			w(`{"id": $ID, "error": {"class": "CommandNotFound", "desc": "The command bogus has not been found"}}`)
		}
	})
	c, err := Dial(ctx(t), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if g := c.Greeting(); g.QMP.Version.QEMU.Major != 7 || g.QMP.Version.QEMU.Minor != 2 {
		t.Errorf("greeting %+v", g)
	}
	st, err := c.QueryStatus(ctx(t))
	if err != nil || st.Status != "running" || !st.Running {
		t.Fatalf("QueryStatus = %+v, %v", st, err)
	}
	_, err = c.Execute(ctx(t), "bogus", nil)
	var qe *Error
	if !errors.As(err, &qe) || qe.Class != "CommandNotFound" {
		t.Fatalf("bogus: %v", err)
	}
	if _, err := c.Execute(ctx(t), "system_powerdown", nil); err != nil {
		t.Fatal(err)
	}
	ev, err := c.WaitEvent(ctx(t), "SHUTDOWN")
	if err != nil {
		t.Fatal(err)
	}
	var data struct{ Reason string }
	json.Unmarshal(ev.Data, &data)
	if ev.Name != "SHUTDOWN" || data.Reason != "guest-shutdown" || ev.Timestamp.Seconds != 5 {
		t.Errorf("event %+v", ev)
	}
	// The other events stayed queued, in order.
	var names []string
	for _, e := range c.Events() {
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "RTC_CHANGE,POWERDOWN" {
		t.Errorf("queued events %v", names)
	}
}

func TestClosedConnection(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "qmp.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, _ := l.Accept()
		c.Write([]byte(greeting + "\n"))
		sc := bufio.NewScanner(c)
		sc.Scan()
		c.Write([]byte(`{"return": {}, "id": "c1"}` + "\n"))
		sc.Scan() // quit
		c.Write([]byte(`{"return": {}, "id": "c2"}` + "\n" + `{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "SHUTDOWN", "data": {"guest": false}}` + "\n"))
		c.Close()
	}()
	c, err := Dial(ctx(t), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Execute(ctx(t), "quit", nil); err != nil {
		t.Fatal(err)
	}
	if ev, err := c.WaitEvent(ctx(t), "SHUTDOWN"); err != nil || ev.Name != "SHUTDOWN" {
		t.Fatalf("SHUTDOWN sent just before the close was lost: %v %v", ev, err)
	}
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("Done not closed after the peer hung up")
	}
	if _, err := c.WaitEvent(ctx(t), "SHUTDOWN"); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitEvent after close: %v", err)
	}
	if _, err := c.Execute(ctx(t), "query-status", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Execute after close: %v", err)
	}
}

// A socket held by another client accepts but never greets: Dial must
// give up at the deadline with a message saying so.
func TestBusySocketTimesOut(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "qmp.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The other client holds the socket until the test is over, so Dial
	// can only return by honouring its deadline.
	release := make(chan struct{})
	defer close(release)
	go func() {
		c, err := l.Accept()
		if err == nil {
			<-release
			c.Close()
		}
	}()
	cx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Dial(cx, sock)
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Dial ignored its deadline: still waiting for a greeting after 30 s")
	}
	if err == nil || !strings.Contains(err.Error(), "another client") {
		t.Fatalf("Dial = %v", err)
	}
}

func TestDecode(t *testing.T) {
	good := []string{
		greeting,
		`{"return": {}}`,
		`{"return": {}, "id": "c1"}`,
		`{"event": "SHUTDOWN", "timestamp": {"seconds": 1, "microseconds": 2}}`,
		`{"error": {"class": "GenericError", "desc": "x"}, "id": 3}`,
	}
	for _, s := range good {
		if _, err := Decode([]byte(s)); err != nil {
			t.Errorf("Decode(%s): %v", s, err)
		}
	}
	bad := []string{``, `{}`, `[]`, `{"return": {}, "event": "X"}`, `{"error": {"desc": "no class"}}`, `{"id": 1}`, `not json`}
	for _, s := range bad {
		if _, err := Decode([]byte(s)); err == nil {
			t.Errorf("Decode(%q) accepted", s)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{greeting, `{"return": {}, "id": "c1"}`, `{"event": "STOP"}`, `{"error": {"class": "A", "desc": "b"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		n := 0
		for _, p := range []bool{m.QMP != nil, m.Event != "", m.Return != nil, m.Error != nil} {
			if p {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("Decode accepted %q as %d kinds", b, n)
		}
	})
}

// Against the real QEMU here (TCG, no guest OS): the greeting, status,
// powerdown (ignored by a guest with no OS), then quit with its SHUTDOWN
// event and the end of the connection.
func TestRealQEMU(t *testing.T) {
	qemu := testenv.Tool(t, "qemu-system-x86_64")[0]
	dir := t.TempDir()
	sock := filepath.Join(dir, "qmp.sock")
	cmd := exec.Command(qemu, "-machine", "q35", "-accel", "tcg", "-m", "64", "-nodefaults", "-display", "none",
		"-qmp", "unix:"+sock+",server=on,wait=off")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	var c *Conn
	var err error
	for i := 0; i < 200; i++ {
		if c, err = Dial(ctx(t), sock); err == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Greeting().QMP.Version.QEMU.Major < 7 {
		t.Errorf("greeting %+v", c.Greeting())
	}
	st, err := c.QueryStatus(ctx(t))
	if err != nil || !st.Running {
		t.Fatalf("status %+v %v", st, err)
	}
	if _, err := c.Execute(ctx(t), "system_powerdown", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitEvent(ctx(t), "POWERDOWN"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Execute(ctx(t), "quit", nil); err != nil && !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	ev, err := c.WaitEvent(ctx(t), "SHUTDOWN")
	if err != nil {
		t.Fatalf("no SHUTDOWN after quit: %v", err)
	}
	if !strings.Contains(string(ev.Data), "host-qmp-quit") {
		t.Errorf("SHUTDOWN data %s", ev.Data)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("QEMU still running after quit")
	}
}

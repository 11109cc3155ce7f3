// Package agenttest runs a whole cube-agent in-process on a loopback port,
// for tests of the agent and of its clients (cube-hal attest, the TUI's
// attest screen). It runs the same daemon.Run the binary runs, over real
// TCP (and TLS, when the environment asks for it).
package agenttest

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/agent/daemon"
	"github.com/ultravioletrs/cube-hal/agent/tsm"
)

// Agent is a running agent.
type Agent struct {
	// Addr is host:port; URL is http://Addr or https://Addr (per the env).
	Addr, URL string
	// Logs is everything the agent logged so far.
	Logs *Buffer
	// Code is set to the exit code when the agent stops.
	stop func() int
}

// Stop shuts the agent down and returns its exit code (also done at test
// cleanup).
func (a *Agent) Stop() int { return a.stop() }

// Buffer is a bytes.Buffer safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Start runs an agent configured by env (UV_CUBE_AGENT_* names; the env
// file is disabled unless env names one). open, when non-nil, replaces the
// kernel configfs-tsm (use with UV_CUBE_AGENT_TSM=configfs or auto). It
// fails the test if the agent does not come up.
func Start(t testing.TB, env map[string]string, open func(vmpl uint) (tsm.Source, error)) *Agent {
	t.Helper()
	e := map[string]string{"UV_CUBE_AGENT_ENV_FILE": "", "UV_CUBE_AGENT_STATE_DIR": t.TempDir()}
	for k, v := range env {
		e[k] = v
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan int, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{
			Env:      func(k string) (string, bool) { v, ok := e[k]; return v, ok },
			Stderr:   logs,
			Listener: ln,
			Ready:    func(a net.Addr) { ready <- a },
			Grace:    2 * time.Second,
			OpenTSM:  open,
		})
	}()
	var once sync.Once
	code := -1
	stop := func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("agent did not stop within 10s; log:\n%s", logs.String())
			}
			ln.Close()
		})
		return code
	}
	t.Cleanup(func() { stop() })
	select {
	case addr := <-ready:
		scheme := "http"
		if isTLS(e) {
			scheme = "https"
		}
		return &Agent{Addr: addr.String(), URL: scheme + "://" + addr.String(), Logs: logs, stop: stop}
	case c := <-done:
		ln.Close()
		t.Fatalf("agent exited with %d before serving; log:\n%s", c, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("agent not ready after 20s; log:\n%s", logs.String())
	}
	return nil
}

func isTLS(e map[string]string) bool {
	on := func(k string) bool { return strings.TrimSpace(e[k]) != "" }
	at := strings.ToLower(e["UV_CUBE_AGENT_ATTESTED_TLS"])
	return on("UV_CUBE_AGENT_SERVER_CERT") || on("UV_CUBE_AGENT_CA_URL") || at == "true" || at == "1"
}

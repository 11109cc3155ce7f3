// Command cube-agent is the in-guest Cube agent: it serves attestation
// reports obtained through Linux configfs-tsm (and attested TLS) and proxies
// the LLM backend. It is a small static binary; it must not import the UI,
// build or launch packages of cube-hal (a test enforces this).
//
// Configuration comes from the environment and /etc/cube/agent.env (see the
// README's agent section for every variable). SIGINT or SIGTERM stop it
// gracefully.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ultravioletrs/cube-hal/agent/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := daemon.Run(ctx, daemon.Options{Env: os.LookupEnv, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}

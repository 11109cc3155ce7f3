// Command cube-agent is the in-guest Cube agent: it serves attestation
// reports obtained through Linux configfs-tsm (and attested TLS) and proxies
// the LLM backend. It is a small static binary; it must not import the UI,
// build or launch packages of cube-hal (a test enforces this).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "cube-agent: not implemented yet (issue #7)")
	os.Exit(1)
}

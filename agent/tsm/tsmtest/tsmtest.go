// Package tsmtest holds configfs-tsm stand-ins for tests of the agent and
// of its verifiers: go-configfs-tsm's faketsm with the answers a test
// picks, and a source serving go-tdx-guest's recorded TDX quote (a real
// quote from real hardware), so TDX paths are tested without a TD.
package tsmtest

import (
	"github.com/google/go-configfs-tsm/configfs/configfsi"
	"github.com/google/go-configfs-tsm/configfs/faketsm"
	tdxtestdata "github.com/google/go-tdx-guest/testing/testdata"

	"github.com/ultravioletrs/cube-hal/agent/tsm"
)

// Emulated is a fake configfs whose report entries name provider and
// answer outblob; the other attributes (privlevel with its floor,
// generation, ...) behave as faketsm's Linux 6.11 report subsystem.
func Emulated(provider string, outblob []byte, floor uint) configfsi.Client {
	sub := faketsm.Report611(floor)
	fallback := sub.ReadAttr
	sub.ReadAttr = func(e *faketsm.ReportEntry, attr string) ([]byte, error) {
		switch attr {
		case "provider":
			return []byte(provider), nil
		case "outblob":
			return outblob, nil
		}
		return fallback(e, attr)
	}
	return &faketsm.Client{Subsystems: map[string]configfsi.Client{"report": sub}}
}

// RecordedTDX opens a TDX source whose every report is go-tdx-guest's
// recorded quote. That quote binds report data of its own, so it verifies
// (with go-tdx-guest's test collateral dates) but never carries the
// caller's nonce. Its signature fits agenttest.Start's open argument.
func RecordedTDX(vmpl uint) (tsm.Source, error) {
	c, err := tsm.Open(Emulated("tdx_guest\n", tdxtestdata.RawQuote, 0), vmpl)
	if err != nil {
		return nil, err
	}
	return c, nil
}

package agent_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The in-guest agent is shipped inside the measured image: it must stay a
// small binary free of cube-hal's UI, build and launch code.
func TestAgentImportsNoHostPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/ultravioletrs/cube-hal/agent/cmd/cube-agent").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/ultravioletrs/cube-hal/tui",
		"github.com/ultravioletrs/cube-hal/build",
		"github.com/ultravioletrs/cube-hal/launch",
		"github.com/ultravioletrs/cube-hal/kconfig",
		"github.com/charmbracelet/bubbletea",
		"github.com/charmbracelet/lipgloss",
		"github.com/charmbracelet/bubbles",
		"github.com/spf13/cobra",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 5 {
		t.Fatalf("go list -deps printed too little to trust: %q", out)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("cube-agent imports %s", d)
			}
		}
	}
}

package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/cubecfg"
	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
)

// saveState is the save dialog.
type saveState struct {
	defconfig bool // also write the minimal defconfig
	saving    bool
	err       string
	seq       int
}

// openSave shows what a save would write.
func (s *configScreen) openSave() {
	s.mode = modeSave
	s.save.err = ""
	s.save.saving = false
	if s.eng.Standalone() {
		s.save.defconfig = true
	}
}

func (s *configScreen) saveKeys() struct{ Confirm, Defconfig, Cancel key.Binding } {
	k := s.c.Keys.Save
	k.Defconfig.SetEnabled(!s.eng.Standalone() && !s.save.saving)
	if s.save.defconfig {
		k.Defconfig.SetHelp("D", "no defconfig")
	}
	k.Confirm.SetEnabled(!s.save.saving)
	if s.save.err != "" {
		k.Confirm.SetHelp("enter", "try again")
	}
	k.Cancel.SetEnabled(!s.save.saving)
	return k
}

func (s *configScreen) updateSave(msg tea.KeyMsg) tea.Cmd {
	k := s.saveKeys()
	switch {
	case key.Matches(msg, k.Cancel):
		s.mode = modeBrowse
		s.quitAfterSave = false
		s.setStatus(statusInfo, "Not saved")
	case key.Matches(msg, k.Defconfig):
		s.save.defconfig = !s.save.defconfig
	case key.Matches(msg, k.Confirm):
		plan, err := s.eng.SavePlan(s.save.defconfig)
		if err != nil {
			s.save.err = err.Error()
			return nil
		}
		s.save.saving, s.save.err = true, ""
		s.save.seq++
		return writeFilesCmd(s.save.seq, plan)
	}
	return nil
}

// saved handles the end of a save: on success the engine learns the
// values are on disk; on failure the dialog stays with the error, and the
// changes stay in memory to be saved again.
func (s *configScreen) saved(msg savedMsg) tea.Cmd {
	if msg.seq != s.save.seq || !s.save.saving {
		return nil
	}
	s.save.saving = false
	if msg.err != nil {
		s.save.err = msg.err.Error()
		if len(msg.written) > 0 {
			s.save.err = "wrote " + s.savedFiles(msg.written) + ", then: " + s.save.err
		}
		return nil
	}
	s.eng.MarkSaved()
	s.mode = modeBrowse
	s.setStatus(statusOK, "Saved "+s.savedFiles(msg.written))
	if s.quitAfterSave {
		return quitNow
	}
	return nil
}

// writeFile writes one file of a save with the project's atomic writer
// (its directory made first; with backup the previous file is kept as
// path.old, as conf keeps .config.old; permissions kept). Tests replace it
// to fail the way a full disk does.
var writeFile = func(path string, data []byte, backup bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	old := ""
	if backup {
		old = path + ".old"
	}
	return atomicfile.WriteFileKeepOld(path, old, data, 0o644)
}

// writePrivate writes a secrets file: mode 0600 in a 0700 directory.
var writePrivate = func(path string, data []byte, _ bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// writeFilesCmd writes the planned files, each atomically, in order, and
// stops at the first failure (which leaves that file as it was).
func writeFilesCmd(seq int, plan []FileWrite) tea.Cmd {
	return func() tea.Msg {
		var written []string
		for _, f := range plan {
			write := writeFile
			if f.Private {
				write = writePrivate
			}
			if err := write(f.Path, f.Data, f.Backup); err != nil {
				return savedMsg{seq: seq, written: written, err: fmt.Errorf("%s: %w", f.What, err)}
			}
			written = append(written, f.What)
		}
		if len(written) == 0 {
			return savedMsg{seq: seq, err: errors.New("nothing to write")}
		}
		return savedMsg{seq: seq, written: written}
	}
}

func (s *configScreen) viewSave() string {
	st := s.c.Styles
	v := saveView{Saving: s.save.saving, Err: s.redact(s.save.err)}
	changes := s.eng.Changes()
	lines := s.diffLines(changes)
	for i := range lines {
		lines[i] = s.redact(lines[i])
	}
	v.Changes = lines
	if s.eng.Standalone() {
		v.Files = []saveFile{{On: true, Lock: true, What: "defconfig", Path: s.shortPath(s.eng.DefconfigPath()),
			Note: "edited in place: only the Cube lines change"}}
	} else {
		v.Files = []saveFile{
			{On: true, Lock: true, What: ".config", Path: s.shortPath(s.eng.ConfigPath()), Note: "the previous one is kept as .config.old"},
			{On: s.save.defconfig, What: "defconfig", Path: s.shortPath(s.eng.DefconfigPath()), Note: "the minimal defconfig, as savedefconfig writes it (its comments are not kept)"},
		}
	}
	// A defconfig is often kept in git (configs/cube_defconfig is in
	// cube-hal's): say so when a secret is about to go into it.
	for i := range v.Files {
		if v.Files[i].What == "defconfig" {
			v.Files[i].Warn = s.secretsWarning()
		}
	}
	// Each problem's hint once, on the first problem that has it: four
	// missing certificate files name 'cube-hal certs' once.
	var hinted []string
	add := func(p cubecfg.Problem) {
		text := p.Message
		if p.Hint != "" && !slices.Contains(hinted, p.Hint) {
			hinted = append(hinted, p.Hint)
			text = p.Text()
		}
		v.Problems = append(v.Problems, s.redact(s.shortOverlay(text)))
	}
	seen := map[string]bool{}
	for _, it := range s.cubeItems {
		if p, ok := s.problems[it.opt.Symbol]; ok {
			add(p)
			seen[it.opt.Symbol] = true
		}
	}
	if p, ok := s.problems[cubecfg.SymCertsToken]; ok && !seen[cubecfg.SymCertsToken] {
		add(p)
	}
	return renderSave(st, v, s.width, s.height)
}

// secretsWarning names the secrets set in the configuration, which a
// defconfig holds in clear, or is "" when none is set.
func (s *configScreen) secretsWarning() string {
	var set []string
	for _, o := range cubecfg.Options() {
		if o.Secret && s.eng.Value(o.Symbol) != "" {
			set = append(set, o.Label)
		}
	}
	if len(set) == 0 {
		return ""
	}
	return "holds the " + strings.Join(set, ", ") + " in clear: keep it out of git"
}

// savedFiles names the files a save wrote: ".config (output/.config)".
func (s *configScreen) savedFiles(whats []string) string {
	var parts []string
	for _, w := range whats {
		p := s.eng.ConfigPath()
		if w == "defconfig" {
			p = s.eng.DefconfigPath()
		}
		parts = append(parts, w+" ("+s.shortPath(p)+")")
	}
	return strings.Join(parts, " and ")
}

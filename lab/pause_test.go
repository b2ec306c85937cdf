package lab

import (
	"slices"
	"testing"
)

// The pause plans: each provider freezes and thaws the machine by its id,
// and only the providers that can are Pausers.
func TestPauseArgv(t *testing.T) {
	for _, c := range []struct{ got, want []string }{
		{dockerPause("c1"), []string{"docker", "pause", "c1"}},
		{dockerResume("c1"), []string{"docker", "unpause", "c1"}},
		{dockerPaused("c1"), []string{"docker", "inspect", "--format", "{{.State.Paused}}", "c1"}},
		{virtualboxPause("vm"), []string{"VBoxManage", "controlvm", "vm", "pause"}},
		{virtualboxResume("vm"), []string{"VBoxManage", "controlvm", "vm", "resume"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("argv %q, want %q", c.got, c.want)
		}
	}
	var p Provider = &sshNodes{}
	if _, ok := p.(Pauser); ok {
		t.Error("machines halab did not make cannot be frozen by it")
	}
}

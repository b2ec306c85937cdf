package lab

import (
	"os"
	"strings"
	"testing"
)

// The bench's lab file with and without fencing: lab.yaml (a fencing
// section, agent none) turned to auto and back, a file without a fencing
// section given one; comments and the rest kept, the result loads.
func TestWithFencingAgent(t *testing.T) {
	data, err := os.ReadFile("../lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	on, err := WithFencingAgent(data, FenceAgentAuto)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(on, "on.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.FencingOn() || c.Fencing.Port != DefaultFencePort || c.Name != "halab" {
		t.Errorf("fencing %+v, name %s", c.Fencing, c.Name)
	}
	if !strings.Contains(string(on), "# race_guard keeps both nodes") {
		t.Error("comments lost")
	}
	off, err := WithFencingAgent(on, FenceAgentNone)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := Parse(off, "off.yaml"); err != nil || c.FencingOn() {
		t.Errorf("back to none: %v, %+v", err, c)
	}
	bare := "name: x\nnodes:\n  - name: node1\n    ip: 10.9.0.11\n  - name: node2\n    ip: 10.9.0.12\nvip:\n  address: 10.9.0.20\n  netmask: 255.255.255.0\n  nic: eth1\nfencing: null\n"
	got, err := WithFencingAgent([]byte(bare), FenceAgentAuto)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := Parse(got, "bare.yaml"); err != nil || !c.FencingOn() || c.Fencing.RaceGuard != RaceGuardAuto {
		t.Errorf("bare file: %v, %+v\n%s", err, c, got)
	}
	if _, err := WithFencingAgent(data, "fence_docker"); err == nil || !strings.Contains(err.Error(), "fencing.agent") {
		t.Errorf("bad agent: %v", err)
	}
}

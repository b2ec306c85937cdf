package provision

import (
	"fmt"
	"slices"
	"strings"

	"halab/lab"
	"halab/lab/fence"
	"halab/templates"
)

// FenceSupport is how a stack fences a node, as data: the agent its
// devices run, the Pacemaker it has (for messages), the race guards that
// Pacemaker can express (the first is what race_guard auto picks), and
// what the agent needs installed on the nodes.
type FenceSupport struct {
	Agent     templates.FenceAgent
	Pacemaker string
	Guards    []string
	Packages  []string
}

// guardNeeds says what each race guard needs of Pacemaker, for the message
// that refuses it on a stack without it.
var guardNeeds = map[string]string{
	templates.GuardPriority: "priority-fencing-delay, Pacemaker 2.0.4 and later",
	templates.GuardRandom:   "pcmk_delay_max, Pacemaker 1.1.13 and later",
	templates.GuardStatic:   "a delay on one device",
	templates.GuardNone:     "nothing",
}

// guardFor is the race guard a stack uses for the lab file's race_guard,
// or why it cannot.
func guardFor(c *lab.Config, s *Stack) (string, error) {
	g := c.Fencing.RaceGuard
	if g == lab.RaceGuardAuto {
		return s.Fence.Guards[0], nil
	}
	if !slices.Contains(s.Fence.Guards, g) {
		return "", fmt.Errorf("fencing.race_guard: %s: stack %s runs Pacemaker %s, which has no %s; use one of %s",
			g, s.Name, s.Fence.Pacemaker, guardNeeds[g], strings.Join(append([]string{lab.RaceGuardAuto}, s.Fence.Guards...), ", "))
	}
	return g, nil
}

// FencingAbout says how a lab of stack s fences, for the report's lab
// entry: the agent, and the race guard with its delay; "none" and no note
// when the lab file or the stack fences nothing.
func FencingAbout(c *lab.Config, s *Stack) (agent, note string) {
	if !c.FencingOn() || s.Fence == nil {
		return "none", ""
	}
	g, err := guardFor(c, s)
	if err != nil {
		return string(s.Fence.Agent), "stonith-enabled=true; " + err.Error()
	}
	guard := "race guard " + g
	if g != templates.GuardNone {
		guard += fmt.Sprintf(" (%d s)", c.Fencing.Delay)
	}
	return string(s.Fence.Agent), fmt.Sprintf("stonith-enabled=true, through the lab's fence endpoint on %s; %s", c.FenceEndpoint(), guard)
}

// noFenceMessage refuses fencing on a stack that cannot fence.
func noFenceMessage(s *Stack) string {
	var can []string
	for _, o := range stacks {
		if o.Fence != nil {
			can = append(can, o.Name)
		}
	}
	return fmt.Sprintf("fencing.agent: %s: stack %s has no resource manager to run a fence device (its resources are heartbeat's haresources); use fencing.agent: %s, or a stack that fences (%s)",
		lab.FenceAgentAuto, s.Name, lab.FenceAgentNone, strings.Join(can, ", "))
}

// checkFencingConfig: fencing on a stack that cannot fence, or with a race
// guard its Pacemaker lacks, is refused. With stack auto, every stack auto
// may pick must fence with that guard (auto never picks one that cannot
// fence: heartbeat-v1 is never auto's).
func checkFencingConfig(c *lab.Config) []string {
	if !c.FencingOn() {
		return nil
	}
	var chosen []*Stack
	if c.Stack == AutoStack {
		for _, s := range stacks {
			if s.Fence != nil {
				chosen = append(chosen, s)
			}
		}
	} else if s, ok := StackByName(c.Stack); ok {
		chosen = []*Stack{s}
	}
	var p []string
	for _, s := range chosen {
		if s.Fence == nil {
			p = append(p, noFenceMessage(s))
			continue
		}
		if !slices.Contains(lab.RaceGuards, c.Fencing.RaceGuard) {
			continue // lab reports it
		}
		if _, err := guardFor(c, s); err != nil {
			msg := err.Error()
			if c.Stack == AutoStack {
				msg += fmt.Sprintf(" (stack: auto may pick %s; set stack: to the one you run)", s.Name)
			}
			p = append(p, msg)
		}
	}
	return p
}

// FencingFor is the crm configuration's fencing for the lab on stack s:
// nil when fencing.agent is none. A stack that cannot fence as the lab
// file asks (--stack heartbeat-v1 with fencing.agent auto, say) is a
// *lab.ConfigError.
func FencingFor(c *lab.Config, s *Stack) (*templates.Fencing, error) {
	if !c.FencingOn() {
		return nil, nil
	}
	if s.Fence == nil {
		return nil, &lab.ConfigError{File: c.Path, Problems: []string{noFenceMessage(s)}}
	}
	guard, err := guardFor(c, s)
	if err != nil {
		return nil, &lab.ConfigError{File: c.Path, Problems: []string{err.Error()}}
	}
	f := &templates.Fencing{
		Agent: s.Fence.Agent, Address: c.FenceAddress().String(), Port: c.Fencing.Port,
		APIVersion: fence.APIVersion, Guard: guard, Delay: c.Fencing.Delay,
	}
	if guard == templates.GuardNone {
		f.Delay = 0
	}
	for _, n := range c.NodeNames() {
		f.Targets = append(f.Targets, templates.FenceTarget{Node: n, Machine: c.MachineName(n)})
	}
	return f, nil
}

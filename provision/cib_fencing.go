package provision

import (
	"fmt"
	"slices"
	"strings"

	"halab/templates"
)

// delayParams are the device parameters that delay a fence: a device that
// has one the configuration does not give it (left over from another race
// guard) changes who wins a fence race.
var delayParams = []string{"pcmk_delay_base", "pcmk_delay_max", "delay", "race_delay"}

// checkFencing lists every difference between the CIB's fencing and the
// configuration's: each device with its agent, every parameter, its
// monitor and the constraint that keeps it off the node it fences, and the
// race guard (priority-fencing-delay and the group's priority, or the
// devices' delays, and no other guard's leftovers).
func (e Expected) checkFencing(c *CIB) []string {
	f := e.Fencing
	cfg := c.Configuration
	var probs []string
	var devices []templates.FenceDevice
	if f != nil {
		var err error
		if devices, err = f.Devices(); err != nil {
			return []string{"fencing: " + err.Error()}
		}
	}
	// halab's fence devices that the configuration does not have: left by
	// an earlier one (fencing.agent was auto, or other nodes).
	for _, p := range cfg.Resources.Primitives {
		if p.Class == "stonith" && strings.HasPrefix(p.ID, templates.FenceResource("")) &&
			!slices.ContainsFunc(devices, func(d templates.FenceDevice) bool { return d.ID == p.ID }) {
			probs = append(probs, fmt.Sprintf("fence device %s is not in the configuration (left by an earlier one)", p.ID))
		}
	}
	pfd := lookup(cfg.CrmConfig.Sets, "priority-fencing-delay")
	if f == nil {
		if pfd != "" && parseInterval(pfd) != 0 {
			probs = append(probs, fmt.Sprintf("priority-fencing-delay is %q, but the lab does not fence", pfd))
		}
		return probs
	}
	props := f.Properties()
	for _, p := range props {
		if v := lookup(cfg.CrmConfig.Sets, p.Name); !sameValue(v, p.Value) {
			probs = append(probs, fmt.Sprintf("%s is %q, want %s", p.Name, v, p.Value))
		}
	}
	if !slices.ContainsFunc(props, func(p templates.Param) bool { return p.Name == "priority-fencing-delay" }) && pfd != "" && parseInterval(pfd) != 0 {
		probs = append(probs, fmt.Sprintf("priority-fencing-delay is %q, but the race guard is %s: remove it (crm configure property priority-fencing-delay=0)", pfd, f.Guard))
	}
	var groupMeta []nvset
	for _, g := range cfg.Resources.Groups {
		if g.ID == GroupResource {
			groupMeta = g.Meta
		}
	}
	for _, p := range f.GroupMeta() {
		if v := lookup(groupMeta, p.Name); v != p.Value {
			probs = append(probs, fmt.Sprintf("group %s meta %s is %q, want %s", GroupResource, p.Name, v, p.Value))
		}
	}
	byID := map[string]Primitive{}
	for _, p := range cfg.Resources.Primitives {
		byID[p.ID] = p
	}
	for _, d := range devices {
		p, ok := byID[d.ID]
		if !ok {
			probs = append(probs, fmt.Sprintf("fence device %s (fences %s) missing", d.ID, d.Target))
			continue
		}
		if p.Class != d.Class || p.Type != d.Type {
			probs = append(probs, fmt.Sprintf("%s is %s:%s, want %s:%s", d.ID, p.Class, p.Type, d.Class, d.Type))
		}
		for _, want := range d.Params {
			if v := p.param(want.Name); !sameValue(v, want.Value) {
				probs = append(probs, fmt.Sprintf("%s %s=%q, want %s", d.ID, want.Name, v, want.Value))
			}
		}
		for _, name := range delayParams {
			if v := p.param(name); v != "" && !slices.ContainsFunc(d.Params, func(q templates.Param) bool { return q.Name == name }) {
				probs = append(probs, fmt.Sprintf("%s has %s=%s, which the race guard %s does not set: remove it (crm resource param %s delete %s)", d.ID, name, v, f.Guard, d.ID, name))
			}
		}
		if !hasMonitor(p, templates.FenceMonitor) {
			probs = append(probs, fmt.Sprintf("%s has no monitor op every %s", d.ID, templates.FenceMonitor))
		}
		banned := false
		for _, l := range cfg.Constraints.Locations {
			if l.Rsc == d.ID && l.Node == d.Target && (l.Score == "-INFINITY" || l.Score == "-inf") {
				banned = true
			}
		}
		if !banned {
			probs = append(probs, fmt.Sprintf("location %s (%s -inf: %s) missing: %s could run the device that fences itself", d.LocationID, d.ID, d.Target, d.Target))
		}
	}
	return probs
}

// sameValue compares a CIB value with the configuration's: the same text,
// or the same duration written another way ("5s", "5", "5000ms").
func sameValue(got, want string) bool {
	if got == want {
		return true
	}
	if strings.HasSuffix(want, "s") && got != "" {
		g, w := parseInterval(got), parseInterval(want)
		return g >= 0 && g == w
	}
	return false
}

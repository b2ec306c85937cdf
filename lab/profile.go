package lab

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// TimingProfiles are the values of timings.profile.
var TimingProfiles = []string{"article", "fast"}

// timingProfiles hold each profile's timings. "article" is the article's
// ha.cf and corosync's usual token; Pacemaker's dc-deadtime is left at its
// default (0: not emitted, 20 s). "fast" detects a dead node in about 1 s
// (corosync) or 4 s (heartbeat) and elects a DC after 5 s at start, for a
// lab on a quiet network; see the README for what it costs.
var timingProfiles = map[string]Timings{
	"article": {Profile: "article", Keepalive: 2, Warntime: 10, Deadtime: 20, Initdead: 120, TokenMS: 3000, ConsensusMS: 3600},
	"fast":    {Profile: "fast", Keepalive: 1, Warntime: 2, Deadtime: 4, Initdead: 12, TokenMS: 1000, ConsensusMS: 1200, DCDeadtime: 5},
}

// TimingProfile returns a profile's timings.
func TimingProfile(name string) (Timings, bool) {
	t, ok := timingProfiles[name]
	return t, ok
}

// timingKeys are the keys of timings: a profile sets those the file does not.
var timingKeys = []string{"keepalive", "warntime", "deadtime", "initdead", "token_ms", "consensus_ms", "dc_deadtime"}

// applyTimingProfile fills the timings the file leaves out from its
// profile: keys set in the file win over the profile's values.
func applyTimingProfile(cfg *Config, doc *yaml.Node) {
	prof, ok := timingProfiles[cfg.Timings.Profile]
	if !ok {
		return // validate reports it
	}
	set := map[string]bool{}
	if t := mapValue(doc.Content[0], "timings"); t != nil && t.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(t.Content); i += 2 {
			if t.Content[i+1].Tag != "!!null" {
				set[t.Content[i].Value] = true
			}
		}
	}
	t := &cfg.Timings
	for _, f := range []struct {
		key       string
		dst, from *int
	}{
		{"keepalive", &t.Keepalive, &prof.Keepalive},
		{"warntime", &t.Warntime, &prof.Warntime},
		{"deadtime", &t.Deadtime, &prof.Deadtime},
		{"initdead", &t.Initdead, &prof.Initdead},
		{"token_ms", &t.TokenMS, &prof.TokenMS},
		{"consensus_ms", &t.ConsensusMS, &prof.ConsensusMS},
		{"dc_deadtime", &t.DCDeadtime, &prof.DCDeadtime},
	} {
		if !set[f.key] {
			*f.dst = *f.from
		}
	}
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// WithTimingProfile returns a lab file whose timings are exactly the
// named profile's: timings.profile set, the other timing keys dropped.
// Everything else (comments included) is kept.
func WithTimingProfile(data []byte, profile string) ([]byte, error) {
	if !slices.Contains(TimingProfiles, profile) {
		return nil, fmt.Errorf("timings.profile %q: use one of %v", profile, TimingProfiles)
	}
	doc, t, err := labFileSection(data, "timings")
	if err != nil {
		return nil, err
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(t.Content); i += 2 {
		if slices.Contains(timingKeys, t.Content[i].Value) || t.Content[i].Value == "profile" {
			continue
		}
		kept = append(kept, t.Content[i], t.Content[i+1])
	}
	t.Content = append([]*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "profile"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: profile},
	}, kept...)
	t.Style = 0
	return yaml.Marshal(doc)
}

// labFileSection parses a lab file, keeping its comments, and returns it
// with its top-level section key as a mapping: made when there is none,
// and replacing a scalar or null one.
func labFileSection(data []byte, key string) (*yaml.Node, *yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("top level must be a mapping")
	}
	root := doc.Content[0]
	sec := mapValue(root, key)
	if sec == nil || sec.Kind != yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == key {
				root.Content = append(root.Content[:i], root.Content[i+2:]...)
				break
			}
		}
		sec = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, sec)
	}
	return &doc, sec, nil
}

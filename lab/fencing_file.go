package lab

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// WithFencingAgent returns a lab file whose fencing.agent is agent (the
// fencing section made when there is none); everything else, comments
// included, is kept. The bench measures the same lab with and without
// fencing with it.
func WithFencingAgent(data []byte, agent string) ([]byte, error) {
	if !slices.Contains(FenceAgents, agent) {
		return nil, fmt.Errorf("fencing.agent %q: use one of %v", agent, FenceAgents)
	}
	doc, f, err := labFileSection(data, "fencing")
	if err != nil {
		return nil, err
	}
	if v := mapValue(f, "agent"); v != nil {
		v.Kind, v.Tag, v.Value = yaml.ScalarNode, "!!str", agent
	} else {
		f.Content = append(f.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "agent"},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: agent})
	}
	return yaml.Marshal(doc)
}

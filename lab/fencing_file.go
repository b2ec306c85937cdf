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
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("top level must be a mapping")
	}
	root := doc.Content[0]
	f := mapValue(root, "fencing")
	if f == nil || f.Kind != yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "fencing" {
				root.Content = append(root.Content[:i], root.Content[i+2:]...)
				break
			}
		}
		f = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "fencing"}, f)
	}
	if v := mapValue(f, "agent"); v != nil {
		v.Kind, v.Tag, v.Value = yaml.ScalarNode, "!!str", agent
	} else {
		f.Content = append(f.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "agent"},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: agent})
	}
	return yaml.Marshal(&doc)
}

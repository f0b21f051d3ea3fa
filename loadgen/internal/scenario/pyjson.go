package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"predictlab/internal/pyfmt"
)

// MaxJSONBody bounds a task's encoded json: body. YAML aliases are
// references, so a few hundred bytes of nested aliases can stand for
// billions of values (an "alias bomb"); the encoder stops at this size.
const MaxJSONBody = 1 << 20

// pyJSON encodes a YAML node as Python's json.dumps does with its defaults
// (separators ", " and ": ", ensure_ascii, float repr), so bodies match what
// a Locust user posting json=... sends, byte for byte. Mapping order is kept.
// It fails once the output passes MaxJSONBody.
func pyJSON(b *strings.Builder, n *yaml.Node) error {
	if b.Len() > MaxJSONBody {
		return fmt.Errorf("the JSON body is larger than %d bytes (YAML aliases expand it)", MaxJSONBody)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return pyJSON(b, n.Content[0])
	case yaml.AliasNode:
		return pyJSON(b, n.Alias)
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pyJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: JSON object keys must be scalars", k.Line)
			}
			pyfmt.WriteJSONString(b, k.Value)
			b.WriteString(": ")
			if err := pyJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			b.WriteString("null")
		case "!!bool":
			var v bool
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
			b.WriteString(strconv.FormatBool(v))
		case "!!int":
			var v int64
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
			b.WriteString(strconv.FormatInt(v, 10))
		case "!!float":
			var v float64
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
			b.WriteString(pyfmt.JSONFloat(v))
		default:
			pyfmt.WriteJSONString(b, n.Value)
		}
		return nil
	}
	return fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

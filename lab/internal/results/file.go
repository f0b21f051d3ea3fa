package results

import (
	"encoding/json"
	"fmt"
	"os"
)

// FileName is the name of the results document in a run's folder.
const FileName = "results.json"

// Marshal encodes r as results.json holds it (indented, newline-terminated).
func Marshal(r *Results) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode results: %w", err)
	}
	return append(b, '\n'), nil
}

// Read reads a results.json back.
func Read(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	return &r, nil
}

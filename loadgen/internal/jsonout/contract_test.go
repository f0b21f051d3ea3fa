package jsonout

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"predictlab/internal/loadgenjson"
)

// TestGoldenDecodes: the reader of the contract (the lab uses
// loadgenjson.Decode) reads the golden document back whole, and the
// document's own types encode it to the same bytes.
func TestGoldenDecodes(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join("testdata", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := loadgenjson.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if doc.SelfCheck == nil || !doc.SelfCheck.Valid || doc.Config.Users != 5 || len(doc.Stats) != 3 {
		t.Fatalf("decoded %+v", doc)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("re-encoded document differs:\n%s", b.String())
	}
}

package locustcsv

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	"predictlab/internal/pyfmt"
)

// FailureKey returns Locust's key of a failure: the hex sha256 of
// f"{method}.{name}.{error!r}", where error is the already repr'd error text
// (the Error column). Locust's CSV and HTML list failures sorted by it.
func FailureKey(method, name, errText string) string {
	sum := sha256.Sum256([]byte(method + "." + name + "." + pyfmt.Repr(errText)))
	return hex.EncodeToString(sum[:])
}

// SortFailures sorts rows in Locust's CSV order (by FailureKey).
func SortFailures(rows []FailureRow) {
	keys := make(map[FailureRow]string, len(rows))
	for _, r := range rows {
		keys[r] = FailureKey(r.Method, r.Name, r.Error)
	}
	sort.SliceStable(rows, func(i, j int) bool { return keys[rows[i]] < keys[rows[j]] })
}

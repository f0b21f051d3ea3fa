package stats

import (
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// newHist is the library's histogram with the recorders' geometry: the tests
// check the recorders' index arithmetic against it.
func newHist() *hdr.Histogram { return hdr.New(histLowest, histHighest, histSigFigs) }

// The hand-computed counts length is the library's.
func TestCountsLenMatchesLibrary(t *testing.T) {
	t.Parallel()
	if want := len(newHist().Export().Counts); countsLen != want {
		t.Fatalf("countsLen %d, library %d", countsLen, want)
	}
}

// The library's histogram, turned into the package's types, is the oracle
// the tests compare the recorders and quantiles with.

// sparseOf extracts the non-empty buckets of h.
func sparseOf(h *hdr.Histogram) sparse {
	if h.TotalCount() == 0 {
		return nil
	}
	d := newDense()
	d.addCounts(h.Export().Counts)
	return d.sparse()
}

// addCounts adds a dense counts array (same geometry) into d.
func (d *dense) addCounts(counts []int64) {
	for i, n := range counts {
		if n != 0 {
			d.c[i] += n
			d.touch(i)
		}
	}
}

package stats

import (
	"math/bits"
	"time"
)

// Histogram geometry: microsecond units, 1 µs .. 1 h, 3 significant digits.
// Below 2.048 ms every microsecond has its own bucket; below 1 s a bucket is
// at most 512 µs wide, so a percentile is never coarser than 1 ms there.
const (
	histLowest  = 1
	histHighest = int64(time.Hour / time.Microsecond)
	histSigFigs = 3

	// subBucketHalfCountMagnitude and subBucketHalfCount follow from
	// histLowest=1 and histSigFigs=3 (sub-bucket count 2048).
	subBucketHalfCountMagnitude = 10
	subBucketHalfCount          = 1 << subBucketHalfCountMagnitude
	subBucketMask               = 2*subBucketHalfCount - 1
)

// countsIndex is HdrHistogram's counts index of v (µs, 0..histHighest) in
// the geometry above: the recorders count into dense arrays with it instead
// of an hdr.Histogram, whose only way to hand over its counts (Export)
// copies the whole array on every drain. TestCountsIndexMatchesLibrary
// checks it against the library.
func countsIndex(v int64) int {
	pow2Ceiling := 64 - bits.LeadingZeros64(uint64(v)|subBucketMask)
	bucketIdx := pow2Ceiling - (subBucketHalfCountMagnitude + 1)
	subBucketIdx := int(v >> uint(bucketIdx))
	return (bucketIdx+1)<<subBucketHalfCountMagnitude + subBucketIdx - subBucketHalfCount
}

// countsLen is the length of HdrHistogram's dense counts array for the
// geometry above: (buckets+1) * subBucketHalfCount, where buckets is the
// number of doubling buckets needed to reach histHighest (the library's
// getBucketsNeededToCoverValue). TestCountsLenMatchesLibrary checks it.
var countsLen = func() int {
	buckets := 1
	for v := int64(2 * subBucketHalfCount); v <= histHighest; v <<= 1 {
		buckets++
	}
	return (buckets + 1) * subBucketHalfCount
}()

// micros converts a duration to the histogram's unit, clamped to its range.
func micros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if us < 0 {
		return 0
	}
	if us > histHighest {
		return histHighest
	}
	return us
}

// bucket is one non-empty histogram bucket: its dense index and count.
type bucket struct {
	idx int32
	n   int64
}

// sparse is a histogram as its non-empty buckets in ascending index order.
// It is immutable once built, so snapshots can share it.
type sparse []bucket

// dense is a reusable dense counts array used to sum sparse histograms. It
// remembers the range of indices touched so that take scans only that.
type dense struct {
	c      []int64
	lo, hi int // touched index range [lo, hi); empty when lo >= hi
}

func newDense() *dense { return &dense{c: make([]int64, countsLen), lo: countsLen} }

func (d *dense) touch(i int) {
	d.lo = min(d.lo, i)
	d.hi = max(d.hi, i+1)
}

// record counts one value (µs, 0..histHighest).
func (d *dense) record(us int64) {
	i := countsIndex(us)
	d.c[i]++
	d.touch(i)
}

// addDense adds o into d.
func (d *dense) addDense(o *dense) {
	for i := o.lo; i < o.hi; i++ {
		d.c[i] += o.c[i]
	}
	if o.lo < o.hi {
		d.touch(o.lo)
		d.touch(o.hi - 1)
	}
}

// reset zeroes d.
func (d *dense) reset() {
	if d.lo < d.hi {
		clear(d.c[d.lo:d.hi])
	}
	d.lo, d.hi = countsLen, 0
}

// nonZero is the number of non-empty buckets of d.
func (d *dense) nonZero() int {
	n := 0
	for i := d.lo; i < d.hi; i++ {
		if d.c[i] != 0 {
			n++
		}
	}
	return n
}

// add adds s into d.
func (d *dense) add(s sparse) {
	if len(s) == 0 {
		return
	}
	for _, b := range s {
		d.c[b.idx] += b.n
	}
	d.touch(int(s[0].idx))
	d.touch(int(s[len(s)-1].idx))
}

// sparse returns the non-zero buckets of d as a new sparse histogram.
func (d *dense) sparse() sparse {
	k := d.nonZero()
	if k == 0 {
		return nil
	}
	out := make(sparse, 0, k)
	for i := d.lo; i < d.hi; i++ {
		if n := d.c[i]; n != 0 {
			out = append(out, bucket{int32(i), n})
		}
	}
	return out
}

// take returns the non-zero buckets of d as a new sparse histogram and zeroes d.
func (d *dense) take() sparse {
	var out sparse
	if k := d.nonZero(); k > 0 {
		out = make(sparse, 0, k)
	}
	for i := d.lo; i < d.hi; i++ {
		if n := d.c[i]; n != 0 {
			out = append(out, bucket{int32(i), n})
			d.c[i] = 0
		}
	}
	d.lo, d.hi = countsLen, 0
	return out
}

// total is the number of values in s.
func (s sparse) total() int64 {
	var t int64
	for _, b := range s {
		t += b.n
	}
	return t
}

// lowestValueAt is the smallest value (µs) that falls into dense index idx.
func lowestValueAt(idx int32) int64 {
	bucketIdx := (idx >> subBucketHalfCountMagnitude) - 1
	subBucketIdx := (idx & (subBucketHalfCount - 1)) + subBucketHalfCount
	if bucketIdx < 0 {
		subBucketIdx -= subBucketHalfCount
		bucketIdx = 0
	}
	return int64(subBucketIdx) << uint(bucketIdx)
}

// highestValueAt is the largest value (µs) that falls into dense index idx,
// HdrHistogram's "highest equivalent value".
func highestValueAt(idx int32) int64 {
	bucketIdx := (idx >> subBucketHalfCountMagnitude) - 1
	if bucketIdx < 0 {
		bucketIdx = 0
	}
	return lowestValueAt(idx) + (int64(1) << uint(bucketIdx)) - 1
}

// rank is HdrHistogram's percentile rank: the 1-based position of the value
// at quantile q (0..1) among total values.
func rank(q float64, total int64) int64 {
	r := q*float64(total) + 0.5
	if !(r >= 1) {
		return 1
	}
	if r >= float64(total) {
		return total
	}
	return int64(r)
}

// quantile returns the value (µs) at quantile q (0..1) of s, as
// HdrHistogram's ValueAtQuantile does (the highest equivalent value of the
// bucket holding the rank), or 0 for an empty histogram. total must be
// s.total().
func (s sparse) quantile(q float64, total int64) int64 {
	if total <= 0 || len(s) == 0 {
		return 0
	}
	if q < 0 {
		q = 0
	}
	if q > 1 {
		q = 1
	}
	want := rank(q, total)
	var seen int64
	for _, b := range s {
		seen += b.n
		if seen >= want {
			if q == 0 {
				return lowestValueAt(b.idx)
			}
			return highestValueAt(b.idx)
		}
	}
	return highestValueAt(s[len(s)-1].idx)
}

// nextPow2 returns the smallest power of two >= n (n >= 1).
func nextPow2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

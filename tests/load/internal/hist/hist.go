package hist

import (
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"time"
)

const (
	subBits    = 6
	subBuckets = 1 << subBits // buckets per power of two
	// numBuckets covers every non-negative int64.
	numBuckets = (64 - subBits + 1) * subBuckets
)

// ErrCorrupt is returned by UnmarshalJSON for bucket indexes out of range.
var ErrCorrupt = errors.New("hist: bucket index out of range")

// Histogram counts non-negative int64 samples (nanoseconds by convention).
// The zero value is ready to use.
type Histogram struct {
	counts []uint64
	n      uint64
	sum    float64
	min    int64
	max    int64
}

func index(v int64) int {
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits - 1 // v>>e is in [64,128)
	return (e+1)*subBuckets + int(v>>e) - subBuckets
}

// bounds returns the smallest and largest value that fall in bucket i.
func bounds(i int) (lo, hi int64) {
	if i < subBuckets {
		return int64(i), int64(i)
	}
	e := i/subBuckets - 1
	m := int64(i%subBuckets + subBuckets)
	lo = m << e
	return lo, lo + (int64(1) << e) - 1
}

// Record adds one sample; negative samples are counted as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	if h.counts == nil {
		h.counts = make([]uint64, numBuckets)
	}
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.counts[index(v)]++
	h.n++
	h.sum += float64(v)
}

// RecordDuration adds d as nanoseconds.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Count is the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest sample, 0 when empty.
func (h *Histogram) Max() int64 { return h.max }

// Min is the smallest sample, 0 when empty.
func (h *Histogram) Min() int64 { return h.min }

// Mean is the arithmetic mean, 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the sample at quantile q in [0,1] (nearest rank), to the
// bucket's resolution and clamped to [Min, Max]. It is 0 when empty.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bounds(i)
			v := lo + (hi-lo)/2
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, numBuckets)
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
}

// Reset empties h, keeping its storage.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.n, h.sum, h.min, h.max = 0, 0, 0, 0
}

type wire struct {
	N       uint64      `json:"n"`
	Sum     float64     `json:"sum"`
	Min     int64       `json:"min"`
	Max     int64       `json:"max"`
	Buckets [][2]uint64 `json:"buckets"` // sparse [index, count]
}

// MarshalJSON encodes the non-empty buckets only.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	w := wire{N: h.n, Sum: h.sum, Min: h.min, Max: h.max, Buckets: [][2]uint64{}}
	for i, c := range h.counts {
		if c != 0 {
			w.Buckets = append(w.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	h.counts = make([]uint64, numBuckets)
	var n uint64
	for _, bc := range w.Buckets {
		if bc[0] >= numBuckets {
			return ErrCorrupt
		}
		h.counts[bc[0]] += bc[1]
		n += bc[1]
	}
	if n != w.N {
		return errors.New("hist: bucket counts do not add up to n")
	}
	h.n, h.sum, h.min, h.max = w.N, w.Sum, w.Min, w.Max
	return nil
}

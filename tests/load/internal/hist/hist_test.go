package hist

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func TestQuantileMatchesExactWithinResolution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gen  func(r *rand.Rand) int64
		n    int
	}{
		{"small exact", func(r *rand.Rand) int64 { return r.Int64N(64) }, 1000},
		{"uniform micro to milli", func(r *rand.Rand) int64 { return 1000 + r.Int64N(10_000_000) }, 20000},
		{"exponential tail", func(r *rand.Rand) int64 { return int64(r.ExpFloat64() * 2e6) }, 50000},
		{"single value", func(*rand.Rand) int64 { return 123456789 }, 10},
		{"huge", func(r *rand.Rand) int64 { return math.MaxInt64 - r.Int64N(1000) }, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, 2))
			var h Histogram
			samples := make([]int64, tc.n)
			for i := range samples {
				samples[i] = tc.gen(r)
				h.Record(samples[i])
			}
			slices.Sort(samples)
			if h.Count() != uint64(tc.n) {
				t.Fatalf("count %d, want %d", h.Count(), tc.n)
			}
			if h.Min() != samples[0] || h.Max() != samples[len(samples)-1] {
				t.Fatalf("min/max %d/%d, want %d/%d", h.Min(), h.Max(), samples[0], samples[len(samples)-1])
			}
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.Quantile(q), exactQuantile(samples, q)
				if diff := math.Abs(float64(got) - float64(want)); diff > float64(want)/64+1 {
					t.Errorf("q%.3f = %d, want %d (±1/64)", q, got, want)
				}
			}
		})
	}
}

func TestMergeAndJSONRoundTrip(t *testing.T) {
	t.Parallel()
	var a, b, all Histogram
	for i := int64(0); i < 5000; i++ {
		v := i * i
		all.Record(v)
		if i%2 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	raw, err := json.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	var decoded Histogram
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	a.Merge(&decoded)
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Fatalf("merged %d/%d/%d/%f, want %d/%d/%d/%f",
			a.Count(), a.Min(), a.Max(), a.Mean(), all.Count(), all.Min(), all.Max(), all.Mean())
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("q%v merged %d, want %d", q, a.Quantile(q), all.Quantile(q))
		}
	}
}

func TestEmptyAndCorrupt(t *testing.T) {
	t.Parallel()
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	if err := json.Unmarshal([]byte(`{"n":1,"buckets":[[999999,1]]}`), &h); err == nil {
		t.Fatal("want error for out-of-range bucket")
	}
	if err := json.Unmarshal([]byte(`{"n":5,"buckets":[[3,1]]}`), &h); err == nil {
		t.Fatal("want error for inconsistent count")
	}
}

func TestBucketBoundsContainValue(t *testing.T) {
	t.Parallel()
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, math.MaxInt64} {
		lo, hi := bounds(index(v))
		if v < lo || v > hi {
			t.Errorf("value %d outside its bucket [%d,%d]", v, lo, hi)
		}
	}
}

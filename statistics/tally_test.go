package statistics

import (
	"math"
	"slices"
	"testing"
)

func tallyOf(xs ...float64) Tally {
	var t Tally
	for _, x := range xs {
		t.Add(x)
	}
	return t
}

func TestTallyCompact(t *testing.T) {
	tl := tallyOf(3, 1, 2, 3, 3, 1, -0.0, 0, 2.5)
	if got, want := tl.N(), int64(9); got != want {
		t.Errorf("N before Compact = %d, want %d", got, want)
	}
	tl.Compact()
	wantV := []float64{0, 1, 2, 2.5, 3}
	wantC := []int64{2, 2, 1, 1, 3}
	if !slices.Equal(tl.Values, wantV) || !slices.Equal(tl.Counts, wantC) {
		t.Errorf("Compact = %v %v, want %v %v", tl.Values, tl.Counts, wantV, wantC)
	}
	if math.Signbit(tl.Values[0]) {
		t.Error("−0 was not folded into +0")
	}
	if len(tl.Pending) != 0 {
		t.Errorf("Pending = %v after Compact", tl.Pending)
	}
	if got, want := tl.Sum(), 0+2+2+2.5+9.0; got != want {
		t.Errorf("Sum = %v, want %v", got, want)
	}
	if tl.Distinct() != 5 || tl.Min() != 0 || tl.Max() != 3 {
		t.Errorf("Distinct/Min/Max = %d %v %v, want 5 0 3", tl.Distinct(), tl.Min(), tl.Max())
	}
}

// TestTallySplitsAndOrders adds the same multiset in different orders and
// splits (with automatic compaction, explicit Compact and MergeTallies) and
// requires identical Values, Counts, N and Sum.
func TestTallySplitsAndOrders(t *testing.T) {
	g := newRNG(7)
	const n = 20000 // > compactThreshold, so Add compacts on its own
	data := make([]float64, n)
	for i := range data {
		data[i] = float64(g.next()>>54) / 8 // 1024 distinct values with ties
		if i%5 == 0 {
			data[i] = g.exp() // and some unique ones
		}
	}
	ref := tallyOf(data...)
	ref.Compact()

	reversed := slices.Clone(data)
	slices.Reverse(reversed)
	shuffled := slices.Clone(data)
	for i := len(shuffled) - 1; i > 0; i-- {
		j := int(g.next() % uint64(i+1))
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	merge := func(xs []float64, parts int, compactEach bool) Tally {
		var acc Tally
		size := (len(xs) + parts - 1) / parts
		for p := 0; p < len(xs); p += size {
			part := tallyOf(xs[p:min(p+size, len(xs))]...)
			if compactEach {
				part.Compact()
			}
			acc = MergeTallies(part, acc)
		}
		return acc
	}
	variants := map[string]Tally{
		"reversed":            tallyOf(reversed...),
		"shuffled":            tallyOf(shuffled...),
		"merge 2 pending":     merge(data, 2, false),
		"merge 7 compacted":   merge(shuffled, 7, true),
		"merge 1000 pending":  merge(reversed, 1000, false),
		"merge 3 compacted":   merge(data, 3, true),
		"merge with empty":    MergeTallies(Tally{}, tallyOf(data...)),
		"merge empty on left": MergeTallies(tallyOf(shuffled...), Tally{}),
	}
	for name, v := range variants {
		if v.N() != n {
			t.Errorf("%s: N = %d, want %d", name, v.N(), n)
		}
		if v.Sum() != ref.Sum() {
			t.Errorf("%s: Sum = %v, want %v", name, v.Sum(), ref.Sum())
		}
		v.Compact()
		if !slices.Equal(v.Values, ref.Values) || !slices.Equal(v.Counts, ref.Counts) {
			t.Errorf("%s: Values/Counts differ from the reference tally", name)
		}
	}
}

func TestMergeTalliesDoesNotAlias(t *testing.T) {
	a := tallyOf(1, 2, 2)
	a.Compact()
	a.Add(5)
	b := Tally{}
	m := MergeTallies(a, b)
	m.Values[0] = 100
	m.Counts[0] = 100
	m.Add(7)
	m.Compact()
	if a.Values[0] != 1 || a.Counts[0] != 1 || !slices.Equal(a.Pending, []float64{5}) {
		t.Errorf("MergeTallies result aliases its input: a = %+v", a)
	}
	// Without Pending, the result is still a copy.
	e := tallyOf(1, 2)
	e.Compact()
	m2 := MergeTallies(e, Tally{})
	m2.Values[0], m2.Counts[0] = 9, 9
	if e.Values[0] != 1 || e.Counts[0] != 1 {
		t.Errorf("MergeTallies(e, empty) aliases e: %+v", e)
	}
	// Pending of the inputs is not reordered.
	c := Tally{Pending: []float64{3, 1, 2}}
	MergeTallies(c, c)
	if !slices.Equal(c.Pending, []float64{3, 1, 2}) {
		t.Errorf("MergeTallies sorted an input's Pending: %v", c.Pending)
	}
	// Compacted does not modify the receiver.
	d := Tally{Pending: []float64{3, 1, 2}}
	if got := d.Compacted(); !slices.Equal(got.Values, []float64{1, 2, 3}) {
		t.Errorf("Compacted = %v", got.Values)
	}
	if !slices.Equal(d.Pending, []float64{3, 1, 2}) {
		t.Errorf("Compacted modified Pending: %v", d.Pending)
	}
}

func TestNewTally(t *testing.T) {
	got := NewTally([]float64{5, 1, -0.0, 5, 0, 2}, []int64{1, 2, 3, 4, 1, 0})
	wantV, wantC := []float64{0, 1, 5}, []int64{4, 2, 5}
	if !slices.Equal(got.Values, wantV) || !slices.Equal(got.Counts, wantC) {
		t.Errorf("NewTally = %v %v, want %v %v", got.Values, got.Counts, wantV, wantC)
	}
}

func TestTallyQuantile(t *testing.T) {
	tests := []struct {
		name string
		data []float64
		q    float64
		want float64
	}{
		// numpy.quantile (default method "linear"): h = (n−1)q.
		{"1..4 q=0.25", []float64{1, 2, 3, 4}, 0.25, 1.75},
		{"1..4 q=0.5", []float64{4, 3, 2, 1}, 0.5, 2.5},
		{"1..4 q=0.75", []float64{1, 2, 3, 4}, 0.75, 3.25},
		{"1..4 q=0", []float64{1, 2, 3, 4}, 0, 1},
		{"1..4 q=1", []float64{1, 2, 3, 4}, 1, 4},
		{"ties q=0.5", []float64{5, 1, 2, 1}, 0.5, 1.5},    // 1 1 2 5: h=1.5
		{"ties q=0.75", []float64{5, 1, 2, 1}, 0.75, 2.75}, // h=2.25: 2 + 3·0.25
		{"ties q=1/3", []float64{5, 1, 2, 1}, 1.0 / 3, 1},  // h=1: x_1 = 1
		{"single", []float64{7}, 0.3, 7},
		{"1..10 q=0.995", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.995, 9.955},
		{"empty", nil, 0.5, math.NaN()},
		{"q>1", []float64{1, 2}, 1.5, math.NaN()},
		{"q<0", []float64{1, 2}, -0.1, math.NaN()},
		{"NaN data", []float64{1, math.NaN(), 2}, 0.5, math.NaN()},
		// An infinite neighbour gives NaN even with weight 0 (numpy's _lerp).
		{"inf neighbour t=0", []float64{0, math.Inf(1)}, 0, math.NaN()},
		{"inf neighbour t<0.5", []float64{0, math.Inf(1)}, 0.25, math.Inf(1)},
		{"inf last q=1", []float64{1, math.Inf(1)}, 1, math.NaN()},
	}
	for _, tc := range tests {
		tl := tallyOf(tc.data...)
		for _, got := range []float64{tl.Quantile(tc.q), Quantile(tc.data, tc.q)} {
			if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want) || math.Abs(got-tc.want) <= 1e-12*math.Abs(tc.want)) {
				t.Errorf("%s: quantile(%v) = %v, want %v", tc.name, tc.q, got, tc.want)
			}
		}
	}
}

func TestTallyClip(t *testing.T) {
	tests := []struct {
		data       []float64
		hi         float64
		wantValues []float64
		wantCounts []int64
	}{
		{[]float64{1, 2, 3, 4, 4}, 3, []float64{1, 2, 3}, []int64{1, 1, 3}},
		{[]float64{1, 2, 3, 4, 4}, 3.5, []float64{1, 2, 3, 3.5}, []int64{1, 1, 1, 2}},
		{[]float64{1, 2, 3, 4, 4}, 10, []float64{1, 2, 3, 4}, []int64{1, 1, 1, 2}},
		{[]float64{1, 2}, 0, []float64{0}, []int64{2}},
		{[]float64{1, 2}, math.NaN(), []float64{1, 2}, []int64{1, 1}},
	}
	for _, tc := range tests {
		tl := tallyOf(tc.data...)
		got := tl.Clip(tc.hi)
		if !slices.Equal(got.Values, tc.wantValues) || !slices.Equal(got.Counts, tc.wantCounts) {
			t.Errorf("Clip(%v, %v) = %v %v, want %v %v", tc.data, tc.hi, got.Values, got.Counts, tc.wantValues, tc.wantCounts)
		}
		if got.N() != tl.N() {
			t.Errorf("Clip changed N: %d → %d", tl.N(), got.N())
		}
	}
	// Clip does not modify its receiver.
	tl := tallyOf(1, 5)
	tl.Compact()
	tl.Clip(2)
	if !slices.Equal(tl.Values, []float64{1, 5}) {
		t.Errorf("Clip modified the receiver: %v", tl.Values)
	}
}

// TestWinsorize checks bootstrap_mean's per-branch clipping on 1..200:
// Q(0.995) = 1 + 199·0.995 = 199.005, so 200 becomes 199.005.
func TestWinsorize(t *testing.T) {
	var tl Tally
	for i := 1; i <= 200; i++ {
		tl.Add(float64(i))
	}
	w := Winsorize(tl, 0.005)
	last := w.Values[len(w.Values)-1]
	if len(w.Values) != 200 || math.Abs(last-199.005) > 1e-12 || w.Values[198] != 199 {
		t.Errorf("Winsorize top values = %v, want [... 199 199.005]", w.Values[len(w.Values)-3:])
	}
	if w0 := Winsorize(tl, 0); w0.Values[199] != 200 {
		t.Errorf("Winsorize(0) clipped: max = %v", w0.Values[199])
	}
}

func TestTallyHasNaN(t *testing.T) {
	if tallyOf(1, 2).HasNaN() {
		t.Error("HasNaN without NaN")
	}
	a := tallyOf(1, math.NaN(), 2, math.NaN())
	if !a.HasNaN() {
		t.Error("HasNaN missed a pending NaN")
	}
	a.Compact()
	if !a.HasNaN() || !math.IsNaN(a.Values[0]) || a.Counts[0] != 2 {
		t.Errorf("compacted NaNs = %v %v, want NaN first with count 2", a.Values, a.Counts)
	}
}

package statistics

import (
	"math"
	"testing"
)

// identical reports whether two float slices are bitwise equal.
func identical(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// identicalRows reports whether two row lists are equal, NaN == NaN.
func identicalRows(a, b []Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Metric != y.Metric || x.Statistic != y.Statistic || x.Parameter != y.Parameter ||
			x.Branch != y.Branch || x.Comparison != y.Comparison || x.ComparisonToBranch != y.ComparisonToBranch ||
			!identical([]float64{x.CIWidth, x.Point, x.Lower, x.Upper}, []float64{y.CIWidth, y.Point, y.Lower, y.Upper}) {
			return false
		}
	}
	return true
}

func TestGoroutines(t *testing.T) {
	tests := []struct{ r, cost, limit, want int }{
		{10000, 10, 8, 1},       // 1e5 draws: sequential
		{10000, 1000, 8, 8},     // 1e7 draws: 8 of 40 blocks
		{1000, 5000, 8, 4},      // 4 blocks only
		{1000, 5000, 1, 1},      // limit 1
		{100, 1_000_000, 16, 1}, // one block
	}
	for _, tc := range tests {
		if got := goroutines(tc.r, tc.cost, tc.limit); got != tc.want {
			t.Errorf("goroutines(%d, %d, %d) = %d, want %d", tc.r, tc.cost, tc.limit, got, tc.want)
		}
	}
}

// TestBlockParallelDeterminism computes the same estimates sequentially and
// with several goroutine counts (the parallel path is taken: K·R > 2²⁰) and
// requires bitwise-identical replicates.
func TestBlockParallelDeterminism(t *testing.T) {
	tl := continuousTally(3000, 500)
	params := map[string]any{"num_samples": int64(1000)}
	var ref []float64
	for _, workers := range []int{1, 2, 3, 8, 0} {
		if workers > 1 && goroutines(1000, tl.Distinct(), workers) < 2 {
			t.Fatalf("workers=%d does not exercise the parallel path", workers)
		}
		st, err := NewWithOptions("bootstrap_mean", params, Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		e, err := st.Estimate("control", tl, 12345)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = e.Replicates
			continue
		}
		if !identical(e.Replicates, ref) {
			t.Errorf("workers=%d: replicates differ from the sequential run", workers)
		}
	}
	// A block is a function of (seed, block index) only: the replicates of a
	// shorter run are a prefix of a longer one's.
	st, _ := NewWithOptions("bootstrap_mean", map[string]any{"num_samples": int64(300)}, Options{Workers: 1})
	e, _ := st.Estimate("control", tl, 12345)
	if !identical(e.Replicates, ref[:300]) {
		t.Error("R=300 replicates are not a prefix of the R=1000 replicates")
	}
}

func TestSeedDeterminism(t *testing.T) {
	a := tallyOf(1, 2, 2, 3, 10, 0, 0, 4.5)
	b := tallyOf(0, 1, 1, 7, 3)
	for _, name := range []string{"bootstrap_mean", "binomial"} {
		ta, tb := a, b
		if name == "binomial" {
			ta, tb = tallyOf(0, 1, 1, 0, 1), tallyOf(1, 1, 0)
		}
		st, err := New(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		run := func(seed uint64, ta Tally) ([]Row, []float64) {
			ea, err := st.Estimate("a", ta, Seed(seed, "a"))
			if err != nil {
				t.Fatal(err)
			}
			eb, err := st.Estimate("b", tb, Seed(seed, "b"))
			if err != nil {
				t.Fatal(err)
			}
			return st.Rows([]Estimate{eb, ea}), ea.Replicates
		}
		rows1, reps1 := run(1, ta)
		rows2, reps2 := run(1, ta.Clone())
		if !identicalRows(rows1, rows2) || !identical(reps1, reps2) {
			t.Errorf("%s: same seed, different results", name)
		}
		// Arrival order of the values does not matter.
		rev := Tally{}
		c := ta.Compacted()
		for i := len(c.Values) - 1; i >= 0; i-- {
			for range c.Counts[i] {
				rev.Add(c.Values[i])
			}
		}
		if rows3, _ := run(1, rev); !identicalRows(rows1, rows3) {
			t.Errorf("%s: results depend on the order values were added", name)
		}
		_, reps4 := run(2, ta)
		if identical(reps1, reps4) {
			t.Errorf("%s: different seeds gave identical replicates", name)
		}
	}
}

package statistics

import (
	"math"
	"testing"
)

func TestLerp(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct{ a, b, t, want float64 }{
		{1, 3, 0.25, 1.5},
		{1, 3, 0.5, 2}, // b − (b−a)(1−t)
		{1, 3, 0.75, 2.5},
		{1, 3, 0, 1},
		{2, 2, 0.3, 2},
		{0, inf, 0, math.NaN()},   // a + (b−a)·0 = 0 + inf·0
		{0, inf, 0.9, math.NaN()}, // inf − inf·0.1
		{0, inf, 0.1, inf},
	}
	for _, tc := range tests {
		got := lerp(tc.a, tc.b, tc.t)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("lerp(%v, %v, %v) = %v, want %v", tc.a, tc.b, tc.t, got, tc.want)
		}
	}
}

func TestPairwiseSum(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 127, 128, 129, 1000, 10000} {
		x := make([]float64, n)
		want := 0.0
		for i := range x {
			x[i] = float64(i%17) + 0.5 // exact sums
			want += x[i]
		}
		if got := pairwiseSum(x); got != want {
			t.Errorf("pairwiseSum(n=%d) = %v, want %v", n, got, want)
		}
	}
	// Pairwise summation keeps 1e6 copies of 0.1 far more accurate than a
	// left-to-right sum (error ≈ 1e-6 relative vs ≈ 1e-12).
	x := make([]float64, 1_000_000)
	for i := range x {
		x[i] = 0.1
	}
	if got := pairwiseSum(x); math.Abs(got-1e5) > 1e-8 {
		t.Errorf("pairwiseSum(1e6 × 0.1) = %.17g, want 1e5 within 1e-8", got)
	}
}

func TestNanMean(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		x    []float64
		want float64
	}{
		{[]float64{1, 2, 3, 6}, 3},
		{[]float64{1, nan, 3}, 2}, // pandas skips NaN
		{[]float64{nan, nan}, nan},
		{nil, nan},
		{[]float64{1, inf}, inf}, // but not ±Inf
		{[]float64{-1, nan, -1, -1}, -1},
	}
	for _, tc := range tests {
		got := nanMean(tc.x)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("nanMean(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
}

func TestDefaultQuantile(t *testing.T) {
	tests := []struct {
		p    float64
		want float64
		ok   bool
	}{
		{lowerProbability(0.95), 0.025, true}, // 0.025000000000000022
		{1 - lowerProbability(0.95), 0.975, true},
		{lowerProbability(0.99), 0.005, true},
		{1 - lowerProbability(0.99), 0.995, true},
		{lowerProbability(0.9), math.NaN(), false},
		{0.025 + 2e-5, math.NaN(), false},
		{0.5, 0.5, true},
	}
	for _, tc := range tests {
		got, ok := defaultQuantile(tc.p)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("defaultQuantile(%v) = %v, %v; want %v, %v", tc.p, got, ok, tc.want, tc.ok)
		}
	}
}

// TestComparisonRows checks the paired summaries on hand-computable
// replicates, including Jetstream's NULL comparative bounds for ci = 0.9.
func TestComparisonRows(t *testing.T) {
	f := []float64{2, 4, 6, 8, 10}
	r := []float64{1, 2, 3, 4, 5}
	// d = 1 2 3 4 5, u = 1 1 1 1 1.
	rows := comparisonRows("mean", "b", "a", 0.95, f, r)
	d, u := rows[0], rows[1]
	if d.Comparison != Difference || d.Branch != "b" || d.ComparisonToBranch != "a" || d.CIWidth != 0.95 {
		t.Errorf("difference row labels = %+v", d)
	}
	// Q(d, 0.025): h = 4·0.025 = 0.1 → 1.1; Q(d, 0.975): h = 3.9 → 4.9.
	if d.Point != 3 || math.Abs(d.Lower-1.1) > 1e-12 || math.Abs(d.Upper-4.9) > 1e-12 {
		t.Errorf("difference = %v [%v, %v], want 3 [1.1, 4.9]", d.Point, d.Lower, d.Upper)
	}
	if u.Comparison != RelativeUplift || u.Point != 1 || u.Lower != 1 || u.Upper != 1 {
		t.Errorf("relative_uplift = %+v, want 1 [1, 1]", u)
	}
	rows = comparisonRows("mean", "b", "a", 0.9, f, r)
	for _, row := range rows {
		if row.Point != row.Point || !math.IsNaN(row.Lower) || !math.IsNaN(row.Upper) {
			t.Errorf("ci 0.9: %s = %v [%v, %v], want a point and NULL bounds", row.Comparison, row.Point, row.Lower, row.Upper)
		}
	}
	// A zero reference replicate makes the relative uplift infinite: NULL.
	rows = comparisonRows("mean", "b", "a", 0.95, []float64{1, 1}, []float64{0, 1})
	if u := rows[1]; !math.IsNaN(u.Point) || !math.IsNaN(u.Upper) {
		t.Errorf("relative uplift over a zero reference = %+v, want NULL point and upper", u)
	}
	// All-zero both sides: 0/0 replicates are NaN, the point (NaN skipped) too.
	rows = comparisonRows("mean", "b", "a", 0.95, []float64{0, 0}, []float64{0, 0})
	if u := rows[1]; !math.IsNaN(u.Point) || !math.IsNaN(u.Lower) {
		t.Errorf("0/0 relative uplift = %+v, want NULL", u)
	}
}

func TestReplicateRow(t *testing.T) {
	reps := []float64{5, 1, 4, 2, 3}
	row := replicateRow("mean", "a", 0.9, reps)
	// cp = 0.04999999999999999: h = 4cp ≈ 0.2 → 1.2; upper h = 3.8 → 4.8.
	if row.Point != 3 || math.Abs(row.Lower-1.2) > 1e-12 || math.Abs(row.Upper-4.8) > 1e-12 || row.CIWidth != 0.9 {
		t.Errorf("replicateRow = %+v, want 3 [1.2, 4.8] ci 0.9", row)
	}
	if reps[0] != 5 {
		t.Error("replicateRow sorted its input")
	}
}

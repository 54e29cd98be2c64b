package statistics

import (
	"math"
	"testing"
)

func TestKernelDensity(t *testing.T) {
	// Data 0, 2: h = 2^(−1/5) = 0.8705505632961241,
	// f(x) = (e^{−x²/2h²} + e^{−(x−2)²/2h²}) / (2h√(2π)) (values from Python's math).
	got, _ := curveRows(t, "kernel_density_estimate", map[string]any{"grid_size": int64(3)}, tallyOf(2, 0))
	checkCurve(t, "kde", got, map[string]float64{"0.0": 0.24549943359290247, "1.0": 0.23691282027051885, "2.0": 0.24549943359290247})

	// One value: h = 1, f(3) = 1/√(2π); the 256 points at 3 collapse to one row.
	got, _ = curveRows(t, "kernel_density_estimate", nil, tallyOf(3))
	checkCurve(t, "kde single", got, map[string]float64{"3.0": 0.3989422804014327})

	if h := scottBandwidth(2); h != 0.8705505632961241 {
		t.Errorf("scottBandwidth(2) = %v", h)
	}
}

// TestKDECutoff compares the windowed sum with the full sum over every
// value (the terms left out are exactly 0).
func TestKDECutoff(t *testing.T) {
	tl := continuousTally(20000, 3000)
	os := newOrderStatistics(tl)
	h := scottBandwidth(os.n)
	xs := linspace(os.values[0]-1, os.values[len(os.values)-1]+1, 64)
	got := gaussianKDE(os, h, xs, 1)
	par := gaussianKDE(os, h, xs, 4)
	if !identical(got, par) {
		t.Error("parallel KDE differs from sequential")
	}
	for i, x := range xs {
		full := 0.0
		for k, v := range os.values {
			full += float64(os.counts[k]) * math.Exp(-(x-v)*(x-v)/(2*h*h))
		}
		full /= float64(os.n) * h * math.Sqrt(2*math.Pi)
		if math.Abs(got[i]-full) > 1e-12*full+1e-300 {
			t.Errorf("f(%v) = %v, full sum %v", x, got[i], full)
		}
	}
}

// BenchmarkKDE1M runs kernel_density_estimate (256-point grid, all cores)
// on a cell of 1,000,000 clients in two branches (500,000 each, ~85%
// distinct values).
func BenchmarkKDE1M(b *testing.B) {
	benchCell(b, "kernel_density_estimate", nil)
}

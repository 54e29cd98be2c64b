package statistics

import (
	"slices"
	"testing"
)

func TestEmpiricalCDF(t *testing.T) {
	// Data 1 2 2 4, grid 1 2 3 4: right-continuous, F(2) counts both 2s.
	got, _ := curveRows(t, "empirical_cdf", map[string]any{"grid_size": int64(4)}, tallyOf(2, 4, 1, 2))
	checkCurve(t, "ecdf", got, map[string]float64{"1.0": 0.25, "2.0": 0.75, "3.0": 0.75, "4.0": 1})

	// log_space with zeros: the extra row at 0, then geomspace(1, 100, 3).
	got, _ = curveRows(t, "empirical_cdf", map[string]any{"grid_size": int64(3), "log_space": true}, tallyOf(0, 0, 1, 10, 100))
	checkCurve(t, "ecdf log", got, map[string]float64{"0.0": 0.4, "1.0": 0.6, "10.0": 0.8, "100.0": 1})

	// An all-zero branch: 256 grid points at 0 collapse to one row.
	got, e := curveRows(t, "empirical_cdf", nil, tallyOf(0, 0, 0))
	checkCurve(t, "ecdf zero", got, map[string]float64{"0.0": 1})
	if !slices.Equal(e.Parameters, []string{"0"}) {
		t.Errorf("all-zero estimate parameters %v, want [0]", e.Parameters)
	}
}

// BenchmarkECDF1M runs empirical_cdf (256-point grid) on a cell of
// 1,000,000 clients in two branches (500,000 each, ~85% distinct values).
func BenchmarkECDF1M(b *testing.B) {
	benchCell(b, "empirical_cdf", nil)
}

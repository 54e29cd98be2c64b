package statistics

import (
	"cmp"
	"math"
	"slices"
	"strconv"
)

// Row is one statistic row, Jetstream schema v4. NULL is NaN for floats and
// "" for strings.
type Row struct {
	Metric, Statistic, Parameter, Branch, Comparison, ComparisonToBranch string
	CIWidth, Point, Lower, Upper                                         float64
	Segment, AnalysisBasis                                               string
}

// Comparison names, the values of [Row.Comparison] for comparative rows.
// Individual (per-branch) rows have Comparison == "".
const (
	// Difference is the absolute difference focus − reference.
	Difference = "difference"
	// RelativeUplift is focus/reference − 1.
	RelativeUplift = "relative_uplift"
)

// null maps the values Jetstream cannot store (NaN, ±Inf) to NaN, the NULL
// representation of Row.
func null(x float64) float64 {
	if math.IsInf(x, 0) {
		return math.NaN()
	}
	return x
}

// compareParameter orders parameters numerically when both parse as numbers
// (deciles "0.1".."0.9", grid points) and as strings otherwise; "" (NULL)
// sorts first.
func compareParameter(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" || b == "" {
		return cmp.Compare(a, b)
	}
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	if ea == nil && eb == nil {
		if c := cmp.Compare(fa, fb); c != 0 {
			return c
		}
	}
	return cmp.Compare(a, b)
}

// compareRows is the deterministic order of rows: metric, statistic, segment,
// analysis basis, branch, comparison (individual rows first),
// comparison_to_branch, then parameter. It matches the order of the golden
// expected rows within one (metric, statistic), and orders whole statistics
// tables.
func compareRows(a, b Row) int {
	for _, p := range [][2]string{{a.Metric, b.Metric}, {a.Statistic, b.Statistic}, {a.Segment, b.Segment}, {a.AnalysisBasis, b.AnalysisBasis}} {
		if c := cmp.Compare(p[0], p[1]); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(a.Branch, b.Branch); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Comparison, b.Comparison); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ComparisonToBranch, b.ComparisonToBranch); c != 0 {
		return c
	}
	return compareParameter(a.Parameter, b.Parameter)
}

// SortRows sorts rows by metric, statistic, segment, analysis basis, branch,
// comparison (individual first), comparison_to_branch and parameter
// (numerically when numeric).
func SortRows(rows []Row) {
	slices.SortStableFunc(rows, compareRows)
}

package export

import (
	"sort"
	"strconv"

	"github.com/jetstream-beam/jetstream/statistics"
)

// SortRows orders rows deterministically: metric, statistic, segment, analysis basis,
// branch, comparison (individual rows first), reference branch, then parameter by value.
func SortRows(rows []statistics.Row) {
	sort.SliceStable(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
}

func less(a, b statistics.Row) bool {
	for _, p := range [][2]string{
		{a.Metric, b.Metric}, {a.Statistic, b.Statistic}, {a.Segment, b.Segment},
		{a.AnalysisBasis, b.AnalysisBasis}, {a.Branch, b.Branch}, {a.Comparison, b.Comparison},
		{a.ComparisonToBranch, b.ComparisonToBranch},
	} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	pa, ea := strconv.ParseFloat(a.Parameter, 64)
	pb, eb := strconv.ParseFloat(b.Parameter, 64)
	if ea == nil && eb == nil && pa != pb {
		return pa < pb
	}
	return a.Parameter < b.Parameter
}

package export

import (
	"fmt"
	"strconv"
)

// Duplicates lists the rows that share Jetstream's row identity (metric, statistic, branch,
// parameter, comparison, comparison_to_branch, ci_width, segment, analysis_basis,
// window_index) with an earlier row. Jetstream never publishes such rows, and consumers
// key on that identity, so a non-empty result is a bug to stop on.
func Duplicates(windows []Window) []string {
	seen := map[string]bool{}
	var dups []string
	for _, w := range windows {
		for _, r := range w.Rows {
			key := fmt.Sprintf("metric=%s statistic=%s branch=%s parameter=%s comparison=%s comparison_to_branch=%s ci_width=%s segment=%s analysis_basis=%s window_index=%d",
				r.Metric, r.Statistic, r.Branch, r.Parameter, r.Comparison, r.ComparisonToBranch,
				strconv.FormatFloat(r.CIWidth, 'g', -1, 64), r.Segment, r.AnalysisBasis, w.Index)
			if seen[key] {
				dups = append(dups, key)
			}
			seen[key] = true
		}
	}
	return dups
}

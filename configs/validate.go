package configs

import (
	"fmt"
	"sort"
	"strings"
)

// Statistics lists the statistic names Jetstream implements (configs.md §5); the statistics
// package validates their parameters.
var Statistics = []string{"binomial", "bootstrap_mean", "count", "deciles", "empirical_cdf",
	"kernel_density_estimate", "linear_model_mean", "per_client_dau_impact", "population_ratio", "sum"}

// PreTreatments lists the pre-treatment names Jetstream implements.
var PreTreatments = []string{"censor_highest_values", "censor_lowest_values", "censor_values_above_threshold",
	"censor_values_below_threshold", "log", "normalize_over_analysis_period", "remove_indefinites", "remove_nulls", "zero_fill"}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkStatistic checks the names of a statistic and of its pre-treatments.
func checkStatistic(st StatisticSpec) error {
	if !contains(Statistics, st.Name) {
		return fmt.Errorf("statistic %q does not exist%s (known: %s)", st.Name, suggest(st.Name, Statistics), strings.Join(Statistics, ", "))
	}
	for _, pt := range st.PreTreatments {
		if !contains(PreTreatments, pt.Name) {
			return fmt.Errorf("pre-treatment %q does not exist%s (known: %s)", pt.Name, suggest(pt.Name, PreTreatments), strings.Join(PreTreatments, ", "))
		}
	}
	return nil
}

// suggest returns ` (did you mean "x"?)` for the closest candidate within a small edit
// distance, else "".
func suggest(s string, candidates []string) string {
	if best := Closest(s, candidates); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// Closest returns the candidate nearest to s by edit distance when it is near enough to be
// a likely typo (at most max(2, len(s)/3) edits) and is not s itself, else "".
func Closest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(s, c)
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" && bestD <= max(2, len(s)/3) && best != s {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

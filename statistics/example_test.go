package statistics_test

import (
	"fmt"

	"github.com/jetstream-beam/jetstream/statistics"
)

// Example runs bootstrap_mean on one cell: a tally per branch, one
// estimate per branch seeded from the cell's identity, then the rows.
func Example() {
	data := map[string][]float64{
		"control":   {0, 1, 1, 2, 3, 5, 8},
		"treatment": {1, 1, 2, 3, 5, 8, 13},
	}
	st, err := statistics.New("bootstrap_mean", map[string]any{"num_samples": int64(2000), "drop_highest": 0.0})
	if err != nil {
		panic(err)
	}
	var estimates []statistics.Estimate
	for _, branch := range []string{"control", "treatment"} {
		var t statistics.Tally
		for _, v := range data[branch] {
			t.Add(v)
		}
		seed := statistics.Seed(2024, "my-experiment", "enrollments", "overall", "1", "all", "my_metric", branch, st.Name())
		e, err := st.Estimate(branch, t, seed)
		if err != nil {
			panic(err)
		}
		estimates = append(estimates, e)
	}
	for _, r := range st.Rows(estimates) {
		fmt.Printf("%-9s %-15s %-9s %5.2f [%5.2f, %5.2f]\n", r.Branch, r.Comparison, r.ComparisonToBranch, r.Point, r.Lower, r.Upper)
	}
	// Output:
	// control                              2.89 [ 1.41,  4.99]
	// control   difference      treatment -1.80 [-5.62,  1.40]
	// control   relative_uplift treatment -0.32 [-0.75,  0.49]
	// treatment                            4.68 [ 2.41,  7.92]
	// treatment difference      control    1.80 [-1.40,  5.62]
	// treatment relative_uplift control    0.81 [-0.33,  2.97]
}

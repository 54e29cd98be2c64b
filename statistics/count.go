package statistics

import "math"

// count is Jetstream's `count`, output "count": one row per branch with
// point = n (the number of non-null values), no bounds, no ci_width, no
// comparisons. An empty tally gives point = 0 (Jetstream adds such rows for
// configured branches without clients).
type count struct{}

// sum is Jetstream's `sum`, output "sum": one row per branch with
// point = Σ x_i (see Tally.Sum), no bounds, no ci_width, no comparisons.
type sum struct{}

// newCount accepts no parameters.
func newCount(*paramReader, sampler) (Statistic, error) { return count{}, nil }

// newSum accepts no parameters.
func newSum(*paramReader, sampler) (Statistic, error) { return sum{}, nil }

func (count) Name() string   { return "count" }
func (count) Output() string { return "count" }
func (sum) Name() string     { return "sum" }
func (sum) Output() string   { return "sum" }

// exactRow is an individual row with only a point estimate.
func exactRow(output, branch string, point float64) Row {
	nan := math.NaN()
	return Row{Statistic: output, Branch: branch, CIWidth: nan, Point: null(point), Lower: nan, Upper: nan}
}

func (c count) Estimate(branch string, t Tally, _ uint64) (Estimate, error) {
	if err := checkTally(c.Name(), branch, t, false); err != nil {
		return Estimate{}, err
	}
	n := t.N()
	return Estimate{Branch: branch, N: n, Individual: []Row{exactRow(c.Output(), branch, float64(n))}}, nil
}

func (s sum) Estimate(branch string, t Tally, _ uint64) (Estimate, error) {
	if err := checkTally(s.Name(), branch, t, false); err != nil {
		return Estimate{}, err
	}
	return Estimate{Branch: branch, N: t.N(), Individual: []Row{exactRow(s.Output(), branch, t.Sum())}}, nil
}

func (c count) Rows(estimates []Estimate) []Row { return individualRows(c.Name(), estimates) }
func (s sum) Rows(estimates []Estimate) []Row   { return individualRows(s.Name(), estimates) }

// individualRows concatenates the exact rows of the estimates, sorted.
func individualRows(stat string, estimates []Estimate) []Row {
	checkBranches(stat, estimates)
	var rows []Row
	for _, e := range estimates {
		rows = append(rows, e.Individual...)
	}
	SortRows(rows)
	return rows
}

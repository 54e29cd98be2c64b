package statistics

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// lmCIWidth is linear_model_mean's fixed interval width (alphas = [0.05]).
const lmCIWidth = 0.95

// lmAlpha is 1 − lmCIWidth.
const lmAlpha = 0.05

// covariatePeriods are the analysis periods a covariate may come from.
var covariatePeriods = []string{"preenrollment_week", "preenrollment_days28"}

// linearModelMean is Jetstream's `linear_model_mean` (output "mean_lm") and,
// with dauImpact set, `per_client_dau_impact` (output
// "per_client_dau_impact"): mozanalysis' compare_branches_lm. It is a
// CellStatistic: use Compute (Estimate and Rows return errors/panic).
//
// # Data contract (Input)
//
//   - Input.Tally: every non-null value y of the metric of the branch's
//     clients, including clients whose covariate is null. It gives the pooled
//     clip threshold, the zero-reference guard, the no-variation check, the
//     per_client_dau_impact multiplier and, without a covariate, the model data.
//   - Input.Pairs: only when covariate adjustment applies (the statistic has
//     covariate_adjustment, the current period is not a preenrollment period
//     and differs from the covariate's period, and the covariate column
//     `<covariate_adjustment.metric or metric>_pre` exists): one pair
//     (X = y, Y = covariate) per client whose metric AND covariate are both
//     non-null. When every input's Pairs is empty the model is unadjusted.
//     With pairs, individual rows and the model use the pairs only (mozanalysis
//     drops rows with a null covariate after computing the thresholds).
//   - Input.Model: instead of Pairs, the same pairs as a ModelTally (what the
//     pipeline reads: a fraction of the size). The rows are the same bits.
//   - Integer typing: mozanalysis rounds a clip threshold up (ceil) when the
//     column's dtype is integer. Pass the non-Jetstream parameters
//     `integer_metric` and `integer_covariate` (bool, from the warehouse column
//     types, like Jetstream's injected `period`); when absent the type is
//     detected from the data: integer iff every value is integral.
//
// # Algorithm, per cell
//
//  1. y_pool = all branches' Tally. If numpy.isclose(sd(y_pool, ddof 1), 0):
//     every branch gets NULL individual and comparative rows.
//  2. t = Q(y_pool, 1 − drop_highest) (type 7, pandas), ⌈t⌉ for integers;
//     with a covariate, t_x = Q(x over all pairs, 1 − drop_highest) likewise.
//     Model data: min(y, t) (and min(x, t_x)).
//  3. Individual rows per branch with model data: ȳ ± t_{0.975, n−1}·s/√n.
//  4. For every reference r: if every min(y, t) of r's Tally is 0, no rows at
//     all for r (Jetstream's guard; an error is reported). Otherwise OLS
//     (see olsFit) with r as baseline; for each other branch k:
//     difference = β_k ± t_{0.975, df_resid}·SE(β_k); relative_uplift
//     from the delta method (see relativeUplift) with q̄ = gridMean of the
//     clipped pooled covariate (0 without covariate).
//
// per_client_dau_impact emits only the comparative rows and multiplies the
// difference point/lower/upper by N = Σ_b Input.Tally.N() (all clients with
// a non-null metric, including those with a null covariate).
type linearModelMean struct {
	dauImpact        bool
	dropHighest      float64
	covariate        bool   // covariate_adjustment given
	covariatePeriod  string // covariate_adjustment.period
	covariateMetric  string // covariate_adjustment.metric ("" = the metric itself)
	integerMetric    *bool  // nil = detect
	integerCovariate *bool  // nil = detect
}

func newLinearModelMean(p *paramReader, _ sampler) (Statistic, error) {
	return readLinearModel(p, false, 0.005)
}

func newPerClientDAUImpact(p *paramReader, _ sampler) (Statistic, error) {
	return readLinearModel(p, true, 0)
}

// readLinearModel reads drop_highest (in [0, 1): mozanalysis needs its
// threshold quantile in (0, 1]), covariate_adjustment (a table with
// `period` ∈ covariatePeriods and optional `metric`) and the optional
// integer_metric / integer_covariate flags.
func readLinearModel(p *paramReader, dau bool, defDrop float64) (Statistic, error) {
	s := linearModelMean{dauImpact: dau}
	var err error
	if s.dropHighest, err = p.real("drop_highest", defDrop, interval{lo: 0, hi: 1, hiOpen: true}); err != nil {
		return nil, err
	}
	if s.integerMetric, err = readOptionalBool(p, "integer_metric"); err != nil {
		return nil, err
	}
	if s.integerCovariate, err = readOptionalBool(p, "integer_covariate"); err != nil {
		return nil, err
	}
	p.known = append(p.known, "covariate_adjustment")
	raw, ok := p.values["covariate_adjustment"]
	if !ok || raw == nil {
		return s, nil
	}
	table, ok := raw.(map[string]any)
	if !ok {
		return nil, p.errorf("parameter covariate_adjustment = %#v (%T): want a table", raw, raw)
	}
	period, _ := table["period"].(string)
	if !slices.Contains(covariatePeriods, period) {
		return nil, p.errorf("Covariate adjustment must be done using a pre-treatment analysis period (one of: ['preenrollment_week', 'preenrollment_days28'])")
	}
	s.covariate, s.covariatePeriod = true, period
	if m, ok := table["metric"]; ok && m != nil {
		ms, ok := m.(string)
		if !ok {
			return nil, p.errorf("parameter covariate_adjustment.metric = %#v (%T): want a string", m, m)
		}
		s.covariateMetric = ms
	}
	return s, nil
}

// readOptionalBool reads a boolean parameter; nil when absent.
func readOptionalBool(p *paramReader, name string) (*bool, error) {
	p.known = append(p.known, name)
	raw, ok := p.values[name]
	if !ok {
		return nil, nil
	}
	b, ok := raw.(bool)
	if !ok {
		return nil, p.errorf("parameter %s = %#v (%T): want a boolean", name, raw, raw)
	}
	return &b, nil
}

func (s linearModelMean) Name() string {
	if s.dauImpact {
		return "per_client_dau_impact"
	}
	return "linear_model_mean"
}

func (s linearModelMean) Output() string {
	if s.dauImpact {
		return "per_client_dau_impact"
	}
	return "mean_lm"
}

// CovariateAdjustment reports the covariate the statistic asks for: the
// preenrollment period and the metric whose `_pre` column is the covariate
// (metric itself when covariate_adjustment.metric is not set). ok is false
// without covariate_adjustment.
func (s linearModelMean) CovariateAdjustment(metric string) (period, column string, ok bool) {
	if !s.covariate {
		return "", "", false
	}
	m := s.covariateMetric
	if m == "" {
		m = metric
	}
	return s.covariatePeriod, m + "_pre", true
}

// Estimate is not available: the linear model needs every branch.
func (s linearModelMean) Estimate(branch string, _ Tally, _ uint64) (Estimate, error) {
	return Estimate{}, fmt.Errorf("%s: needs every branch of the cell: use Compute", s.Name())
}

// Rows panics: the linear model has no per-branch estimates.
func (s linearModelMean) Rows([]Estimate) []Row {
	panic("statistics: " + s.Name() + " is a CellStatistic: use Compute")
}

// ComputeCell computes every reference's rows (see the type's comment).
func (s linearModelMean) ComputeCell(inputs []Input, _ Seeder) ([]Row, []error) {
	refs := make([]string, len(inputs))
	for i, in := range inputs {
		refs[i] = in.Branch
	}
	return s.computeReferences(inputs, refs)
}

// lmPrepared is a cell's data after mozanalysis' prepare_df_for_modeling.
type lmPrepared struct {
	groups    []lmGroup // branches with model data, in input order
	useCov    bool
	qbar      float64 // gridMean of the clipped covariate (0 without)
	threshold float64 // pooled clip threshold of y
	noVar     bool    // sd(y) ≈ 0: NULL rows
	nAll      int64   // clients with a non-null metric, all branches
}

// integral reports whether every value of t is a finite integer.
func integral(t Tally) bool {
	for _, v := range t.Compacted().Values {
		if v != math.Trunc(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// clipThreshold is mozanalysis' pooled threshold Q(q) of a column, rounded
// up for integer columns.
func clipThreshold(t Tally, q float64, integer *bool) float64 {
	th := t.Quantile(float64(q*100) / 100) // pandas passes q·100 to np.percentile
	isInt := integral(t)
	if integer != nil {
		isInt = *integer
	}
	if isInt {
		th = math.Ceil(th)
	}
	return th
}

// prepare pools the inputs, computes the thresholds and the per-branch
// sufficient statistics of the model data.
func (s linearModelMean) prepare(inputs []Input) (lmPrepared, error) {
	var pr lmPrepared
	var pool Tally
	models := make([]ModelTally, len(inputs))
	for i, in := range inputs {
		if err := checkTally(s.Name(), in.Branch, in.Tally, false); err != nil {
			return pr, err
		}
		pool = MergeTallies(pool, in.Tally)
		models[i] = in.Model
		if in.Pairs.N() > 0 {
			c := in.Pairs.Compacted()
			if slices.ContainsFunc(c.X, math.IsNaN) || slices.ContainsFunc(c.Y, math.IsNaN) {
				return pr, fmt.Errorf("%s: branch %q: pairs contain NaN (drop clients with a null metric or covariate)", s.Name(), in.Branch)
			}
			models[i] = modelTallyOfPairs(c)
		}
		if models[i].N() > 0 {
			pr.useCov = true
		}
	}
	pr.nAll = pool.N()
	if pr.nAll == 0 {
		return pr, errors.New(s.Name() + ": no values")
	}
	pr.noVar = math.Abs(sampleSD(pool)) <= 1e-8 // np.isclose(sd, 0); NaN for n = 1 is not close
	q := 1 - s.dropHighest
	pr.threshold = clipThreshold(pool, q, s.integerMetric)
	if pr.useCov {
		var poolX Tally
		for _, m := range models {
			poolX = MergeTallies(poolX, m.Covariate)
		}
		if poolX.HasNaN() {
			return pr, fmt.Errorf("%s: the covariate contains NaN (drop clients with a null metric or covariate)", s.Name())
		}
		tx := clipThreshold(poolX, q, s.integerCovariate)
		for i, in := range inputs {
			if models[i].N() == 0 {
				continue
			}
			g, err := models[i].group(in.Branch, pr.threshold, tx)
			if err != nil {
				return pr, fmt.Errorf("%s: %w", s.Name(), err)
			}
			pr.groups = append(pr.groups, g)
		}
		// The grid is over the model rows, i.e. every pair: poolX clipped.
		pr.qbar = gridMean(poolX.Clip(tx))
		return pr, nil
	}
	for _, in := range inputs {
		c := in.Tally.Clip(pr.threshold)
		if len(c.Values) == 0 {
			continue
		}
		pr.groups = append(pr.groups, lmGroupOf(in.Branch, c.Values, nil, c.Counts))
	}
	return pr, nil
}

// sampleSD is pandas' Series.std() (ddof = 1) of a tally, two-pass.
func sampleSD(t Tally) float64 {
	g := lmGroupOf("", t.Compacted().Values, nil, t.Compacted().Counts)
	return math.Sqrt(g.syy / float64(g.n-1))
}

// computeReferences computes the rows of the cell with each of refs as
// reference in turn: the comparative rows of every reference that passes
// the zero-reference guard, and the individual rows (mean_lm only) once
// when at least one reference produced rows (Jetstream recomputes them for
// every reference; they do not depend on it).
func (s linearModelMean) computeReferences(inputs []Input, refs []string) ([]Row, []error) {
	pr, err := s.prepare(inputs)
	if err != nil {
		return nil, []error{err}
	}
	var errs []error
	var rows []Row
	anyRef := false
	tallies := map[string]Tally{}
	for _, in := range inputs {
		tallies[in.Branch] = in.Tally
	}
	index := map[string]int{}
	for i, g := range pr.groups {
		index[g.branch] = i
	}
	fit, fitOK := olsFit{}, false
	if !pr.noVar && len(pr.groups) > 0 {
		fit, fitOK = fitOLS(pr.groups, pr.useCov)
	}
	qbar := 0.0
	if fit.useCov {
		qbar = pr.qbar
	}
	tDiff := tQuantile(1-lmAlpha/2, fit.dfResid)
	nan := math.NaN()
	for _, ref := range refs {
		if allZero(tallies[ref].Clip(pr.threshold)) {
			errs = append(errs, fmt.Errorf("%s: reference branch %q: all values are zero after outlier trimming; no rows", s.Name(), ref))
			continue
		}
		var focus []string
		if pr.noVar {
			for _, in := range inputs {
				if in.Branch != ref && in.Tally.N() > 0 {
					focus = append(focus, in.Branch)
				}
			}
		} else {
			if _, ok := index[ref]; !ok {
				errs = append(errs, fmt.Errorf("%s: reference branch %q has no model data (every covariate is null)", s.Name(), ref))
				continue
			}
			for _, g := range pr.groups {
				if g.branch != ref {
					focus = append(focus, g.branch)
				}
			}
		}
		anyRef = true
		for _, b := range focus {
			diff := Row{Statistic: s.Output(), Branch: b, Comparison: Difference, ComparisonToBranch: ref, CIWidth: lmCIWidth, Point: nan, Lower: nan, Upper: nan}
			rel := diff
			rel.Comparison = RelativeUplift
			if fitOK {
				beta, cov := fit.contrast(index[b], index[ref])
				se := math.Sqrt(cov[1][1])
				diff.Point, diff.Lower, diff.Upper = beta[1], beta[1]-tDiff*se, beta[1]+tDiff*se
				rel.Point, rel.Lower, rel.Upper = relativeUplift(beta, cov, qbar, tDiff)
			}
			if s.dauImpact {
				m := float64(pr.nAll)
				diff.Point, diff.Lower, diff.Upper = diff.Point*m, diff.Lower*m, diff.Upper*m
			}
			for _, r := range []*Row{&diff, &rel} {
				r.Point, r.Lower, r.Upper = null(r.Point), null(r.Lower), null(r.Upper)
			}
			rows = append(rows, diff, rel)
		}
	}
	if anyRef && !s.dauImpact {
		if pr.noVar {
			for _, in := range inputs {
				if in.Tally.N() > 0 {
					rows = append(rows, Row{Statistic: s.Output(), Branch: in.Branch, CIWidth: lmCIWidth, Point: nan, Lower: nan, Upper: nan})
				}
			}
		} else {
			for _, g := range pr.groups {
				lo, hi := tInterval(g, lmAlpha)
				rows = append(rows, Row{Statistic: s.Output(), Branch: g.branch, CIWidth: lmCIWidth, Point: null(g.meanY), Lower: null(lo), Upper: null(hi)})
			}
		}
	}
	SortRows(rows)
	return rows, errs
}

// allZero reports whether every value of t is 0 (true for an empty tally).
func allZero(t Tally) bool {
	for _, v := range t.Compacted().Values {
		if v != 0 {
			return false
		}
	}
	return true
}

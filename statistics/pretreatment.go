package statistics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// PreTreatment is one of Jetstream's pre-treatments
// (mozilla/jetstream:jetstream/pre_treatment.py), applied to the data of
// one cell before a statistic runs. Implementations are immutable and safe
// for concurrent use.
type PreTreatment interface {
	// Name is the Jetstream config name, e.g. "censor_highest_values".
	Name() string
	// Apply returns the treated inputs of every branch of one cell. It
	// does not modify inputs (or the slices they share).
	Apply(inputs []Input, ctx PreTreatmentContext) ([]Input, error)
}

// PreTreatmentContext is what Jetstream injects into pre-treatments.
type PreTreatmentContext struct {
	// PeriodLength is the analysis period length in days (day 1, week 7,
	// days28 28, overall the number of days, preenrollment_week 7,
	// preenrollment_days28 28), used by normalize_over_analysis_period.
	PeriodLength int
}

// Pre-treatments act on a column of the cell's table; here a column is the
// metric's values (Input.Tally) or one side of Input.Pairs. Jetstream
// applies each pre-treatment to the metric column and then to every column
// the metric depends on, in config order; pre-treatments that drop rows
// drop the whole row. Accordingly, for each pre-treatment:
//
//  1. the metric column: every Input.Tally;
//  2. when some Input.Pairs is non-empty, the pairs' first column (the
//     metric, or a ratio's numerator) with the same rule as the tallies —
//     the same pooled threshold when the inputs have tallies, since the
//     pairs are a subset of the same rows — and then the pairs' second
//     column (covariate or denominator), pooled over the surviving pairs.
//     A pair is dropped when either of its values is dropped.
//
// Thresholds that are quantiles (censor_highest_values,
// censor_lowest_values) are pooled over every branch of the cell, as
// Jetstream computes them on the whole data frame: pandas'
// Series.quantile, i.e. numpy's linear (type 7) quantile over the non-NaN
// values.
//
// Nulls: Jetstream's subset query has `WHERE <metric> IS NOT NULL`, so nulls
// never reach a tally, and remove_nulls and zero_fill are the identity on
// the data a pipeline builds. A NaN can still appear in a tally when a
// pre-treatment makes one (log of a negative value); pandas treats NaN as
// null, so remove_nulls drops it and zero_fill turns it into 0, and so do
// these. A NaN left in a tally makes the statistics refuse it, as
// mozanalysis raises on NaN.

// columnFunc treats one value: the new value and whether the row is kept.
type columnFunc func(x float64) (float64, bool)

// preTreatment is a PreTreatment defined by how it treats one column.
type preTreatment struct {
	name string
	// pooled: the treatment needs the pooled values of the column.
	pooled bool
	// prepare returns the per-value function of one column, given the
	// pooled (compacted, NaN-free) values of the column when pooled.
	prepare func(pool Tally, ctx PreTreatmentContext) (columnFunc, error)
}

func (p preTreatment) Name() string { return p.name }

// preTreatmentParams are the accepted parameters of each pre-treatment.
var preTreatmentParams = map[string][]string{
	"remove_nulls":                   nil,
	"remove_indefinites":             nil,
	"censor_highest_values":          {"fraction"},
	"censor_lowest_values":           {"fraction"},
	"censor_values_below_threshold":  {"threshold"},
	"censor_values_above_threshold":  {"threshold"},
	"normalize_over_analysis_period": nil,
	"log":                            {"base"},
	"zero_fill":                      nil,
}

// PreTreatmentNames returns the config names of the pre-treatments, sorted.
func PreTreatmentNames() []string {
	names := make([]string, 0, len(preTreatmentParams))
	for n := range preTreatmentParams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewPreTreatment builds a pre-treatment from its Jetstream config name and
// parameters (the keys of `{name = "log", base = 2}` other than name):
//
//	remove_nulls                    drop null (NaN) values
//	remove_indefinites              +Inf → null, then drop nulls (−Inf is kept)
//	censor_highest_values           keep x < Q(fraction), fraction default 1 − 1e-5
//	censor_lowest_values            keep x > Q(fraction), fraction default 1e-5
//	censor_values_below_threshold   keep x > threshold (required)
//	censor_values_above_threshold   keep x < threshold (required)
//	normalize_over_analysis_period  x / PreTreatmentContext.PeriodLength
//	log                             ln(x)/ln(base), base default 10; base nil → ln(x);
//	                                log(0) = −Inf, log(x < 0) = NaN
//	zero_fill                       null (NaN) → 0
//
// Q is the pooled type-7 quantile (see Apply). Numbers may be int64 or
// float64 (TOML). An unknown name or parameter, a wrong type or a value
// out of range gives an error naming it.
func NewPreTreatment(name string, params map[string]any) (PreTreatment, error) {
	accepted, ok := preTreatmentParams[name]
	if !ok {
		return nil, fmt.Errorf("pre-treatment %q does not exist (known: %s)", name, strings.Join(PreTreatmentNames(), ", "))
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(accepted, k) {
			list := "none"
			if len(accepted) > 0 {
				list = strings.Join(accepted, ", ")
			}
			return nil, fmt.Errorf("pre-treatment %q: unknown parameter %q (accepted: %s)", name, k, list)
		}
	}
	number := func(key string, def float64, required bool) (float64, error) {
		raw, ok := params[key]
		if !ok {
			if required {
				return 0, fmt.Errorf("pre-treatment %q: parameter %s is required", name, key)
			}
			return def, nil
		}
		switch x := raw.(type) {
		case float64:
			if math.IsNaN(x) {
				break
			}
			return x, nil
		case int64:
			return float64(x), nil
		case int:
			return float64(x), nil
		}
		return 0, fmt.Errorf("pre-treatment %q: parameter %s = %#v (%T): want a number", name, key, raw, raw)
	}
	p := preTreatment{name: name}
	switch name {
	case "remove_nulls":
		p.prepare = fixed(func(x float64) (float64, bool) { return x, !math.IsNaN(x) })
	case "remove_indefinites":
		p.prepare = fixed(func(x float64) (float64, bool) { return x, !math.IsNaN(x) && !math.IsInf(x, 1) })
	case "zero_fill":
		p.prepare = fixed(func(x float64) (float64, bool) {
			if math.IsNaN(x) {
				return 0, true
			}
			return x, true
		})
	case "censor_highest_values", "censor_lowest_values":
		def := 1 - 1e-5
		if name == "censor_lowest_values" {
			def = 1e-5
		}
		f, err := number("fraction", def, false)
		if err != nil {
			return nil, err
		}
		if !(f >= 0 && f <= 1) {
			return nil, fmt.Errorf("pre-treatment %q: parameter fraction = %v is out of range [0, 1]", name, f)
		}
		highest := name == "censor_highest_values"
		p.pooled = true
		p.prepare = func(pool Tally, _ PreTreatmentContext) (columnFunc, error) {
			q := pool.Quantile(f) // NaN for an empty pool: nothing is kept
			if highest {
				return func(x float64) (float64, bool) { return x, x < q }, nil
			}
			return func(x float64) (float64, bool) { return x, x > q }, nil
		}
	case "censor_values_below_threshold", "censor_values_above_threshold":
		th, err := number("threshold", 0, true)
		if err != nil {
			return nil, err
		}
		if name == "censor_values_below_threshold" {
			p.prepare = fixed(func(x float64) (float64, bool) { return x, x > th })
		} else {
			p.prepare = fixed(func(x float64) (float64, bool) { return x, x < th })
		}
	case "normalize_over_analysis_period":
		p.prepare = func(_ Tally, ctx PreTreatmentContext) (columnFunc, error) {
			if ctx.PeriodLength <= 0 {
				return nil, fmt.Errorf("pre-treatment %q: analysis period length is %d, want a positive number of days", name, ctx.PeriodLength)
			}
			d := float64(ctx.PeriodLength)
			return func(x float64) (float64, bool) { return x / d, true }, nil
		}
	case "log":
		natural := false
		base := 10.0
		if raw, ok := params["base"]; ok && raw == nil {
			natural = true
		} else {
			b, err := number("base", 10, false)
			if err != nil {
				return nil, err
			}
			if !(b > 0) || b == 1 || math.IsInf(b, 0) {
				return nil, fmt.Errorf("pre-treatment %q: parameter base = %v: want a positive number other than 1", name, b)
			}
			base = b
		}
		lnBase := math.Log(base)
		p.prepare = fixed(func(x float64) (float64, bool) {
			if natural {
				return math.Log(x), true
			}
			return math.Log(x) / lnBase, true
		})
	}
	return p, nil
}

// fixed is the prepare function of a treatment that does not depend on the
// pooled data.
func fixed(f columnFunc) func(Tally, PreTreatmentContext) (columnFunc, error) {
	return func(Tally, PreTreatmentContext) (columnFunc, error) { return f, nil }
}

// Apply treats the metric column of every input and, when present, both
// columns of the pairs (see the rules above). The result has one Input per
// input, in the same order, with freshly allocated tallies.
func (p preTreatment) Apply(inputs []Input, ctx PreTreatmentContext) ([]Input, error) {
	out := make([]Input, len(inputs))
	haveTally, havePairs := false, false
	for i, in := range inputs {
		if in.Model.N() > 0 {
			return nil, fmt.Errorf("%s: branch %q: a model tally cannot be pre-treated (pre-treatments need the pairs themselves)", p.name, in.Branch)
		}
		out[i] = Input{Branch: in.Branch}
		haveTally = haveTally || in.Tally.N() > 0
		havePairs = havePairs || in.Pairs.N() > 0
	}
	var metric columnFunc
	if haveTally {
		var pool Tally
		if p.pooled {
			for _, in := range inputs {
				pool = MergeTallies(pool, in.Tally)
			}
		}
		f, err := p.prepare(dropNaN(pool), ctx)
		if err != nil {
			return nil, err
		}
		metric = f
		for i, in := range inputs {
			out[i].Tally = treatTally(in.Tally, f)
		}
	}
	if !havePairs {
		return out, nil
	}
	cols := make([]pairColumns, len(inputs))
	for i, in := range inputs {
		cols[i] = newPairColumns(in.Pairs)
	}
	for side := range 2 {
		f := metric
		if side == 1 || f == nil {
			var pool Tally
			if p.pooled {
				for _, c := range cols {
					pool = MergeTallies(pool, NewTally(c.col(side), c.counts))
				}
			}
			var err error
			if f, err = p.prepare(dropNaN(pool), ctx); err != nil {
				return nil, err
			}
		}
		for i := range cols {
			cols[i] = cols[i].treat(side, f)
		}
	}
	for i, c := range cols {
		out[i].Pairs = c.tally()
	}
	return out, nil
}

// ApplyPreTreatments applies pre-treatments in config order. inputs are
// not modified; with no pre-treatments the result is a copy of the slice.
func ApplyPreTreatments(pts []PreTreatment, inputs []Input, ctx PreTreatmentContext) ([]Input, error) {
	out := slices.Clone(inputs)
	for _, pt := range pts {
		var err error
		if out, err = pt.Apply(out, ctx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dropNaN returns t without its NaN values (t is compacted first).
func dropNaN(t Tally) Tally {
	c := t.Compacted()
	if len(c.Values) > 0 && math.IsNaN(c.Values[0]) {
		return Tally{Values: c.Values[1:], Counts: c.Counts[1:]}
	}
	return c
}

// treatTally applies f to every distinct value of t, dropping the values f
// rejects and merging values f maps together. It returns a new compacted
// tally (−0 folded into +0) and does not modify t.
func treatTally(t Tally, f columnFunc) Tally {
	c := t.Compacted()
	vals := make([]float64, 0, len(c.Values))
	counts := make([]int64, 0, len(c.Values))
	for i, v := range c.Values {
		if y, keep := f(v); keep {
			vals = append(vals, y)
			counts = append(counts, c.Counts[i])
		}
	}
	return NewTally(vals, counts)
}

// pairColumns is a pair tally as parallel columns, for treating one side.
type pairColumns struct {
	x, y   []float64
	counts []int64
}

func newPairColumns(p PairTally) pairColumns {
	c := p.Compacted() // a copy: treating it never touches p
	return pairColumns{x: c.X, y: c.Y, counts: c.Counts}
}

func (c pairColumns) col(side int) []float64 {
	if side == 0 {
		return c.x
	}
	return c.y
}

// treat applies f to one side, dropping the pairs whose value f rejects.
func (c pairColumns) treat(side int, f columnFunc) pairColumns {
	var out pairColumns
	for i := range c.counts {
		x, y := c.x[i], c.y[i]
		var keep bool
		if side == 0 {
			x, keep = f(x)
		} else {
			y, keep = f(y)
		}
		if keep {
			out.x, out.y, out.counts = append(out.x, x), append(out.y, y), append(out.counts, c.counts[i])
		}
	}
	return out
}

// tally turns treated columns back into a compacted PairTally: pairs
// sorted by (x, y), equal pairs merged, −0 folded into +0.
func (c pairColumns) tally() PairTally {
	idx := make([]int, len(c.counts))
	for i := range idx {
		idx[i] = i
		if c.x[i] == 0 {
			c.x[i] = 0
		}
		if c.y[i] == 0 {
			c.y[i] = 0
		}
	}
	slices.SortFunc(idx, func(i, j int) int {
		if r := cmp.Compare(c.x[i], c.x[j]); r != 0 {
			return r
		}
		return cmp.Compare(c.y[i], c.y[j])
	})
	var p PairTally
	for _, i := range idx {
		if k := len(p.X); k > 0 && cmp.Compare(p.X[k-1], c.x[i]) == 0 && cmp.Compare(p.Y[k-1], c.y[i]) == 0 {
			p.Counts[k-1] += c.counts[i]
			continue
		}
		p.X, p.Y, p.Counts = append(p.X, c.x[i]), append(p.Y, c.y[i]), append(p.Counts, c.counts[i])
	}
	return p
}

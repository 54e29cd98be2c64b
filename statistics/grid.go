package statistics

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// This file holds what empirical_cdf and kernel_density_estimate share:
// their parameters, Jetstream's evaluation grid (`_make_grid`), the stored
// form of a grid parameter and the rows of a per-branch curve.

// gridSpec is the grid of a curve statistic: grid_size points, linear or
// (log_space) geometric.
type gridSpec struct {
	size     int
	logSpace bool
}

// readGridSpec reads grid_size (default 256, in [1, 2²⁰]) and log_space
// (default false).
func readGridSpec(p *paramReader) (gridSpec, error) {
	size, err := p.integer("grid_size", 256, 1, 1<<20)
	if err != nil {
		return gridSpec{}, err
	}
	logSpace, err := p.flagParam("log_space", false)
	if err != nil {
		return gridSpec{}, err
	}
	return gridSpec{size: int(size), logSpace: logSpace}, nil
}

// flagParam reads a boolean parameter (TOML true/false), returning def when
// absent.
func (p *paramReader) flagParam(name string, def bool) (bool, error) {
	p.known = append(p.known, name)
	raw, ok := p.values[name]
	if !ok {
		return def, nil
	}
	v, ok := raw.(bool)
	if !ok {
		return false, p.errorf("parameter %s = %#v (%T): want true or false", name, raw, raw)
	}
	return v, nil
}

// choiceParam reads a string parameter that must be one of allowed,
// returning def when absent.
func (p *paramReader) choiceParam(name, def string, allowed ...string) (string, error) {
	p.known = append(p.known, name)
	raw, ok := p.values[name]
	if !ok {
		return def, nil
	}
	v, ok := raw.(string)
	if !ok {
		return "", p.errorf("parameter %s = %#v (%T): want a string", name, raw, raw)
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", p.errorf("parameter %s = %q is not supported (supported: %s)", name, v, strings.Join(allowed, ", "))
}

// linspace is np.linspace(start, stop, num): with step = (stop − start)/(num − 1),
//
//	x_i = i·step + start   (x_i = (i/(num − 1))·(stop − start) + start when step == 0)
//
// and the last point set to stop exactly; num == 1 gives [start].
func linspace(start, stop float64, num int) []float64 {
	x := make([]float64, num)
	div := num - 1
	if div <= 0 {
		for i := range x {
			x[i] = float64(float64(i)*(stop-start)) + start
		}
		return x
	}
	delta := stop - start
	step := delta / float64(div)
	for i := range x {
		if step == 0 {
			x[i] = float64(float64(i)/float64(div)*delta) + start
		} else {
			x[i] = float64(float64(i)*step) + start
		}
	}
	x[div] = stop
	return x
}

// geomspace is np.geomspace(start, stop, num) for 0 < start ≤ stop:
//
//	x_i = 10^(linspace(log₁₀ start, log₁₀ stop, num)_i)
//
// with the first and last points set to start and stop exactly.
func geomspace(start, stop float64, num int) []float64 {
	x := linspace(math.Log10(start), math.Log10(stop), num)
	for i, e := range x {
		x[i] = math.Pow(10, e)
	}
	x[0] = start
	if num > 1 {
		x[num-1] = stop
	}
	return x
}

// points returns where a curve statistic evaluates one branch (Jetstream's
// `_make_grid`), from the branch's minimum a and maximum b:
//
//   - linear (the default): linspace(a, b, size);
//   - geometric, when log_space is set and not (a < 0 or b ≤ 0):
//     geomspace(a', b, size) with a' = a, or the second-smallest distinct
//     value when a = 0; the points are then preceded by an extra 0 when
//     a = 0 (the row at parameter 0);
//   - log_space with negative values, or with only zeros, falls back to the
//     linear grid (Jetstream logs a warning).
//
// values are the branch's sorted distinct values (at least one).
func (g gridSpec) points(values []float64) []float64 {
	start, stop := values[0], values[len(values)-1]
	if !g.logSpace || start < 0 || stop <= 0 {
		return linspace(start, stop, g.size)
	}
	if start != 0 {
		return geomspace(start, stop, g.size)
	}
	return append([]float64{0}, geomspace(values[1], stop, g.size)...)
}

// roundParameter is Python's round(x, 6): x rounded to the nearest multiple
// of 10⁻⁶, computed on the exact binary value with ties to even (strconv's
// fixed-precision formatting is correctly rounded in the same way).
func roundParameter(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 6, 64), 64)
	return r
}

// pythonRepr is Python's str(float): the shortest decimal that round-trips,
// in positional notation with at least one fractional digit ("0.0", "7.0",
// "0.0001") when the decimal exponent e is in [−4, 16), otherwise in
// exponent notation ("1e-05", "1.5e+16").
func pythonRepr(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(x, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e // Go's shortest 'e' form has Python's layout: 1e-05, 1.5e+16
	}
	f := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(f, ".") {
		f += ".0"
	}
	return f
}

// StoredParameter is the parameter Jetstream stores for a grid point x of
// empirical_cdf or kernel_density_estimate: str(round(x, 6)), e.g. 0.5 →
// "0.5", 3 → "3.0", 0.1234567 → "0.123457", 4e-6 → "4e-06".
func StoredParameter(x float64) string { return pythonRepr(roundParameter(x)) }

// curveEstimate builds the estimate of a curve statistic from its values
// y_i at the points x_i: one exact row per point with parameter
// StoredParameter(x_i) and point y_i (no bounds, no ci_width). Points with
// the same stored parameter collapse to one row, the later replacing the
// earlier, as Jetstream's result dictionary does (an all-zero branch's
// linear grid is grid_size copies of 0 and gives one row).
// Estimate.Parameters holds the unrounded x of each row (shortest
// round-trip form), index-aligned with Individual.
func curveEstimate(output, branch string, n int64, xs, ys []float64) Estimate {
	e := Estimate{Branch: branch, N: n}
	at := make(map[string]int, len(xs))
	for i, x := range xs {
		row := exactRow(output, branch, ys[i])
		row.Parameter = StoredParameter(x)
		full := strconv.FormatFloat(x, 'g', -1, 64)
		if j, ok := at[row.Parameter]; ok {
			e.Individual[j], e.Parameters[j] = row, full
			continue
		}
		at[row.Parameter] = len(e.Individual)
		e.Individual = append(e.Individual, row)
		e.Parameters = append(e.Parameters, full)
	}
	return e
}

// checkFinite returns an error when a branch's sorted values include ±Inf
// (a log pre-treatment of 0 gives −Inf): the grid from min to max would be
// NaN. scikit-learn's KernelDensity refuses such data ("Input contains
// infinity"), so Jetstream emits no rows for it.
func checkFinite(stat, branch string, values []float64) error {
	if len(values) > 0 && (math.IsInf(values[0], 0) || math.IsInf(values[len(values)-1], 0)) {
		return fmt.Errorf("%s: branch %q: data contains infinite values", stat, branch)
	}
	return nil
}

// workersOf is the goroutine limit of an engine (runtime.GOMAXPROCS(0)
// unless the Fast engine was given one).
func workersOf(s sampler) int {
	if f, ok := s.(fastSampler); ok && f.workers > 0 {
		return f.workers
	}
	return runtime.GOMAXPROCS(0)
}

// parallelFor calls f(i) for i in [0, n) on up to workers goroutines when
// work (a cost estimate) is at least parallelWork, sequentially otherwise.
// Each f(i) must write only its own outputs, so the result does not depend
// on the number of goroutines.
func parallelFor(n, work, workers int, f func(i int)) {
	if workers <= 1 || n <= 1 || work < parallelWork {
		for i := range n {
			f(i)
		}
		return
	}
	workers = min(workers, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				f(i)
			}
		})
	}
	wg.Wait()
}

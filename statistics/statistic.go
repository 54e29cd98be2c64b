package statistics

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Estimate is one branch's result for one statistic. It is Beam-encodable:
// exported fields only, no maps, no pointers.
type Estimate struct {
	Branch     string
	N          int64     // clients in the branch
	Parameters []string  // nil/empty for one-dimensional statistics; e.g. "0.1".."0.9" for deciles
	Replicates []float64 // num_samples draws per parameter, parameter-major (len = max(1,len(Parameters))·R); empty for exact-only statistics
	Individual []Row     // exact per-branch rows, when the statistic has them (binomial posterior, count, sum); nil when rows come from Replicates
}

// Statistic is a configured statistic (parameters parsed and validated).
// Implementations are immutable and safe for concurrent use.
type Statistic interface {
	// Name is the Jetstream config name, e.g. "bootstrap_mean".
	Name() string
	// Output is the value of the `statistic` column, e.g. "mean".
	Output() string
	// Estimate summarises one branch. seed identifies (run seed, cell,
	// branch, statistic), see Seed; results depend only on (t, parameters,
	// seed).
	Estimate(branch string, t Tally, seed uint64) (Estimate, error)
	// Rows turns the estimates of every branch of one cell into rows:
	// individual rows for each branch and, for comparative statistics,
	// `difference` and `relative_uplift` rows for every ordered pair
	// (b, ref), b ≠ ref. Metric, Segment and AnalysisBasis are left empty
	// (the caller fills them). Rows are sorted by branch, comparison
	// (individual first), comparison_to_branch and parameter. It panics if
	// two estimates have the same branch or the estimates' replicate counts
	// differ (estimates of different statistics).
	Rows(estimates []Estimate) []Row
}

// Options configure how sampling statistics compute; they never change
// the meaning of a statistic.
type Options struct {
	// Engine is the random engine; "" means Fast.
	Engine Engine
	// Workers is the maximum number of goroutines one Estimate may use
	// (Fast engine only); 0 means runtime.GOMAXPROCS(0), 1 means sequential.
	// Results are bit-identical for every value.
	Workers int
	// FixedThreshold makes bootstrap_mean clip each branch once, at the sample's
	// (1 − drop_highest)-quantile, and bootstrap the clipped data, as mozanalysis
	// does, instead of taking the threshold inside each replicate (the Fast
	// engine's way, see winsorKernel: honest intervals on heavy-tailed metrics).
	// The golden tests set it to compare the Fast engine with mozanalysis'
	// numbers; the NumpyLegacy engine always clips once.
	FixedThreshold bool
	// ExactBootstrap makes the Fast engine's bootstrap_mean draw one gamma variate per
	// distinct value in every replicate. By default runs of close values are drawn as one
	// bin (binValues): the replicates' first two moments stay exact and at most
	// DefaultBinVariance of their variance is drawn from a normal approximation, for a
	// fraction of the draws on continuous metrics.
	ExactBootstrap bool
}

// constructor builds a statistic from its parameters.
type constructor func(p *paramReader, s sampler) (Statistic, error)

// registry lists the implemented statistics by Jetstream config name.
var registry = map[string]constructor{
	"bootstrap_mean": newBootstrapMean,
	"binomial":       newBinomial,
	"count":          newCount,
	"sum":            newSum,

	"deciles":                 newDeciles,
	"empirical_cdf":           newEmpiricalCDF,
	"kernel_density_estimate": newKernelDensity,

	"linear_model_mean":     newLinearModelMean,
	"per_client_dau_impact": newPerClientDAUImpact,
	"population_ratio":      newPopulationRatio,
}

// notImplemented are Jetstream statistics this package does not provide yet.
var notImplemented = []string{}

// Names returns the config names of the implemented statistics, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds a statistic from its Jetstream config name and the parameters
// of its TOML table ([metrics.<m>.statistics.<name>]) with the Fast engine,
// e.g.
//
//	New("bootstrap_mean", map[string]any{"num_samples": int64(10000), "drop_highest": 0.005})
//
// TOML integers arrive as int64 and floats as float64; integers are
// accepted for float parameters. An unknown statistic gives the error
// `statistic "x" does not exist`; an unknown parameter, a wrong type or an
// out-of-range value gives an error naming the parameter (and the value).
// `pre_treatments` is not a parameter (the config layer strips it).
func New(name string, params map[string]any) (Statistic, error) {
	return NewWithOptions(name, params, Options{})
}

// NewWithOptions is New with a choice of random engine and parallelism.
func NewWithOptions(name string, params map[string]any, opts Options) (Statistic, error) {
	build, ok := registry[name]
	if !ok {
		if slices.Contains(notImplemented, name) {
			return nil, fmt.Errorf("statistic %q is not implemented yet", name)
		}
		return nil, fmt.Errorf("statistic %q does not exist", name)
	}
	s, err := newSampler(opts)
	if err != nil {
		return nil, fmt.Errorf("statistic %q: %w", name, err)
	}
	p := &paramReader{stat: name, values: params}
	st, err := build(p, s)
	if err != nil {
		return nil, err
	}
	if err := p.unknown(); err != nil {
		return nil, err
	}
	return st, nil
}

// paramReader reads and validates the parameters of one statistic. Every read
// marks the name as known; unknown reports the names never read.
type paramReader struct {
	stat   string
	values map[string]any
	known  []string
}

func (p *paramReader) errorf(format string, args ...any) error {
	return fmt.Errorf("statistic %q: "+format, append([]any{p.stat}, args...)...)
}

// unknown returns an error naming the first (in sorted order) parameter
// that is not a parameter of the statistic.
func (p *paramReader) unknown() error {
	names := make([]string, 0, len(p.values))
	for n := range p.values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !slices.Contains(p.known, n) {
			accepted := "none"
			if len(p.known) > 0 {
				k := slices.Clone(p.known)
				sort.Strings(k)
				accepted = strings.Join(k, ", ")
			}
			return p.errorf("unknown parameter %q (accepted: %s)", n, accepted)
		}
	}
	return nil
}

// integer reads an integer parameter (int64 from TOML, or any Go integer),
// returning def when absent, and checks lo ≤ value ≤ hi.
func (p *paramReader) integer(name string, def, lo, hi int64) (int64, error) {
	p.known = append(p.known, name)
	raw, ok := p.values[name]
	if !ok {
		return def, nil
	}
	var v int64
	switch x := raw.(type) {
	case int64:
		v = x
	case int:
		v = int64(x)
	case int32:
		v = int64(x)
	case uint32:
		v = int64(x)
	case uint64:
		if x > math.MaxInt64 {
			return 0, p.errorf("parameter %s = %d is out of range [%d, %d]", name, x, lo, hi)
		}
		v = int64(x)
	default:
		return 0, p.errorf("parameter %s = %#v (%T): want an integer", name, raw, raw)
	}
	if v < lo || v > hi {
		return 0, p.errorf("parameter %s = %d is out of range [%d, %d]", name, v, lo, hi)
	}
	return v, nil
}

// interval is a range of real numbers with open or closed ends.
type interval struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

func (r interval) contains(x float64) bool {
	return (x > r.lo || !r.loOpen && x == r.lo) && (x < r.hi || !r.hiOpen && x == r.hi)
}

func (r interval) String() string {
	l, h := "[", "]"
	if r.loOpen {
		l = "("
	}
	if r.hiOpen {
		h = ")"
	}
	return fmt.Sprintf("%s%v, %v%s", l, r.lo, r.hi, h)
}

// real reads a float parameter (float64, or an integer such as TOML's
// `drop_highest = 0`), returning def when absent, and checks it lies in r.
func (p *paramReader) real(name string, def float64, r interval) (float64, error) {
	p.known = append(p.known, name)
	raw, ok := p.values[name]
	if !ok {
		return def, nil
	}
	var v float64
	switch x := raw.(type) {
	case float64:
		v = x
	case float32:
		v = float64(x)
	case int64:
		v = float64(x)
	case int:
		v = float64(x)
	default:
		return 0, p.errorf("parameter %s = %#v (%T): want a number", name, raw, raw)
	}
	if !r.contains(v) {
		return 0, p.errorf("parameter %s = %v is out of range %v", name, v, r)
	}
	return v, nil
}

// confidenceInterval reads the common `confidence_interval` parameter:
// default 0.95, in (0, 1).
func (p *paramReader) confidenceInterval() (float64, error) {
	return p.real("confidence_interval", 0.95, interval{lo: 0, hi: 1, loOpen: true, hiOpen: true})
}

// checkTally returns an error when a tally cannot be summarised: it
// contains NaN, or (when needData) it is empty.
func checkTally(stat, branch string, t Tally, needData bool) error {
	if t.HasNaN() {
		return fmt.Errorf("%s: branch %q: data contains NaN (drop null metric values before adding them to the tally)", stat, branch)
	}
	if needData && t.N() == 0 {
		return fmt.Errorf("%s: branch %q: no values", stat, branch)
	}
	return nil
}

// checkBranches panics if two estimates share a branch name.
func checkBranches(stat string, estimates []Estimate) {
	seen := make(map[string]bool, len(estimates))
	for _, e := range estimates {
		if seen[e.Branch] {
			panic(fmt.Sprintf("statistics: %s: Rows got two estimates for branch %q", stat, e.Branch))
		}
		seen[e.Branch] = true
	}
}

// comparativeRows is the Rows of a statistic with one set of replicates per
// branch: the individual rows (from Individual when present, otherwise from
// the replicates) and, for every ordered pair (b, ref) with b ≠ ref, the
// difference and relative_uplift rows of b's replicates against ref's.
func comparativeRows(name, output string, ci float64, estimates []Estimate) []Row {
	checkBranches(name, estimates)
	var rows []Row
	for _, e := range estimates {
		if e.Individual != nil {
			rows = append(rows, e.Individual...)
		} else {
			rows = append(rows, replicateRow(output, e.Branch, ci, e.Replicates))
		}
	}
	for _, f := range estimates {
		for _, r := range estimates {
			if f.Branch == r.Branch {
				continue
			}
			c := comparisonRows(output, f.Branch, r.Branch, ci, f.Replicates, r.Replicates)
			rows = append(rows, c[:]...)
		}
	}
	SortRows(rows)
	return rows
}

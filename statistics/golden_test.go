package statistics

import (
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// goldenDir holds the golden cases produced by the mozanalysis oracle
// (see its README.md).
const goldenDir = "../../shared/golden/statistics"

// goldenCases are the cases with at least one statistic implemented here.
var goldenCases = []string{
	"binomial-ci90-three-branches",
	"binomial-near-one",
	"binomial-near-zero",
	"binomial-zero-successes",
	"bootstrap-all-zero-branch",
	"bootstrap-heavy-tail",
	"bootstrap-integer-ci90-allrefs",
	"bootstrap-no-winsorize-ci99",
	"bootstrap-three-branches-allrefs",
	"count-sum",
	"deciles-continuous",
	"deciles-integer-ci90",
	"ecdf-kde-linear",
	"ecdf-kde-log-space",
	"ecdf-kde-small-grid-integer",
	"large-continuous",
	"linear-model-covariate",
	"linear-model-covariate-nulls",
	"linear-model-no-covariate",
	"linear-model-zero-reference",
	"nulls",
	"per-client-dau-impact",
	"population-ratio",
	"tiny-branches",
}

// outputs maps the statistics implemented here to their output names.
var outputs = map[string]string{
	"bootstrap_mean": "mean",
	"binomial":       "binomial",
	"count":          "count",
	"sum":            "sum",

	"deciles":                 "deciles",
	"empirical_cdf":           "empirical_cdf",
	"kernel_density_estimate": "kernel_density_estimate",

	"linear_model_mean":     "mean_lm",
	"per_client_dau_impact": "per_client_dau_impact",
	"population_ratio":      "population_ratio",
}

type goldenSpec struct {
	Seed  int64 `json:"seed"`
	Input struct {
		File string `json:"file"`
	} `json:"input"`
	Metrics                []string    `json:"metrics"`
	BinaryMetrics          []string    `json:"binary_metrics"`
	Statistics             []string    `json:"statistics"`
	ReferenceBranch        string      `json:"reference_branch"`
	AllBranchesAsReference bool        `json:"all_branches_as_reference"`
	Runs                   []goldenRun `json:"runs"`
}

// goldenRun is one (statistic, metric) the oracle ran.
type goldenRun struct {
	Statistic                  string         `json:"statistic"`
	Metric                     string         `json:"metric"`
	Numerator                  string         `json:"numerator"`
	Denominator                string         `json:"denominator"`
	Parameters                 map[string]any `json:"parameters"`
	BranchOrderFirstAppearance []string       `json:"branch_order_first_appearance"`
	RandomDrawBranchOrder      []string       `json:"random_draw_branch_order"`
	ReferencesInOrder          []string       `json:"references_in_order"`
}

type goldenRow struct {
	Metric             string   `json:"metric"`
	Statistic          string   `json:"statistic"`
	Parameter          any      `json:"parameter"`
	Branch             string   `json:"branch"`
	Comparison         *string  `json:"comparison"`
	ComparisonToBranch *string  `json:"comparison_to_branch"`
	CIWidth            *float64 `json:"ci_width"`
	Point              *float64 `json:"point"`
	Lower              *float64 `json:"lower"`
	Upper              *float64 `json:"upper"`
}

type goldenTolerance struct {
	MonteCarloRows []struct {
		Index       int                `json:"index"`
		Tol         map[string]float64 `json:"tol"`
		TolBitExact map[string]float64 `json:"tol_bit_exact"`
		Unstable    []string           `json:"unstable"`
	} `json:"monte_carlo_rows"`
}

type goldenCase struct {
	name     string
	spec     goldenSpec
	expected []goldenRow
	tol      goldenTolerance
	// tallies[metric][branch] holds the non-null values of a column.
	tallies map[string]map[string]*Tally
	// header and records are input.csv in file order (records without the header).
	header  []string
	records [][]string
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadGolden(t *testing.T, name string) *goldenCase {
	t.Helper()
	dir := filepath.Join(goldenDir, name)
	c := &goldenCase{name: name, tallies: map[string]map[string]*Tally{}}
	readJSON(t, filepath.Join(dir, "spec.json"), &c.spec)
	readJSON(t, filepath.Join(dir, "expected.json"), &c.expected)
	readJSON(t, filepath.Join(dir, "tolerance.json"), &c.tol)

	f, err := os.Open(filepath.Join(dir, c.spec.Input.File))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(c.spec.Input.File, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	records, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	header := records[0]
	c.header, c.records = header, records[1:]
	bcol := slices.Index(header, "branch")
	if bcol < 0 {
		t.Fatalf("%s: no branch column", name)
	}
	for _, rec := range records[1:] {
		for i, cell := range rec {
			if i == bcol || cell == "" { // empty cell = null, dropped
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				t.Fatalf("%s: column %s: %v", name, header[i], err)
			}
			m := c.tallies[header[i]]
			if m == nil {
				m = map[string]*Tally{}
				c.tallies[header[i]] = m
			}
			tl := m[rec[bcol]]
			if tl == nil {
				tl = &Tally{}
				m[rec[bcol]] = tl
			}
			tl.Add(v)
		}
	}
	return c
}

// statParams turns the parameters recorded in a run into New's parameters.
func statParams(stat string, p map[string]any) map[string]any {
	out := map[string]any{}
	switch stat {
	case "bootstrap_mean":
		out["num_samples"] = int64(p["num_samples"].(float64))
		out["drop_highest"] = p["drop_highest"]
		out["confidence_interval"] = p["confidence_interval"]
	case "binomial":
		out["confidence_interval"] = p["confidence_interval"]
	case "deciles":
		out["num_samples"] = int64(p["num_samples"].(float64))
		out["confidence_interval"] = p["confidence_interval"]
	case "empirical_cdf", "kernel_density_estimate":
		for k, v := range p {
			if k == "grid_size" {
				v = int64(v.(float64))
			}
			out[k] = v
		}
	case "linear_model_mean", "per_client_dau_impact":
		out["drop_highest"] = p["drop_highest"]
		if p["covariate"] != nil {
			out["covariate_adjustment"] = map[string]any{"period": "preenrollment_week"}
		}
		// The column types, as the pipeline passes them from the warehouse.
		for flag, key := range map[string]string{"integer_metric": "clip_threshold_rounded_up", "integer_covariate": "covariate_clip_threshold_rounded_up"} {
			if v, ok := p[key].(bool); ok {
				out[flag] = v
			}
		}
	case "population_ratio":
		out["num_samples"] = int64(p["num_samples"].(float64))
		out["drop_highest"] = p["drop_highest"]
		out["confidence_interval"] = p["confidence_interval"]
	}
	return out
}

// pairs returns, per branch, the rows whose columns a and b are both
// non-null, as a PairTally and as the two columns in file order.
func (c *goldenCase) pairs(t *testing.T, a, b string) (map[string]*PairTally, map[string][2][]float64) {
	t.Helper()
	bcol, ia, ib := slices.Index(c.header, "branch"), slices.Index(c.header, a), slices.Index(c.header, b)
	if ia < 0 || ib < 0 {
		return nil, nil
	}
	tallies, cols := map[string]*PairTally{}, map[string][2][]float64{}
	for _, rec := range c.records {
		if rec[ia] == "" || rec[ib] == "" {
			continue
		}
		x, err1 := strconv.ParseFloat(rec[ia], 64)
		y, err2 := strconv.ParseFloat(rec[ib], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", c.name, err1, err2)
		}
		br := rec[bcol]
		if tallies[br] == nil {
			tallies[br] = &PairTally{}
		}
		tallies[br].Add(x, y)
		col := cols[br]
		col[0], col[1] = append(col[0], x), append(col[1], y)
		cols[br] = col
	}
	return tallies, cols
}

// goldenInputs builds the Inputs of one run: the metric's tallies and, for
// the linear models, (metric, metric_pre) pairs when the case has the
// covariate column; for population_ratio, (numerator, denominator) pairs.
func (c *goldenCase) goldenInputs(t *testing.T, stat, metric, num, den string, branches []string) []Input {
	t.Helper()
	var pairs map[string]*PairTally
	switch stat {
	case "linear_model_mean", "per_client_dau_impact":
		pairs, _ = c.pairs(t, metric, metric+"_pre")
	case "population_ratio":
		pairs, _ = c.pairs(t, num, den)
	}
	var inputs []Input
	for _, b := range branches {
		in := Input{Branch: b}
		if tl := c.tallies[metric][b]; tl != nil {
			in.Tally = *tl
		}
		if p := pairs[b]; p != nil {
			in.Pairs = *p
		}
		inputs = append(inputs, in)
	}
	return inputs
}

func rowKey(metric, stat, branch, comparison, ref, param string) string {
	return strings.Join([]string{metric, stat, branch, comparison, ref, param}, "|")
}

func (r goldenRow) key() string {
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	param := ""
	switch p := r.Parameter.(type) {
	case string:
		param = p
	case float64:
		// ECDF/KDE grid points: the oracle's unrounded x; rows carry
		// Jetstream's stored form str(round(x, 6)). The unrounded grid is
		// checked numerically by TestGoldenGrid.
		param = StoredParameter(p)
	}
	return rowKey(r.Metric, r.Statistic, r.Branch, deref(r.Comparison), deref(r.ComparisonToBranch), param)
}

func (r Row) key() string {
	return rowKey(r.Metric, r.Statistic, r.Branch, r.Comparison, r.ComparisonToBranch, r.Parameter)
}

// matchStats accumulates how closely a case matched.
type matchStats struct {
	rows, mcValues, exactValues, skipped int
	worst                                float64 // largest |Δ|/tol over Monte-Carlo values
	worstAt                              string
	lmBounds                             int     // lm_relative_bounds values compared
	lmWorst                              float64 // largest |Δ|/tol over them
	exactWorst                           float64 // largest |Δ|/tol over exact-class values
	exactWorstAt                         string
}

// lmRelativeBound reports whether a field of an expected row is in the
// lm_relative_bounds class: lower/upper of a linear model's relative_uplift.
func lmRelativeBound(e goldenRow, field string) bool {
	return (e.Statistic == "mean_lm" || e.Statistic == "per_client_dau_impact") &&
		e.Comparison != nil && *e.Comparison == RelativeUplift && (field == "lower" || field == "upper")
}

// compareGolden checks that got contains exactly the expected rows of the
// statistics in stats and that every value is within tolerance. bitExact
// selects tol_bit_exact for Monte-Carlo rows (and then checks unstable
// fields too).
func compareGolden(t *testing.T, c *goldenCase, stats map[string]bool, got []Row, bitExact bool) matchStats {
	t.Helper()
	var ms matchStats
	mc := map[int]int{}
	for i, m := range c.tol.MonteCarloRows {
		mc[m.Index] = i
	}
	gotByKey := map[string]Row{}
	for _, r := range got {
		k := r.key()
		if _, dup := gotByKey[k]; dup {
			t.Errorf("%s: duplicate row %s", c.name, k)
		}
		gotByKey[k] = r
	}
	seen := map[string]bool{}
	for i, e := range c.expected {
		if !stats[e.Statistic] {
			continue
		}
		k := e.key()
		seen[k] = true
		a, ok := gotByKey[k]
		if !ok {
			t.Errorf("%s: missing row %s", c.name, k)
			continue
		}
		ms.rows++
		checkExact := func(field string, want *float64, have float64) {
			if want == nil {
				if !math.IsNaN(have) {
					t.Errorf("%s: row %s: %s = %v, want NULL", c.name, k, field, have)
				}
				return
			}
			ms.exactValues++
			tol := max(1e-9*math.Abs(*want), 1e-12)
			d := math.Abs(have - *want)
			if !(d <= tol) {
				t.Errorf("%s: row %s: %s = %v, want %v (exact class)", c.name, k, field, have, *want)
			}
			if d/tol > ms.exactWorst {
				ms.exactWorst, ms.exactWorstAt = d/tol, k+" "+field
			}
		}
		checkExact("ci_width", e.CIWidth, a.CIWidth)
		fields := []struct {
			name string
			want *float64
			have float64
		}{{"point", e.Point, a.Point}, {"lower", e.Lower, a.Lower}, {"upper", e.Upper, a.Upper}}
		j, isMC := mc[i]
		for _, f := range fields {
			if !isMC && lmRelativeBound(e, f.name) && f.want != nil && e.Lower != nil && e.Upper != nil {
				// lm_relative_bounds: the delta-method Jacobian may differ.
				if math.IsNaN(f.have) {
					t.Errorf("%s: row %s: %s is NULL, want %v", c.name, k, f.name, *f.want)
					continue
				}
				tol := max(1e-5*(*e.Upper-*e.Lower), 1e-9*math.Abs(*f.want), 1e-12)
				d := math.Abs(f.have - *f.want)
				if !(d <= tol) {
					t.Errorf("%s: row %s: %s = %v, want %v ± %v (lm_relative_bounds)", c.name, k, f.name, f.have, *f.want, tol)
				}
				ms.lmBounds++
				ms.lmWorst = max(ms.lmWorst, d/tol)
				continue
			}
			if !isMC {
				checkExact(f.name, f.want, f.have)
				continue
			}
			m := c.tol.MonteCarloRows[j]
			tol := m.Tol
			if bitExact {
				tol = m.TolBitExact
			} else if slices.Contains(m.Unstable, f.name) {
				ms.skipped++
				continue
			}
			if f.want == nil {
				if !math.IsNaN(f.have) {
					t.Errorf("%s: row %s: %s = %v, want NULL", c.name, k, f.name, f.have)
				}
				continue
			}
			if math.IsNaN(f.have) {
				t.Errorf("%s: row %s: %s is NULL, want %v", c.name, k, f.name, *f.want)
				continue
			}
			tl, ok := tol[f.name]
			if !ok {
				t.Errorf("%s: row %s: no tolerance for %s", c.name, k, f.name)
				continue
			}
			ms.mcValues++
			d := math.Abs(f.have - *f.want)
			if !(d <= tl) {
				t.Errorf("%s: row %s: %s = %v, want %v ± %v (|Δ|/tol = %.3g)", c.name, k, f.name, f.have, *f.want, tl, d/tl)
			}
			if tl > 0 && d/tl > ms.worst {
				ms.worst, ms.worstAt = d/tl, k+" "+f.name
			}
		}
	}
	for _, r := range got {
		if !seen[r.key()] {
			t.Errorf("%s: extra row %s (point %v)", c.name, r.key(), r.Point)
		}
	}
	return ms
}

// referenceComputer is implemented by statistics whose rows for one
// reference depend on whether that reference is skipped (linear models: the
// zero-reference guard drops the individual rows too).
type referenceComputer interface {
	computeReferences(inputs []Input, refs []string) ([]Row, []error)
}

// runGolden computes the rows of the implemented statistics of a case with
// Compute: every branch as reference in one pass, seeds from Seed. The
// oracle ran with one reference unless all_branches_as_reference; then only
// that reference's comparisons are kept (and a linear model computes that
// reference alone, see referenceComputer). params adjusts the parameters of
// each run (nil: none).
func runGolden(t *testing.T, c *goldenCase, opts Options, params func(map[string]any)) ([]Row, map[string]bool) {
	t.Helper()
	stats := map[string]bool{}
	var rows []Row
	for _, run := range c.spec.Runs {
		out, ok := outputs[run.Statistic]
		if !ok {
			continue
		}
		stats[out] = true
		rows = append(rows, runGoldenRun(t, c, run, opts, params)...)
	}
	return rows, stats
}

// runGoldenRun computes the rows of one run of a case.
func runGoldenRun(t *testing.T, c *goldenCase, run goldenRun, opts Options, params func(map[string]any)) []Row {
	t.Helper()
	var rows []Row
	p := statParams(run.Statistic, run.Parameters)
	if run.Statistic == "population_ratio" {
		p["numerator"], p["denominator"] = run.Numerator, run.Denominator
	}
	if params != nil {
		params(p)
	}
	st, err := NewWithOptions(run.Statistic, p, opts)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	inputs := c.goldenInputs(t, run.Statistic, run.Metric, run.Numerator, run.Denominator, run.BranchOrderFirstAppearance)
	seed := func(b string) uint64 { return Seed(uint64(c.spec.Seed), c.name, run.Metric, b, run.Statistic) }
	var got []Row
	var errs []error
	if rc, ok := st.(referenceComputer); ok && !c.spec.AllBranchesAsReference {
		got, errs = rc.computeReferences(inputs, []string{c.spec.ReferenceBranch})
	} else {
		got, errs = Compute(st, inputs, seed)
	}
	for _, e := range errs {
		t.Logf("%s: %s(%s): %v", c.name, run.Statistic, run.Metric, e)
	}
	for _, r := range got {
		// The oracle ran with one reference unless all_branches_as_reference;
		// Rows always produces every ordered pair.
		if r.Comparison != "" && !c.spec.AllBranchesAsReference && r.ComparisonToBranch != c.spec.ReferenceBranch {
			continue
		}
		r.Metric = run.Metric
		rows = append(rows, r)
	}
	return rows
}

func TestGolden(t *testing.T) {
	for _, name := range goldenCases {
		t.Run(name, func(t *testing.T) {
			c := loadGolden(t, name)
			// mozanalysis clips bootstrap_mean's data once; the Fast engine's own way
			// (the threshold inside each replicate) is a different, wider interval,
			// checked by TestWinsorKernel* and the simulation package.
			rows, stats := runGolden(t, c, Options{FixedThreshold: true}, nil)
			ms := compareGolden(t, c, stats, rows, false)
			if ms.rows == 0 {
				t.Fatalf("%s: no rows compared", name)
			}
			t.Logf("%s: %d rows match (%d exact values, worst |Δ|/tol %.3g at %s; %d lm_relative_bounds values, worst %.3g; %d Monte-Carlo values, %d unstable skipped); worst Monte-Carlo |Δ|/tol = %.3f at %s",
				name, ms.rows, ms.exactValues, ms.exactWorst, ms.exactWorstAt, ms.lmBounds, ms.lmWorst, ms.mcValues, ms.skipped, ms.worst, ms.worstAt)
		})
	}
}

// bitExactCases are replayed with the NumpyLegacy engine: every case (the
// sequential legacy engine needs ~20 s for large-continuous).
var bitExactCases = goldenCases

// replayLegacy reproduces the oracle's random draws (README "Draw order
// after seed(S)") with the NumpyLegacy engine: bootstrap_mean draws one
// per-branch seed per reference run from the global stream; binomial draws
// its comparison replicates from the global stream in sorted branch order.
// Comparative rows come from the run of their reference, individual rows
// from the last run.
func replayLegacy(t *testing.T, c *goldenCase) ([]Row, map[string]bool) {
	t.Helper()
	stats := map[string]bool{}
	var rows []Row
	for _, run := range c.spec.Runs {
		out, ok := outputs[run.Statistic]
		if run.Statistic == "deciles" { // see deciles_test.go
			stats[out] = true
			rows = append(rows, replayLegacyDeciles(t, c, run.Metric, run.Parameters, run.RandomDrawBranchOrder, run.ReferencesInOrder)...)
			continue
		}
		if run.Statistic == "population_ratio" { // see ratio_test.go
			stats[out] = true
			rows = append(rows, replayLegacyRatio(t, c, run.Numerator, run.Denominator, run.Parameters, run.BranchOrderFirstAppearance, run.ReferencesInOrder)...)
			continue
		}
		if !ok {
			continue
		}
		if run.Statistic != "bootstrap_mean" && run.Statistic != "binomial" {
			// Deterministic statistics draw nothing: the same computation with the legacy engine.
			stats[out] = true
			rows = append(rows, runGoldenRun(t, c, run, Options{Engine: NumpyLegacy}, nil)...)
			continue
		}
		stats[out] = true
		st, err := NewWithOptions(run.Statistic, statParams(run.Statistic, run.Parameters), Options{Engine: NumpyLegacy})
		if err != nil {
			t.Fatal(err)
		}
		global := newMT19937(uint32(c.spec.Seed))
		for ri, ref := range run.ReferencesInOrder {
			var est []Estimate
			switch run.Statistic {
			case "bootstrap_mean":
				for _, b := range run.BranchOrderFirstAppearance {
					seed := global.boundedUint32(4294967294)
					e, err := st.Estimate(b, *c.tallies[run.Metric][b], uint64(seed))
					if err != nil {
						t.Fatal(err)
					}
					est = append(est, e)
				}
			case "binomial":
				for _, b := range run.RandomDrawBranchOrder {
					e, err := st.Estimate(b, *c.tallies[run.Metric][b], 0)
					if err != nil {
						t.Fatal(err)
					}
					n, s, _ := Successes(*c.tallies[run.Metric][b])
					for i := range e.Replicates {
						e.Replicates[i] = global.beta(float64(s+1), float64(n-s+1))
					}
					est = append(est, e)
				}
			}
			last := ri == len(run.ReferencesInOrder)-1
			for _, r := range st.Rows(est) {
				if r.Comparison == "" && !last || r.Comparison != "" && r.ComparisonToBranch != ref {
					continue
				}
				r.Metric = run.Metric
				rows = append(rows, r)
			}
		}
	}
	return rows, stats
}

func TestGoldenBitExactNumpyLegacy(t *testing.T) {
	for _, name := range bitExactCases {
		t.Run(name, func(t *testing.T) {
			c := loadGolden(t, name)
			rows, stats := replayLegacy(t, c)
			ms := compareGolden(t, c, stats, rows, true)
			if ms.rows == 0 {
				t.Fatalf("%s: no rows compared", name)
			}
			t.Logf("%s: %d rows match bit-exactly (%d Monte-Carlo values within tol_bit_exact; worst |Δ|/tol = %.3f)",
				name, ms.rows, ms.mcValues, ms.worst)
		})
	}
}

// Ensure the case list covers every golden case that runs one of our statistics.
func TestGoldenCaseList(t *testing.T) {
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		var spec goldenSpec
		readJSON(t, filepath.Join(goldenDir, e.Name(), "spec.json"), &spec)
		for _, s := range spec.Statistics {
			if _, ok := outputs[s]; ok {
				want = append(want, e.Name())
				break
			}
		}
	}
	if !slices.Equal(want, goldenCases) {
		t.Errorf("golden cases with implemented statistics = %v, test list = %v", want, goldenCases)
	}
}

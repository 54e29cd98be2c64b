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
	"large-continuous",
	"linear-model-zero-reference",
	"nulls",
	"tiny-branches",
}

// outputs maps the statistics implemented here to their output names.
var outputs = map[string]string{
	"bootstrap_mean": "mean",
	"binomial":       "binomial",
	"count":          "count",
	"sum":            "sum",
}

type goldenSpec struct {
	Seed  int64 `json:"seed"`
	Input struct {
		File string `json:"file"`
	} `json:"input"`
	Metrics                []string `json:"metrics"`
	BinaryMetrics          []string `json:"binary_metrics"`
	Statistics             []string `json:"statistics"`
	ReferenceBranch        string   `json:"reference_branch"`
	AllBranchesAsReference bool     `json:"all_branches_as_reference"`
	Runs                   []struct {
		Statistic                  string         `json:"statistic"`
		Metric                     string         `json:"metric"`
		Parameters                 map[string]any `json:"parameters"`
		BranchOrderFirstAppearance []string       `json:"branch_order_first_appearance"`
		RandomDrawBranchOrder      []string       `json:"random_draw_branch_order"`
		ReferencesInOrder          []string       `json:"references_in_order"`
	} `json:"runs"`
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
	}
	return out
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
		param = strconv.FormatFloat(p, 'g', -1, 64)
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
			if d := math.Abs(have - *want); !(d <= max(1e-9*math.Abs(*want), 1e-12)) {
				t.Errorf("%s: row %s: %s = %v, want %v (exact class)", c.name, k, field, have, *want)
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

// runGolden computes the rows of the implemented statistics of a case with
// the Fast engine: every branch as reference in one pass, seeds from Seed.
func runGolden(t *testing.T, c *goldenCase, opts Options) ([]Row, map[string]bool) {
	t.Helper()
	stats := map[string]bool{}
	var rows []Row
	for _, run := range c.spec.Runs {
		out, ok := outputs[run.Statistic]
		if !ok {
			continue
		}
		stats[out] = true
		st, err := NewWithOptions(run.Statistic, statParams(run.Statistic, run.Parameters), opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var est []Estimate
		for _, b := range run.BranchOrderFirstAppearance {
			tl := c.tallies[run.Metric][b]
			if tl == nil {
				tl = &Tally{}
			}
			e, err := st.Estimate(b, *tl, Seed(uint64(c.spec.Seed), c.name, run.Metric, b, run.Statistic))
			if err != nil {
				t.Fatalf("%s: %s(%s): %v", c.name, run.Statistic, run.Metric, err)
			}
			est = append(est, e)
		}
		for _, r := range st.Rows(est) {
			// The oracle ran with one reference unless all_branches_as_reference;
			// Rows always produces every ordered pair.
			if r.Comparison != "" && !c.spec.AllBranchesAsReference && r.ComparisonToBranch != c.spec.ReferenceBranch {
				continue
			}
			r.Metric = run.Metric
			rows = append(rows, r)
		}
	}
	return rows, stats
}

func TestGolden(t *testing.T) {
	for _, name := range goldenCases {
		t.Run(name, func(t *testing.T) {
			c := loadGolden(t, name)
			rows, stats := runGolden(t, c, Options{})
			ms := compareGolden(t, c, stats, rows, false)
			if ms.rows == 0 {
				t.Fatalf("%s: no rows compared", name)
			}
			t.Logf("%s: %d rows match (%d exact values, %d Monte-Carlo values, %d unstable skipped); worst Monte-Carlo |Δ|/tol = %.3f at %s",
				name, ms.rows, ms.exactValues, ms.mcValues, ms.skipped, ms.worst, ms.worstAt)
		})
	}
}

// bitExactCases are replayed with the NumpyLegacy engine (large-continuous
// is left out: the sequential legacy engine needs ~20 s for it).
var bitExactCases = []string{
	"binomial-ci90-three-branches",
	"binomial-near-one",
	"binomial-near-zero",
	"binomial-zero-successes",
	"bootstrap-all-zero-branch",
	"bootstrap-heavy-tail",
	"bootstrap-integer-ci90-allrefs",
	"bootstrap-no-winsorize-ci99",
	"bootstrap-three-branches-allrefs",
	"linear-model-zero-reference",
	"nulls",
	"tiny-branches",
}

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
		if !ok || (run.Statistic != "bootstrap_mean" && run.Statistic != "binomial") {
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

package launcher

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/statistics"
)

const countSumCase = "../../shared/golden/statistics/count-sum/"

// TestStatisticsCommandCountSum: every count and sum row of the golden case, exactly.
func TestStatisticsCommandCountSum(t *testing.T) {
	data, err := os.ReadFile(countSumCase + "expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var expected []struct {
		Metric, Statistic, Branch string
		Point                     float64
	}
	if err := json.Unmarshal(data, &expected); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, metric := range []string{"active_hours", "bytes_downloaded", "days_of_use", "retained"} {
		for _, stat := range []string{"count", "sum"} {
			var out bytes.Buffer
			err := runStatistics(&out, &bytes.Buffer{}, statisticsRequest{Input: countSumCase + "input.csv", Metric: metric, Statistic: stat, Format: "json", Engine: statistics.Fast})
			if err != nil {
				t.Fatal(err)
			}
			windows, err := export.ParseStatisticsJSON(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range windows[0].Rows {
				got[r.Metric+" "+r.Statistic+" "+r.Branch] = r.Point
			}
		}
	}
	if len(expected) != 24 || len(got) != len(expected) {
		t.Fatalf("%d rows, want %d", len(got), len(expected))
	}
	for _, e := range expected {
		g := got[e.Metric+" "+e.Statistic+" "+e.Branch]
		if math.Abs(g-e.Point) > 1e-9*math.Abs(e.Point) {
			t.Errorf("%s %s %s = %v, want %v", e.Metric, e.Statistic, e.Branch, g, e.Point)
		}
	}
}

// TestStatisticsCommandBootstrap: the command prints exactly what the statistics package
// computes for the same inputs and seeds, limited to the reference branch's comparisons.
func TestStatisticsCommandBootstrap(t *testing.T) {
	var out bytes.Buffer
	req := statisticsRequest{Input: countSumCase + "input.csv", Metric: "active_hours", Statistic: "bootstrap_mean",
		Params: []string{"num_samples=300", "confidence_interval=0.9"}, Reference: "control", Seed: 7, Format: "json", Engine: statistics.Fast}
	if err := runStatistics(&out, &bytes.Buffer{}, req); err != nil {
		t.Fatal(err)
	}
	windows, err := export.ParseStatisticsJSON(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	rows := windows[0].Rows
	// 3 individual rows + 2 branches × (difference, relative_uplift) against control.
	if len(rows) != 7 {
		t.Fatalf("%d rows, want 7:\n%s", len(rows), out.String())
	}
	st, _ := statistics.New("bootstrap_mean", map[string]any{"num_samples": int64(300), "confidence_interval": 0.9})
	var tally statistics.Tally
	data, _ := os.ReadFile(countSumCase + "input.csv")
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) > 1 && f[0] == "treatment-a" {
			var v float64
			json.Unmarshal([]byte(f[1]), &v)
			tally.Add(v)
		}
	}
	est, err := st.Estimate("treatment-a", tally, statistics.Seed(7, "active_hours", "treatment-a", "bootstrap_mean"))
	if err != nil {
		t.Fatal(err)
	}
	want := st.Rows([]statistics.Estimate{est})[0]
	for _, r := range rows {
		if r.Branch == "treatment-a" && r.Comparison == "" {
			if r.Point != want.Point || r.Lower != want.Lower || r.Upper != want.Upper || r.CIWidth != 0.9 {
				t.Errorf("treatment-a row %+v, want %+v", r, want)
			}
		}
		if r.Comparison != "" && r.ComparisonToBranch != "control" {
			t.Errorf("comparison against %s printed with --reference-branch control", r.ComparisonToBranch)
		}
	}
}

func TestStatisticsCommandErrors(t *testing.T) {
	cases := []struct {
		req  statisticsRequest
		want string
	}{
		{statisticsRequest{Input: countSumCase + "input.csv", Metric: "nope", Statistic: "sum", Format: "json"}, `input.csv: no column "nope"`},
		{statisticsRequest{Input: countSumCase + "input.csv", Metric: "active_hours", Statistic: "bootstrap_mean", Params: []string{"num_sample=10"}, Format: "json"}, `unknown parameter "num_sample"`},
		{statisticsRequest{Input: countSumCase + "input.csv", Metric: "active_hours", Statistic: "sum", Reference: "ctrl", Format: "json"}, `--reference-branch: "ctrl" is not a branch`},
		{statisticsRequest{Input: countSumCase + "input.csv", Metric: "active_hours", Statistic: "sum", Format: "yaml"}, `--format: want json or table, got "yaml"`},
		{statisticsRequest{Input: countSumCase + "input.csv", Metric: "active_hours", Statistic: "binomial", Format: "json"}, `3 branch(es) could not be computed`},
		{statisticsRequest{Input: countSumCase + "input.csv", Metric: "active_hours", Statistic: "sum", Params: []string{"=1"}, Format: "json"}, `--param "=1": want key=value`},
	}
	for _, tc := range cases {
		err := runStatistics(&bytes.Buffer{}, &bytes.Buffer{}, tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error = %v, want %s", tc.req, err, tc.want)
		}
	}
}

func TestParseParams(t *testing.T) {
	p, err := parseParams([]string{"num_samples=100", "drop_highest=0.01", "log_space=true", "covariate_adjustment.period=preenrollment_week", "bandwidth=scott"})
	if err != nil {
		t.Fatal(err)
	}
	cov, _ := p["covariate_adjustment"].(map[string]any)
	if p["num_samples"] != int64(100) || p["drop_highest"] != 0.01 || p["log_space"] != true || p["bandwidth"] != "scott" || cov["period"] != "preenrollment_week" {
		t.Errorf("params = %v", p)
	}
}

// TestStatisticsCommandReplaysMozanalysis: with --rng numpy-legacy and the case's seed, the
// command reproduces mozanalysis' rows of single-reference golden cases to the last digits.
func TestStatisticsCommandReplaysMozanalysis(t *testing.T) {
	for _, name := range []string{"bootstrap-no-winsorize-ci99", "bootstrap-heavy-tail", "binomial-near-one", "deciles-integer-ci90", "population-ratio", "linear-model-covariate"} {
		t.Run(name, func(t *testing.T) {
			dir := "../../shared/golden/statistics/" + name + "/"
			var spec struct {
				Seed uint64 `json:"seed"`
				Runs []struct {
					Statistic   string         `json:"statistic"`
					Metric      string         `json:"metric"`
					Numerator   string         `json:"numerator"`
					Denominator string         `json:"denominator"`
					Parameters  map[string]any `json:"parameters"`
				} `json:"runs"`
			}
			readJSONFile(t, dir+"spec.json", &spec)
			var expected []struct {
				Metric, Statistic, Branch, Comparison string
				ComparisonToBranch                    string `json:"comparison_to_branch"`
				Parameter                             *string
				Point, Lower, Upper                   *float64
			}
			readJSONFile(t, dir+"expected.json", &expected)
			got := map[string]statistics.Row{}
			for _, run := range spec.Runs {
				if run.Statistic == "count" || run.Statistic == "sum" {
					continue
				}
				var params []string
				keys := map[string][]string{
					"bootstrap_mean":    {"num_samples", "drop_highest", "confidence_interval"},
					"population_ratio":  {"num_samples", "drop_highest", "confidence_interval"},
					"binomial":          {"confidence_interval"},
					"deciles":           {"num_samples", "confidence_interval"},
					"linear_model_mean": {"drop_highest"},
				}[run.Statistic]
				for _, k := range keys {
					if v, ok := run.Parameters[k]; ok {
						params = append(params, k+"="+fmtJSON(v))
					}
				}
				if cov, ok := run.Parameters["covariate"].(string); ok && cov != "" {
					// the oracle's covariate column is <metric>_pre, from a pre-enrollment period
					if cov != run.Metric+"_pre" {
						t.Fatalf("covariate %s of %s", cov, run.Metric)
					}
					params = append(params, "covariate_adjustment.period=preenrollment_week")
				}
				metric := run.Metric
				if run.Statistic == "population_ratio" {
					params = append(params, "numerator="+run.Numerator, "denominator="+run.Denominator)
					metric = run.Numerator + "/" + run.Denominator
				}
				var out bytes.Buffer
				req := statisticsRequest{Input: dir + "input.csv", Metric: metric, Statistic: run.Statistic, Params: params,
					Reference: "control", Seed: spec.Seed, Engine: statistics.NumpyLegacy, Format: "json"}
				if err := runStatistics(&out, &bytes.Buffer{}, req); err != nil {
					t.Fatal(err)
				}
				windows, err := export.ParseStatisticsJSON(out.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range windows[0].Rows {
					got[strings.Join([]string{r.Metric, r.Statistic, r.Parameter, r.Branch, r.Comparison, r.ComparisonToBranch}, "|")] = r
				}
			}
			compared := 0
			for _, e := range expected {
				if e.Statistic == "count" || e.Statistic == "sum" {
					continue
				}
				param := ""
				if e.Parameter != nil {
					param = *e.Parameter
				}
				key := strings.Join([]string{e.Metric, e.Statistic, param, e.Branch, e.Comparison, e.ComparisonToBranch}, "|")
				g, ok := got[key]
				if !ok {
					t.Errorf("missing row %s", key)
					continue
				}
				compared++
				for _, f := range []struct {
					name string
					got  float64
					want *float64
				}{{"point", g.Point, e.Point}, {"lower", g.Lower, e.Lower}, {"upper", g.Upper, e.Upper}} {
					if f.want == nil {
						if !math.IsNaN(f.got) {
							t.Errorf("%s %s = %v, want NULL", key, f.name, f.got)
						}
						continue
					}
					// bit-exact replays: 1e-12; linear models are deterministic (exact class, 1e-9),
					// their delta-method bounds use a finite-difference Jacobian (golden class
					// lm_relative_bounds: 1e-5 of the interval width)
					tol := 1e-12 * math.Max(1, math.Abs(*f.want))
					if e.Statistic == "mean_lm" {
						tol = 1e-9 * math.Max(1, math.Abs(*f.want))
						if e.Comparison == "relative_uplift" && f.name != "point" && e.Lower != nil && e.Upper != nil {
							tol = math.Max(tol, 1e-5*(*e.Upper-*e.Lower))
						}
					}
					if math.Abs(f.got-*f.want) > tol {
						t.Errorf("%s %s = %.17g, want %.17g", key, f.name, f.got, *f.want)
					}
				}
			}
			if compared == 0 || compared != len(got) {
				t.Errorf("compared %d rows; the command printed %d", compared, len(got))
			}
		})
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

package export

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/jetstream-beam/jetstream/statistics"
)

const schemaDir = "../../shared/fixtures/schemas"

// statisticsSchema compiles the published statistics JSON Schema (draft-07).
func statisticsSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	s, err := jsonschema.NewCompiler().Compile(filepath.Join(schemaDir, "statistics.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ValidateStatistics checks a statistics JSON document against the schema and the
// duplicate-row rule; it is what consumers of our files rely on.
func validateStatistics(t *testing.T, schema *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return schema.Validate(inst)
}

func TestSchemaExamples(t *testing.T) {
	schema := statisticsSchema(t)
	for _, name := range []string{"statistics_test_experiment_weekly.json", "statistics_three_branch_overall_excerpt.json"} {
		data, err := os.ReadFile(filepath.Join(schemaDir, "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := validateStatistics(t, schema, data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	invalid, _ := filepath.Glob(filepath.Join(schemaDir, "examples", "invalid", "statistics_*.json"))
	if len(invalid) != 7 {
		t.Fatalf("found %d invalid statistics examples, want 7", len(invalid))
	}
	for _, path := range invalid {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(path, "statistics_duplicate_row.json") {
			windows := windowsFromJSON(t, data)
			if len(Duplicates(windows)) != 1 {
				t.Errorf("%s: Duplicates found %v, want one", path, Duplicates(windows))
			}
			continue
		}
		if err := validateStatistics(t, schema, data); err == nil {
			t.Errorf("%s: validated, want a schema error", path)
		}
	}
}

func windowsFromJSON(t *testing.T, data []byte) []Window {
	t.Helper()
	w, err := ParseStatisticsJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestStatisticsJSON renders rows of every shape we write (individual, comparison, count
// with NULL interval, parameter, NaN point) and checks the document against the schema and
// the exact text of one row.
func TestStatisticsJSON(t *testing.T) {
	nan := math.NaN()
	rows := []statistics.Row{
		{Metric: "active_hours", Statistic: "mean", Branch: "control", CIWidth: 0.95, Point: 1.5, Lower: 1.25, Upper: 1.75, Segment: "all", AnalysisBasis: "enrollments"},
		{Metric: "active_hours", Statistic: "mean", Branch: "treatment", Comparison: "relative_uplift", ComparisonToBranch: "control", CIWidth: 0.95, Point: 0.05, Lower: nan, Upper: math.Inf(1), Segment: "all", AnalysisBasis: "exposures"},
		{Metric: "identity", Statistic: "count", Branch: "control", CIWidth: nan, Point: 1000, Lower: nan, Upper: nan, Segment: "all", AnalysisBasis: "enrollments"},
		{Metric: "active_hours", Statistic: "deciles", Parameter: "0.1", Branch: "control", CIWidth: 0.9, Point: nan, Lower: 0, Upper: 2e-7, Segment: "all", AnalysisBasis: "enrollments"},
	}
	windows := []Window{{Index: 1, Rows: rows}, {Index: 2, Rows: rows}}
	data := StatisticsJSON(windows)
	if err := validateStatistics(t, statisticsSchema(t), data); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if got := string(MarshalRow(rows[1], 2)); got != `{"metric":"active_hours","statistic":"mean","branch":"treatment","comparison":"relative_uplift","comparison_to_branch":"control","ci_width":0.95,"point":0.05,"segment":"all","analysis_basis":"exposures","window_index":"2"}` {
		t.Errorf("row = %s", got)
	}
	if got := string(MarshalRow(rows[2], 0)); got != `{"metric":"identity","statistic":"count","branch":"control","point":1000,"segment":"all","analysis_basis":"enrollments"}` {
		t.Errorf("count row = %s", got)
	}
	if d := Duplicates(windows); len(d) != 0 {
		t.Errorf("duplicates across windows: %v", d)
	}
	back := windowsFromJSON(t, data)
	if len(back) != 2 || len(back[1].Rows) != 4 || back[1].Rows[3].Parameter != "0.1" || back[1].Rows[0].Point != 1.5 || !math.IsNaN(back[1].Rows[1].Upper) {
		t.Errorf("round trip = %+v", back)
	}
	if d := Duplicates([]Window{{Index: 1, Rows: append(rows, rows[0])}}); len(d) != 1 {
		t.Errorf("Duplicates = %v, want one", d)
	}
}

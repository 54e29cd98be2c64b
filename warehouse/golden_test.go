package warehouse

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden SQL files in testdata/")

// goldenQueries are the enrollments and metrics queries of Jetstream's integration-test
// experiment (fixtures/telemetry): a segment, the exposures basis, both analysis units.
func goldenQueries(t *testing.T, d Dialect) map[string]string {
	t.Helper()
	e := Enrollments{Slug: "test-experiment", First: date("2020-03-30"), Last: date("2020-04-06"),
		EventsTable: "mozdata.telemetry.events", Segments: []Segment{regularUser}}
	out := map[string]string{}
	for _, unit := range []string{"client_id", "profile_group_id"} {
		e.AnalysisUnit = unit
		q, err := e.Query(d)
		if err != nil {
			t.Fatal(err)
		}
		out["enrollments_"+unit] = q
	}
	for _, typ := range []string{EnrollmentsGleanEvent, EnrollmentsFenixFallback, EnrollmentsCirrus} {
		g := Enrollments{Slug: "test-experiment", First: date("2020-03-30"), Last: date("2020-04-06"),
			EventsTable: "moz-fx-data-shared-prod.telemetry.events", Type: typ, AppDataset: "fenix", SampleSize: 10}
		q, err := g.Query(d)
		if err != nil {
			t.Fatal(err)
		}
		out["enrollments_"+strings.ReplaceAll(typ, "-", "_")] = q
	}
	m := MetricsQuery{Slug: "test-experiment", EnrollmentsTable: d.Table("mozanalysis", "enrollments_test_experiment"),
		Basis: BasisExposures, WindowStart: 0, WindowEnd: 6, FirstDate: date("2020-03-30"), LastDate: date("2020-04-12"),
		Segments: []string{"regular_user_v3"},
		Metrics: []Metric{{Name: "active_hours", SelectExpression: "COALESCE(SUM(active_hours_sum), 0)",
			DataSource: DataSource{Name: "clients_daily", FromExpression: "`mozdata.telemetry.clients_daily`",
				ClientIDColumn: "client_id", GroupIDColumn: "profile_group_id", SubmissionDateColumn: "submission_date", ExperimentsColumnType: "simple"}}}}
	q, err := m.SQL(d)
	if err != nil {
		t.Fatal(err)
	}
	out["metrics_exposures_week_1"] = q
	return out
}

// TestGoldenSQL pins the generated SQL text of both dialects (go test -update rewrites the
// files after a deliberate change; review the diff).
func TestGoldenSQL(t *testing.T) {
	for _, d := range []Dialect{BigQuery{Project: "moz-fx-data-experiments"}, DuckDB{}} {
		for name, sql := range goldenQueries(t, d) {
			path := filepath.Join("testdata", d.Name()+"_"+name+".sql")
			if *update {
				if err := os.WriteFile(path, []byte(sql+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./warehouse -run TestGoldenSQL -update)", err)
			}
			if sql+"\n" != string(want) {
				t.Errorf("%s differs from the generated SQL:\n%s", path, sql)
			}
		}
	}
}

//go:build integration && cgo

package launcher

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/internal/bqemulator"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// A run on BigQuery (the emulator, loaded with Jetstream's integration-test telemetry),
// reading each metrics table in three parts: the
// enrollments and metrics tables, the statistics table and its view with window_index are
// in the dataset, with Jetstream's values (one client per branch, so every bootstrap
// replicate is that client's value: 0.8 and 0.3 active hours), and the published JSON holds
// the same rows as the statistics table.
func TestIntegrationRunOnBigQuery(t *testing.T) {
	host := bqemulator.Start(t)
	bqemulator.LoadTelemetry(t, host, telemetryFixtures)
	o := fixtureRun(t)
	o.Warehouse = "bigquery:" + warehouse.BigQueryLocation("mozdata", "http://"+host)
	o.ReadParts = 3 // the metrics table read in three parts (FARM_FINGERPRINT of analysis_id)
	config := periodList("weekly", "active_hours") + bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bothBases) + dataSources("clients_daily")
	if err := os.WriteFile(o.ConfigFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	c, err := warehouse.Open(o.Warehouse)
	if err != nil {
		t.Fatal(err)
	}
	query := func(sql string) map[string]float64 {
		t.Helper()
		out := map[string]float64{}
		err := c.Query(context.Background(), sql, func(_ []string, v []any) error {
			x, _ := v[1].(float64)
			if n, ok := v[1].(int64); ok {
				x = float64(n)
			}
			out[fmt.Sprint(v[0])] = x
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return out
	}
	near := func(what string, got, want map[string]float64) {
		t.Helper()
		for k, w := range want {
			if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9 {
				t.Errorf("%s: %v, want %v", what, got, want)
				return
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	near("enrollments table", query("SELECT analysis_id, num_enrollment_events FROM `mozdata.mozanalysis.enrollments_test_experiment`"),
		map[string]float64{"aaaa": 1, "bbbb": 1})
	near("metrics table", query("SELECT analysis_id, active_hours FROM `mozdata.mozanalysis.test_experiment_enrollments_clients_daily_week_1`"),
		map[string]float64{"aaaa": 0.8, "bbbb": 0.3})
	near("mean active hours through the view", query("SELECT branch, point FROM `mozdata.mozanalysis.statistics_test_experiment_weekly` "+
		"WHERE window_index = 1 AND metric = 'active_hours' AND statistic = 'mean' AND comparison IS NULL AND analysis_basis = 'enrollments'"),
		map[string]float64{"branch1": 0.8, "branch2": 0.3})
	near("identity counts in the table", query("SELECT branch, point FROM `mozdata.mozanalysis.statistics_test_experiment_week_1` "+
		"WHERE metric = 'identity' AND analysis_basis = 'enrollments'"), map[string]float64{"branch1": 1, "branch2": 1})

	// The published JSON and the BigQuery table hold the same rows.
	tableRows := query("SELECT CONCAT(metric, '|', statistic, '|', branch, '|', IFNULL(comparison, ''), '|', analysis_basis, '|', segment), point " +
		"FROM `mozdata.mozanalysis.statistics_test_experiment_week_1`")
	data, err := os.ReadFile(filepath.Join(o.Output, "statistics", "statistics_test_experiment_weekly.json"))
	if err != nil {
		t.Fatal(err)
	}
	windows, err := export.ParseStatisticsJSON(data)
	if err != nil || len(windows) != 1 {
		t.Fatalf("weekly JSON: %v, %d windows", err, len(windows))
	}
	jsonRows := map[string]float64{}
	for _, r := range windows[0].Rows {
		jsonRows[fmt.Sprintf("%s|%s|%s|%s|%s|%s", r.Metric, r.Statistic, r.Branch, r.Comparison, r.AnalysisBasis, r.Segment)] = r.Point
	}
	near("JSON vs table", jsonRows, tableRows)
}

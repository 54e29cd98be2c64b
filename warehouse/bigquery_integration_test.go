//go:build integration && cgo

package warehouse

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/internal/bqemulator"
)

// The BigQuery integration tests run the generated BigQuery SQL through the real client
// against the open-source BigQuery emulator (ZetaSQL behind BigQuery's REST API), on the
// telemetry of Jetstream's own integration tests, and compare every per-client value with
// DuckDB's and with the fixture's expectations. `make test-integration` builds the emulator
// (tools/bqemulator) and points BIGQUERY_EMULATOR_BIN at it.

// TestIntegrationBigQueryEmulator runs the enrollments and metrics queries of the fixture
// experiment in the BigQuery dialect on the emulator and in the DuckDB dialect on DuckDB:
// the same clients, branches, dates and metric values, equal to Jetstream's expectations.
func TestIntegrationBigQueryEmulator(t *testing.T) {
	host := bqemulator.Start(t)
	bqemulator.LoadTelemetry(t, host, fixtureDir)
	bq, err := Open("bigquery:" + BigQueryLocation("mozdata", "http://"+host))
	if err != nil {
		t.Fatal(err)
	}
	duck := loadFixture(t)
	ctx := context.Background()
	for i, tc := range metricCases {
		t.Run(tc.name, func(t *testing.T) {
			enrollments := Enrollments{Slug: "test-experiment", First: date("2020-03-30"), Last: date(tc.last), EventsTable: "mozdata.telemetry.events"}
			results := map[string]map[string][]any{}
			for name, c := range map[string]Client{"bigquery": bq, "duckdb": duck} {
				d := c.Dialect()
				table := d.Table("mozanalysis", fmt.Sprintf("enrollments_case_%d", i)) // a table per case
				if err := c.EnsureDataset(ctx, "mozanalysis"); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				eq, err := enrollments.Query(d)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Exec(ctx, "CREATE TABLE "+table+" AS\n"+eq); err != nil {
					t.Fatalf("%s enrollments: %v", name, err)
				}
				q := MetricsQuery{Slug: "test-experiment", EnrollmentsTable: table, Basis: tc.basis,
					WindowStart: tc.start, WindowEnd: tc.end, FirstDate: date(tc.first), LastDate: date(tc.lastData),
					Metrics: []Metric{activeHoursMetric}}
				sql, err := q.SQL(d)
				if err != nil {
					t.Fatal(err)
				}
				results[name] = collect(t, c, sql)
			}
			for id, want := range tc.want {
				for name, rows := range results {
					row, ok := rows[id]
					if !ok {
						t.Errorf("%s: client %s missing: %v", name, id, rows)
						continue
					}
					got, ok := row[len(MetricsKeyColumns)].(float64)
					if !ok || math.Abs(got-want) > 1e-12 {
						t.Errorf("%s: client %s active_hours = %v, want %v", name, id, row[len(MetricsKeyColumns)], want)
					}
				}
				if b, d := fmt.Sprint(results["bigquery"][id][:len(MetricsKeyColumns)]), fmt.Sprint(results["duckdb"][id][:len(MetricsKeyColumns)]); b != d {
					t.Errorf("client %s: BigQuery keys %s, DuckDB %s", id, b, d)
				}
			}
			if len(results["bigquery"]) != len(tc.want) || len(results["duckdb"]) != len(tc.want) {
				t.Errorf("clients: BigQuery %d, DuckDB %d, want %d", len(results["bigquery"]), len(results["duckdb"]), len(tc.want))
			}
		})
	}
}

// Jetstream's destination tables on the emulator: the enrollments table is written once
// (WRITE_EMPTY: a second write is refused and leaves it as it was) and a metrics table is
// replaced by a rerun (WRITE_TRUNCATE: one copy of every row). (The emulator keeps no table
// labels or descriptions; TestCreateTableAs pins the OPTIONS that carry them.)
func TestIntegrationDestinationTables(t *testing.T) {
	host := bqemulator.Start(t)
	bqemulator.LoadTelemetry(t, host, fixtureDir)
	c, err := Open("bigquery:" + BigQueryLocation("mozdata", "http://"+host))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d := c.Dialect()
	count := func(table string) int64 {
		t.Helper()
		var n int64
		err := c.Query(ctx, "SELECT COUNT(*) FROM "+d.Table("mozanalysis", table), func(_ []string, v []any) error {
			n = v[0].(int64)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	now := time.Now()
	e := Enrollments{Slug: "test-experiment", First: date("2020-03-30"), Last: date("2020-04-06"), EventsTable: "mozdata.telemetry.events"}
	if created, err := e.Ensure(ctx, c, "mozanalysis", now); err != nil || !created {
		t.Fatalf("first Ensure: created %v, %v", created, err)
	}
	narrower := e
	narrower.Last = date("2020-04-02") // would keep only aaaa
	if created, err := narrower.Ensure(ctx, c, "mozanalysis", now); err != nil || created {
		t.Errorf("second Ensure: created %v, %v; want the table kept", created, err)
	}
	if n := count(e.TableName()); n != 2 {
		t.Errorf("enrollments: %d rows, want 2", n)
	}

	m := MetricsQuery{Slug: "test-experiment", EnrollmentsTable: d.Table("mozanalysis", e.TableName()), Basis: BasisEnrollments,
		WindowStart: 0, WindowEnd: 6, FirstDate: date("2020-03-30"), LastDate: date("2020-04-12"), Metrics: []Metric{activeHoursMetric}}
	mq, err := m.SQL(d)
	if err != nil {
		t.Fatal(err)
	}
	metricsTable := MetricsTable("test-experiment", BasisEnrollments, "week", 1)
	for run := 0; run < 2; run++ {
		if err := WriteTable(ctx, c, "mozanalysis", metricsTable, mq, WriteTruncate, TableInfo{Description: e.Slug, LastUpdated: now}); err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
	}
	if n := count(metricsTable); n != 2 {
		t.Errorf("%s after two runs: %d rows, want 2", metricsTable, n)
	}
}

// Statistics tables and views on the emulator: two windows loaded, the view unions them with
// window_index from the table suffix, and reloading a window replaces its rows.
func TestIntegrationPublishStatistics(t *testing.T) {
	host := bqemulator.Start(t)
	c, err := Open("bigquery:" + BigQueryLocation("mozdata", "http://"+host))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	row := func(metric string, point float64) string {
		return fmt.Sprintf(`{"metric":%q,"statistic":"mean","parameter":"0.5","branch":"control","point":%g,"segment":"all","analysis_basis":"enrollments"}`+"\n", metric, point)
	}
	tables := []StatisticsRows{
		{Name: "statistics_my_exp_week_1", Period: "week", Rows: []byte(row("active_hours", 1.5) + row("uri_count", 10))},
		{Name: "statistics_my_exp_week_2", Period: "week", Rows: []byte(row("active_hours", 2.5))},
	}
	suffixes := map[string]string{"week": "weekly"}
	for run := 0; run < 2; run++ { // a rerun replaces, never appends
		if err := PublishStatistics(ctx, c, "mozanalysis", "my-exp", "my_exp", tables, suffixes, time.Now()); err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
	}
	var got []string
	err = c.Query(ctx, "SELECT window_index, metric, point, CAST(parameter AS STRING) FROM `mozdata.mozanalysis.statistics_my_exp_weekly` ORDER BY 1, 2",
		func(_ []string, v []any) error {
			got = append(got, strings.TrimSpace(fmt.Sprintln(v...)))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1 active_hours 1.5 0.5", "1 uri_count 10 0.5", "2 active_hours 2.5 0.5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("view rows %q, want %q", got, want)
	}

	// ListTables names the tables and the view (a rerun finds its experiment's results
	// this way); dropping a window's table removes it from the list.
	names, err := c.ListTables(ctx, "mozanalysis")
	if want := "[statistics_my_exp_week_1 statistics_my_exp_week_2 statistics_my_exp_weekly]"; err != nil || fmt.Sprint(names) != want {
		t.Errorf("ListTables = %v, %v; want %s", names, err, want)
	}
	if err := c.DropTable(ctx, "mozanalysis", "statistics_my_exp_week_2"); err != nil {
		t.Fatal(err)
	}
	names, err = c.ListTables(ctx, "mozanalysis")
	if want := "[statistics_my_exp_week_1 statistics_my_exp_weekly]"; err != nil || fmt.Sprint(names) != want {
		t.Errorf("ListTables after a drop = %v, %v; want %s", names, err, want)
	}
	if names, err := c.ListTables(ctx, "no_such_dataset"); err != nil || len(names) != 0 {
		t.Errorf("ListTables of a missing dataset = %v, %v; want none", names, err)
	}
}

// Log rows are appended (two loads, both kept), into a dataset and table created on first use.
func TestIntegrationAppendLogs(t *testing.T) {
	host := bqemulator.Start(t)
	c, err := Open("bigquery:" + BigQueryLocation("mozdata", "http://"+host))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	columns := []Column{{"timestamp", "TIMESTAMP"}, {"experiment", "STRING"}, {"message", "STRING"}}
	for i, rows := range []string{
		`{"timestamp":"2026-09-14 04:00:00","experiment":"a","message":"first"}` + "\n",
		`{"timestamp":"2026-09-15 04:00:00","experiment":"a","message":"second"}` + "\n" + `{"timestamp":"2026-09-15 04:00:01","experiment":"b","message":"third"}` + "\n",
	} {
		if err := AppendJSON(ctx, c, "monitoring", "logs", columns, []byte(rows)); err != nil {
			t.Fatalf("load %d: %v", i+1, err)
		}
	}
	var got []string
	err = c.Query(ctx, "SELECT experiment, message FROM `mozdata.monitoring.logs` ORDER BY timestamp", func(_ []string, v []any) error {
		got = append(got, fmt.Sprint(v[0], "/", v[1]))
		return nil
	})
	if err != nil || fmt.Sprint(got) != "[a/first a/second b/third]" {
		t.Errorf("logs %v (%v), want the three rows in order", got, err)
	}
}

//go:build integration && cgo

package warehouse

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/option"
)

// The BigQuery integration tests run the generated BigQuery SQL through the real client
// against the open-source BigQuery emulator (ZetaSQL behind BigQuery's REST API), on the
// telemetry of Jetstream's own integration tests, and compare every per-client value with
// DuckDB's and with the fixture's expectations. `make test-integration` builds the emulator
// (tools/bqemulator) and points BIGQUERY_EMULATOR_BIN at it.

type kv struct {
	Key   string `bigquery:"key" json:"key"`
	Value string `bigquery:"value" json:"value"`
}

type eventRow struct {
	SubmissionDate   civil.Date          `bigquery:"submission_date" json:"submission_date"`
	ClientID         string              `bigquery:"client_id" json:"client_id"`
	ProfileGroupID   string              `bigquery:"profile_group_id" json:"profile_group_id"`
	EventCategory    string              `bigquery:"event_category" json:"event_category"`
	EventMethod      bigquery.NullString `bigquery:"event_method" json:"event_method"`
	EventStringValue string              `bigquery:"event_string_value" json:"event_string_value"`
	EventMapValues   []kv                `bigquery:"event_map_values" json:"event_map_values"`
	SampleID         int64               `bigquery:"sample_id" json:"sample_id"`
}

type clientsDailyRow struct {
	SubmissionDate civil.Date `bigquery:"submission_date" json:"submission_date"`
	ClientID       string     `bigquery:"client_id" json:"client_id"`
	ProfileGroupID string     `bigquery:"profile_group_id" json:"profile_group_id"`
	ActiveHoursSum float64    `bigquery:"active_hours_sum" json:"active_hours_sum"`
	Experiments    []kv       `bigquery:"experiments" json:"experiments"`
}

// startEmulator starts the emulator for project mozdata on a free port and returns its
// host:port; it is stopped when the test ends.
func startEmulator(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("BIGQUERY_EMULATOR_BIN")
	if bin == "" {
		t.Fatal("BIGQUERY_EMULATOR_BIN is not set: run `make test-integration`, which builds the emulator")
	}
	port, grpcPort := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--project=mozdata", "--host=127.0.0.1", fmt.Sprintf("--port=%d", port), fmt.Sprintf("--grpc-port=%d", grpcPort))
	logFile, err := os.Create(filepath.Join(t.TempDir(), "emulator.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	host := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.Dial("tcp", host)
		if err == nil {
			conn.Close()
			return host
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not listen on %s within 30 s: %v", host, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// loadEmulator creates mozdata.telemetry.events and mozdata.telemetry.clients_daily in the
// emulator from the NDJSON fixtures, with the types BigQuery's autodetection gives them.
func loadEmulator(t *testing.T, host string) {
	t.Helper()
	ctx := context.Background()
	bq, err := bigquery.NewClient(ctx, "mozdata", option.WithEndpoint("http://"+host), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer bq.Close()
	for _, ds := range []string{"telemetry", "mozanalysis"} {
		if err := bq.Dataset(ds).Create(ctx, nil); err != nil {
			t.Fatalf("dataset %s: %v", ds, err)
		}
	}
	loadTable[eventRow](t, bq, "events", "test_events.ndjson")
	loadTable[clientsDailyRow](t, bq, "clients_daily", "test_clients_daily.ndjson")
}

func loadTable[Row any](t *testing.T, bq *bigquery.Client, table, file string) {
	t.Helper()
	ctx := context.Background()
	schema, err := bigquery.InferSchema(*new(Row))
	if err != nil {
		t.Fatal(err)
	}
	tbl := bq.Dataset("telemetry").Table(table)
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: schema}); err != nil {
		t.Fatalf("table %s: %v", table, err)
	}
	f, err := os.Open(filepath.Join(fixtureDir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []*Row
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		r := new(Row)
		if err := json.Unmarshal(sc.Bytes(), r); err != nil {
			t.Fatalf("%s:%d: %v", file, line, err)
		}
		rows = append(rows, r)
	}
	if err := tbl.Inserter().Put(ctx, rows); err != nil {
		t.Fatalf("inserting into %s: %v", table, err)
	}
}

// TestIntegrationBigQueryEmulator runs the enrollments and metrics queries of the fixture
// experiment in the BigQuery dialect on the emulator and in the DuckDB dialect on DuckDB:
// the same clients, branches, dates and metric values, equal to Jetstream's expectations.
func TestIntegrationBigQueryEmulator(t *testing.T) {
	host := startEmulator(t)
	loadEmulator(t, host)
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
	host := startEmulator(t)
	loadEmulator(t, host)
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
	host := startEmulator(t)
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
}

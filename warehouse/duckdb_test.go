//go:build cgo

package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"
)

// fixtureDir holds Jetstream's own integration-test telemetry (three small NDJSON tables).
const fixtureDir = "../../shared/fixtures/telemetry"

// loadFixture builds a DuckDB warehouse mozdata.duckdb with Jetstream's integration-test
// tables as mozdata.telemetry.events and mozdata.telemetry.clients_daily.
func loadFixture(t *testing.T) Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mozdata.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join(fixtureDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	stmts := []string{
		`CREATE SCHEMA telemetry`,
		fmt.Sprintf(`CREATE TABLE telemetry.events AS SELECT * FROM read_json('%s', format = 'newline_delimited', columns = {
			submission_date: 'DATE', client_id: 'VARCHAR', profile_group_id: 'VARCHAR', event_category: 'VARCHAR',
			event_method: 'VARCHAR', event_string_value: 'VARCHAR', event_map_values: 'STRUCT(key VARCHAR, value VARCHAR)[]',
			sample_id: 'BIGINT'})`, abs("test_events.ndjson")),
		fmt.Sprintf(`CREATE TABLE telemetry.clients_daily AS SELECT * FROM read_json('%s', format = 'newline_delimited', columns = {
			submission_date: 'DATE', client_id: 'VARCHAR', profile_group_id: 'VARCHAR', active_hours_sum: 'DOUBLE',
			experiments: 'STRUCT(key VARCHAR, value VARCHAR)[]'})`, abs("test_clients_daily.ndjson")),
		fmt.Sprintf(`CREATE TABLE telemetry.clients_last_seen AS SELECT * FROM read_json('%s', format = 'newline_delimited', columns = {
			submission_date: 'DATE', client_id: 'VARCHAR', profile_group_id: 'VARCHAR', active_hours_sum: 'DOUBLE',
			experiments: 'STRUCT(key VARCHAR, value VARCHAR)[]', is_regular_user_v3: 'BOOLEAN'})`, abs("test_clients_last_seen.ndjson")),
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := Open("duckdb:" + path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect runs a query and returns its rows keyed by the first column.
func collect(t *testing.T, c Client, q string) map[string][]any {
	t.Helper()
	out := map[string][]any{}
	err := c.Query(context.Background(), q, func(cols []string, vals []any) error {
		out[fmt.Sprint(vals[0])] = append([]any(nil), vals...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func createEnrollments(t *testing.T, c Client, e Enrollments) string {
	t.Helper()
	ctx := context.Background()
	d := c.Dialect()
	if err := c.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS mozanalysis`); err != nil {
		t.Fatal(err)
	}
	table := d.Table("mozanalysis", e.TableName())
	q, err := e.Query(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "CREATE OR REPLACE TABLE "+table+" AS\n"+q); err != nil {
		t.Fatal(err)
	}
	return table
}

// The enrollments of Jetstream's integration test (fixtures/telemetry/expected.json,
// enrollments.rows_default_exposures): only normandy enroll events count; both exposure
// method spellings count.
func TestEnrollmentsOnJetstreamFixture(t *testing.T) {
	c := loadFixture(t)
	e := Enrollments{Slug: "test-experiment", First: date("2020-03-30"), Last: date("2020-04-06"), EventsTable: "mozdata.telemetry.events"}
	table := createEnrollments(t, c, e)
	if table != `"mozanalysis"."enrollments_test_experiment"` {
		t.Errorf("table = %s", table)
	}
	rows := collect(t, c, `SELECT analysis_id, branch, enrollment_date, num_enrollment_events, exposure_date, num_exposure_events FROM `+table)
	want := map[string][]any{
		"aaaa": {"aaaa", "branch1", date("2020-04-02"), int64(1), date("2020-04-02"), int64(1)},
		"bbbb": {"bbbb", "branch2", date("2020-04-03"), int64(1), date("2020-04-03"), int64(1)},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d enrollments %v, want %d", len(rows), rows, len(want))
	}
	for id, w := range want {
		got := rows[id]
		for i := range w {
			if fmt.Sprint(got[i]) != fmt.Sprint(w[i]) {
				t.Errorf("client %s column %d = %v, want %v", id, i, got[i], w[i])
			}
		}
	}
}

// Ensure writes the enrollments table once and keeps it afterwards (Jetstream's WRITE_EMPTY).
func TestEnsureEnrollmentsOnce(t *testing.T) {
	c := loadFixture(t)
	ctx := context.Background()
	e := Enrollments{Slug: "test-experiment", First: date("2020-03-30"), Last: date("2020-04-06"), EventsTable: "mozdata.telemetry.events"}
	for i, want := range []bool{true, false} {
		created, err := e.Ensure(ctx, c, "mozanalysis", time.Time{})
		if err != nil || created != want {
			t.Fatalf("call %d: created = %v, %v; want %v", i+1, created, err, want)
		}
	}
	// A later run with other dates keeps the first table: still the two enrolled clients.
	e.Last = date("2020-04-02")
	if created, err := e.Ensure(ctx, c, "mozanalysis", time.Time{}); err != nil || created {
		t.Fatalf("third call: created = %v, %v", created, err)
	}
	if rows := collect(t, c, `SELECT analysis_id FROM mozanalysis.enrollments_test_experiment`); len(rows) != 2 {
		t.Errorf("enrollments = %v, want aaaa and bbbb", rows)
	}

	// A metrics table is replaced by every write (WRITE_TRUNCATE): one copy of each row.
	for run := 0; run < 2; run++ {
		err := WriteTable(ctx, c, "mozanalysis", "t_week_1", `SELECT analysis_id FROM mozanalysis.enrollments_test_experiment`, WriteTruncate, TableInfo{})
		if err != nil {
			t.Fatal(err)
		}
	}
	if rows := collect(t, c, `SELECT count(*) FROM mozanalysis.t_week_1`); fmt.Sprint(rows) != "map[2:[2]]" {
		t.Errorf("rows after two truncating writes: %v, want 2", rows)
	}
	for _, tc := range []struct {
		dataset string
		want    string
	}{
		{"mozanalysis", "[enrollments_test_experiment t_week_1]"},
		{"telemetry", "[clients_daily clients_last_seen events]"},
		{"no_such_dataset", "[]"},
	} {
		names, err := c.ListTables(ctx, tc.dataset)
		if err != nil || fmt.Sprint(names) != tc.want {
			t.Errorf("ListTables(%s) = %v, %v; want %s", tc.dataset, names, err, tc.want)
		}
	}
}

// Week 1 and the pre-enrollment week of Jetstream's integration tests: active_hours is
// 0.8 / 0.3 in week 1 (aaaa's untagged enrollment-day row is dropped) and 2.8 / 0.2 in
// the pre-enrollment week with a 12-day enrollment.
func TestMetricsOnJetstreamFixture(t *testing.T) {
	c := loadFixture(t)
	for _, tc := range metricCases {
		t.Run(tc.name, func(t *testing.T) {
			e := Enrollments{Slug: "test-experiment", First: date("2020-03-30"), Last: date(tc.last), EventsTable: "mozdata.telemetry.events"}
			table := createEnrollments(t, c, e)
			q := MetricsQuery{Slug: "test-experiment", EnrollmentsTable: table, Basis: tc.basis,
				WindowStart: tc.start, WindowEnd: tc.end, FirstDate: date(tc.first), LastDate: date(tc.lastData),
				Metrics: []Metric{activeHoursMetric}}
			sql, err := q.SQL(c.Dialect())
			if err != nil {
				t.Fatal(err)
			}
			rows := collect(t, c, sql)
			if len(rows) != len(tc.want) {
				t.Fatalf("got %d clients, want %d: %v", len(rows), len(tc.want), rows)
			}
			for id, want := range tc.want {
				got, ok := rows[id][len(MetricsKeyColumns)].(float64)
				if !ok || math.Abs(got-want) > 1e-12 {
					t.Errorf("client %s active_hours = %v, want %v", id, rows[id][len(MetricsKeyColumns)], want)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"nonsense", `warehouse "nonsense": want scheme:location, e.g. duckdb:sample/mozdata.duckdb`},
		{"oracle:x", `warehouse "oracle:x": unknown warehouse kind "oracle"`},
		{"duckdb:/no/such/mozdata.duckdb", `warehouse "duckdb:/no/such/mozdata.duckdb": database file: stat /no/such/mozdata.duckdb: no such file or directory (generate the sample with ` + "`jetstream sample-data`)"},
		{"duckdb:x.duckdb?memory_limit=lots", `warehouse "duckdb:x.duckdb?memory_limit=lots": option memory_limit=lots: want memory_limit=SIZE, e.g. memory_limit=4GB`},
		{"duckdb:x.duckdb?threads=1", `warehouse "duckdb:x.duckdb?threads=1": option threads=1: want memory_limit=SIZE, e.g. memory_limit=4GB`},
	} {
		_, err := Open(tc.url)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Open(%q) error = %v, want %s", tc.url, err, tc.want)
		}
	}
}

// TestMemoryLimit checks that a local warehouse has the DuckDB memory limit its URL names.
func TestMemoryLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	if _, err := newDuckDB(path); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{"duckdb:" + path + "?memory_limit=1GB", "953.6 MiB"}, // 1GB = 10⁹ bytes
		{"duckdb:" + path + "?memory_limit=512MiB", "512.0 MiB"},
	} {
		c, err := Open(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = c.Query(context.Background(), "SELECT current_setting('memory_limit')", func(_ []string, v []any) error {
			got = v[0].(string)
			return nil
		})
		if err != nil || got != tc.want {
			t.Errorf("%s: memory_limit = %q (%v), want %q", tc.url, got, err, tc.want)
		}
	}
}

// TestTrimBufferPool checks that a file warehouse gives back the blocks a statement cached
// once no statement runs, that trimming leaves the memory limit of the URL (or DuckDB's
// default) in place, and that jemalloc's background threads are on (they return the freed
// memory to the system).
func TestTrimBufferPool(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, options string
		want          string // memory_limit; "" for DuckDB's default (80% of this machine's RAM, within 0.05 GiB)
		cache         bool   // whether the scan below leaves its blocks cached (with DuckDB's default limit it
		// keeps only ~30 MiB of this table's: the check would show nothing)
	}{
		{"default limit", "", "", false},
		{"1GB", "?memory_limit=1GB", "953.6 MiB", true},
		{"512MiB", "?memory_limit=512MiB", "512.0 MiB", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.duckdb")
			raw, err := sql.Open("duckdb", path)
			if err != nil {
				t.Fatal(err)
			}
			// 8M random doubles × 2: ~105 MiB of blocks.
			if _, err := raw.Exec(`CREATE TABLE t AS SELECT random() AS x, random() AS y FROM range(8000000)`); err != nil {
				t.Fatal(err)
			}
			raw.Close()
			c, err := Open("duckdb:" + path + tc.options)
			if err != nil {
				t.Fatal(err)
			}
			setting := func(name string) string {
				var v string
				if err := c.Query(ctx, "SELECT current_setting('"+name+"')", func(_ []string, row []any) error {
					v = fmt.Sprint(row[0])
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return v
			}
			cachedMiB := func() int64 {
				var b int64
				if err := c.Query(ctx, "SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'BASE_TABLE'", func(_ []string, row []any) error {
					b = row[0].(int64)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return b >> 20
			}
			var during int64
			err = c.Query(ctx, "SELECT sum(x), sum(y) FROM t", func([]string, []any) error {
				during = cachedMiB() // the scan is over and its blocks cached; its statement still runs
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if after := cachedMiB(); tc.cache && (during < 80 || after > 32) {
				t.Errorf("BASE_TABLE = %d MiB while the scan's statement runs, %d MiB after it; want ≥ 80 MiB (cached), then ≤ 32 MiB (trimmed)", during, after)
			}
			if got := setting("memory_limit"); tc.want != "" && got != tc.want {
				t.Errorf("memory_limit after trimming = %q, want %q", got, tc.want)
			}
			// The buffer pool's limit, not only the setting, is back: a list of 10M integers
			// (80 MB, which cannot be spilled) does not fit in the trimming limit.
			if err := c.Query(ctx, "SELECT len(list(range)) FROM range(10000000)", func([]string, []any) error { return nil }); err != nil {
				t.Errorf("a statement needing 80 MB after trimming: %v", err)
			}
			if got := setting("allocator_background_threads"); got != "true" {
				t.Errorf("allocator_background_threads = %q, want true", got)
			}
		})
	}
}

// test_with_segments: the segment is decided on each client's enrollment day (window 0..0):
// aaaa (2020-04-02) is not a regular user, bbbb (2020-04-03) is; the metrics query carries
// the segment column after the key columns.
func TestSegmentsOnJetstreamFixture(t *testing.T) {
	c := loadFixture(t)
	e := Enrollments{Slug: "test-experiment", First: date("2020-03-30"), Last: date("2020-04-06"),
		EventsTable: "mozdata.telemetry.events", Segments: []Segment{regularUser}}
	table := createEnrollments(t, c, e)
	rows := collect(t, c, `SELECT analysis_id, regular_user_v3 FROM `+table)
	if fmt.Sprint(rows["aaaa"]) != "[aaaa false]" || fmt.Sprint(rows["bbbb"]) != "[bbbb true]" || len(rows) != 2 {
		t.Errorf("segments %v, want aaaa false and bbbb true", rows)
	}
	q := MetricsQuery{Slug: "test-experiment", EnrollmentsTable: table, Basis: BasisEnrollments,
		WindowStart: 0, WindowEnd: 6, FirstDate: date("2020-03-30"), LastDate: date("2020-04-12"),
		Segments: []string{"regular_user_v3"},
		Metrics: []Metric{{Name: "active_hours", SelectExpression: "COALESCE(SUM(active_hours_sum), 0)",
			DataSource: DataSource{Name: "clients_daily", FromExpression: "`mozdata.telemetry.clients_daily`",
				ClientIDColumn: "client_id", SubmissionDateColumn: "submission_date", ExperimentsColumnType: "simple"}}}}
	sql, err := q.SQL(c.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, c, sql)
	k := len(MetricsKeyColumns)
	for id, want := range map[string]struct {
		regular bool
		hours   float64
	}{"aaaa": {false, 0.8}, "bbbb": {true, 0.3}} {
		row := got[id]
		if len(row) != k+2 || row[k] != want.regular || math.Abs(row[k+1].(float64)-want.hours) > 1e-12 {
			t.Errorf("client %s: segment and metric columns %v, want [%v %v]", id, row[k:], want.regular, want.hours)
		}
	}
}

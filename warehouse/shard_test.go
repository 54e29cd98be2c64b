//go:build cgo

package warehouse

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// shardFixture is a file warehouse with 3,001 enrolled clients (two branches, enrollment
// dates over a week, exposures for two clients in three, a segment) and clients_daily rows
// from 10 days before to 12 days after each client's enrollment, some tagged with the
// experiment and some not (the enrollment-day rule).
func shardFixture(t *testing.T) *duckDB {
	t.Helper()
	c, err := newDuckDB(filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE SCHEMA mozanalysis`,
		`CREATE SCHEMA telemetry`,
		`CREATE TABLE mozanalysis.enrollments_exp AS
		SELECT 'client-' || i AS analysis_id, CASE WHEN i % 2 = 0 THEN 'control' ELSE 'treatment' END AS branch,
			DATE '2020-01-01' + CAST(i % 7 AS INTEGER) AS enrollment_date, 1 AS num_enrollment_events,
			i % 5 = 0 AS seg,
			CASE WHEN i % 3 > 0 THEN DATE '2020-01-01' + CAST(i % 7 + i % 2 AS INTEGER) END AS exposure_date,
			CASE WHEN i % 3 > 0 THEN 1 END AS num_exposure_events
		FROM range(3001) r(i)`,
		`CREATE TABLE telemetry.clients_daily AS
		SELECT DATE '2020-01-01' + CAST(i % 7 + d AS INTEGER) AS submission_date, 'client-' || i AS client_id,
			((i * 7 + d * 3) % 11) * 0.25 AS active_hours_sum, CAST((i + d) % 4 AS BIGINT) AS search_count_all,
			CASE WHEN (i + d) % 3 = 0 THEN [{'key': 'exp', 'value': 'treatment'}] ELSE [] END AS experiments
		FROM range(3001) r(i), range(-10, 13) days(d)
		WHERE (i + d) % 5 != 1`,
	} {
		if err := c.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// A metrics table written in shards of clients has the rows of the one-statement table,
// for both bases, with a metric window of its own (the covariate's).
func TestShardedMetricsTable(t *testing.T) {
	c := shardFixture(t)
	ctx := context.Background()
	ds := DataSource{Name: "clients_daily", FromExpression: "telemetry.clients_daily", ClientIDColumn: "client_id",
		SubmissionDateColumn: "submission_date", ExperimentsColumnType: "simple"}
	metrics := []Metric{
		{Name: "active_hours", SelectExpression: "COALESCE(SUM(active_hours_sum), 0)", DataSource: ds},
		{Name: "searches", SelectExpression: "SUM(search_count_all)", DataSource: ds},
		{Name: "days", SelectExpression: "COUNT(submission_date)", DataSource: ds},
		{Name: "active_hours_pre", SelectExpression: "COALESCE(SUM(active_hours_sum), 0)", DataSource: ds,
			Window: &MetricWindow{Start: -7, End: -1, FirstDate: date("2019-12-25"), LastDate: date("2020-01-06")}},
	}
	defer func(n int64) { shardClients = n }(shardClients)
	for _, basis := range []string{BasisEnrollments, BasisExposures} {
		t.Run(basis, func(t *testing.T) {
			q := MetricsQuery{Slug: "exp", EnrollmentsTable: `"mozanalysis"."enrollments_exp"`, Basis: basis,
				WindowStart: 0, WindowEnd: 6, FirstDate: date("2020-01-01"), LastDate: date("2020-01-13"),
				Segments: []string{"seg"}, Metrics: metrics}
			sql, err := q.SQL(DuckDB{})
			if err != nil {
				t.Fatal(err)
			}
			shardClients = 1 << 40
			if err := WriteTable(ctx, c, "mozanalysis", "whole", sql, WriteTruncate, TableInfo{}); err != nil {
				t.Fatal(err)
			}
			shardClients = 700 // 5 shards
			written, err := c.writeSharded(ctx, "mozanalysis", "sharded", sql)
			if err != nil || !written {
				t.Fatalf("writeSharded = %v, %v; want the table written in shards", written, err)
			}
			// Through WriteTable too, replacing the table (WRITE_TRUNCATE).
			if err := WriteTable(ctx, c, "mozanalysis", "sharded", sql, WriteTruncate, TableInfo{}); err != nil {
				t.Fatal(err)
			}
			counts := collect(t, c, `SELECT 'n', (SELECT count(*) FROM mozanalysis.whole), (SELECT count(*) FROM mozanalysis.sharded),
				(SELECT count(*) FROM (SELECT * FROM mozanalysis.whole EXCEPT ALL SELECT * FROM mozanalysis.sharded)),
				(SELECT count(*) FROM (SELECT * FROM mozanalysis.sharded EXCEPT ALL SELECT * FROM mozanalysis.whole)),
				(SELECT count(*) FROM mozanalysis.whole WHERE days > 0 AND active_hours_pre > 0)`)
			want := map[string]string{BasisEnrollments: "3001", BasisExposures: "2000"}[basis]
			got := counts["n"]
			if fmt.Sprint(got[1]) != want || fmt.Sprint(got[2]) != want || fmt.Sprint(got[3]) != "0" || fmt.Sprint(got[4]) != "0" {
				t.Errorf("rows: whole %v, sharded %v, only in whole %v, only in sharded %v; want %s, %s, 0, 0",
					got[1], got[2], got[3], got[4], want, want)
			}
			if n := fmt.Sprint(got[5]); n == "0" {
				t.Errorf("no client has rows in both windows: the fixture tests nothing")
			}
		})
	}
}

// A query without many clients, or without the shard condition, is left to WriteTable's
// one statement; BigQuery's SQL has no shard condition.
func TestShardedOnlyWhenNeeded(t *testing.T) {
	c := shardFixture(t)
	ctx := context.Background()
	q := daysQuery()
	sql := duckDBSQL(t, q)
	for _, tc := range []struct {
		sql     string
		clients int64
	}{{sql, 3001}, {"SELECT 1 AS x", 1}} {
		if written, err := c.writeSharded(ctx, "mozanalysis", "t", tc.sql); written || err != nil {
			t.Errorf("writeSharded of %d clients = %v, %v; want left to one statement", tc.clients, written, err)
		}
	}
	bq, err := q.SQL(BigQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(bq, shardMarker) {
		t.Errorf("BigQuery SQL has the shard condition:\n%s", bq)
	}
}

// DuckDB's read parts are rowid ranges: every row of a table written in several statements
// is in exactly one part, whatever the number of parts.
func TestDuckDBParts(t *testing.T) {
	c := shardFixture(t)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE mozanalysis.t AS SELECT analysis_id FROM mozanalysis.enrollments_exp WHERE hash(analysis_id) % 2 = 0`,
		`INSERT INTO mozanalysis.t SELECT analysis_id FROM mozanalysis.enrollments_exp WHERE hash(analysis_id) % 2 = 1`,
	} {
		if err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	table := DuckDB{}.Table("mozanalysis", "t")
	for _, parts := range []int{1, 2, 3, 8, 5000} {
		seen := map[string]int{}
		sizes := make([]int, parts)
		for part := range parts {
			q := "SELECT analysis_id FROM " + table + " WHERE " + DuckDB{}.Part(table, "analysis_id", parts, part)
			err := c.Query(ctx, q, func(_ []string, v []any) error {
				seen[v[0].(string)]++
				sizes[part]++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(seen) != 3001 {
			t.Errorf("%d parts: %d clients read, want 3001", parts, len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%d parts: %s read %d times", parts, id, n)
			}
		}
		if parts <= 8 {
			for part, n := range sizes {
				if n < 3001/parts || n > 3001/parts+1 {
					t.Errorf("%d parts: part %d has %d rows, want %d or %d", parts, part, n, 3001/parts, 3001/parts+1)
				}
			}
		}
	}
}

// With a metrics memory limit (a warehouse opened from a URL without memory_limit), a
// metrics query of few clients is written in one statement within that limit, and the
// warehouse's limit is back afterwards; opening with ?memory_limit= leaves none.
func TestMetricsMemoryLimit(t *testing.T) {
	c := shardFixture(t)
	ctx := context.Background()
	q := daysQuery()
	sql := duckDBSQL(t, q)
	before := collect(t, c, `SELECT 'limit', current_setting('memory_limit')`)["limit"][1]
	c.metricsLimit = "64MB"
	written, err := c.writeSharded(ctx, "mozanalysis", "m", sql)
	if err != nil || !written {
		t.Fatalf("writeSharded = %v, %v; want the table written in one statement within the metrics limit", written, err)
	}
	got := collect(t, c, `SELECT 'n', (SELECT count(*) FROM mozanalysis.m), current_setting('memory_limit')`)["n"]
	if fmt.Sprint(got[1]) != "3001" || got[2] != before {
		t.Errorf("%v rows, memory_limit %v after writing; want 3001, %v", got[1], got[2], before)
	}
	dir := t.TempDir()
	for name, want := range map[string]string{"default.duckdb": MetricsMemoryLimit, "limited.duckdb?memory_limit=3GB": ""} {
		path := filepath.Join(dir, strings.TrimSuffix(name, "?memory_limit=3GB"))
		if err := c.Exec(ctx, fmt.Sprintf("ATTACH '%s' AS u; DETACH u", path)); err != nil {
			t.Fatal(err)
		}
		w, err := Open("duckdb:" + filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := w.(*duckDB).metricsLimit; got != want {
			t.Errorf("%s: metrics memory limit %q, want %q", name, got, want)
		}
	}
}

// daysQuery is a one-metric query over shardFixture's enrollments.
func daysQuery() MetricsQuery {
	return MetricsQuery{Slug: "exp", EnrollmentsTable: `"mozanalysis"."enrollments_exp"`, Basis: BasisEnrollments,
		WindowEnd: 6, FirstDate: date("2020-01-01"), LastDate: date("2020-01-13"),
		Metrics: []Metric{{Name: "days", SelectExpression: "COUNT(submission_date)", DataSource: DataSource{
			Name: "clients_daily", FromExpression: "telemetry.clients_daily", ClientIDColumn: "client_id", SubmissionDateColumn: "submission_date"}}}}
}

// duckDBSQL renders q in the DuckDB dialect.
func duckDBSQL(t *testing.T, q MetricsQuery) string {
	t.Helper()
	sql, err := q.SQL(DuckDB{})
	if err != nil {
		t.Fatal(err)
	}
	return sql
}

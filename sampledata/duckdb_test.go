//go:build cgo

package sampledata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func openSample(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", filepath.Join(dir, DatabaseFile)+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteDuckDB(t *testing.T) {
	// Stage with three goroutines (ranges 0…665, 666…1332, 1333…1999).
	defer func(limit func() int, min int) { stageWorkerLimit, minStageClients = limit, min }(stageWorkerLimit, minStageClients)
	stageWorkerLimit, minStageClients = func() int { return 3 }, 500
	if n := stageWorkers(2000); n != 3 {
		t.Fatalf("stageWorkers(2000) = %d, want 3", n)
	}
	dir := filepath.Join(t.TempDir(), "out")
	d := sampleDesign()
	opts := Options{Clients: 2000, Seed: 3, Design: d}
	truth, err := WriteDuckDB(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	want, err := Generate(opts, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(truth, want) {
		t.Errorf("WriteDuckDB's truth differs from Generate's")
	}
	if got := dirEntries(t, dir); !reflect.DeepEqual(got, []string{DatabaseFile, TruthFile}) {
		t.Errorf("output directory holds %v, want only the database and the truth", got)
	}
	loaded, err := LoadTruth(filepath.Join(dir, TruthFile))
	if err != nil || !reflect.DeepEqual(loaded, truth) {
		t.Errorf("truth.json: %v, equal to the returned truth: %t", err, reflect.DeepEqual(loaded, truth))
	}

	db := openSample(t, dir)
	// Row counts, through the three-part names Jetstream's SQL uses.
	if n := queryInt(t, db, `SELECT count(*) FROM mozdata.telemetry.events WHERE event_method IS DISTINCT FROM 'unenroll'`); n != int64(len(rec.events)) {
		t.Errorf("events: %d rows, the writer saw %d", n, len(rec.events))
	}
	if n := queryInt(t, db, `SELECT count(*) FROM mozdata.telemetry.clients_daily`); n != int64(len(rec.days)) {
		t.Errorf("clients_daily: %d rows, the writer saw %d", n, len(rec.days))
	}

	// Column types.
	rows, err := db.Query(`SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_catalog = 'mozdata' AND table_schema = 'telemetry' ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var table, column, typ string
		if err := rows.Scan(&table, &column, &typ); err != nil {
			t.Fatal(err)
		}
		got = append(got, table+"."+column+" "+typ)
	}
	rows.Close()
	const kv = `STRUCT("key" VARCHAR, "value" VARCHAR)[]`
	wantCols := []string{
		"clients_daily.submission_date DATE",
		"clients_daily.client_id VARCHAR",
		"clients_daily.profile_group_id VARCHAR",
		"clients_daily.sample_id INTEGER",
		"clients_daily.active_hours_sum DOUBLE",
		"clients_daily.subsession_hours_sum DOUBLE",
		"clients_daily.scalar_parent_browser_engagement_total_uri_count_sum BIGINT",
		"clients_daily.scalar_parent_browser_engagement_total_uri_count_normal_and_private_mode_sum BIGINT",
		"clients_daily.search_count_all BIGINT",
		"clients_daily.ad_clicks_count_all BIGINT",
		"clients_daily.pings_aggregated_by_this_row BIGINT",
		"clients_daily.is_default_browser BOOLEAN",
		"clients_daily.experiments " + kv,
		"desktop_active_users.submission_date DATE",
		"desktop_active_users.client_id VARCHAR",
		"desktop_active_users.profile_group_id VARCHAR",
		"desktop_active_users.sample_id INTEGER",
		"desktop_active_users.is_desktop BOOLEAN",
		"desktop_active_users.is_dau BOOLEAN",
		"desktop_active_users.days_active_bits BIGINT",
		"events.submission_date DATE",
		"events.client_id VARCHAR",
		"events.profile_group_id VARCHAR",
		"events.sample_id INTEGER",
		"events.event_category VARCHAR",
		"events.event_method VARCHAR",
		"events.event_object VARCHAR",
		"events.event_string_value VARCHAR",
		"events.event_map_values " + kv,
		`events.experiments STRUCT("key" VARCHAR, "value" STRUCT(branch VARCHAR))[]`,
	}
	if !reflect.DeepEqual(got, wantCols) {
		t.Errorf("columns =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantCols, "\n"))
	}

	// Every row, as a sorted list of canonical strings.
	compareRows(t, "events", queryRows(t, db, `SELECT strftime(submission_date, '%Y-%m-%d') || '|' || client_id || '|' ||
		profile_group_id || '|' || sample_id || '|' || coalesce(event_category, '') || '|' ||
		coalesce(event_method, '') || '|' || coalesce(event_object, '') || '|' || coalesce(event_string_value, '') || '|' ||
		coalesce(list_aggregate(list_transform(event_map_values, x -> x.key || '=' || x.value), 'string_agg', ','), '')
		FROM mozdata.telemetry.events WHERE event_method IS DISTINCT FROM 'unenroll'`), eventStrings(rec.events))
	compareRows(t, "clients_daily", queryRows(t, db, `SELECT strftime(submission_date, '%Y-%m-%d') || '|' || client_id || '|' ||
		profile_group_id || '|' || sample_id || '|' || round(active_hours_sum * 720)::BIGINT || '|' ||
		round(subsession_hours_sum * 720)::BIGINT || '|' ||
		scalar_parent_browser_engagement_total_uri_count_sum || '|' ||
		scalar_parent_browser_engagement_total_uri_count_normal_and_private_mode_sum || '|' ||
		search_count_all || '|' || ad_clicks_count_all || '|' || pings_aggregated_by_this_row || '|' ||
		is_default_browser || '|' ||
		coalesce(list_aggregate(list_transform(experiments, x -> x.key || '=' || x.value), 'string_agg', ','), '')
		FROM mozdata.telemetry.clients_daily`), dayStrings(rec.days))
	if n := queryInt(t, db, `SELECT count(*) FROM mozdata.telemetry.clients_daily WHERE experiments IS NULL`); n != 0 {
		t.Errorf("%d rows with a NULL experiments list, want empty lists", n)
	}
	var hours float64
	if err := db.QueryRow(`SELECT sum(active_hours_sum) FROM mozdata.telemetry.clients_daily`).Scan(&hours); err != nil {
		t.Fatal(err)
	}
	var wantHours float64
	for _, r := range rec.days {
		wantHours += r.ActiveHoursSum
	}
	if math.Abs(hours-wantHours) > 1e-6*wantHours {
		t.Errorf("sum(active_hours_sum) = %v, want %v", hours, wantHours)
	}

	// Jetstream's normandy enrollment query finds every client once, in its branch.
	branchRows, err := db.Query(`SELECT list_filter(event_map_values, kv -> kv.key = 'branch')[1].value AS branch,
			count(DISTINCT client_id), count(*)
		FROM mozdata.telemetry.events
		WHERE event_category = 'normandy' AND event_method = 'enroll' AND event_string_value = 'sample-sidebar-redesign'
			AND submission_date BETWEEN DATE '2026-09-01' AND DATE '2026-09-08'
		GROUP BY ALL ORDER BY branch`)
	if err != nil {
		t.Fatal(err)
	}
	for branchRows.Next() {
		var branch string
		var clients, events int64
		if err := branchRows.Scan(&branch, &clients, &events); err != nil {
			t.Fatal(err)
		}
		if clients != truth.BranchCounts[branch] || events != clients {
			t.Errorf("branch %s: %d clients with %d enroll events, truth counts %d", branch, clients, events, truth.BranchCounts[branch])
		}
	}
	branchRows.Close()
}

func queryRows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%v in\n%s", err, q)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func kvString(kvs []KeyValue) string {
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = kv.Key + "=" + kv.Value
	}
	return strings.Join(parts, ",")
}

func eventStrings(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, fmt.Sprintf("%s|%s|%s|%d|%s|%s|%s|%s|%s", e.SubmissionDate.Format(time.DateOnly), e.ClientID,
			e.ProfileGroupID, e.SampleID, e.Category, e.Method, e.Object, e.StringValue, kvString(e.MapValues)))
	}
	return out
}

func dayStrings(days []ClientDay) []string {
	var out []string
	for _, r := range days {
		out = append(out, fmt.Sprintf("%s|%s|%s|%d|%d|%d|%d|%d|%d|%d|%d|%t|%s", r.SubmissionDate.Format(time.DateOnly),
			r.ClientID, r.ProfileGroupID, r.SampleID, int64(math.Round(r.ActiveHoursSum*720)),
			int64(math.Round(r.SubsessionHoursSum*720)), r.URICount, r.URICountNormalAndPrivate, r.SearchCount,
			r.AdClicks, r.Pings, r.IsDefaultBrowser, kvString(r.Experiments)))
	}
	return out
}

func compareRows(t *testing.T, table string, got, want []string) {
	t.Helper()
	slices.Sort(got)
	slices.Sort(want)
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", table, len(got), len(want))
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: row %d is\n%s\nwant\n%s", table, i, got[i], want[i])
			return
		}
	}
}

func TestWriteDuckDBRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Clients: 50, Seed: 1, Design: sampleDesign()}
	if _, err := WriteDuckDB(dir, opts); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, DatabaseFile)
	before, err := os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	opts.Seed = 2
	if _, err := WriteDuckDB(dir, opts); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second run: error = %v, want a refusal", err)
	}
	after, err := os.Stat(dbPath)
	if err != nil || !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Errorf("refused run touched the database: %v", err)
	}
	if truth, err := LoadTruth(filepath.Join(dir, TruthFile)); err != nil || truth.Seed != 1 {
		t.Errorf("refused run touched truth.json: seed %d, %v", truth.Seed, err)
	}

	opts.Overwrite = true
	if _, err := WriteDuckDB(dir, opts); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if truth, err := LoadTruth(filepath.Join(dir, TruthFile)); err != nil || truth.Seed != 2 {
		t.Errorf("overwritten truth.json: seed %d, %v", truth.Seed, err)
	}
	db := openSample(t, dir)
	var id string
	if err := db.QueryRow(`SELECT min(client_id) FROM mozdata.telemetry.clients_daily WHERE client_id = '` +
		ClientID(2, 0) + `'`).Scan(&id); err != nil || id != ClientID(2, 0) {
		t.Errorf("overwritten database lacks the new seed's clients: %q, %v", id, err)
	}
	if got := dirEntries(t, dir); !reflect.DeepEqual(got, []string{DatabaseFile, TruthFile}) {
		t.Errorf("output directory holds %v", got)
	}
}

func TestWriteDuckDBFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteDuckDB(dir, Options{Clients: 0, Design: sampleDesign()}); err == nil {
		t.Error("no error for zero clients")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := WriteDuckDBContext(ctx, dir, Options{Clients: 100, Design: sampleDesign()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: error = %v, want context.Canceled", err)
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Errorf("failed runs left %v", got)
	}
}

// BenchmarkWriteDuckDB generates 100,000 clients of the sample design into DuckDB.
func BenchmarkWriteDuckDB(b *testing.B) {
	const clients = 100_000
	opts := Options{Clients: clients, Seed: 1, Design: sampleDesign()}
	var c counter
	if _, err := Generate(opts, &c); err != nil {
		b.Fatal(err)
	}
	var size int64
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
		if _, err := WriteDuckDB(dir, opts); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, DatabaseFile))
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
	}
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(c.events+c.days)/perOp, "rows/s")
	b.ReportMetric(clients/perOp, "clients/s")
	b.ReportMetric(float64(size)/(1<<20), "MB/100k-clients")
}

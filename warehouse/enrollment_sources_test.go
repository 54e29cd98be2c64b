//go:build cgo

package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// gleanWarehouse is a DuckDB warehouse with a Glean events_stream for the fenix app: client
// g1 enrols in treatment on 2024-05-02 (twice) and is exposed on 05-03; g2 enrols in control
// on 05-01 and is exposed before enrolling only; g3 enrols outside the enrollment period; g4
// is in another experiment; g5 enrols with sample_id 60; g6's enrollment has no client id.
func gleanWarehouse(t *testing.T) Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "glean.duckdb")
	db, err := sql.Open("duckdb", path)
	if err == nil {
		err = db.Close() // creates the file Open expects
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open("duckdb:" + path)
	if err != nil {
		t.Fatal(err)
	}
	rows := []string{
		`('g1', TIMESTAMP '2024-05-02 10:00:00', 'nimbus_events', 'enrollment', '{"experiment":"glean-exp","branch":"treatment"}', 3)`,
		`('g1', TIMESTAMP '2024-05-04 09:00:00', 'nimbus_events', 'enrollment', '{"experiment":"glean-exp","branch":"treatment"}', 3)`,
		`('g1', TIMESTAMP '2024-05-03 11:00:00', 'nimbus_events', 'exposure', '{"experiment":"glean-exp","branch":"treatment"}', 3)`,
		`('g1', TIMESTAMP '2024-05-05 11:00:00', 'nimbus_events', 'expose', '{"experiment":"glean-exp","branch":"treatment"}', 3)`,
		`('g2', TIMESTAMP '2024-05-01 08:00:00', 'nimbus_events', 'enrollment', '{"experiment":"glean-exp","branch":"control"}', 7)`,
		`('g2', TIMESTAMP '2024-04-30 08:00:00', 'nimbus_events', 'exposure', '{"experiment":"glean-exp","branch":"control"}', 7)`,
		`('g3', TIMESTAMP '2024-05-09 08:00:00', 'nimbus_events', 'enrollment', '{"experiment":"glean-exp","branch":"control"}', 7)`,
		`('g4', TIMESTAMP '2024-05-02 08:00:00', 'nimbus_events', 'enrollment', '{"experiment":"other-exp","branch":"control"}', 7)`,
		`('g5', TIMESTAMP '2024-05-02 08:00:00', 'nimbus_events', 'enrollment', '{"experiment":"glean-exp","branch":"control"}', 60)`,
		`(NULL, TIMESTAMP '2024-05-02 08:00:00', 'nimbus_events', 'enrollment', '{"experiment":"glean-exp","branch":"control"}', 7)`,
	}
	for _, s := range []string{
		`CREATE SCHEMA fenix`,
		`CREATE TABLE fenix.events_stream (client_id VARCHAR, submission_timestamp TIMESTAMP, event_category VARCHAR,
			event_name VARCHAR, event_extra JSON, sample_id BIGINT)`,
		`INSERT INTO fenix.events_stream VALUES ` + strings.Join(rows, ", "),
	} {
		if err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return c
}

func gleanEnrollments() Enrollments {
	return Enrollments{Slug: "glean-exp", First: date("2024-05-01"), Last: date("2024-05-07"),
		EventsTable: "mozdata.telemetry.events", Type: EnrollmentsGleanEvent, AppDataset: "fenix"}
}

// enrollmentRows renders every enrollments row as "id branch enrolled events exposed events".
func enrollmentRows(t *testing.T, c Client, e Enrollments) []string {
	t.Helper()
	table := createEnrollments(t, c, e)
	var out []string
	err := c.Query(context.Background(), `SELECT analysis_id, branch, enrollment_date, num_enrollment_events, exposure_date, num_exposure_events FROM `+table+` ORDER BY 1`,
		func(_ []string, v []any) error {
			out = append(out, strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGleanEventEnrollments(t *testing.T) {
	c := gleanWarehouse(t)
	got := enrollmentRows(t, c, gleanEnrollments())
	want := []string{
		"g1 treatment 2024-05-02 00:00:00 +0000 UTC 2 2024-05-03 00:00:00 +0000 UTC 2",
		"g2 control 2024-05-01 00:00:00 +0000 UTC 1 <nil> <nil>",
		"g5 control 2024-05-02 00:00:00 +0000 UTC 1 <nil> <nil>",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("enrollments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// sample_size 50 keeps clients with sample_id < 50: g5 (60) goes.
	sampled := gleanEnrollments()
	sampled.SampleSize = 50
	got = enrollmentRows(t, c, sampled)
	if len(got) != 2 || !strings.HasPrefix(got[0], "g1 ") || !strings.HasPrefix(got[1], "g2 ") {
		t.Errorf("sample_size 50 enrollments = %q, want g1 and g2", got)
	}
}

// A custom enrollment_query replaces the source; its id column may be named analysis_id or
// after the analysis unit (older configs), and exposures still come from the app's events.
func TestCustomEnrollmentQuery(t *testing.T) {
	c := gleanWarehouse(t)
	for _, id := range []string{"client_id", "analysis_id"} {
		e := gleanEnrollments()
		e.Custom = fmt.Sprintf(`SELECT client_id AS %s, JSON_VALUE(event_extra, '$.branch') AS branch,
    DATE("2024-05-03") AS enrollment_date, COUNT(*) AS num_enrollment_events
FROM `+"`moz-fx-data-shared-prod.fenix.events_stream`"+`
WHERE event_name = 'enrollment' AND JSON_VALUE(event_extra, "$.experiment") = 'glean-exp'
GROUP BY 1, 2`, id)
		got := enrollmentRows(t, c, e)
		want := []string{
			"<nil> control 2024-05-03 00:00:00 +0000 UTC 1 <nil> <nil>",
			"g1 treatment 2024-05-03 00:00:00 +0000 UTC 2 2024-05-03 00:00:00 +0000 UTC 2",
			"g2 control 2024-05-03 00:00:00 +0000 UTC 1 <nil> <nil>",
			"g3 control 2024-05-03 00:00:00 +0000 UTC 1 <nil> <nil>",
			"g5 control 2024-05-03 00:00:00 +0000 UTC 1 <nil> <nil>",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("custom query with %s:\n%s\nwant:\n%s", id, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// The first-day rule for each experiments column type: on the enrollment day (g1: 05-02)
// only rows already annotated with the experiment count; later rows count either way.
// Each table has, for g1, an annotated and an unannotated row on 05-02 and an unannotated
// row on 05-03, worth 1, 10 and 100: the metric is 101.
func TestExperimentsColumnTypes(t *testing.T) {
	c := gleanWarehouse(t)
	ctx := context.Background()
	tables := map[string][]string{
		"native": {`CREATE TABLE fenix.native_daily (client_id VARCHAR, submission_date DATE, n DOUBLE,
			experiments STRUCT(key VARCHAR, value STRUCT(branch VARCHAR))[])`,
			`INSERT INTO fenix.native_daily VALUES
			('g1', DATE '2024-05-02', 1, [{'key': 'glean-exp', 'value': {'branch': 'treatment'}}]),
			('g1', DATE '2024-05-02', 10, [{'key': 'other', 'value': {'branch': 'x'}}]),
			('g1', DATE '2024-05-03', 100, [])`},
		"glean": {`CREATE TABLE fenix.glean_metrics (client_id VARCHAR, submission_date DATE, n DOUBLE,
			ping_info STRUCT(experiments STRUCT(key VARCHAR, value STRUCT(branch VARCHAR))[]))`,
			`INSERT INTO fenix.glean_metrics VALUES
			('g1', DATE '2024-05-02', 1, {'experiments': [{'key': 'glean-exp', 'value': {'branch': 'treatment'}}]}),
			('g1', DATE '2024-05-02', 10, {'experiments': []}),
			('g1', DATE '2024-05-03', 100, {'experiments': []})`},
		"events_stream": {`CREATE TABLE fenix.events (client_id VARCHAR, submission_date DATE, n DOUBLE, experiments JSON)`,
			`INSERT INTO fenix.events VALUES
			('g1', DATE '2024-05-02', 1, '{"glean-exp": {"branch": "treatment"}}'),
			('g1', DATE '2024-05-02', 10, '{}'),
			('g1', DATE '2024-05-03', 100, NULL)`},
	}
	from := map[string]string{"native": "fenix.native_daily", "glean": "fenix.glean_metrics", "events_stream": "fenix.events"}
	table := createEnrollments(t, c, gleanEnrollments())
	for typ, stmts := range tables {
		for _, s := range stmts {
			if err := c.Exec(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		q := MetricsQuery{Slug: "glean-exp", EnrollmentsTable: table, Basis: BasisEnrollments, WindowStart: 0, WindowEnd: 6,
			FirstDate: date("2024-05-01"), LastDate: date("2024-05-13"),
			Metrics: []Metric{{Name: "n", SelectExpression: "COALESCE(SUM(n), 0)", DataSource: DataSource{Name: typ,
				FromExpression: "`mozdata." + from[typ] + "`", ClientIDColumn: "client_id", SubmissionDateColumn: "submission_date",
				ExperimentsColumnType: typ}}}}
		sql, err := q.SQL(c.Dialect())
		if err != nil {
			t.Fatal(err)
		}
		rows := collect(t, c, sql)
		if got := rows["g1"][len(MetricsKeyColumns)]; got != 101.0 {
			t.Errorf("%s: g1's metric = %v, want 101 (the unannotated enrollment-day row dropped)", typ, got)
		}
		if got := rows["g2"][len(MetricsKeyColumns)]; got != 0.0 {
			t.Errorf("%s: g2's metric = %v, want 0", typ, got)
		}
	}
}

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

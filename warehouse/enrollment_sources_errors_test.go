package warehouse

import (
	"strings"
	"testing"
)

func TestEnrollmentSourceErrors(t *testing.T) {
	base := Enrollments{Slug: "x", First: date("2024-05-01"), Last: date("2024-05-07"), EventsTable: "mozdata.telemetry.events"}
	cases := []struct {
		name string
		edit func(*Enrollments)
		want string
	}{
		{"background-update", func(e *Enrollments) { e.Type = EnrollmentsBackgroundUpdate },
			`experiment "x": enrollments query type "background-update" is not supported`},
		{"glean by group", func(e *Enrollments) {
			e.Type, e.AppDataset, e.AnalysisUnit = EnrollmentsGleanEvent, "fenix", "profile_group_id"
		},
			`experiment "x": glean-event enrollments support only the client_id analysis unit, not profile_group_id`},
		{"glean without app", func(e *Enrollments) { e.Type = EnrollmentsGleanEvent },
			`experiment "x": glean-event enrollments need the application's dataset (its app_id)`},
		{"custom query of the other unit", func(e *Enrollments) {
			e.AnalysisUnit, e.Custom = "profile_group_id", "SELECT client_id, branch, enrollment_date, num_enrollment_events FROM t"
		}, `experiment "x": enrollment_query uses client_id, but the experiment is analysed by profile_group_id`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := base
			c.edit(&e)
			_, err := e.Query(BigQuery{})
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error = %v, want %s", err, c.want)
			}
		})
	}
}

func TestAppDataset(t *testing.T) {
	for in, want := range map[string]string{
		"org.mozilla.ios.FirefoxBeta": "org_mozilla_ios_firefoxbeta",
		"firefox-desktop":             "firefox_desktop",
		"fenix":                       "fenix",
	} {
		if got := AppDataset(in); got != want {
			t.Errorf("AppDataset(%q) = %q, want %q", in, got, want)
		}
	}
}

// SQL in segments, exposure signals and custom enrollment queries that DuckDB cannot run
// fails before running, naming where it is and the construct.
func TestEnrollmentsUnsupportedOnDuckDB(t *testing.T) {
	base := Enrollments{Slug: "x", First: date("2024-05-01"), Last: date("2024-05-07"), EventsTable: "mozdata.telemetry.events"}
	seg := regularUser
	seg.SelectExpression = "COALESCE(LOGICAL_OR(APPROX_QUANTILES(x, 4)[OFFSET(2)] > 1), FALSE)"
	cases := []struct {
		name string
		edit func(*Enrollments)
		want string
	}{
		{"segment", func(e *Enrollments) { e.Segments = []Segment{seg} },
			`experiment "x": segment "regular_user_v3" (data source "clients_last_seen"): DuckDB cannot run BigQuery's APPROX_QUANTILES (in select_expression)`},
		{"exposure signal", func(e *Enrollments) {
			e.Exposure = &ExposureSignal{Name: "opened", SelectExpression: "udf.opened(x)", FromExpression: "mozdata.t",
				ClientIDColumn: "client_id", SubmissionDateColumn: "submission_date"}
		}, `experiment "x": exposure signal "opened": DuckDB cannot run BigQuery's udf.opened (in select_expression)`},
		{"custom query", func(e *Enrollments) { e.Custom = "SELECT HLL_COUNT.MERGE(s) FROM t" },
			`experiment "x": custom enrollment query: DuckDB cannot run BigQuery's HLL_COUNT.MERGE (in enrollment_query)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := base
			c.edit(&e)
			if _, err := e.Query(DuckDB{}); err == nil || err.Error() != c.want {
				t.Errorf("error = %v\nwant    %s", err, c.want)
			}
			if _, err := e.Query(BigQuery{}); err != nil {
				t.Errorf("BigQuery: %v", err)
			}
		})
	}
}

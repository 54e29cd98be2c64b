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

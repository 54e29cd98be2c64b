package pipeline

import (
	"testing"

	"github.com/jetstream-beam/jetstream/configs"
)

// Each experiment's enrollments come from its config's query type or custom query, else its
// platform's source; Glean sources read the dataset of Experimenter's app id (else the
// platform's).
func TestEnrollmentsSource(t *testing.T) {
	cases := []struct {
		name              string
		a                 configs.Analysis
		wantType, wantApp string
		wantCustom        string
	}{
		{"desktop", configs.Analysis{AppName: "firefox_desktop", AppID: "firefox-desktop"}, "normandy", "firefox_desktop", ""},
		{"fenix beta", configs.Analysis{AppName: "fenix", AppID: "org.mozilla.firefox_beta"}, "glean-event", "org_mozilla_firefox_beta", ""},
		{"ios without app id", configs.Analysis{AppName: "firefox_ios"}, "glean-event", "org_mozilla_ios_firefoxbeta", ""},
		{"desktop configured glean", configs.Analysis{AppName: "firefox_desktop", EnrollmentsQueryType: "glean-event"}, "glean-event", "firefox_desktop", ""},
		{"custom query", configs.Analysis{AppName: "firefox_desktop", EnrollmentQuery: "SELECT 1"}, "normandy", "firefox_desktop", "SELECT 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.a.Slug = "s"
			e := newExperimentPlan(&c.a, Dates{}, Options{}).Enrollments
			if e.Type != c.wantType || e.AppDataset != c.wantApp || e.Custom != c.wantCustom {
				t.Errorf("type %q, dataset %q, custom %q; want %q, %q, %q", e.Type, e.AppDataset, e.Custom, c.wantType, c.wantApp, c.wantCustom)
			}
		})
	}
}

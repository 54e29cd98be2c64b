package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
)

// experimenterClock is the clock of the Experimenter fixtures (expected.json).
var experimenterClock = time.Date(2025, 9, 10, 6, 0, 0, 0, time.UTC)

// fixtureExperiment reads one record of the Experimenter v8 list fixture.
func fixtureExperiment(t *testing.T, slug string) experimenter.Experiment {
	t.Helper()
	data, err := os.ReadFile("../../shared/fixtures/experimenter/api_v8_experiments.json")
	if err != nil {
		t.Fatal(err)
	}
	exps, _, err := experimenter.ParseList(data, experimenterClock)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exps {
		if e.Slug == slug {
			return e
		}
	}
	t.Fatalf("no experiment %s in the Experimenter fixture", slug)
	return experimenter.Experiment{}
}

// withoutDefaults is the embedded metric-hub without the platform defaults: definitions,
// functions and outcomes only, so an experiment's metrics are those its config names.
func withoutDefaults() *configs.Collection {
	hub := configs.MetricHub()
	c := configs.NewCollection()
	c.Definitions = maps.Clone(hub.Definitions)
	c.Outcomes = maps.Clone(hub.Outcomes)
	c.Functions = maps.Clone(hub.Functions)
	return c
}

// resolve parses a config (nil: none) and resolves it against exp with c.
func resolve(t *testing.T, c *configs.Collection, toml string, exp experimenter.Experiment) *configs.Analysis {
	t.Helper()
	var spec *configs.Spec
	if toml != "" {
		var err error
		if spec, err = configs.Parse(exp.Slug+".toml", []byte(toml)); err != nil {
			t.Fatal(err)
		}
	}
	a, err := c.Resolve(spec, exp)
	if err != nil {
		t.Fatalf("resolving %s: %v", exp.Slug, err)
	}
	return a
}

// decodeObject decodes a JSON object into generic values.
func decodeObject(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return m
}

// addressBarConfig is a metric-hub config for address-bar-actions-placement as the example
// describes it (metric-hub has no such file): the reference branch is set to legacy-layout
// (Experimenter says actions-right) and the end date to 2025-10-01 (Experimenter has none);
// it analyses urlbar_actions_clicked (its own metric, exposures only, no friendly name or
// description) and active_hours (metric-hub's definition).
const addressBarConfig = `
[experiment]
reference_branch = "legacy-layout"
end_date = "2025-10-01"

[metrics]
weekly = ["urlbar_actions_clicked", "active_hours"]
overall = ["urlbar_actions_clicked", "active_hours"]

[metrics.urlbar_actions_clicked]
select_expression = "COUNTIF(event_name = 'engagement')"
data_source = "urlbar_events"
analysis_bases = ["exposures"]
statistics = { bootstrap_mean = {} }

[data_sources.urlbar_events]
from_expression = "mozdata.firefox_desktop.events_stream"
experiments_column_type = "none"
`

// TestMetadataAddressBarExample reproduces
// examples/metadata_address_bar_actions_placement_external_config.json exactly: the
// Experimenter fixture's record, the config above resolved with metric-hub's definitions but
// without the firefox_desktop defaults (the example lists only the config's two metrics,
// which a run with the defaults would not), and the run's start time. The document is valid,
// the same JSON value as the example and, indented as the example is, the same bytes.
func TestMetadataAddressBarExample(t *testing.T) {
	exp := fixtureExperiment(t, "address-bar-actions-placement")
	a := resolve(t, withoutDefaults(), addressBarConfig, exp)
	m, err := NewMetadata(a, exp, withoutDefaults(), MetadataOptions{
		AnalysisStartTime: time.Date(2025, 9, 10, 4, 47, 3, 120554000, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := MetadataJSON(m)
	if err := validateJSON(compileSchema(t, "metadata.schema.json"), got); err != nil {
		t.Fatalf("schema: %v\n%s", err, got)
	}
	want := readExample(t, "metadata_address_bar_actions_placement_external_config.json")
	if !sameJSON(t, got, want) {
		t.Errorf("MetadataJSON differs from the example:\n%s", indented(t, got))
	}
	if g := indented(t, got); !bytes.Equal(g, want) {
		t.Errorf("indented MetadataJSON is not the example's bytes:\n%s", g)
	}
	// pydantic's compact form, keys in the model's order
	if !bytes.HasPrefix(got, []byte(`{"analysis_start_time":"2025-09-10 04:47:03.120554+00:00","external_config":{"reference_branch":"legacy-layout","end_date":"2025-10-01","start_date":null,"enrollment_period":null,"skip":false,"url":"https://github.com/mozilla/metric-hub/blob/main/jetstream/address-bar-actions-placement.toml"},"metrics":{"urlbar_actions_clicked":{`)) {
		t.Errorf("document starts %.300s", got)
	}
	if !bytes.HasSuffix(got, []byte(`"outcomes":{},"version_info":null,"version_date":null,"schema_version":4}`)) {
		t.Errorf("document ends %s", got[len(got)-80:])
	}
}

// TestMetadataVerticalTabsExample compares with examples/metadata_vertical_tabs_sidebar_launch.json
// a run as Jetstream would do it with the embedded metric-hub: the Experimenter fixture's
// record (outcome sidebar, segment regular_users_v3, no metric-hub config) and the
// firefox_desktop defaults. It cannot be byte-identical, and each difference is asserted:
//
//   - the example lists 10 metrics; the defaults add their other metrics (ad_clicks,
//     search_count, …), so the document holds every metric of the resolved analysis, a
//     superset of the example's;
//   - tab_group_count (no friendly name, no description in the example) is defined nowhere
//     in the embedded metric-hub and is not analysed by default, so it is absent;
//   - retained's description in the embedded definitions (metric-hub of 2026) has a
//     deprecation note appended to the one the example shows;
//   - commit_hash: the embedded metric-hub has no git history, so it is null unless the
//     caller knows it (given here as in the example, and checked null without it).
//
// Everything else (outcome entry, external_config null although the effective enrollment
// period, 10 days from enrollmentEndDate, differs from proposedEnrollment 7, and the other
// metrics' entries) equals the example.
func TestMetadataVerticalTabsExample(t *testing.T) {
	exp := fixtureExperiment(t, "vertical-tabs-sidebar-launch")
	hub := configs.MetricHub()
	a := resolve(t, hub, "", exp)
	if a.EnrollmentPeriod != 10 || exp.ProposedEnrollment != 7 {
		t.Fatalf("enrollment period %d (proposed %d), want 10 (7): the case below is not the one meant", a.EnrollmentPeriod, exp.ProposedEnrollment)
	}
	const commit = "f6b462065ead4f1d6c78b00e6b39dd13216ae236"
	m, err := NewMetadata(a, exp, hub, MetadataOptions{
		AnalysisStartTime: time.Date(2025, 9, 10, 4, 31, 12, 551234000, time.UTC),
		OutcomeCommits:    map[string]string{"sidebar": commit},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := MetadataJSON(m)
	if err := validateJSON(compileSchema(t, "metadata.schema.json"), got); err != nil {
		t.Fatalf("schema: %v\n%s", err, got)
	}
	doc := decodeObject(t, got)
	want := decodeObject(t, readExample(t, "metadata_vertical_tabs_sidebar_launch.json"))

	for _, k := range []string{"analysis_start_time", "external_config", "outcomes", "version_info", "version_date", "schema_version"} {
		if !reflect.DeepEqual(doc[k], want[k]) {
			t.Errorf("%s = %v, want %v", k, doc[k], want[k])
		}
	}

	metrics := doc["metrics"].(map[string]any)
	// every metric of the analysis, each once, and nothing else
	var names []string
	for _, x := range m.Metrics {
		names = append(names, x.Slug)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(metrics)), slices.Sorted(maps.Keys(a.Metrics))) || len(names) != len(metrics) {
		t.Errorf("metrics %v, want the analysis' %v", slices.Sorted(maps.Keys(metrics)), slices.Sorted(maps.Keys(a.Metrics)))
	}
	for name, w := range want["metrics"].(map[string]any) {
		g, ok := metrics[name]
		switch name {
		case "tab_group_count":
			if ok {
				t.Errorf("tab_group_count is in the document, but no embedded definition or default names it: %v", g)
			}
		case "retained":
			gm, wm := g.(map[string]any), w.(map[string]any)
			gd, wd := gm["description"].(string), wm["description"].(string)
			if !strings.HasPrefix(gd, wd+"\nNote: As of June 2026, this metric is being deprecated") {
				t.Errorf("retained description = %q, want the example's %q and the deprecation note", gd, wd)
			}
			gm["description"] = wd
			if !reflect.DeepEqual(gm, wm) {
				t.Errorf("retained = %v, want %v", gm, wm)
			}
		default:
			if !reflect.DeepEqual(g, w) {
				t.Errorf("metric %s = %v, want %v", name, g, w)
			}
		}
	}
	// the defaults' metrics, in the order of the periods (daily first) then of the lists,
	// with the sidebar outcome's after the weekly defaults; a config's friendly name wins
	// over the Title Case default ("Ad clicks", not "Ad Clicks")
	if len(names) != 23 || !slices.Equal(names[:3], []string{"retained", "retained_dau", "unenroll"}) ||
		!slices.Equal(names[13:15], []string{"sidebar_engagement", "sidebar_frequency"}) {
		t.Errorf("metric order = %v", names)
	}
	if g := metrics["ad_clicks"].(map[string]any); g["friendly_name"] != "Ad clicks" {
		t.Errorf("ad_clicks friendly_name = %v, want metric-hub's Ad clicks", g["friendly_name"])
	}

	// unknown commit: null
	m2, err := NewMetadata(a, exp, hub, MetadataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	doc2 := decodeObject(t, MetadataJSON(m2))
	if o := doc2["outcomes"].(map[string]any)["sidebar"].(map[string]any); o["commit_hash"] != nil {
		t.Errorf("commit_hash without a known commit = %v, want null", o["commit_hash"])
	}
	if doc2["analysis_start_time"] != nil {
		t.Errorf("analysis_start_time without a start = %v, want null", doc2["analysis_start_time"])
	}
}

// TestMetadataOrder: metrics come in the order of the periods, then of each period's
// list, each metric once (so a metric first named in a later period comes later).
func TestMetadataOrder(t *testing.T) {
	exp := fixtureExperiment(t, "address-bar-actions-placement")
	a := resolve(t, withoutDefaults(), `
[metrics]
daily = ["days_of_use"]
weekly = ["active_hours", "days_of_use"]
overall = ["uri_count", "active_hours"]
`, exp)
	m, err := NewMetadata(a, exp, withoutDefaults(), MetadataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range m.Metrics {
		names = append(names, x.Slug)
	}
	if want := []string{"days_of_use", "active_hours", "uri_count"}; !slices.Equal(names, want) {
		t.Errorf("metrics = %v, want %v", names, want)
	}
	if m.ExternalConfig != nil || len(m.Outcomes) != 0 {
		t.Errorf("no overrides and no outcomes expected: %+v %+v", m.ExternalConfig, m.Outcomes)
	}
}

// TestExternalConfig: hand-computed external_config for configs of the fixture's
// vertical-tabs-sidebar-launch (Experimenter: reference branch control, start 2025-08-05, no
// end date, enrollment end 2025-08-14 i.e. 10 enrollment days, proposedEnrollment 7).
func TestExternalConfig(t *testing.T) {
	exp := fixtureExperiment(t, "vertical-tabs-sidebar-launch")
	c := withoutDefaults()
	const url = `"url":"https://github.com/mozilla/metric-hub/blob/main/jetstream/vertical-tabs-sidebar-launch.toml"`
	cases := []struct {
		name, experiment, want string
	}{
		{"no [experiment]: nothing overridden, although the effective enrollment period (10) is not proposedEnrollment (7)",
			"", `null`},
		{"values equal to Experimenter's are not overrides",
			`reference_branch = "control"` + "\n" + `start_date = "2025-08-05"` + "\n" + `enrollment_period = 7`, `null`},
		{"enrollment_period = 0 is falsy for metric-config-parser: not an override, though the analysis uses 0 days",
			`enrollment_period = 0`, `null`},
		{"skip alone is not an override", `skip = true`, `null`},
		{"reference branch: the effective enrollment period (10, from enrollmentEndDate) differs from proposedEnrollment and is reported too",
			`reference_branch = "treatment"`,
			`{"reference_branch":"treatment","end_date":null,"start_date":null,"enrollment_period":10,"skip":false,` + url + `}`},
		{"enrollment period",
			`enrollment_period = 14`,
			`{"reference_branch":null,"end_date":null,"start_date":null,"enrollment_period":14,"skip":false,` + url + `}`},
		{"later start: enrollment period recomputed from enrollmentEndDate (Aug 6 to 14 = 9 days)",
			`start_date = "2025-08-06"`,
			`{"reference_branch":null,"end_date":null,"start_date":"2025-08-06","enrollment_period":9,"skip":false,` + url + `}`},
		{"end date with skip, enrollment period equal to the proposal",
			`end_date = "2025-10-01"` + "\n" + `skip = true` + "\n" + `enrollment_period = 7`,
			`{"reference_branch":null,"end_date":"2025-10-01","start_date":null,"enrollment_period":null,"skip":true,` + url + `}`},
	}
	schema := compileSchema(t, "metadata.schema.json")
	for _, tc := range cases {
		config := "[metrics]\nweekly = [\"active_hours\"]\n"
		if tc.experiment != "" {
			config = "[experiment]\n" + tc.experiment + "\n" + config
		}
		a := resolve(t, c, config, exp)
		m, err := NewMetadata(a, exp, c, MetadataOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		data := MetadataJSON(m)
		if err := validateJSON(schema, data); err != nil {
			t.Errorf("%s: schema: %v\n%s", tc.name, err, data)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		if got := string(raw["external_config"]); got != tc.want {
			t.Errorf("%s:\nexternal_config = %s\nwant            %s", tc.name, got, tc.want)
		}
	}
}

// TestMetadataPrivate: a private experiment gets no metadata, and the caller can tell.
func TestMetadataPrivate(t *testing.T) {
	exp := fixtureExperiment(t, "address-bar-actions-placement")
	c := withoutDefaults()
	a := resolve(t, c, "[experiment]\nis_private = true\ndataset_id = \"private_results\"\n[metrics]\nweekly = [\"active_hours\"]\n", exp)
	m, err := NewMetadata(a, exp, c, MetadataOptions{})
	if !errors.Is(err, ErrPrivate) || m != nil {
		t.Fatalf("NewMetadata = %v, %v; want nil, ErrPrivate", m, err)
	}
	if !strings.Contains(err.Error(), "address-bar-actions-placement") {
		t.Errorf("error %q does not name the experiment", err)
	}
	a.IsPrivate = false
	if _, err := NewMetadata(a, exp, c, MetadataOptions{}); err != nil {
		t.Errorf("public: %v", err)
	}
}

// TestMetadataErrors: inputs that cannot give a document are errors with context.
func TestMetadataErrors(t *testing.T) {
	exp := fixtureExperiment(t, "vertical-tabs-sidebar-launch")
	hub := configs.MetricHub()
	a := resolve(t, hub, "", exp)
	if _, err := NewMetadata(a, exp, configs.NewCollection(), MetadataOptions{}); err == nil ||
		!strings.Contains(err.Error(), "outcome sidebar") || !strings.Contains(err.Error(), "firefox_desktop") {
		t.Errorf("outcome missing from the collection: %v", err)
	}
	if _, err := NewMetadata(a, exp, nil, MetadataOptions{}); err == nil || !strings.Contains(err.Error(), "outcome sidebar") {
		t.Errorf("no collection: %v", err)
	}
	if _, err := NewMetadata(nil, exp, hub, MetadataOptions{}); err == nil {
		t.Error("nil analysis: no error")
	}
	if _, err := NewMetadata(&configs.Analysis{}, exp, hub, MetadataOptions{}); err == nil || !strings.Contains(err.Error(), "slug") {
		t.Errorf("no slug: %v", err)
	}
}

// TestMetadataJSONEmpty: a document with nothing set still has all seven keys (null, {}),
// and is valid.
func TestMetadataJSONEmpty(t *testing.T) {
	got := MetadataJSON(&Metadata{})
	want := `{"analysis_start_time":null,"external_config":null,"metrics":{},"outcomes":{},"version_info":null,"version_date":null,"schema_version":4}`
	if string(got) != want {
		t.Errorf("MetadataJSON = %s\nwant %s", got, want)
	}
	if err := validateJSON(compileSchema(t, "metadata.schema.json"), got); err != nil {
		t.Errorf("schema: %v", err)
	}
}

// TestMetadataSchemaRejectsInvalid: the schema loads and refuses the three invalid
// examples, and a document of ours with an unknown basis, so the validations above can fail.
func TestMetadataSchemaRejectsInvalid(t *testing.T) {
	schema := compileSchema(t, "metadata.schema.json")
	rejectsInvalidExamples(t, schema, "metadata_*.json", 3)
	bad := MetadataJSON(&Metadata{Metrics: []MetricMetadata{{Slug: "x", AnalysisBases: []string{"clients"}, FriendlyName: "X"}}})
	if err := validateJSON(schema, bad); err == nil {
		t.Errorf("analysis basis clients validated: %s", bad)
	}
}

// TestTitleCase: the default friendly name is Python's str.title() of the slug with "_" as
// spaces, computed by hand for the cases where it differs from a naive capitalisation.
func TestTitleCase(t *testing.T) {
	cases := map[string]string{
		"urlbar_actions_clicked":             "Urlbar Actions Clicked",
		"tab_group_count":                    "Tab Group Count",
		"active_in_last_3_days_legacy":       "Active In Last 3 Days Legacy",
		"client_level_daily_active_users_v2": "Client Level Daily Active Users V2",
		"days_28d":                           "Days 28D", // a letter after a digit starts a word
		"3rd_party_cookies":                  "3Rd Party Cookies",
		"FxA_SIGNINS":                        "Fxa Signins", // the rest of a word is lowered
		"__private":                          "  Private",
		"":                                   "",
	}
	for slug, want := range cases {
		if got := titleCase(strings.ReplaceAll(slug, "_", " ")); got != want {
			t.Errorf("titleCase(%q) = %q, want %q", slug, got, want)
		}
	}
	// and it is what NewMetadata uses for a metric without a friendly name
	exp := fixtureExperiment(t, "address-bar-actions-placement")
	c := withoutDefaults()
	a := resolve(t, c, `
[metrics]
weekly = ["active_in_last_3_days_x"]
[metrics.active_in_last_3_days_x]
select_expression = "1"
data_source = "clients_daily"
friendly_name = ""
statistics = { binomial = {} }
`, exp)
	m, err := NewMetadata(a, exp, c, MetadataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Metrics) != 1 || m.Metrics[0].FriendlyName != "Active In Last 3 Days X" || m.Metrics[0].Description != "" || !m.Metrics[0].BiggerIsBetter {
		t.Errorf("metrics = %+v", m.Metrics)
	}
}

// TestPythonTime: str() of an aware UTC datetime; other zones are converted to UTC.
func TestPythonTime(t *testing.T) {
	cases := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 9, 10, 4, 31, 12, 551234000, time.UTC), "2025-09-10 04:31:12.551234+00:00"},
		{time.Date(2025, 9, 10, 4, 31, 12, 0, time.UTC), "2025-09-10 04:31:12+00:00"},
		{time.Date(2025, 9, 10, 4, 31, 12, 999, time.UTC), "2025-09-10 04:31:12+00:00"}, // below a microsecond
		{time.Date(2025, 9, 10, 4, 31, 12, 1000, time.UTC), "2025-09-10 04:31:12.000001+00:00"},
		{time.Date(2025, 9, 10, 6, 31, 12, 500000000, time.FixedZone("CEST", 2*3600)), "2025-09-10 04:31:12.500000+00:00"},
	}
	for _, c := range cases {
		if got := PythonTime(c.t); got != c.want {
			t.Errorf("PythonTime(%v) = %s, want %s", c.t, got, c.want)
		}
	}
}

package experimenter

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixtureClock is expected.json's clock: the wall clock when the API was read.
var fixtureClock = time.Date(2025, 9, 10, 6, 0, 0, 0, time.UTC)

const fixtureDir = "../../shared/fixtures/experimenter/"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixtureDir + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// expectedCase is one entry of expected.json's experiments or drafts.
type expectedCase struct {
	Parse      string          `json:"parse"`
	Experiment json.RawMessage `json:"experiment"`
	Scenarios  []struct {
		ConfigOverride map[string]any `json:"config_override"`
		Derived        struct {
			EnrollmentPeriod int    `json:"enrollment_period"`
			AnalysisUnit     string `json:"analysis_unit"`
		} `json:"derived"`
	} `json:"scenarios"`
}

type expectedFile struct {
	ListEndpoint struct {
		File        string `json:"file"`
		RecordCount int    `json:"record_count"`
		ParsedCount int    `json:"parsed_count"`
		Rejected    []struct {
			Index     int    `json:"index"`
			Slug      string `json:"slug"`
			BadFields []struct {
				Field string `json:"field"`
				Value any    `json:"value"`
			} `json:"bad_fields"`
		} `json:"rejected"`
		Order []string `json:"order"`
	} `json:"list_endpoint"`
	Experiments map[string]expectedCase `json:"experiments"`
	Drafts      map[string]expectedCase `json:"drafts"`
}

func loadExpected(t *testing.T) expectedFile {
	t.Helper()
	var exp expectedFile
	if err := json.Unmarshal(readFixture(t, "expected.json"), &exp); err != nil {
		t.Fatal(err)
	}
	return exp
}

// experimentView is an Experiment in expected.json's shape (Jetstream's converted Experiment),
// plus the two derived values this package computes.
type experimentView struct {
	NormandySlug       string   `json:"normandy_slug"`
	ExperimenterSlug   *string  `json:"experimenter_slug"`
	Type               string   `json:"type"`
	Status             string   `json:"status"`
	StartDate          *string  `json:"start_date"`
	EndDate            *string  `json:"end_date"`
	EnrollmentEndDate  *string  `json:"enrollment_end_date"`
	ProposedEnrollment int      `json:"proposed_enrollment"`
	ReferenceBranch    *string  `json:"reference_branch"`
	Branches           []Branch `json:"branches"`
	AppName            string   `json:"app_name"`
	AppID              string   `json:"app_id"`
	Outcomes           []string `json:"outcomes"`
	Segments           []string `json:"segments"`
	IsEnrollmentPaused bool     `json:"is_enrollment_paused"`
	IsRollout          bool     `json:"is_rollout"`
	IsHighPopulation   bool     `json:"is_high_population"`
	BucketConfig       struct {
		RandomizationUnit string `json:"randomization_unit"`
		Namespace         string `json:"namespace"`
		Start             int    `json:"start"`
		Count             int    `json:"count"`
		Total             int    `json:"total"`
	} `json:"bucket_config"`
	EnrollmentPeriod int    `json:"-"`
	AnalysisUnit     string `json:"-"`
}

// view renders e like expected.json. experimenter_slug (always null) and is_high_population
// (always false) are Jetstream constants the Go type does not carry; they stay at their zero
// values, so a fixture that disagreed would fail the comparison.
func view(e Experiment) experimentView {
	date := func(t time.Time) *string {
		if t.IsZero() {
			return nil
		}
		s := t.Format(time.DateOnly)
		return &s
	}
	v := experimentView{
		NormandySlug:       e.NormandySlug,
		Type:               e.Type,
		Status:             e.Status,
		StartDate:          date(e.StartDate),
		EndDate:            date(e.EndDate),
		EnrollmentEndDate:  date(e.EnrollmentEndDate),
		ProposedEnrollment: e.ProposedEnrollment,
		Branches:           e.Branches,
		AppName:            e.AppName,
		AppID:              e.AppID,
		Outcomes:           e.Outcomes,
		Segments:           e.Segments,
		IsEnrollmentPaused: e.IsEnrollmentPaused,
		IsRollout:          e.IsRollout,
		EnrollmentPeriod:   e.EnrollmentPeriod(),
		AnalysisUnit:       e.AnalysisUnit(),
	}
	if e.ReferenceBranch != "" {
		v.ReferenceBranch = &e.ReferenceBranch
	}
	v.BucketConfig.RandomizationUnit = e.BucketConfig.RandomizationUnit
	v.BucketConfig.Namespace = e.BucketConfig.Namespace
	v.BucketConfig.Start = e.BucketConfig.Start
	v.BucketConfig.Count = e.BucketConfig.Count
	v.BucketConfig.Total = e.BucketConfig.Total
	return v
}

// wantView decodes an expected experiment strictly (a key this test does not know fails it,
// so no field of expected.json goes unchecked) and adds the derived values of the scenario
// without a metric-hub override.
func wantView(t *testing.T, c expectedCase) experimentView {
	t.Helper()
	var v experimentView
	dec := json.NewDecoder(bytes.NewReader(c.Experiment))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("expected experiment: %v", err)
	}
	for _, sc := range c.Scenarios {
		if len(sc.ConfigOverride) == 0 {
			v.EnrollmentPeriod = sc.Derived.EnrollmentPeriod
			v.AnalysisUnit = sc.Derived.AnalysisUnit
			return v
		}
	}
	t.Fatal("expected experiment has no scenario without a config override")
	return v
}

// compareView reports every field that differs, by its expected.json name.
func compareView(t *testing.T, slug string, got, want experimentView) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		f := gv.Type().Field(i)
		name := f.Tag.Get("json")
		if name == "-" {
			name = "derived." + f.Name
		}
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if gs, ok := g.([]string); ok && len(gs) == 0 && len(w.([]string)) == 0 {
			continue // nil and [] are the same empty list
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s = %s, want %s", slug, name, show(g), show(w))
		}
	}
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Every record of the list fixture converts exactly as Jetstream converts it, and the
// malformed one is rejected alone, with each of its bad fields named.
func TestParseListFixture(t *testing.T) {
	exp := loadExpected(t)
	le := exp.ListEndpoint
	exps, rejected, err := ParseList(readFixture(t, le.File), fixtureClock)
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != le.ParsedCount || len(exps)+len(rejected) != le.RecordCount {
		t.Fatalf("parsed %d, rejected %d; want %d of %d parsed", len(exps), len(rejected), le.ParsedCount, le.RecordCount)
	}

	var order []string
	for _, e := range exps {
		order = append(order, e.Slug)
	}
	wantOrder := slices.DeleteFunc(slices.Clone(le.Order), func(s string) bool { return s == le.Rejected[0].Slug })
	if !slices.Equal(order, wantOrder) {
		t.Errorf("order %v, want %v", order, wantOrder)
	}

	for _, e := range exps {
		c, ok := exp.Experiments[e.Slug]
		if !ok || c.Parse != "ok" {
			t.Errorf("%s: parsed, but expected.json says %+v", e.Slug, c.Parse)
			continue
		}
		compareView(t, e.Slug, view(e), wantView(t, c))
	}

	if len(rejected) != len(le.Rejected) {
		t.Fatalf("rejected %v, want %d records", rejected, len(le.Rejected))
	}
	for i, want := range le.Rejected {
		got := rejected[i]
		if got.Index != want.Index || got.Slug != want.Slug {
			t.Errorf("rejected record %d (%q), want %d (%q)", got.Index, got.Slug, want.Index, want.Slug)
		}
		if exp.Experiments[want.Slug].Parse != "error" {
			t.Errorf("%s: expected.json does not mark it as a parse error", want.Slug)
		}
		if len(got.Problems) != len(want.BadFields) {
			t.Errorf("problems %q, want one for each of %d bad fields", got.Problems, len(want.BadFields))
			continue
		}
		for j, bad := range want.BadFields {
			p := got.Problems[j]
			if !strings.HasPrefix(p, bad.Field+": ") || !strings.HasSuffix(p, "got "+show(bad.Value)) {
				t.Errorf("problem %q, want it to name field %s and its value %s", p, bad.Field, show(bad.Value))
			}
		}
	}
	const wantErr = `experiment record 2 ("broken-types-experiment"): ` +
		`branches: want an array of {slug, ratio} objects, got "control,treatment"; ` +
		`startDate: want a YYYY-MM-DD date string, got 20250801; ` +
		`proposedEnrollment: want an integer, got "fourteen"; ` +
		`bucketConfig.start: want an integer, got "zero"`
	if got := rejected[0].Error(); got != wantErr {
		t.Errorf("error\n got %s\nwant %s", got, wantErr)
	}
}

func TestParseDraftsFixture(t *testing.T) {
	exp := loadExpected(t)
	exps, rejected, err := ParseList(readFixture(t, "api_v8_draft_experiments.json"), fixtureClock)
	if err != nil || len(rejected) != 0 {
		t.Fatalf("err %v, rejected %v", err, rejected)
	}
	if len(exps) != len(exp.Drafts) {
		t.Fatalf("parsed %d drafts, want %d", len(exps), len(exp.Drafts))
	}
	for _, e := range exps {
		c, ok := exp.Drafts[e.Slug]
		if !ok {
			t.Errorf("%s: not in expected.json drafts", e.Slug)
			continue
		}
		compareView(t, e.Slug, view(e), wantView(t, c))
	}
}

// A detail endpoint returns the bare object; it converts exactly like the list element.
func TestParseDetailFixture(t *testing.T) {
	exps, err := Parse(readFixture(t, "api_v8_experiment_detail.json"), fixtureClock)
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 1 {
		t.Fatalf("got %d experiments, want 1", len(exps))
	}
	e := exps[0]
	compareView(t, e.Slug, view(e), wantView(t, loadExpected(t).Experiments["vertical-tabs-sidebar-launch"]))

	list, _, err := ParseList(readFixture(t, "api_v8_experiments.json"), fixtureClock)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list, func(x Experiment) bool { return x.Slug == e.Slug })
	if i < 0 || !reflect.DeepEqual(list[i], e) {
		t.Errorf("detail %+v differs from the list element", e)
	}
}

// The 404 body has no slug: as a record it is rejected, never mistaken for an experiment.
func TestParseNotFoundBody(t *testing.T) {
	data := readFixture(t, "api_v8_not_found.json")
	exps, rejected, err := ParseList(data, fixtureClock)
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 0 || len(rejected) != 1 || rejected[0].Slug != "" {
		t.Fatalf("got %v, rejected %v", exps, rejected)
	}
	if got := rejected[0].Problems[0]; got != "slug: missing, want a non-empty string" {
		t.Errorf("first problem %q", got)
	}
	if _, err := Parse(data, fixtureClock); err == nil {
		t.Error("Parse accepted the 404 body")
	}
}

// Parse is all or nothing and names every rejected record; errors.As finds them.
func TestParseStrict(t *testing.T) {
	exps, err := Parse(readFixture(t, "api_v8_experiments.json"), fixtureClock)
	if err == nil || exps != nil {
		t.Fatalf("Parse = %d experiments, %v; want an error", len(exps), err)
	}
	var re RecordError
	if !errors.As(err, &re) || re.Slug != "broken-types-experiment" || re.Index != 2 {
		t.Errorf("error %v does not carry the rejected record", err)
	}

	two := `[{"slug": "a"}, ` + minimalRecord + `, {"slug": 5}]`
	_, err = Parse([]byte(two), fixtureClock)
	if err == nil || !strings.Contains(err.Error(), `experiment record 0 ("a"): branches: missing`) ||
		!strings.Contains(err.Error(), "experiment record 2: slug: want a non-empty string, got 5") {
		t.Errorf("error %v, want both bad records named", err)
	}
}

// A document that is not a JSON array or object is the only hard error; an empty list is fine.
func TestParseListDocument(t *testing.T) {
	for _, doc := range []string{"", "  ", "null", "42", `"x"`, "[1,", "{", "<html>oops</html>"} {
		if exps, rejected, err := ParseList([]byte(doc), fixtureClock); err == nil {
			t.Errorf("%q: got %v, %v; want an error", doc, exps, rejected)
		}
	}
	exps, rejected, err := ParseList([]byte(" [] "), fixtureClock)
	if err != nil || len(exps) != 0 || len(rejected) != 0 {
		t.Errorf("[]: got %v, %v, %v", exps, rejected, err)
	}
	_, rejected, err = ParseList([]byte(`[1, "x", [], `+minimalRecord+`]`), fixtureClock)
	if err != nil || len(rejected) != 3 || rejected[1].Problems[0] != `want a JSON object, got "x"` {
		t.Errorf("non-object elements: %v, %v", rejected, err)
	}
}

// minimalRecord carries only the required keys (like the fixture's minimal-record-experiment).
const minimalRecord = `{
	"slug": "minimal",
	"branches": [{"slug": "control", "ratio": 1}, {"slug": "treatment", "ratio": 2}],
	"startDate": "2025-03-03",
	"endDate": "2025-04-28",
	"proposedEnrollment": 7,
	"bucketConfig": {"randomizationUnit": "normandy_id", "namespace": "minimal-1", "start": 0, "count": 100},
	"referenceBranch": null
}`

// edit returns minimalRecord with the value at path (dot-separated keys and array indices)
// set to the JSON value, or removed when value is "<absent>".
func edit(t *testing.T, path, value string) []byte {
	t.Helper()
	var rec any
	if err := json.Unmarshal([]byte(minimalRecord), &rec); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(path, ".")
	parent := rec
	for _, k := range keys[:len(keys)-1] {
		parent = step(t, parent, k)
	}
	last := keys[len(keys)-1]
	switch p := parent.(type) {
	case map[string]any:
		if value == "<absent>" {
			delete(p, last)
		} else {
			p[last] = json.RawMessage(value)
		}
	case []any:
		i, _ := strconv.Atoi(last)
		if value == "<absent>" {
			t.Fatalf("%s: cannot remove an array element", path)
		}
		p[i] = json.RawMessage(value)
	}
	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatalf("%s = %s: %v", path, value, err)
	}
	return out
}

func step(t *testing.T, v any, key string) any {
	t.Helper()
	switch c := v.(type) {
	case map[string]any:
		return c[key]
	case []any:
		i, err := strconv.Atoi(key)
		if err != nil {
			t.Fatalf("index %q: %v", key, err)
		}
		return c[i]
	}
	t.Fatalf("cannot step into %T with %q", v, key)
	return nil
}

// Required keys must be present; wrongly typed values are rejected rather than coerced the
// way cattrs would (cases marked "cattrs:" are ones the Python client silently accepts).
func TestParseRejects(t *testing.T) {
	const absent = "<absent>"
	tests := []struct {
		path, value string
		want        string // the only problem
	}{
		// Missing required keys.
		{"slug", absent, "slug: missing, want a non-empty string"},
		{"branches", absent, "branches: missing, want an array of {slug, ratio} objects"},
		{"branches.0.slug", absent, "branches[0].slug: missing, want a non-empty string"},
		{"branches.1.ratio", absent, "branches[1].ratio: missing, want an integer"},
		{"startDate", absent, "startDate: missing, want a YYYY-MM-DD date string"},
		{"endDate", absent, "endDate: missing, want a YYYY-MM-DD date string"},
		{"proposedEnrollment", absent, "proposedEnrollment: missing, want an integer"},
		{"referenceBranch", absent, "referenceBranch: missing, want a string"},
		{"bucketConfig", absent, "bucketConfig: missing, want a {randomizationUnit, namespace, start, count, total} object"},
		{"bucketConfig.randomizationUnit", absent, "bucketConfig.randomizationUnit: missing, want a string"},
		{"bucketConfig.namespace", absent, "bucketConfig.namespace: missing, want a string"},
		{"bucketConfig.start", absent, "bucketConfig.start: missing, want an integer"},
		{"bucketConfig.count", absent, "bucketConfig.count: missing, want an integer"},

		// Null where only a value will do.
		{"slug", "null", "slug: want a non-empty string, got null"}, // cattrs: "None"
		{"branches", "null", "branches: want an array of {slug, ratio} objects, got null"},
		{"branches.0.ratio", "null", "branches[0].ratio: want an integer, got null"},
		{"proposedEnrollment", "null", "proposedEnrollment: want an integer, got null"},
		{"bucketConfig", "null", "bucketConfig: want a {randomizationUnit, namespace, start, count, total} object, got null"},
		{"bucketConfig.total", "null", "bucketConfig.total: want an integer, got null"},
		{"isRollout", "null", "isRollout: want true or false, got null"},

		// Wrong types.
		{"slug", "123", "slug: want a non-empty string, got 123"}, // cattrs: "123"
		{"slug", `""`, `slug: want a non-empty string, got ""`},
		{"branches", `"control,treatment"`, `branches: want an array of {slug, ratio} objects, got "control,treatment"`},
		{"branches", `{"slug": "control", "ratio": 1}`, `branches: want an array of {slug, ratio} objects, got {"slug":"control","ratio":1}`},
		{"branches.1", `"treatment"`, `branches[1]: want a {slug, ratio} object, got "treatment"`},
		{"branches.0.slug", "7", "branches[0].slug: want a non-empty string, got 7"},
		{"branches.0.ratio", `"1"`, `branches[0].ratio: want an integer, got "1"`},
		{"branches.0.ratio", "0.5", "branches[0].ratio: want an integer, got 0.5"},
		{"startDate", "20250801", "startDate: want a YYYY-MM-DD date string, got 20250801"},
		{"startDate", `"2025-8-1"`, `startDate: want a YYYY-MM-DD date string, got "2025-8-1"`},
		{"startDate", `"2025-08-01T00:00:00Z"`, `startDate: want a YYYY-MM-DD date string, got "2025-08-01T00:00:00Z"`},
		{"endDate", `"2025-02-30"`, `endDate: want a YYYY-MM-DD date string, got "2025-02-30"`},
		{"enrollmentEndDate", "true", "enrollmentEndDate: want a YYYY-MM-DD date string, got true"},
		{"proposedEnrollment", `"7"`, `proposedEnrollment: want an integer, got "7"`}, // cattrs: 7
		{"proposedEnrollment", "7.9", "proposedEnrollment: want an integer, got 7.9"}, // cattrs: 7
		{"proposedEnrollment", `"fourteen"`, `proposedEnrollment: want an integer, got "fourteen"`},
		{"referenceBranch", "5", "referenceBranch: want a string, got 5"}, // cattrs: "5"
		{"bucketConfig", "[]", "bucketConfig: want a {randomizationUnit, namespace, start, count, total} object, got []"},
		{"bucketConfig.start", `"zero"`, `bucketConfig.start: want an integer, got "zero"`},
		{"bucketConfig.count", "1e3", "bucketConfig.count: want an integer, got 1e3"},
		{"bucketConfig.total", `"10000"`, `bucketConfig.total: want an integer, got "10000"`},
		{"bucketConfig.namespace", "{}", "bucketConfig.namespace: want a string, got {}"},
		{"appName", "7", "appName: want a string, got 7"},
		{"appId", "[]", "appId: want a string, got []"},
		{"outcomes", `"pdf"`, `outcomes: want an array of {slug} objects, got "pdf"`},
		{"outcomes", `[{"priority": "primary"}]`, "outcomes[0].slug: missing, want a non-empty string"},
		{"segments", `[{"slug": 3}]`, "segments[0].slug: want a non-empty string, got 3"},
		{"isRollout", `"false"`, `isRollout: want true or false, got "false"`}, // cattrs: true
		{"isRollout", "0", "isRollout: want true or false, got 0"},
		{"isEnrollmentPaused", `"true"`, `isEnrollmentPaused: want true or false, got "true"`},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			data := edit(t, tt.path, tt.value)
			exps, rejected, err := ParseList(data, fixtureClock)
			if err != nil {
				t.Fatal(err)
			}
			if len(exps) != 0 || len(rejected) != 1 {
				t.Fatalf("parsed %+v, rejected %v; want the record rejected", exps, rejected)
			}
			if got := rejected[0].Problems; len(got) != 1 || got[0] != tt.want {
				t.Errorf("problems %q\nwant [%q]", got, tt.want)
			}
		})
	}
}

// Keys that may be null or absent take Jetstream's defaults.
func TestParseDefaults(t *testing.T) {
	const absent = "<absent>"
	date := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		path, value string
		field       func(Experiment) any
		want        any
	}{
		{"startDate", "null", func(e Experiment) any { return e.StartDate }, time.Time{}},
		{"endDate", "null", func(e Experiment) any { return []any{e.EndDate, e.Status} }, []any{time.Time{}, StatusLive}},
		{"endDate", `"2025-04-28"`, func(e Experiment) any { return []any{e.EndDate, e.Status} }, []any{date("2025-04-28"), StatusComplete}},
		{"enrollmentEndDate", absent, func(e Experiment) any { return e.EnrollmentEndDate }, time.Time{}},
		{"enrollmentEndDate", "null", func(e Experiment) any { return e.EnrollmentPeriod() }, 7},
		{"enrollmentEndDate", `"2025-03-12"`, func(e Experiment) any { return e.EnrollmentPeriod() }, 10},
		{"referenceBranch", "null", func(e Experiment) any { return e.ReferenceBranch }, ""},
		{"referenceBranch", `"treatment"`, func(e Experiment) any { return e.ReferenceBranch }, "treatment"},
		{"appName", absent, func(e Experiment) any { return e.AppName }, "firefox_desktop"},
		{"appName", "null", func(e Experiment) any { return e.AppName }, "firefox_desktop"},
		{"appName", `""`, func(e Experiment) any { return e.AppName }, "firefox_desktop"},
		{"appName", `"fenix"`, func(e Experiment) any { return e.AppName }, "fenix"},
		{"appId", absent, func(e Experiment) any { return e.AppID }, "firefox-desktop"},
		{"appId", "null", func(e Experiment) any { return e.AppID }, "firefox-desktop"},
		{"appId", `""`, func(e Experiment) any { return e.AppID }, "firefox-desktop"},
		{"outcomes", absent, func(e Experiment) any { return e.Outcomes }, []string{}},
		{"outcomes", "null", func(e Experiment) any { return e.Outcomes }, []string{}},
		{"outcomes", `[{"slug": "pdf", "priority": "primary"}, {"slug": "sidebar"}]`, func(e Experiment) any { return e.Outcomes }, []string{"pdf", "sidebar"}},
		{"segments", "null", func(e Experiment) any { return e.Segments }, []string{}},
		{"isEnrollmentPaused", absent, func(e Experiment) any { return e.IsEnrollmentPaused }, false},
		{"isEnrollmentPaused", "null", func(e Experiment) any { return e.IsEnrollmentPaused }, false},
		{"isEnrollmentPaused", "true", func(e Experiment) any { return e.IsEnrollmentPaused }, true},
		{"isRollout", absent, func(e Experiment) any { return e.IsRollout }, false},
		{"isRollout", "true", func(e Experiment) any { return e.IsRollout }, true},
		{"bucketConfig.total", absent, func(e Experiment) any { return e.BucketConfig.Total }, 10000},
		{"bucketConfig.total", "1000", func(e Experiment) any { return e.BucketConfig.Total }, 1000},
		{"bucketConfig.randomizationUnit", `"group_id"`, func(e Experiment) any { return e.AnalysisUnit() }, "profile_group_id"},
		{"bucketConfig.randomizationUnit", `"nimbus_id"`, func(e Experiment) any { return e.AnalysisUnit() }, "client_id"},
		{"branches", "[]", func(e Experiment) any { return e.Branches }, []Branch{}},
		{"channel", `{"unknown": ["keys", "are", "ignored"]}`, func(e Experiment) any { return e.Slug }, "minimal"},
		{"slug", `"x"`, func(e Experiment) any { return []any{e.NormandySlug, e.Type} }, []any{"x", "v6"}},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			exps, err := Parse(edit(t, tt.path, tt.value), fixtureClock)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.field(exps[0]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// The minimal record's values land in the right fields.
func TestParseMinimal(t *testing.T) {
	exps, err := Parse([]byte(minimalRecord), fixtureClock)
	if err != nil {
		t.Fatal(err)
	}
	want := Experiment{
		Slug: "minimal", NormandySlug: "minimal", Type: TypeV6,
		AppName: "firefox_desktop", AppID: "firefox-desktop",
		Branches:           []Branch{{"control", 1}, {"treatment", 2}},
		StartDate:          time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC),
		EndDate:            time.Date(2025, 4, 28, 0, 0, 0, 0, time.UTC),
		ProposedEnrollment: 7,
		BucketConfig:       BucketConfig{RandomizationUnit: "normandy_id", Namespace: "minimal-1", Start: 0, Count: 100, Total: 10000},
		Outcomes:           []string{},
		Segments:           []string{},
		Status:             StatusComplete,
	}
	if !reflect.DeepEqual(exps[0], want) {
		t.Errorf("got  %+v\nwant %+v", exps[0], want)
	}
}

// All problems of a record are reported together, in field order.
func TestParseReportsEveryProblem(t *testing.T) {
	data := `{"slug": "many", "branches": [{"slug": ""}], "startDate": null, "endDate": "soon",
		"bucketConfig": {"randomizationUnit": 1, "namespace": "n", "start": 0, "count": 1}, "isRollout": "no"}`
	_, rejected, err := ParseList([]byte(data), fixtureClock)
	if err != nil || len(rejected) != 1 {
		t.Fatalf("rejected %v, err %v", rejected, err)
	}
	want := []string{
		`branches[0].slug: want a non-empty string, got ""`,
		"branches[0].ratio: missing, want an integer",
		`endDate: want a YYYY-MM-DD date string, got "soon"`,
		"proposedEnrollment: missing, want an integer",
		"referenceBranch: missing, want a string",
		"bucketConfig.randomizationUnit: want a string, got 1",
		`isRollout: want true or false, got "no"`,
	}
	if !slices.Equal(rejected[0].Problems, want) {
		t.Errorf("problems\n got %q\nwant %q", rejected[0].Problems, want)
	}
}

// Live until the end date's midnight (UTC) has passed.
func TestStatus(t *testing.T) {
	end := time.Date(2025, 9, 10, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		end, now time.Time
		want     string
	}{
		{time.Time{}, fixtureClock, StatusLive},
		{end, end.Add(-time.Hour), StatusLive},
		{end, end, StatusLive},
		{end, end.Add(time.Second), StatusComplete},
		{end, fixtureClock, StatusComplete},
	}
	for _, tt := range tests {
		if got := status(tt.end, tt.now); got != tt.want {
			t.Errorf("status(end %s, now %s) = %s, want %s", tt.end, tt.now, got, tt.want)
		}
	}
}

package launcher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// readinessCase is a case of fixtures/readiness/cases.json.
type readinessCase struct {
	ID         string `json:"id"`
	Experiment struct {
		Slug               string  `json:"slug"`
		Type               string  `json:"type"`
		Status             string  `json:"status"`
		StartDate          *string `json:"start_date"`
		EnrollmentEndDate  *string `json:"enrollment_end_date"`
		ProposedEnrollment int     `json:"proposed_enrollment"`
		EndDate            *string `json:"end_date"`
		IsRollout          bool    `json:"is_rollout"`
	} `json:"experiment"`
	Override struct {
		EnrollmentPeriod *int    `json:"enrollment_period"`
		EndDate          *string `json:"end_date"`
		StartDate        *string `json:"start_date"`
	} `json:"config_override"`
	RunDate  string `json:"run_date"`
	Expected struct {
		EnrollmentPeriod int                        `json:"enrollment_period"`
		LastEnrollment   string                     `json:"last_enrollment_date"`
		ReadyPeriods     map[string]json.RawMessage `json:"ready_periods"`
		RunOutcome       string                     `json:"run_outcome"`
		CountsAsFailure  bool                       `json:"counts_as_failure"`
		ComputedPeriods  []string                   `json:"computed_periods"`
		EnrollmentsTable bool                       `json:"enrollments_table_built"`
	} `json:"expected"`
}

// record renders the case's experiment as an Experimenter v8 record, and the clock at which
// Experimenter's end date yields the case's status (Live while endDate ≥ now).
func (c readinessCase) record(slug string) ([]byte, time.Time) {
	e := c.Experiment
	rec := map[string]any{
		"slug":               slug,
		"branches":           []map[string]any{{"slug": "control", "ratio": 1}, {"slug": "treatment", "ratio": 1}},
		"startDate":          e.StartDate,
		"endDate":            e.EndDate,
		"enrollmentEndDate":  e.EnrollmentEndDate,
		"proposedEnrollment": e.ProposedEnrollment,
		"referenceBranch":    "control",
		"bucketConfig":       map[string]any{"randomizationUnit": "normandy_id", "namespace": "ns", "start": 0, "count": 100, "total": 10000},
		"isRollout":          e.IsRollout,
	}
	data, err := json.Marshal(rec)
	if err != nil {
		panic(err)
	}
	now := mustDate(c.RunDate)
	if e.EndDate != nil {
		now = mustDate(*e.EndDate) // Live: endDate ≥ now
		if e.Status == experimenter.StatusComplete {
			now = now.Add(24 * time.Hour)
		}
	}
	return data, now
}

// allPeriods completes the firefox_desktop defaults, which configure no 28-day metric, so
// that all six periods are configured, as the fixtures assume.
const allPeriods = "[metrics]\n28_day = [\"active_hours\"]\n\n"

// config renders the case's metric-hub overrides as an experiment config file.
func (c readinessCase) config() string {
	var b strings.Builder
	b.WriteString(allPeriods + "[experiment]\n")
	o := c.Override
	if o.EnrollmentPeriod != nil {
		fmt.Fprintf(&b, "enrollment_period = %d\n", *o.EnrollmentPeriod)
	}
	if o.EndDate != nil {
		fmt.Fprintf(&b, "end_date = %q\n", *o.EndDate)
	}
	if o.StartDate != nil {
		fmt.Fprintf(&b, "start_date = %q\n", *o.StartDate)
	}
	return b.String()
}

func mustDate(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestPlanReadinessCases runs every case of fixtures/readiness (derived by executing
// Jetstream's own code) through the planner and the plan's JSON report: the experiment as
// an Experimenter record, the overrides as a metric-hub config file, the embedded metric-hub
// defaults (all six periods configured). Outcome, reason, enrollment dates and every field
// of every computed period must match.
func TestPlanReadinessCases(t *testing.T) {
	data, err := os.ReadFile("../../shared/fixtures/readiness/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []readinessCase }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	// One config repository holds every case's overrides, each case under its own slug.
	repo := t.TempDir()
	slugOf := func(c readinessCase) string { return strings.ToLower("case-" + c.ID) }
	for _, c := range doc.Cases {
		if err := os.WriteFile(filepath.Join(repo, slugOf(c)+".toml"), []byte(c.config()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	coll, err := configs.MetricHubWith(repo)
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, c := range doc.Cases {
		ok := t.Run(c.ID, func(t *testing.T) {
			slug := slugOf(c)
			record, now := c.record(slug)
			exps, rejected, err := experimenter.ParseList(record, now)
			if err != nil || len(rejected) > 0 {
				t.Fatalf("record: %v %v", err, rejected)
			}
			if exps[0].Status != c.Experiment.Status {
				t.Fatalf("status %s at %s, want %s", exps[0].Status, now, c.Experiment.Status)
			}
			// Experimenter's v8 API only has Nimbus ("v6") experiments; the integration-test
			// cases use the legacy type "rollout", which skips the enrollment-complete check.
			exps[0].Type = c.Experiment.Type
			planner := &pipeline.Planner{Collection: coll}
			decisions, err := planner.Day(exps, mustDate(c.RunDate), []string{slug})
			if err != nil {
				t.Fatal(err)
			}
			got := reportJSON(t, NewPlanReport(mustDate(c.RunDate), decisions, nil))
			checkReadinessCase(t, c, slug, got.Experiments[0])
			if decisions[0].EnrollmentsTable != c.Expected.EnrollmentsTable {
				t.Errorf("enrollments table written = %v, want %v", decisions[0].EnrollmentsTable, c.Expected.EnrollmentsTable)
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("readiness cases: %d/%d pass", passed, len(doc.Cases))
	if len(doc.Cases) != 60 {
		t.Errorf("the fixture has %d cases, want 60", len(doc.Cases))
	}
}

// reportJSON round-trips a report through its JSON form, as scripts read it.
func reportJSON(t *testing.T, r PlanReport) PlanReport {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back PlanReport
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

func checkReadinessCase(t *testing.T, c readinessCase, slug string, got ExperimentReport) {
	t.Helper()
	wantOutcome, wantReason := "analysed", ""
	if c.Expected.RunOutcome != "ok" {
		wantOutcome, wantReason = "skipped", c.Expected.RunOutcome
		if c.Expected.CountsAsFailure {
			wantOutcome = "failed"
		}
	}
	reason := ""
	if got.Reason != nil {
		reason = *got.Reason
	}
	if got.Outcome != wantOutcome || reason != wantReason {
		t.Errorf("outcome %s %q (%s), want %s %q", got.Outcome, reason, got.Message, wantOutcome, wantReason)
	}
	if got.EnrollmentPeriod == nil || *got.EnrollmentPeriod != c.Expected.EnrollmentPeriod {
		t.Errorf("enrollment_period %v, want %d", got.EnrollmentPeriod, c.Expected.EnrollmentPeriod)
	}
	if got.LastEnrollmentDate == nil || *got.LastEnrollmentDate != c.Expected.LastEnrollment {
		t.Errorf("last_enrollment_date %v, want %s", got.LastEnrollmentDate, c.Expected.LastEnrollment)
	}
	var periods []string
	for _, p := range got.Periods {
		periods = append(periods, p.Period)
		var want struct {
			WindowIndex int    `json:"window_index"`
			Start       int    `json:"analysis_window_start"`
			End         int    `json:"analysis_window_end"`
			FirstDate   string `json:"first_date_data_required"`
			LastDate    string `json:"last_date_data_required"`
			Statistics  string `json:"statistics_table"`
			Metrics     string `json:"metrics_table_enrollments_basis"`
		}
		if err := json.Unmarshal(c.Expected.ReadyPeriods[p.Period], &want); err != nil {
			t.Fatalf("%s: %v", p.Period, err)
		}
		// The fixture's tables are named after its own slug, ours after the case's.
		fixtureSlug, ourSlug := warehouse.NormalizeName(c.Experiment.Slug), warehouse.NormalizeName(slug)
		wantStats := strings.Replace(want.Statistics, fixtureSlug, ourSlug, 1)
		wantMetrics := strings.Replace(want.Metrics, fixtureSlug, ourSlug, 1)
		if p.WindowIndex != want.WindowIndex || p.AnalysisWindowStart != want.Start || p.AnalysisWindowEnd != want.End ||
			p.FirstDateDataRequired != want.FirstDate || p.LastDateDataRequired != want.LastDate ||
			p.StatisticsTable != wantStats || p.MetricsTableEnrollmentsBasis != wantMetrics {
			t.Errorf("%s: got %+v, want %+v", p.Period, p, want)
		}
		if p.Metrics == 0 {
			t.Errorf("%s: no metrics configured, but the period is computed", p.Period)
		}
	}
	if want := c.Expected.ComputedPeriods; !reflect.DeepEqual(periods, want) && len(periods)+len(want) > 0 {
		t.Errorf("computed periods %v, want %v", periods, want)
	}
}

// TestPlanCommandDailyRun plans the daily run of fixtures/experimenter through the command
// line and checks every experiment against what Jetstream's executor and Analysis.run do
// (expected.json daily_run_on_daily_run_date); the malformed record is reported and the
// other twelve are planned.
func TestPlanCommandDailyRun(t *testing.T) {
	var out, errOut bytes.Buffer
	app := App()
	app.Writer, app.ErrWriter = &out, &errOut
	err := app.Run([]string{"jetstream", "plan", "--date", "2025-09-09", "--now", "2025-09-10T06:00:00Z",
		"--experiments-file", "../../shared/fixtures/experimenter/api_v8_experiments.json", "--format", "json"})
	if err != nil {
		t.Fatal(err)
	}
	var got PlanReport
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got.Date != "2025-09-09" || len(got.Experiments) != 12 {
		t.Fatalf("date %s, %d experiments; want 2025-09-09 and 12", got.Date, len(got.Experiments))
	}
	if len(got.Rejected) != 1 || got.Rejected[0].Slug != "broken-types-experiment" || got.Rejected[0].Index != 2 {
		t.Errorf("rejected records %+v, want broken-types-experiment at index 2", got.Rejected)
	}
	if !strings.Contains(errOut.String(), "broken-types-experiment") {
		t.Errorf("no warning about the rejected record on stderr: %q", errOut.String())
	}
	data, err := os.ReadFile("../../shared/fixtures/experimenter/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var expected struct {
		Daily []struct {
			Slug     string         `json:"slug"`
			Selected bool           `json:"selected"`
			Why      string         `json:"why"`
			Outcome  string         `json:"outcome"`
			Failure  bool           `json:"counts_as_failure"`
			Computed map[string]int `json:"computed_periods"`
		} `json:"daily_run_on_daily_run_date"`
	}
	if err := json.Unmarshal(data, &expected); err != nil {
		t.Fatal(err)
	}
	bySlug := map[string]ExperimentReport{}
	for _, e := range got.Experiments {
		bySlug[e.Slug] = e
	}
	// Experiments the executor does not select, and the reason we give for each.
	notSelected := map[string]string{
		"is_rollout": pipeline.ReasonRollout,
		"not ended_after_or_live(D-90d): ended more than 90 days before D (or status not Live/Complete)": pipeline.ReasonEnded,
		"end_date < D": pipeline.ReasonEnded,
	}
	for _, want := range expected.Daily {
		if want.Why == "rejected by the parser" {
			continue
		}
		e, ok := bySlug[want.Slug]
		if !ok {
			t.Errorf("%s: not in the plan", want.Slug)
			continue
		}
		reason := ""
		if e.Reason != nil {
			reason = *e.Reason
		}
		wantOutcome, wantReason := "analysed", ""
		switch {
		case !want.Selected:
			wantOutcome, wantReason = "skipped", notSelected[want.Why]
		case want.Outcome != "ok" && want.Failure:
			wantOutcome, wantReason = "failed", want.Outcome
		case want.Outcome != "ok":
			wantOutcome, wantReason = "skipped", want.Outcome
		}
		if e.Outcome != wantOutcome || reason != wantReason {
			t.Errorf("%s: %s %q (%s), want %s %q", want.Slug, e.Outcome, reason, e.Message, wantOutcome, wantReason)
		}
		computed := map[string]int{}
		for _, p := range e.Periods {
			computed[p.Period] = p.WindowIndex
		}
		if len(computed)+len(want.Computed) > 0 && !reflect.DeepEqual(computed, want.Computed) {
			t.Errorf("%s: computed %v, want %v", want.Slug, computed, want.Computed)
		}
	}
}

// TestPlanExplicitSlugRuns checks every evaluation of fixtures/experimenter/expected.json:
// `jetstream run --date D --experiment_slug S` for each experiment, scenario (metric-hub
// override) and date.
func TestPlanExplicitSlugRuns(t *testing.T) {
	records, err := os.ReadFile("../../shared/fixtures/experimenter/api_v8_experiments.json")
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2025, 9, 10, 6, 0, 0, 0, time.UTC)
	exps, _, err := experimenter.ParseList(records, clock)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../shared/fixtures/experimenter/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var expected struct {
		Experiments map[string]struct {
			Parse     string `json:"parse"`
			Scenarios []struct {
				Name        string         `json:"name"`
				Override    map[string]any `json:"config_override"`
				Evaluations []struct {
					Date     string `json:"date"`
					Explicit struct {
						Outcome  string                     `json:"outcome"`
						Failure  bool                       `json:"counts_as_failure"`
						Computed map[string]json.RawMessage `json:"computed_periods"`
					} `json:"explicit_slug_run"`
				} `json:"evaluations"`
			} `json:"scenarios"`
		} `json:"experiments"`
	}
	if err := json.Unmarshal(data, &expected); err != nil {
		t.Fatal(err)
	}
	appOf := map[string]string{}
	for _, e := range exps {
		appOf[e.Slug] = e.AppName
	}
	checked := 0
	for slug, want := range expected.Experiments {
		if want.Parse != "ok" {
			continue
		}
		for _, sc := range want.Scenarios {
			repo := t.TempDir()
			var cfg strings.Builder
			if appOf[slug] == "firefox_desktop" {
				cfg.WriteString(allPeriods)
			}
			cfg.WriteString("[experiment]\n")
			for k, v := range sc.Override {
				if s, ok := v.(string); ok {
					fmt.Fprintf(&cfg, "%s = %q\n", k, s)
				} else {
					fmt.Fprintf(&cfg, "%s = %v\n", k, v)
				}
			}
			if err := os.WriteFile(filepath.Join(repo, slug+".toml"), []byte(cfg.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			coll, err := configs.MetricHubWith(repo)
			if err != nil {
				t.Fatal(err)
			}
			planner := &pipeline.Planner{Collection: coll}
			for _, ev := range sc.Evaluations {
				decisions, err := planner.Day(exps, mustDate(ev.Date), []string{slug})
				if err != nil {
					t.Fatalf("%s: %v", slug, err)
				}
				got := NewPlanReport(mustDate(ev.Date), decisions, nil).Experiments[0]
				wantOutcome, wantReason := "analysed", ""
				if w := ev.Explicit; w.Outcome != "ok" {
					wantOutcome, wantReason = "skipped", w.Outcome
					if w.Failure {
						wantOutcome = "failed"
					}
				}
				reason := ""
				if got.Reason != nil {
					reason = *got.Reason
				}
				if got.Outcome != wantOutcome || reason != wantReason {
					t.Errorf("%s (%s) on %s: %s %q (%s), want %s %q", slug, sc.Name, ev.Date, got.Outcome, reason, got.Message, wantOutcome, wantReason)
				}
				for _, p := range got.Periods {
					var w struct {
						WindowIndex int    `json:"window_index"`
						FirstDate   string `json:"first_date_data_required"`
						LastDate    string `json:"last_date_data_required"`
						Statistics  string `json:"statistics_table"`
					}
					if err := json.Unmarshal(ev.Explicit.Computed[p.Period], &w); err != nil {
						t.Errorf("%s on %s: %s computed, not expected", slug, ev.Date, p.Period)
						continue
					}
					if p.WindowIndex != w.WindowIndex || p.FirstDateDataRequired != w.FirstDate ||
						p.LastDateDataRequired != w.LastDate || p.StatisticsTable != w.Statistics {
						t.Errorf("%s on %s: %+v, want %+v", slug, ev.Date, p, w)
					}
				}
				if len(got.Periods) != len(ev.Explicit.Computed) {
					t.Errorf("%s on %s: %d periods computed, want %d", slug, ev.Date, len(got.Periods), len(ev.Explicit.Computed))
				}
				checked++
			}
		}
	}
	t.Logf("explicit-slug evaluations checked: %d", checked)
	if checked != 41 {
		t.Errorf("checked %d evaluations, want all 41 of expected.json's parsed experiments", checked)
	}
}

// The plan reads Experimenter's API when no file is given; a backfill over dates prints
// one report per date, in the same JSON contract.
func TestPlanCommandFromExperimenterAPI(t *testing.T) {
	list, err := os.ReadFile("../../shared/fixtures/experimenter/api_v8_experiments.json")
	if err != nil {
		t.Fatal(err)
	}
	var requests []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.Write(list)
	}))
	defer server.Close()
	var out bytes.Buffer
	app := App()
	app.Writer, app.ErrWriter = &out, io.Discard
	err = app.Run([]string{"jetstream", "plan", "--experimenter-url", server.URL, "--now", "2025-09-10T06:00:00Z",
		"--experiment-slug", "vertical-tabs-sidebar-launch", "--from", "2025-08-20", "--to", "2025-08-21", "--format", "json"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(requests, []string{"/api/v8/experiments/"}) {
		t.Errorf("requests %v, want one list request", requests)
	}
	var days []PlanReport
	if err := json.Unmarshal(out.Bytes(), &days); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var got []string
	for _, d := range days {
		for _, e := range d.Experiments {
			for _, p := range e.Periods {
				got = append(got, fmt.Sprintf("%s %s %s %d", d.Date, e.Slug, p.Period, p.WindowIndex))
			}
		}
	}
	// Enrollment 2025-08-05 … 08-14 (10 days): L = 08-15, day k closes on L + k − 1, week 1 on L + 6.
	want := []string{
		"2025-08-20 vertical-tabs-sidebar-launch day 6",
		"2025-08-21 vertical-tabs-sidebar-launch day 7",
		"2025-08-21 vertical-tabs-sidebar-launch week 1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("windows %q, want %q", got, want)
	}
}

// Bad flags are refused before anything is read.
func TestPlanCommandFlags(t *testing.T) {
	cases := map[string][]string{
		"--date cannot be combined":         {"--date", "2025-09-09", "--from", "2025-09-01", "--to", "2025-09-02"},
		"a backfill needs both":             {"--from", "2025-09-01"},
		"--from 2025-09-03 is after --to":   {"--from", "2025-09-03", "--to", "2025-09-02"},
		"--format: want table or json":      {"--date", "2025-09-09", "--format", "yaml"},
		"--date: want a date as YYYY-MM-DD": {"--date", "09/09/2025"},
		"are alternatives":                  {"--date", "2025-09-09", "--experiments-file", "x.json", "--experimenter-url", "http://x"},
		"--period":                          {"--date", "2025-09-09", "--period", "fortnight"},
	}
	for want, args := range cases {
		app := App()
		app.Writer, app.ErrWriter = io.Discard, io.Discard
		err := app.Run(append([]string{"jetstream", "plan"}, args...))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want one containing %q", args, err, want)
		}
	}
}

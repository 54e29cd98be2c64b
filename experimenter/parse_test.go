package experimenter

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

var fixtureClock = time.Date(2025, 9, 10, 6, 0, 0, 0, time.UTC)

func TestParseDetailFixture(t *testing.T) {
	data, err := os.ReadFile("../../shared/fixtures/experimenter/api_v8_experiment_detail.json")
	if err != nil {
		t.Fatal(err)
	}
	exps, err := Parse(data, fixtureClock)
	if err != nil {
		t.Fatal(err)
	}
	e := exps[0]
	if e.Slug != "vertical-tabs-sidebar-launch" || e.AppName != "firefox_desktop" || e.Status != StatusLive {
		t.Errorf("got %+v", e)
	}
	if e.EnrollmentPeriod() != 10 {
		t.Errorf("enrollment period = %d, want 10 (enrollment end − start + 1, not the proposed 7)", e.EnrollmentPeriod())
	}
}

// Every well-formed record of the list fixture converts as Jetstream converts it
// (fixtures/experimenter/expected.json); the malformed one is an error naming it.
func TestParseListFixture(t *testing.T) {
	data, err := os.ReadFile("../../shared/fixtures/experimenter/api_v8_experiments.json")
	if err != nil {
		t.Fatal(err)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatal(err)
	}
	expData, err := os.ReadFile("../../shared/fixtures/experimenter/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var expected struct {
		Experiments map[string]struct {
			Parse      string `json:"parse"`
			Experiment struct {
				Status          string  `json:"status"`
				ReferenceBranch *string `json:"reference_branch"`
				AppName         string  `json:"app_name"`
				IsRollout       bool    `json:"is_rollout"`
				Branches        []struct {
					Slug string `json:"slug"`
				} `json:"branches"`
			} `json:"experiment"`
			Scenarios []struct {
				Derived struct {
					EnrollmentPeriod int `json:"enrollment_period"`
				} `json:"derived"`
				ConfigOverride map[string]any `json:"config_override"`
			} `json:"scenarios"`
		} `json:"experiments"`
	}
	if err := json.Unmarshal(expData, &expected); err != nil {
		t.Fatal(err)
	}
	bySlug := map[string]Experiment{}
	for _, raw := range records {
		exps, err := Parse(raw, fixtureClock)
		if err != nil {
			if !strings.Contains(err.Error(), "broken-types-experiment: field branches: want an array of {slug, ratio} objects") {
				t.Errorf("unexpected error: %v", err)
			}
			continue
		}
		bySlug[exps[0].Slug] = exps[0]
	}
	if len(bySlug) != 12 {
		t.Fatalf("parsed %d records, want 12", len(bySlug))
	}
	checked := 0
	for slug, want := range expected.Experiments {
		got, ok := bySlug[slug]
		if !ok {
			continue
		}
		checked++
		w := want.Experiment
		if got.Status != w.Status || got.AppName != w.AppName || got.IsRollout != w.IsRollout {
			t.Errorf("%s: status %s, app %s, rollout %v; want %s, %s, %v", slug, got.Status, got.AppName, got.IsRollout, w.Status, w.AppName, w.IsRollout)
		}
		if w.ReferenceBranch != nil && got.ReferenceBranch != *w.ReferenceBranch {
			t.Errorf("%s: reference %q, want %q", slug, got.ReferenceBranch, *w.ReferenceBranch)
		}
		var branches []string
		for _, b := range w.Branches {
			branches = append(branches, b.Slug)
		}
		if strings.Join(got.BranchNames(), ",") != strings.Join(branches, ",") {
			t.Errorf("%s: branches %v, want %v", slug, got.BranchNames(), branches)
		}
		for _, sc := range want.Scenarios {
			if len(sc.ConfigOverride) == 0 && got.EnrollmentPeriod() != sc.Derived.EnrollmentPeriod {
				t.Errorf("%s: enrollment period %d, want %d", slug, got.EnrollmentPeriod(), sc.Derived.EnrollmentPeriod)
			}
		}
	}
	if checked != 12 {
		t.Errorf("compared %d experiments with expected.json, want 12", checked)
	}
}

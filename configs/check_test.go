package configs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateCorpus: every metric-hub experiment config the reference resolves has no
// error finding, every one it rejects has one; outcomes, defaults and definitions of
// metric-hub validate without errors.
func TestValidateCorpus(t *testing.T) {
	c := loadMetricHub(t)
	files, err := filepath.Glob(metricHubDir + "/jetstream/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	warnings := 0
	for _, f := range files {
		slug := strings.TrimSuffix(filepath.Base(f), ".toml")
		gdata, err := os.ReadFile(filepath.Join(goldenDir, slug+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(gdata, &g); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fs := c.ValidateFile(f, data, g.Platform)
		if HasErrors(fs) == g.Valid {
			t.Errorf("%s: valid=%v in the golden file, findings:\n%v", slug, g.Valid, fs)
		}
		for _, x := range fs {
			if x.Severity == SeverityWarning {
				warnings++
			}
		}
	}
	t.Logf("%d experiment configs, %d warnings", len(files), warnings)
	others, _ := filepath.Glob(metricHubDir + "/jetstream/outcomes/*/*.toml")
	for _, dir := range []string{metricHubDir + "/jetstream/defaults/*.toml", metricHubDir + "/jetstream/definitions/*.toml", metricHubDir + "/definitions/*.toml"} {
		more, _ := filepath.Glob(dir)
		others = append(others, more...)
	}
	for _, f := range others {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fs := c.ValidateFile(f, data, "firefox_desktop")
		for _, x := range fs {
			// metric-hub's desktop definitions really do refer to two removed metrics
			if x.Severity == SeverityError && !strings.Contains(x.String(), "metrics.newtab_organic_topsite_ctr.depends_on: error: upstream metric") {
				t.Errorf("%s", x)
			}
		}
	}
}

func findings(t *testing.T, c *Collection, name, text string) []string {
	t.Helper()
	var out []string
	for _, f := range c.ValidateFile(name, []byte(text), "firefox_desktop") {
		out = append(out, f.String())
	}
	return out
}

// TestValidateFindings: typos are warnings with a suggestion, dangling references and
// unknown statistics are errors at the key's line and column.
func TestValidateFindings(t *testing.T) {
	c := MetricHub()
	cases := []struct{ name, text, want string }{
		{"typo", "[experiment]\nenrollments_query = \"SELECT 1\"\n",
			`x.toml:2:1: experiment.enrollments_query: warning: unknown key, ignored (did you mean "enrollment_query"?)`},
		{"metric typo", "[metrics]\nweekly = [\"m\"]\n[metrics.m]\ndata_source = \"clients_daily\"\nselect_expresion = \"1\"\ndescriptionn = \"d\"\n[metrics.m.statistics.binomial]\n",
			`x.toml:6:1: metrics.m.descriptionn: warning: unknown key, ignored (did you mean "description"?)`},
		{"segment window", "[segments.s]\ndata_source = \"clients_last_seen\"\nselect_expression = \"true\"\nwindow_start = 0\n",
			`x.toml:4:1: segments.s.window_start: warning: not a segment key`},
		{"dangling data source", "[metrics]\nweekly = [\"m\"]\n[metrics.m]\ndata_source = \"clients_daly\"\nselect_expression = \"1\"\n[metrics.m.statistics.binomial]\n",
			`x.toml:4:1: metrics.m.data_source: error: data source "clients_daly" is not defined for platform firefox_desktop (did you mean "clients_daily"?)`},
		{"dangling metric", "[metrics]\nweekly = [\"active_hourz\"]\n",
			`x.toml:2:1: metrics.weekly: error: metric "active_hourz" is not defined for platform firefox_desktop (did you mean "active_hours"?)`},
		{"dangling segment", "[experiment]\nsegments = [\"nope_segment\"]\n", `x.toml:2:1: experiment.segments: error: segment "nope_segment" is not defined`},
		{"dangling outcome", "[experiment]\noutcomes = [\"no_such_outcome\"]\n", `x.toml:2:1: experiment.outcomes: error: outcome "no_such_outcome" is not defined`},
		{"unknown statistic", "[metrics]\nweekly = [\"active_hours\"]\n[metrics.active_hours.statistics.bootstrap_means]\n",
			`x.toml:3:2: metrics.active_hours.statistics.bootstrap_means: error: statistic "bootstrap_means" does not exist (did you mean "bootstrap_mean"?)`},
		{"wrong type", "[metrics.m]\nbigger_is_better = \"yes\"\n", `x.toml:2:1: metrics.m.bigger_is_better: error: want true or false, got a string`},
		{"invalid TOML", "[experiment\n", `x.toml:1:12: error: `},
		{"outcome without description", "friendly_name = \"x\"\n", `outcomes/firefox_desktop/x.toml: error: outcome is missing description`},
	}
	for _, tc := range cases {
		name := "x.toml"
		if strings.HasPrefix(tc.want, "outcomes/") {
			name = "outcomes/firefox_desktop/x.toml"
		}
		got := findings(t, c, name, tc.text)
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, tc.want)
		}
		if !found {
			t.Errorf("%s: want a finding starting %q, got\n%s", tc.name, tc.want, strings.Join(got, "\n"))
		}
	}
	if got := findings(t, c, "ok.toml", "[experiment]\nenrollment_period = 7\n[metrics]\nweekly = [\"active_hours\"]\n"); len(got) != 0 {
		t.Errorf("clean file: %v", got)
	}
}

func TestRoleOf(t *testing.T) {
	for path, want := range map[string]Role{
		"x/jetstream/foo.toml": RoleExperiment, "foo.toml": RoleExperiment, "jetstream/outcomes/fenix/o.toml": RoleOutcome,
		"jetstream/defaults/fenix.toml": RoleDefaults, "definitions/fenix.toml": RoleDefinitions, "definitions/functions.toml": RoleFunctions,
	} {
		if r, _, _ := RoleOf(path); r != want {
			t.Errorf("%s: %v, want %v", path, r, want)
		}
	}
}

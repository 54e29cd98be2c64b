package launcher

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/samples"
)

const sharedHub = "../../shared/metric-hub"

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func validate(t *testing.T, files ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	failed, err := runValidateConfig(&out, validateRequest{Files: files, Platform: "firefox_desktop"})
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), failed
}

func TestValidateConfigCommand(t *testing.T) {
	good := sharedHub + "/jetstream/1-click-pin-experiment.toml"
	if out, failed := validate(t, good); failed != 0 || out != "" {
		t.Errorf("good file: failed=%d\n%s", failed, out)
	}
	typo := writeFile(t, "typo.toml", "[experiment]\nenrollment_period = 7\nenrollments_query = \"SELECT 1\"\n[metrics]\nweekly = [\"active_hours\"]\n")
	out, failed := validate(t, typo)
	if failed != 0 || !strings.Contains(out, typo+`:3:1: experiment.enrollments_query: warning: unknown key, ignored (did you mean "enrollment_query"?)`) {
		t.Errorf("typo: failed=%d\n%s", failed, out)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"dangling.toml", "[metrics]\nweekly = [\"m\"]\n[metrics.m]\ndata_source = \"no_such_source\"\nselect_expression = \"1\"\n[metrics.m.statistics.binomial]\n",
			`:4:1: metrics.m.data_source: error: data source "no_such_source" is not defined for platform firefox_desktop`},
		{"stat.toml", "[metrics]\nweekly = [\"active_hours\"]\n[metrics.active_hours.statistics.ratio]\n",
			`:3:2: metrics.active_hours.statistics.ratio: error: statistic "ratio" does not exist`},
		{"type.toml", "[experiment]\nenrollment_period = \"seven\"\n", `:2:1: experiment.enrollment_period: error: want an integer, got a string`},
		{"broken.toml", "[experiment\n", `:1:12: error: `},
	} {
		f := writeFile(t, tc.name, tc.text)
		out, failed := validate(t, good, f)
		if failed != 1 || !strings.Contains(out, f+tc.want) {
			t.Errorf("%s: failed=%d, want a line containing %q, got\n%s", tc.name, failed, f+tc.want, out)
		}
	}
	// roles from paths: a metric-hub outcome validates as an outcome
	if out, failed := validate(t, sharedHub+"/jetstream/outcomes/fenix/awesomebar.toml"); failed != 0 {
		t.Errorf("outcome: %s", out)
	}
	if out, _ := validate(t, filepath.Join(t.TempDir(), "missing.toml")); !strings.Contains(out, "missing.toml: error:") {
		t.Errorf("missing file: %s", out)
	}
}

func TestValidateConfigExitCode(t *testing.T) {
	app := App()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	ok := sharedHub + "/jetstream/1-click-pin-experiment.toml"
	if err := app.Run([]string{"jetstream", "validate-config", ok}); err != nil {
		t.Fatalf("good file: %v", err)
	}
	code := -1
	savedExit, savedErr := cli.OsExiter, cli.ErrWriter
	cli.OsExiter, cli.ErrWriter = func(c int) { code = c }, &errOut
	defer func() { cli.OsExiter, cli.ErrWriter = savedExit, savedErr }()
	bad := writeFile(t, "bad.toml", "[experiment]\noutcomes = [\"nope\"]\n")
	_ = app.Run([]string{"jetstream", "validate-config", ok, bad})
	if code != 1 || !strings.Contains(errOut.String(), "1 of 2 files have errors") {
		t.Errorf("exit code %d, stderr %q", code, errOut.String())
	}
}

func showConfig(t *testing.T, req showRequest) map[string]any {
	t.Helper()
	var out bytes.Buffer
	if req.Format == "" {
		req.Format = "json"
	}
	if req.Platform == "" {
		req.Platform = "firefox_desktop"
	}
	if err := runShowConfig(&out, req); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestShowConfigGolden(t *testing.T) {
	slug := "1-click-pin-experiment"
	got := showConfig(t, showRequest{Target: sharedHub + "/jetstream/" + slug + ".toml", Repos: []string{sharedHub}})
	data, err := os.ReadFile("../../shared/golden/configs/" + slug + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	ge, we := got["experiment"].(map[string]any), want["experiment"].(map[string]any)
	for _, k := range []string{"normandy_slug", "app_name", "start_date", "end_date", "status", "enrollment_period", "segments", "reference_branch"} {
		g, _ := json.Marshal(ge[k])
		w, _ := json.Marshal(we[k])
		if string(g) != string(w) {
			t.Errorf("experiment.%s = %s, want %s", k, g, w)
		}
	}
	for _, k := range []string{"periods", "data_sources"} {
		gm, wm := got[k].(map[string]any), want[k].(map[string]any)
		if len(gm) != len(wm) {
			t.Errorf("%s: %d entries, want %d", k, len(gm), len(wm))
		}
		for name := range wm {
			if _, ok := gm[name]; !ok {
				t.Errorf("%s: %s missing", k, name)
			}
		}
	}
	// the same by slug, from the config repository
	bySlug := showConfig(t, showRequest{Target: slug, Repos: []string{sharedHub}})
	a, _ := json.Marshal(bySlug)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Error("show-config SLUG differs from show-config FILE")
	}
	// TOML renders the same document
	var out bytes.Buffer
	if err := runShowConfig(&out, showRequest{Target: slug, Repos: []string{sharedHub}, Platform: "firefox_desktop", Format: "toml"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "normandy_slug = '1-click-pin-experiment'") || !strings.Contains(out.String(), "enrollment_period = 14") {
		t.Errorf("toml:\n%.600s", out.String())
	}
}

func TestShowConfigExperimentsFile(t *testing.T) {
	exps := writeFile(t, "experiments.json", string(samples.ExperimentJSON))
	cfg := writeFile(t, samples.ConfigName, string(samples.ConfigTOML))
	got := showConfig(t, showRequest{Target: cfg, ExperimentsFile: exps, Now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	e := got["experiment"].(map[string]any)
	if e["normandy_slug"] != samples.Slug || e["start_date"] == "2024-01-01" {
		t.Errorf("experiment from the Experimenter file expected, got %v", e)
	}
	// a slug with no config file, known to the experiments file: defaults only
	got = showConfig(t, showRequest{Target: samples.Slug, ExperimentsFile: exps, Now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	if got["experiment"].(map[string]any)["normandy_slug"] != samples.Slug || len(got["periods"].(map[string]any)) == 0 {
		t.Errorf("defaults-only resolution: %v", got["experiment"])
	}
}

func TestShowConfigErrors(t *testing.T) {
	var out bytes.Buffer
	bad := writeFile(t, "bad.toml", "[metrics\n")
	err := runShowConfig(&out, showRequest{Target: bad, Platform: "firefox_desktop", Format: "json"})
	if err == nil || !strings.HasPrefix(err.Error(), bad+":1:9:") {
		t.Errorf("invalid TOML: %v", err)
	}
	err = runShowConfig(&out, showRequest{Target: "1-click-pin-experimnt", Repos: []string{sharedHub}, Platform: "firefox_desktop", Format: "json"})
	if err == nil || !strings.Contains(err.Error(), `did you mean "1-click-pin-experiment"?`) {
		t.Errorf("unknown slug: %v", err)
	}
}

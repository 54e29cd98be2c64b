package configs

import (
	"strings"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/samples"
)

func sampleExperiment(t *testing.T) experimenter.Experiment {
	t.Helper()
	exps, err := experimenter.Parse(samples.ExperimentJSON, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return exps[0]
}

func TestResolveBundledSample(t *testing.T) {
	spec, err := Parse(samples.ConfigName, samples.ConfigTOML)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Resolve(spec, sampleExperiment(t))
	if err != nil {
		t.Fatal(err)
	}
	if a.EnrollmentPeriod != 7 || a.Status != experimenter.StatusComplete || a.ReferenceBranch != "control" {
		t.Errorf("enrollment period %d, status %s, reference %s; want 7, Complete, control", a.EnrollmentPeriod, a.Status, a.ReferenceBranch)
	}
	if got := strings.Join(a.Periods[Week], ","); got != "active_hours,uri_count,days_of_use,retained" {
		t.Errorf("weekly metrics = %s", got)
	}
	if got := strings.Join(a.Periods[Overall], ","); got != "active_hours,uri_count,days_of_use,retained,search_count" {
		t.Errorf("overall metrics = %s", got)
	}
	ah := a.Metrics["active_hours"]
	if ah.SelectExpression != "COALESCE(SUM(active_hours_sum), 0)" {
		t.Errorf("active_hours SQL = %q", ah.SelectExpression)
	}
	if len(ah.Statistics) != 1 || ah.Statistics[0].Name != "bootstrap_mean" || len(ah.Statistics[0].Params) != 0 {
		t.Errorf("active_hours statistics = %+v", ah.Statistics)
	}
	if p := a.Metrics["search_count"].Statistics[0].Params["drop_highest"]; p != 0.01 {
		t.Errorf("search_count drop_highest = %v", p)
	}
	ds := a.DataSources["clients_daily"]
	if ds.FromExpression != "mozdata.telemetry.clients_daily" || ds.ExperimentsColumnType != "simple" || ds.ClientIDColumn != "client_id" {
		t.Errorf("clients_daily = %+v", ds)
	}
}

func TestConfigErrors(t *testing.T) {
	const head = "[metrics]\nweekly = [\"active_hours\"]\n\n"
	const metric = "[metrics.active_hours]\nselect_expression = '{{agg_sum(\"active_hours_sum\")}}'\ndata_source = \"clients_daily\"\n[metrics.active_hours.statistics.bootstrap_mean]\n"
	const source = "[data_sources.clients_daily]\nfrom_expression = \"mozdata.telemetry.clients_daily\"\n"
	cases := []struct {
		name, toml, want string
	}{
		{"malformed TOML", "[metrics]\nweekly = [\"a\",\n  oops]\n", "bad.toml:3:3: unexpected character U+006F 'o' at start of value\n"},
		{"unknown metric", "[metrics]\nweekly = [\"nope\"]\n", `bad.toml:2: metrics.weekly: metric "nope" is not defined: DefinitionNotFound: Could not locate metric nope`},
		{"unknown data source", head + metric, `bad.toml:6: metrics.active_hours.data_source: data source "clients_daily" is not defined: DefinitionNotFound: No default definition for data source 'clients_daily' [firefox_desktop] found`},
		{"unknown function", head + strings.Replace(metric, "agg_sum", "agg_summ", 1) + source, `bad.toml:5: metrics.active_hours.select_expression: unknown function "agg_summ"`},
		{"no statistics", head + strings.Replace(metric, "[metrics.active_hours.statistics.bootstrap_mean]\n", "", 1) + source, `bad.toml:4: metrics.active_hours: No statistical treatment defined for metric 'active_hours'`},
		{"bad experiments column", head + metric + source + "experiments_column_type = \"weird\"\n", `bad.toml:10: data_sources.clients_daily.experiments_column_type: unknown experiments_column_type "weird"`},
		{"bad date", "[experiment]\nend_date = \"2026-13-01\"\n", `bad.toml:2: experiment.end_date: want a YYYY-MM-DD date, got "2026-13-01"`},
		{"sample size not a number", "[experiment]\nsample_size = \"x\"\n", `bad.toml:2: experiment.sample_size: want an integer, got a string`},
		{"sample size out of range", "[experiment]\nsample_size = 120\n", `bad.toml:2: experiment.sample_size: must be a percentage from 1 to 100, got 120`},
		{"unknown statistic", head + strings.Replace(metric, "bootstrap_mean", "bootstrap_means", 1) + source, `bad.toml:7: metrics.active_hours.statistics.bootstrap_means: statistic "bootstrap_means" does not exist (did you mean "bootstrap_mean"?)`},
		{"unknown pre-treatment", head + metric + "pre_treatments = [\"remove_null\"]\n" + source, `bad.toml:7: metrics.active_hours.statistics.bootstrap_mean: pre-treatment "remove_null" does not exist (did you mean "remove_nulls"?)`},
		{"dangling segment", "[experiment]\nsegments = [\"new_users\"]\n", `bad.toml:2: experiment.segments: DefinitionNotFound: Could not find definition for segment 'new_users'`},
		{"dangling segment data source", "[experiment]\nsegments = [\"s\"]\n[segments.s]\ndata_source = \"nope\"\nselect_expression = \"TRUE\"\n", `bad.toml:4: segments.s.data_source: DefinitionNotFound: Could not find definition for segment data source 'nope'`},
		{"dangling outcome", "[experiment]\noutcomes = [\"nope\"]\n", `bad.toml:2: experiment.outcomes: DefinitionNotFound: Outcome nope doesn't support the platform 'firefox_desktop'`},
		{"dangling upstream", "[metrics]\nweekly = [\"r\"]\n[metrics.r]\ndepends_on = [\"a\"]\n[metrics.r.statistics.population_ratio]\n", `bad.toml:4: metrics.r.depends_on: DefinitionNotFound: No definition found for referenced upstream metric MetricReference(name='a')`},
		{"wrong type", "[metrics.x]\nselect_expression = 3\n", `bad.toml:2: metrics.x.select_expression: want a string, got an integer`},
		{"segment without select", "[segments.s]\ndata_source = \"d\"\n", `bad.toml:1: segments.s: segment "s" has no select_expression`},
		{"unknown top-level key", "[metricz]\n", "bad.toml:1: metricz: unknown top-level key"},
		{"period list not a list", "[metrics]\nweekly = \"active_hours\"\n", "bad.toml:2: metrics.weekly: metrics.weekly should be a list of metrics, got a string"},
		{"bad basis", head + strings.Replace(metric, "data_source", "analysis_bases = [\"everyone\"]\ndata_source", 1) + source, `bad.toml:6: metrics.active_hours.analysis_bases: unknown analysis basis "everyone"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Parse("bad.toml", []byte(tc.toml))
			if err == nil {
				_, err = Resolve(spec, sampleExperiment(t))
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant prefix %s", err, tc.want)
			}
		})
	}
}

func TestRenderSelect(t *testing.T) {
	fns := DefaultFunctions()
	cases := []struct{ in, want string }{
		{`{{agg_sum("active_hours_sum")}}`, "COALESCE(SUM(active_hours_sum), 0)"},
		{`{{ agg_any('x = 1') }}`, "COALESCE(LOGICAL_OR(x = 1), FALSE)"},
		{"{{agg_any(\"\"\"\n event_method = 'x'\n \"\"\")}}", "COALESCE(LOGICAL_OR(\n event_method = 'x'\n ), FALSE)"},
		{"COUNTIF(slug = '{experiment_slug}')", "COUNTIF(slug = 'my-exp')"},
	}
	for _, tc := range cases {
		got, err := fns.RenderSelect(tc.in, "my-exp")
		if err != nil || got != tc.want {
			t.Errorf("RenderSelect(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestRenderSelectUnsupported(t *testing.T) {
	cases := []struct{ in, want string }{
		{"x = '{{ parameters.message_id }}'", `'parameters' is undefined in {{ parameters.message_id }}`},
		{"{% if x %}", `unsupported template syntax "{%" (only {{ function("…") }} and {{ name.attribute }} are supported)`},
		{"{{ agg_summ('x') }}", `unknown function "agg_summ" in {{ agg_summ('x') }}`},
		{"{{ agg_sum(x) }}", `unsupported template expression {{ agg_sum(x) }} (a helper takes one string literal)`},
		{"a { b", `single '{' encountered in format string`},
	}
	for _, tc := range cases {
		_, err := DefaultFunctions().RenderSelect(tc.in, "my-exp")
		if err == nil || err.Error() != tc.want {
			t.Errorf("RenderSelect(%q) error = %v, want %s", tc.in, err, tc.want)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string]Period{"week": Week, "weekly": Week, "daily": Day, "overall": Overall, "preenrollment_weekly": PreenrollmentWeek} {
		if got, err := ParsePeriod(in); err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParsePeriod("monthly"); err == nil {
		t.Error("ParsePeriod(monthly) gave no error")
	}
}

package launcher

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// restoreBeamFlags gives the named Beam flags their current values back when t ends.
func restoreBeamFlags(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		f := flag.Lookup(name)
		if f == nil {
			t.Fatalf("beam flag --%s is not defined", name)
		}
		old := f.Value.String()
		t.Cleanup(func() { _ = flag.Set(name, old) })
	}
}

// launcherArgs are what Dataflow's Go Flex Template launcher passes for a launch with
// these parameters: the parameters and its own options, sorted by name.
func launcherArgs(params ...string) []string {
	args := append([]string{
		"--job_name=jetstream-2026-10-07",
		"--project=moz-fx-data-experiments",
		"--region=us-central1",
		"--runner=DataflowRunner",
		"--staging_location=gs://dataflow-staging-us-central1-123/staging",
		"--temp_location=gs://dataflow-staging-us-central1-123/tmp",
		"--template_location=gs://dataflow-staging-us-central1-123/staging/template_launches/2026-10-07_04_00_00-1/job_object",
	}, params...)
	slices.Sort(args)
	return args
}

// mozillaExperimenter is the default of the experimenter_url parameter.
const mozillaExperimenter = "--experimenter-url=https://experimenter.services.mozilla.com"

func TestFlexTemplateArgs(t *testing.T) {
	restoreBeamFlags(t, "job_name", "template_location", "service_account_email", "max_num_workers", "subnetwork", "parallelism")
	const exe = "/template/jetstream"
	runner := []string{exe, "run", "--runner=dataflow", "--project-id=moz-fx-data-experiments", "--region=us-central1",
		"--temp-location=gs://dataflow-staging-us-central1-123/tmp",
		"--staging-location=gs://dataflow-staging-us-central1-123/staging", "--worker-binary=" + exe}
	tests := []struct {
		name string
		args []string
		want []string // after the runner flags
	}{
		{
			name: "the daily run",
			args: launcherArgs("--date=2026-10-07", "--results_staging=gs://jetstream-staging/results"),
			want: []string{"--date=2026-10-07", "--warehouse=bigquery:moz-fx-data-experiments",
				"--results-staging=gs://jetstream-staging/results", mozillaExperimenter},
		},
		{
			name: "lists, booleans and numbers",
			args: launcherArgs("--date=2026-10-07", "--results_staging=gs://jetstream-staging/results",
				"--experiment_slug=tabs-redesign, sidebar-launch,", "--analysis_periods=week,overall",
				"--config_repo=/metric-hub@3f2c1e0", "--statistics_only=false", "--recreate_enrollments=true",
				"--log_to_bigquery=TRUE", "--min_clients=20", "--parallelism=4", "--retries=2", "--timeout=6h",
				"--seed=42", "--read_parts=8"),
			want: []string{"--date=2026-10-07",
				"--experiment-slug=tabs-redesign", "--experiment-slug=sidebar-launch",
				"--warehouse=bigquery:moz-fx-data-experiments",
				"--results-staging=gs://jetstream-staging/results", mozillaExperimenter,
				"--config-repo=/metric-hub@3f2c1e0",
				"--analysis-periods=week", "--analysis-periods=overall",
				"--statistics-only=false", "--recreate-enrollments=true", "--min-clients=20",
				"--log-to-bigquery=true", "--parallelism=4", "--retries=2", "--timeout=6h",
				"--seed=42", "--read-parts=8"},
		},
		{
			name: "warehouse, dataset, bucket and Experimenter given; empty parameters left out",
			args: launcherArgs("--date=2026-10-07", "--results_staging=gs://jetstream-staging/results",
				"--warehouse=bigquery:moz-fx-data-shared-prod", "--dataset_id=mozanalysis_test",
				"--bucket=gs://mozanalysis/jetstream", "--experimenter_url=https://stage.experimenter.nonprod.webservices.mozgcp.net",
				"--experiment_slug=", "--seed="),
			want: []string{"--date=2026-10-07", "--warehouse=bigquery:moz-fx-data-shared-prod",
				"--dataset-id=mozanalysis_test", "--bucket=gs://mozanalysis/jetstream",
				"--results-staging=gs://jetstream-staging/results",
				"--experimenter-url=https://stage.experimenter.nonprod.webservices.mozgcp.net"},
		},
		{
			name: "Beam options passed through",
			args: launcherArgs("--date=2026-10-07", "--results_staging=gs://jetstream-staging/results",
				"--service_account_email=jetstream@moz-fx-data-experiments.iam.gserviceaccount.com",
				"--max_num_workers=50", "--subnetwork=regions/us-central1/subnetworks/dataflow"),
			want: []string{"--date=2026-10-07", "--warehouse=bigquery:moz-fx-data-experiments",
				"--results-staging=gs://jetstream-staging/results", mozillaExperimenter},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FlexTemplateArgs(tt.args, exe)
			if err != nil {
				t.Fatal(err)
			}
			want := append(slices.Clone(runner), tt.want...)
			if !slices.Equal(got, want) {
				t.Errorf("FlexTemplateArgs:\n got %q\nwant %q", got, want)
			}
		})
	}
	// The last case's Beam options, and the launcher's own, are Beam's flags now.
	for name, want := range map[string]string{
		"job_name":              "jetstream-2026-10-07",
		"template_location":     "gs://dataflow-staging-us-central1-123/staging/template_launches/2026-10-07_04_00_00-1/job_object",
		"service_account_email": "jetstream@moz-fx-data-experiments.iam.gserviceaccount.com",
		"max_num_workers":       "50",
		"subnetwork":            "regions/us-central1/subnetworks/dataflow",
	} {
		if got := flag.Lookup(name).Value.String(); got != want {
			t.Errorf("beam flag --%s = %q, want %q", name, got, want)
		}
	}
	// parallelism is the template parameter, not Beam's flag of that name.
	if got := flag.Lookup("parallelism").Value.String(); got == "4" {
		t.Errorf("beam flag --parallelism = %q: the template parameter was passed to Beam", got)
	}
}

func TestFlexTemplateArgsRunnerOptions(t *testing.T) {
	restoreBeamFlags(t, "job_name")
	got, err := FlexTemplateArgs([]string{
		"--date=2026-10-07", "--dry_run=true", "--job_name=j", "--project=p", "--region=europe-west1",
		"--results_staging=gs://jetstream-staging/r", "--runner=dataflow", "--staging_location=gs://jetstream-staging/staging/",
		"--worker_binary=/opt/worker",
	}, "/template/jetstream")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/template/jetstream", "run", "--runner=dataflow", "--project-id=p", "--region=europe-west1",
		"--temp-location=gs://jetstream-staging/staging/tmp", "--staging-location=gs://jetstream-staging/staging/", "--worker-binary=/opt/worker",
		"--dry-run=true", "--date=2026-10-07", "--warehouse=bigquery:p", "--results-staging=gs://jetstream-staging/r",
		mozillaExperimenter}
	if !slices.Equal(got, want) {
		t.Errorf("FlexTemplateArgs:\n got %q\nwant %q", got, want)
	}
}

func TestFlexTemplateArgsErrors(t *testing.T) {
	restoreBeamFlags(t, "job_name", "max_num_workers")
	tests := []struct {
		name string
		args []string
		want []string // in the error
	}{
		{"unknown option", launcherArgs("--date=2026-10-07", "--results_staging=gs://jetstream-staging/r", "--experiment-slug=a", "--max_workers=5"),
			[]string{"--experiment-slug: neither a template parameter", "--max_workers: neither a template parameter"}},
		{"missing required parameters", launcherArgs("--bucket=none"),
			[]string{"template parameter date (--date) is required", "template parameter results_staging (--results_staging) is required"}},
		{"required parameter empty", launcherArgs("--date=", "--results_staging=gs://jetstream-staging/r"),
			[]string{"template parameter date (--date) is required"}},
		{"value refused by the parameter's regex", launcherArgs("--date=7 Oct 2026", "--results_staging=/tmp/r"),
			[]string{`template parameter date: "7 Oct 2026" does not match`, `template parameter results_staging: "/tmp/r" does not match`}},
		{"not a boolean", launcherArgs("--date=2026-10-07", "--results_staging=gs://jetstream-staging/r", "--statistics_only=yes"),
			[]string{`template parameter statistics_only: want true or false, got "yes"`}},
		{"no project or region", []string{"--date=2026-10-07", "--results_staging=gs://jetstream-staging/r", "--temp_location=gs://jetstream-staging/t"},
			[]string{"--project: missing", "--region: missing"}},
		{"no temp or staging location", []string{"--date=2026-10-07", "--results_staging=gs://jetstream-staging/r", "--project=p", "--region=r"},
			[]string{"--temp_location: missing"}},
		{"another runner", launcherArgs("--date=2026-10-07", "--results_staging=gs://jetstream-staging/r", "--runner=prism"),
			[]string{"--runner=prism: the Flex Template runs on Dataflow"}},
		{"not --name=value", launcherArgs("run", "--date=2026-10-07", "-results_staging=gs://jetstream-staging/r"),
			[]string{`"run": want --name=value`, `"-results_staging=gs://jetstream-staging/r": want --name=value`}},
		{"given twice", launcherArgs("--date=2026-10-07", "--date=2026-10-08", "--results_staging=gs://jetstream-staging/r"),
			[]string{"--date: given twice"}},
		{"Beam refuses the value", launcherArgs("--date=2026-10-07", "--results_staging=gs://jetstream-staging/r", "--max_num_workers=many"),
			[]string{"beam option --max_num_workers=many"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "another runner" {
				// launcherArgs already has --runner=DataflowRunner: replace it.
				tt.args = slices.DeleteFunc(tt.args, func(a string) bool { return a == "--runner=DataflowRunner" })
			}
			_ = flag.Set("job_name", "before")
			got, err := FlexTemplateArgs(tt.args, "/template/jetstream")
			if err == nil {
				t.Fatalf("FlexTemplateArgs = %q, want an error", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			// A refused launch sets no Beam flag (nor leaves one set).
			if v := flag.Lookup("job_name").Value.String(); v != "before" {
				t.Errorf("beam flag --job_name = %q after an error, want it untouched", v)
			}
		})
	}
}

// TestFlexTemplateArgsParsedByRun: the run command parses the translated arguments into
// the values the template's parameters gave (the flags run has today).
func TestFlexTemplateArgsParsedByRun(t *testing.T) {
	restoreBeamFlags(t, "job_name", "template_location")
	argv, err := FlexTemplateArgs(launcherArgs("--date=2026-10-07", "--results_staging=gs://jetstream-staging/r",
		"--experiment_slug=a,b", "--bucket=gs://mozanalysis", "--config_repo=/m1,/m2",
		"--recreate_enrollments=true", "--seed=7", "--read_parts=3"), "/template/jetstream")
	if err != nil {
		t.Fatal(err)
	}
	app := App()
	var got map[string]any
	for _, c := range app.Commands {
		if c.Name == "run" {
			c.Action = func(c *cli.Context) error {
				got = map[string]any{
					"runner":               c.String("runner"),
					"project-id":           c.String("project-id"),
					"region":               c.String("region"),
					"temp-location":        c.String("temp-location"),
					"staging-location":     c.String("staging-location"),
					"worker-binary":        c.String("worker-binary"),
					"date":                 c.String("date"),
					"warehouse":            c.String("warehouse"),
					"results-staging":      c.String("results-staging"),
					"bucket":               c.String("bucket"),
					"experimenter-url":     c.String("experimenter-url"),
					"experiment-slug":      strings.Join(c.StringSlice("experiment-slug"), "|"),
					"config-repo":          strings.Join(c.StringSlice("config-repo"), "|"),
					"recreate-enrollments": c.Bool("recreate-enrollments"),
					"seed":                 c.Uint64("seed"),
					"read-parts":           c.Int("read-parts"),
				}
				return nil
			}
		}
	}
	if err := app.Run(argv); err != nil {
		t.Fatalf("jetstream %q: %v", argv[1:], err)
	}
	want := map[string]any{
		"runner": "dataflow", "project-id": "moz-fx-data-experiments", "region": "us-central1",
		"temp-location": "gs://dataflow-staging-us-central1-123/tmp", "staging-location": "gs://dataflow-staging-us-central1-123/staging",
		"worker-binary": "/template/jetstream", "date": "2026-10-07", "warehouse": "bigquery:moz-fx-data-experiments",
		"results-staging": "gs://jetstream-staging/r", "bucket": "gs://mozanalysis",
		"experimenter-url": "https://experimenter.services.mozilla.com", "experiment-slug": "a|b", "config-repo": "/m1|/m2",
		"recreate-enrollments": true, "seed": uint64(7), "read-parts": 3,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("run --%s = %#v, want %#v", k, got[k], w)
		}
	}
}

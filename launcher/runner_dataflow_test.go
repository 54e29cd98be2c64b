package launcher

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/samples"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// dryRunArgs are the runner flags of `make dataflow-dryrun`, with worker as the worker binary.
func dryRunArgs(worker string) []string {
	return []string{"--runner", "dataflow", "--dry-run", "--project-id", "jetstream-ci", "--region", "us-central1",
		"--temp-location", "gs://jetstream-ci/tmp", "--worker-binary", worker}
}

// sampleWeekPlan plans what `make dataflow-dryrun` runs: the bundled sample's week 1
// (analysis date 2026-09-14), resolved with the platform defaults.
func sampleWeekPlan(t *testing.T) *pipeline.Plan {
	t.Helper()
	spec, err := configs.Parse(samples.ConfigName, samples.ConfigTOML)
	if err != nil {
		t.Fatal(err)
	}
	exps, err := experimenter.Parse(samples.ExperimentJSON, time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	a, err := configs.MetricHub().Resolve(spec, exps[0])
	if err != nil {
		t.Fatal(err)
	}
	const url = "duckdb:sample/mozdata.duckdb"
	dialect, err := warehouse.DialectOf(url)
	if err != nil {
		t.Fatal(err)
	}
	decision := pipeline.Decide(a, exps[0], time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC), []configs.Period{configs.Week})
	plan, err := pipeline.NewPlan([]pipeline.Decision{decision}, dialect, pipeline.Options{
		Warehouse: url, Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events"})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Queries) == 0 {
		t.Fatalf("the sample's week 1 plans no query: %+v", decision)
	}
	return plan
}

// dryRunOutput is what a Dataflow dry run prints.
type dryRunOutput struct {
	Header       string
	Count        int               // "pipeline: N transforms"
	Transforms   map[string]string // unique name → URN
	Order        []string          // unique names as listed
	Environments []string          // "environment …" lines
	Job          dataflowJob
}

// dataflowJob holds the fields of the printed Dataflow job (v1b3 Job) the tests check.
type dataflowJob struct {
	ProjectID   string `json:"projectId"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Environment struct {
		Experiments        []string `json:"experiments"`
		TempStoragePrefix  string   `json:"tempStoragePrefix"`
		SdkPipelineOptions struct {
			Options struct {
				PipelineURL  string `json:"pipelineUrl"`
				Region       string `json:"region"`
				TempLocation string `json:"tempLocation"`
			} `json:"options"`
			GoOptions struct {
				Options map[string]string `json:"options"`
			} `json:"beam:option:go_options:v1"`
		} `json:"sdkPipelineOptions"`
		WorkerPools []struct {
			Kind     string `json:"kind"`
			Packages []struct {
				Name     string `json:"name"`
				Location string `json:"location"`
			} `json:"packages"`
			WorkerHarnessContainerImage string `json:"workerHarnessContainerImage"`
		} `json:"workerPools"`
	} `json:"environment"`
}

func parseDryRun(t *testing.T, out string) dryRunOutput {
	t.Helper()
	var d dryRunOutput
	header, rest, ok := strings.Cut(out, "\n")
	if !ok {
		t.Fatalf("dry run printed %q", out)
	}
	d.Header = header
	before, job, ok := strings.Cut(rest, "Dataflow job:\n")
	if !ok {
		t.Fatalf("no job in the dry run's output:\n%s", out)
	}
	if err := json.Unmarshal([]byte(job), &d.Job); err != nil {
		t.Fatalf("the job is not JSON: %v\n%s", err, job)
	}
	d.Transforms = map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(before))
	for sc.Scan() {
		line := sc.Text()
		switch fields := strings.Fields(line); {
		case strings.HasPrefix(line, "pipeline: "):
			n, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			d.Count = n
		case strings.HasPrefix(line, "environment "):
			d.Environments = append(d.Environments, line)
		case strings.HasPrefix(line, "  ") && len(fields) == 2:
			d.Transforms[fields[0]] = fields[1]
			d.Order = append(d.Order, fields[0])
		default:
			t.Fatalf("unexpected line in the dry run's output: %q", line)
		}
	}
	return d
}

// checkSampleDryRun checks the dry run of the sample's week 1 with dryRunArgs(worker).
func checkSampleDryRun(t *testing.T, out, worker string) {
	t.Helper()
	d := parseDryRun(t, out)
	if want := "Dataflow dry run: the pipeline is translated into a Dataflow job, printed below, and not submitted."; d.Header != want {
		t.Errorf("header %q, want %q", d.Header, want)
	}
	// The graph pipeline.Build makes: read, tally (lifted combines), compute, write.
	want := map[string]string{
		"Analysis":                                                            "(composite)",
		"Analysis/Impulse":                                                    "beam:transform:impulse:v1",
		"Analysis/beam.createFn":                                              "beam:transform:pardo:v1",
		"Analysis/ReadClients":                                                "(composite)",
		"Analysis/ReadClients/transforms.readFn":                              "beam:transform:pardo:v1",
		"Analysis/MergeTallies/CombinePerKey":                                 "beam:transform:combine_per_key:v1",
		"Analysis/MergeTallies/CombinePerKey/CoGBK":                           "beam:transform:group_by_key:v1",
		"Analysis/MergeTallies/CombinePerKey/transforms.mergeTallyFn":         "beam:transform:pardo:v1",
		"Analysis/MergePairTallies/CombinePerKey":                             "beam:transform:combine_per_key:v1",
		"Analysis/MergePairTallies/CombinePerKey/transforms.mergePairTallyFn": "beam:transform:pardo:v1",
		"Analysis/ComputeCells/CoGBK":                                         "beam:transform:group_by_key:v1",
		"Analysis/ComputeCells/transforms.computeFn":                          "beam:transform:pardo:v1",
		"Analysis/WriteTables/transforms.writeTableFn":                        "beam:transform:pardo:v1",
		"Analysis/WriteErrors/transforms.writeErrorsFn":                       "beam:transform:pardo:v1",
	}
	for name, urn := range want {
		if got, ok := d.Transforms[name]; !ok {
			t.Errorf("transform %s missing from the dry run's pipeline; it lists %q", name, d.Order)
		} else if got != urn {
			t.Errorf("transform %s: URN %s, want %s", name, got, urn)
		}
	}
	if d.Count != len(d.Transforms) || d.Count < len(want) {
		t.Errorf("pipeline: %d transforms announced, %d listed, want at least %d", d.Count, len(d.Transforms), len(want))
	}
	if len(d.Order) == 0 || d.Order[0] != "Analysis" {
		t.Errorf("the listing does not start with the root transform Analysis: %q", d.Order)
	}
	const image = "gcr.io/cloud-dataflow/v1beta3/beam_go_sdk:2.77.0"
	if want := []string{"environment go: container " + image}; !slices.Equal(d.Environments, want) {
		t.Errorf("environments %q, want %q", d.Environments, want)
	}

	j := d.Job
	if j.ProjectID != "jetstream-ci" || j.Type != "JOB_TYPE_BATCH" || !strings.HasPrefix(j.Name, "go-job-") {
		t.Errorf("job project %q, type %q, name %q; want jetstream-ci, JOB_TYPE_BATCH, go-job-…", j.ProjectID, j.Type, j.Name)
	}
	env := j.Environment
	for _, e := range []string{"beam_fn_api", "use_runner_v2", "use_unified_worker", "use_portable_job_submission"} {
		if !slices.Contains(env.Experiments, e) {
			t.Errorf("experiment %s missing: %q", e, env.Experiments)
		}
	}
	opts := env.SdkPipelineOptions.Options
	if opts.Region != "us-central1" || opts.TempLocation != "gs://jetstream-ci/tmp" || env.TempStoragePrefix != "gs://jetstream-ci/tmp" {
		t.Errorf("region %q, temp location %q, temp storage prefix %q; want us-central1, gs://jetstream-ci/tmp twice",
			opts.Region, opts.TempLocation, env.TempStoragePrefix)
	}
	// Everything is staged under <temp-location>/staging/go-<n>-<nanos>/.
	staging, ok := strings.CutSuffix(opts.PipelineURL, "/model")
	if !ok || !strings.HasPrefix(staging, "gs://jetstream-ci/tmp/staging/go-") {
		t.Errorf("pipeline URL %q, want gs://jetstream-ci/tmp/staging/go-…/model", opts.PipelineURL)
	}
	goOpts := env.SdkPipelineOptions.GoOptions.Options
	if goOpts["worker_binary"] != worker || goOpts["temp_location"] != "gs://jetstream-ci/tmp" {
		t.Errorf("go options worker_binary %q, temp_location %q; want %q, gs://jetstream-ci/tmp", goOpts["worker_binary"], goOpts["temp_location"], worker)
	}
	if len(env.WorkerPools) != 1 {
		t.Fatalf("%d worker pools, want 1", len(env.WorkerPools))
	}
	pool := env.WorkerPools[0]
	if pool.Kind != "harness" || pool.WorkerHarnessContainerImage != image {
		t.Errorf("worker pool kind %q, image %q; want harness, %s", pool.Kind, pool.WorkerHarnessContainerImage, image)
	}
	if len(pool.Packages) != 1 || pool.Packages[0].Name != "worker" || pool.Packages[0].Location != staging+"/worker" {
		t.Errorf("worker packages %+v, want the worker binary at %s/worker", pool.Packages, staging)
	}
}

// TestDataflowDryRun translates the sample's week-1 pipeline for Dataflow in this process,
// offline and without credentials: the runner flags of `make dataflow-dryrun` set Beam's
// options, and pipeline.Run prints the transforms and the job instead of running anything.
// The worker binary is only named in the job (the dry run never reads it), so an ELF header
// stands in for it.
func TestDataflowDryRun(t *testing.T) {
	keepBeamState(t)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", os.DevNull) // no Google credentials, whatever the machine has
	plan := sampleWeekPlan(t)
	worker := writeELF(t, elf.EM_X86_64, false)
	dir := t.TempDir()
	var out bytes.Buffer
	app := &cli.App{Writer: &out, Flags: newRunnerFlags(), Action: func(c *cli.Context) error {
		if err := applyRunner(c); err != nil {
			return err
		}
		if !dataflowDryRun() {
			t.Error("dataflowDryRun() = false after applyRunner with --runner dataflow --dry-run")
		}
		return pipeline.Run(c.Context, plan, filepath.Join(dir, "tables"))
	}}
	start := time.Now()
	if err := app.Run(append([]string{"jetstream"}, dryRunArgs(worker)...)); err != nil {
		t.Fatal(err)
	}
	t.Logf("dry run of %d queries: %v", len(plan.Queries), time.Since(start))
	checkSampleDryRun(t, out.String(), worker)
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("the dry run wrote %v (%v), want nothing", entries, err)
	}
}

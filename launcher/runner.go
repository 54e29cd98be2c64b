package launcher

import (
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/urfave/cli/v2"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// The runners `jetstream run` can choose.
const (
	runnerPrism    = "prism"    // in this process (local runs and tests); the default
	runnerDataflow = "dataflow" // Google Cloud Dataflow
)

// newRunnerFlags returns the flags that choose where `jetstream run` runs its pipeline;
// applyRunner turns them into Beam's own options. Each is also read from
// JETSTREAM_<NAME>, e.g. JETSTREAM_PROJECT_ID. They are new flags each time: urfave/cli
// keeps a value read from the environment in the flag itself.
func newRunnerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "runner", Value: runnerPrism, EnvVars: envVars("runner"),
			Usage: "where the pipeline runs: prism (in this process) or dataflow (Google Cloud Dataflow, with --results-staging gs://…)"},
		&cli.StringFlag{Name: "project-id", EnvVars: envVars("project-id"),
			Usage: "Google Cloud project of the Dataflow job (--runner dataflow)"},
		&cli.StringFlag{Name: "region", EnvVars: envVars("region"),
			Usage: "Dataflow region, e.g. us-central1 (--runner dataflow)"},
		&cli.StringFlag{Name: "temp-location", EnvVars: envVars("temp-location"),
			Usage: "gs://BUCKET/PATH for the Dataflow job's temporary files (--runner dataflow)"},
		&cli.StringFlag{Name: "staging-location", EnvVars: envVars("staging-location"),
			Usage: "gs://BUCKET/PATH where the worker binary and the pipeline are staged (--runner dataflow; default: <temp-location>/staging)"},
		&cli.StringFlag{Name: "worker-binary", EnvVars: envVars("worker-binary"),
			Usage: "the static linux/amd64 jetstream binary Dataflow workers run, e.g. bin/jetstream-worker (built by make worker) (--runner dataflow)"},
		&cli.BoolFlag{Name: "dry-run", EnvVars: envVars("dry-run"),
			Usage: "write nothing: print the plan and dry-run every query (BigQuery's dry run, DuckDB's EXPLAIN); with --runner dataflow, also translate the pipeline into a Dataflow job and print it, without submitting it (needs no Google credentials)"},
	}
}

// runnerOptions are the values of the runner flags.
type runnerOptions struct {
	Runner          string
	Project         string
	Region          string
	TempLocation    string
	StagingLocation string // "" = <TempLocation>/staging
	WorkerBinary    string
	DryRun          bool
	// ResultsStaging is the run's --results-staging: where Dataflow's workers write the
	// statistics tables, which must then be on Cloud Storage.
	ResultsStaging string
}

func runnerOptionsFrom(c *cli.Context) runnerOptions {
	return runnerOptions{
		Runner:          strings.ToLower(c.String("runner")),
		Project:         c.String("project-id"),
		Region:          c.String("region"),
		TempLocation:    c.String("temp-location"),
		StagingLocation: c.String("staging-location"),
		WorkerBinary:    c.String("worker-binary"),
		DryRun:          c.Bool("dry-run"),
		ResultsStaging:  c.String("results-staging"),
	}
}

// applyRunner validates the runner flags of c and sets Beam's options — its Go flags
// --runner, --project, --region, --temp_location, --staging_location, --worker_binary and
// --dry_run — accordingly; it must be called before the pipeline is built and run. With
// Prism, the default, the run is what it is without these flags. A Dataflow dry run prints
// the pipeline's transforms and the Dataflow job on c.App.Writer.
func applyRunner(c *cli.Context) error {
	o := runnerOptionsFrom(c)
	if err := o.validate(); err != nil {
		return err
	}
	return o.apply(c.App.Writer)
}

// dataflowDryRun reports whether Beam is set for a Dataflow dry run (--runner dataflow
// --dry-run): pipeline.Run then translates the pipeline into a Dataflow job and prints it,
// and nothing runs — there is nothing to prepare in the warehouse and nothing to publish.
func dataflowDryRun() bool {
	r, d := flag.Lookup(beamRunner), flag.Lookup(beamDryRun)
	return r != nil && d != nil && r.Value.String() == runnerDataflow && d.Value.String() == "true"
}

// shardDraws is the plan's ShardDraws for the runner Beam is set to. Shards spread a big
// bootstrap over Dataflow's workers (transforms.DefaultShardDraws); in this process the
// bootstrap's goroutines already use every core, and shuffling the shard tasks only costs
// (at 1M clients: +7% time and +0.5 GB peak), so a Prism run computes every cell in place.
func shardDraws() int64 {
	if r := flag.Lookup(beamRunner); r != nil && r.Value.String() == runnerDataflow {
		return 0
	}
	return -1
}

// templateSubmission reports whether Beam is set to write the Dataflow job for a Flex
// Template launcher (--template_location): the launcher starts the job after the program
// ends, so the program cannot wait for its results.
func templateSubmission() bool {
	f := flag.Lookup("template_location")
	return f != nil && f.Value.String() != "" && flag.Lookup(beamRunner).Value.String() == runnerDataflow
}

var gcsBucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)

// validate reports every problem of the options at once, each naming its flag.
func (o runnerOptions) validate() error {
	switch o.Runner {
	case runnerPrism:
		return nil // the Dataflow flags are ignored (they may come from the environment)
	case runnerDataflow:
	default:
		return fmt.Errorf("--runner: want prism or dataflow, got %q", o.Runner)
	}
	var errs []error
	if o.Project == "" {
		errs = append(errs, errors.New("--runner dataflow needs --project-id (the job's Google Cloud project)"))
	}
	if o.Region == "" {
		errs = append(errs, errors.New("--runner dataflow needs --region (e.g. us-central1)"))
	}
	if o.TempLocation == "" {
		errs = append(errs, errors.New("--runner dataflow needs --temp-location gs://BUCKET/PATH"))
	} else if err := checkGCSPath(o.TempLocation); err != nil {
		errs = append(errs, fmt.Errorf("--temp-location: %w", err))
	}
	if o.StagingLocation != "" {
		if err := checkGCSPath(o.StagingLocation); err != nil {
			errs = append(errs, fmt.Errorf("--staging-location: %w", err))
		}
	}
	if o.WorkerBinary == "" {
		errs = append(errs, errors.New("--runner dataflow needs --worker-binary (a static linux/amd64 build: `make worker` writes bin/jetstream-worker)"))
	} else if err := checkWorkerBinary(o.WorkerBinary); err != nil {
		errs = append(errs, fmt.Errorf("--worker-binary: %w", err))
	}
	if !o.DryRun {
		// The workers write the statistics tables where the launcher can read them back
		// to publish them: not this machine's disk.
		if o.ResultsStaging == "" {
			errs = append(errs, errors.New("--runner dataflow needs --results-staging gs://BUCKET/PREFIX (where the workers write the statistics tables), or --dry-run"))
		} else if err := checkGCSPath(o.ResultsStaging); err != nil {
			errs = append(errs, fmt.Errorf("--results-staging: %w", err))
		}
	}
	return errors.Join(errs...)
}

// checkGCSPath accepts gs://BUCKET and gs://BUCKET/PATH.
func checkGCSPath(s string) error {
	rest, ok := strings.CutPrefix(s, "gs://")
	if !ok {
		return fmt.Errorf("want a Cloud Storage path gs://BUCKET/PATH, got %q", s)
	}
	bucket, _, _ := strings.Cut(rest, "/")
	if !gcsBucketName.MatchString(bucket) {
		return fmt.Errorf("%q: %q is not a bucket name (3 to 222 lower-case letters, digits, '-', '_' and '.')", s, bucket)
	}
	return nil
}

// checkWorkerBinary checks that path is a program Dataflow's Go workers can run: an existing
// linux/amd64 executable, statically linked (built with CGO_ENABLED=0, hence without DuckDB).
func checkWorkerBinary(path string) error {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s does not exist (`make worker` builds bin/jetstream-worker)", path)
	}
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a file", path)
	}
	f, err := elf.Open(path)
	if err != nil {
		var cannotOpen *fs.PathError
		if errors.As(err, &cannotOpen) {
			return err
		}
		return fmt.Errorf("%s is not a linux executable (ELF); `make worker` builds one", path)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s is built for %v, but Dataflow workers are linux/amd64 (GOOS=linux GOARCH=amd64)", path, f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is not an executable but an ELF %v", path, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (built with cgo, as bin/jetstream is for DuckDB); the worker must be built with CGO_ENABLED=0 (`make worker`)", path)
		}
	}
	return nil
}

// Beam's Go flags that applyRunner sets.
const (
	beamRunner          = "runner"
	beamProject         = "project"
	beamRegion          = "region"
	beamTempLocation    = "temp_location"
	beamStagingLocation = "staging_location"
	beamWorkerBinary    = "worker_binary"
	beamDryRun          = "dry_run"
	beamEnvironmentType = "environment_type"
)

// apply sets Beam's flags for valid options; out receives what a Dataflow dry run prints.
func (o runnerOptions) apply(out io.Writer) error {
	if o.Runner != runnerDataflow {
		restoreEnvironmentType()
		useDryRunLogger(nil)
		return setBeamFlags(map[string]string{beamRunner: runnerPrism, beamDryRun: "false"})
	}
	staging := o.StagingLocation
	if staging == "" {
		staging = strings.TrimSuffix(o.TempLocation, "/") + "/staging"
	}
	values := map[string]string{
		beamRunner:          runnerDataflow,
		beamProject:         o.Project,
		beamRegion:          o.Region,
		beamTempLocation:    o.TempLocation,
		beamStagingLocation: staging,
		beamWorkerBinary:    o.WorkerBinary,
		beamDryRun:          strconv.FormatBool(o.DryRun),
		// Dataflow's workers run Beam's Go SDK container; a Prism run earlier in this process
		// (tests) has set the environment to loopback, which Dataflow refuses.
		beamEnvironmentType: "docker",
	}
	if *jobopts.EnvironmentType != "docker" {
		saved := *jobopts.EnvironmentType
		savedEnvironmentType = &saved
	}
	if err := setBeamFlags(values); err != nil {
		return err
	}
	// The Dataflow runner copies the flags into the job's options once per process, keeping
	// the first value of each: set those it shows, so that every run shows its own.
	for _, name := range []string{beamTempLocation, beamWorkerBinary, beamDryRun} {
		beam.PipelineOptions.Set(name, values[name])
	}
	if o.DryRun {
		useDryRunLogger(out)
	} else {
		useDryRunLogger(nil)
	}
	return nil
}

// savedEnvironmentType is Beam's environment type before a Dataflow run replaced it, given
// back to a later Prism run in the same process; nil when it was not replaced.
var savedEnvironmentType *string

func restoreEnvironmentType() {
	if savedEnvironmentType != nil {
		*jobopts.EnvironmentType = *savedEnvironmentType
		savedEnvironmentType = nil
	}
}

// setBeamFlags sets Beam's Go flags, leaving those that already have their value untouched.
func setBeamFlags(values map[string]string) error {
	for name, value := range values {
		f := flag.Lookup(name)
		if f == nil {
			return fmt.Errorf("beam option --%s is not defined (is its runner linked in?)", name)
		}
		if f.Value.String() == value {
			continue
		}
		if err := flag.Set(name, value); err != nil {
			return fmt.Errorf("beam option --%s=%s: %w", name, value, err)
		}
	}
	return nil
}

// useDryRunLogger routes Beam's log through a dryRunLogger writing to out, or, with a nil
// out, back to Beam's default logger.
func useDryRunLogger(out io.Writer) {
	if out == nil {
		if dryRunLoggerInstalled {
			beamlog.SetLogger(&beamlog.Structural{})
			dryRunLoggerInstalled = false
		}
		return
	}
	beamlog.SetLogger(&dryRunLogger{out: out, next: &beamlog.Structural{}})
	dryRunLoggerInstalled = true
}

var dryRunLoggerInstalled bool

// dryRunLogger shows what Beam's Dataflow dry run logs at INFO — a level the CLI hides — on
// the command's output: the pipeline's transforms (Beam logs the whole pipeline proto, which
// grows with the plan) and the Dataflow job as JSON. Other messages go to next.
type dryRunLogger struct {
	out  io.Writer
	next beamlog.Logger
}

func (l *dryRunLogger) Log(ctx context.Context, sev beamlog.Severity, calldepth int, msg string) {
	if sev == beamlog.SevInfo {
		switch {
		case strings.HasPrefix(msg, "Dry-run:"): // "Dry-run: not submitting job!"
			fmt.Fprintln(l.out, "Dataflow dry run: the pipeline is translated into a Dataflow job, printed below, and not submitted.")
			return
		case strings.HasPrefix(msg, "components:"): // the pipeline proto, as text
			var p pipepb.Pipeline
			if err := prototext.Unmarshal([]byte(msg), &p); err != nil {
				fmt.Fprintf(l.out, "pipeline: not shown (%v)\n", err)
				return
			}
			printTransforms(l.out, &p)
			return
		case strings.HasPrefix(msg, "{") && json.Valid([]byte(msg)): // the job
			fmt.Fprintln(l.out, "Dataflow job:")
			fmt.Fprintln(l.out, msg)
			return
		}
	}
	l.next.Log(ctx, sev, calldepth+1, msg)
}

// printTransforms lists the pipeline's transforms, each composite before its parts, with
// their URNs, and the container images of its environments.
func printTransforms(w io.Writer, p *pipepb.Pipeline) {
	transforms := p.GetComponents().GetTransforms()
	fmt.Fprintf(w, "pipeline: %d transforms\n", len(transforms))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var walk func(ids []string)
	walk = func(ids []string) {
		for _, id := range ids {
			t := transforms[id]
			urn := t.GetSpec().GetUrn()
			if urn == "" {
				urn = "(composite)"
			}
			fmt.Fprintf(tw, "  %s\t%s\n", t.GetUniqueName(), urn)
			walk(t.GetSubtransforms())
		}
	}
	walk(p.GetRootTransformIds())
	tw.Flush()
	envs := p.GetComponents().GetEnvironments()
	for _, id := range slices.Sorted(maps.Keys(envs)) {
		env := envs[id]
		var docker pipepb.DockerPayload
		if env.GetUrn() == "beam:env:docker:v1" && proto.Unmarshal(env.GetPayload(), &docker) == nil {
			fmt.Fprintf(w, "environment %s: container %s\n", id, docker.GetContainerImage())
		}
	}
}

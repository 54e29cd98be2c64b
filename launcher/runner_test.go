package launcher

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/urfave/cli/v2"
)

// writeELF writes the headers of a 64-bit little-endian ELF executable for machine — with an
// interpreter (PT_INTERP), as a dynamically linked program has, when dynamic — which is all
// checkWorkerBinary reads. It is not a program.
func writeELF(t *testing.T, machine elf.Machine, dynamic bool) string {
	t.Helper()
	const headerSize, progSize = 64, 56
	interp := []byte("/lib64/ld-linux-x86-64.so.2\x00")
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Ehsize: headerSize, Phentsize: progSize, Shentsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	var progs []elf.Prog64
	if dynamic {
		h.Phoff, h.Phnum = headerSize, 1
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_INTERP), Flags: uint32(elf.PF_R),
			Off: headerSize + progSize, Filesz: uint64(len(interp)), Memsz: uint64(len(interp)), Align: 1})
	}
	var b bytes.Buffer
	for _, v := range []any{h, progs} {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			t.Fatal(err)
		}
	}
	if dynamic {
		b.Write(interp)
	}
	path := filepath.Join(t.TempDir(), "worker-"+machine.String())
	if err := os.WriteFile(path, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// managedBeamFlags are the Beam flags applyRunner sets.
var managedBeamFlags = []string{beamRunner, beamProject, beamRegion, beamTempLocation, beamStagingLocation,
	beamWorkerBinary, beamDryRun, beamEnvironmentType}

// keepBeamState restores, after the test, Beam's flags and options that applyRunner sets and
// its logger, so that the package's other tests run on Prism as before.
func keepBeamState(t *testing.T) {
	t.Helper()
	flags := map[string]string{}
	for _, name := range managedBeamFlags {
		flags[name] = flag.Lookup(name).Value.String()
	}
	options := map[string]string{}
	for _, name := range []string{beamTempLocation, beamWorkerBinary, beamDryRun} {
		options[name] = beam.PipelineOptions.Get(name)
	}
	t.Cleanup(func() {
		if err := setBeamFlags(flags); err != nil {
			t.Error(err)
		}
		for name, value := range options {
			beam.PipelineOptions.Set(name, value)
		}
		savedEnvironmentType = nil
		beamlog.SetLogger(&beamlog.Structural{})
		dryRunLoggerInstalled = false
	})
}

func beamFlag(t *testing.T, name string) string {
	t.Helper()
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("Beam flag --%s is not defined", name)
	}
	return f.Value.String()
}

func TestRunnerValidate(t *testing.T) {
	static := writeELF(t, elf.EM_X86_64, false)
	dynamic := writeELF(t, elf.EM_X86_64, true)
	arm := writeELF(t, elf.EM_AARCH64, false)
	script := filepath.Join(t.TempDir(), "worker.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "jetstream-worker")
	dataflow := func(edit func(*runnerOptions)) runnerOptions {
		o := runnerOptions{Runner: runnerDataflow, Project: "jetstream-ci", Region: "us-central1",
			TempLocation: "gs://jetstream-ci/tmp", WorkerBinary: static, DryRun: true}
		edit(&o)
		return o
	}
	for _, tc := range []struct {
		name string
		o    runnerOptions
		want string // "" = valid
	}{
		{"prism", runnerOptions{Runner: runnerPrism}, ""},
		{"prism ignores the Dataflow flags", runnerOptions{Runner: runnerPrism, Project: "p", TempLocation: "/tmp", WorkerBinary: missing}, ""},
		{"prism dry run", runnerOptions{Runner: runnerPrism, DryRun: true}, ""},
		{"unknown runner", runnerOptions{Runner: "flink"}, `--runner: want prism or dataflow, got "flink"`},
		{"empty runner", runnerOptions{}, `--runner: want prism or dataflow, got ""`},
		{"dataflow dry run", dataflow(func(*runnerOptions) {}), ""},
		{"dataflow with a staging location", dataflow(func(o *runnerOptions) { o.StagingLocation = "gs://jetstream-staging/jobs" }), ""},
		{"dataflow with a bucket only", dataflow(func(o *runnerOptions) { o.TempLocation = "gs://jetstream-ci" }), ""},
		{"dataflow without anything", runnerOptions{Runner: runnerDataflow, DryRun: true},
			"--runner dataflow needs --project-id (the job's Google Cloud project)\n" +
				"--runner dataflow needs --region (e.g. us-central1)\n" +
				"--runner dataflow needs --temp-location gs://BUCKET/PATH\n" +
				"--runner dataflow needs --worker-binary (a static linux/amd64 build: `make worker` writes bin/jetstream-worker)"},
		{"dataflow without project", dataflow(func(o *runnerOptions) { o.Project = "" }),
			"--runner dataflow needs --project-id (the job's Google Cloud project)"},
		{"dataflow without region", dataflow(func(o *runnerOptions) { o.Region = "" }),
			"--runner dataflow needs --region (e.g. us-central1)"},
		{"local temp location", dataflow(func(o *runnerOptions) { o.TempLocation = "/tmp/jetstream" }),
			`--temp-location: want a Cloud Storage path gs://BUCKET/PATH, got "/tmp/jetstream"`},
		{"temp location without bucket", dataflow(func(o *runnerOptions) { o.TempLocation = "gs:///tmp" }),
			`--temp-location: "gs:///tmp": "" is not a bucket name (3 to 222 lower-case letters, digits, '-', '_' and '.')`},
		{"temp location with an upper-case bucket", dataflow(func(o *runnerOptions) { o.TempLocation = "gs://Jetstream/tmp" }),
			`--temp-location: "gs://Jetstream/tmp": "Jetstream" is not a bucket name (3 to 222 lower-case letters, digits, '-', '_' and '.')`},
		{"staging location on S3", dataflow(func(o *runnerOptions) { o.StagingLocation = "s3://jetstream/staging" }),
			`--staging-location: want a Cloud Storage path gs://BUCKET/PATH, got "s3://jetstream/staging"`},
		{"missing worker binary", dataflow(func(o *runnerOptions) { o.WorkerBinary = missing }),
			"--worker-binary: " + missing + " does not exist (`make worker` builds bin/jetstream-worker)"},
		{"worker binary is a folder", dataflow(func(o *runnerOptions) { o.WorkerBinary = dir }),
			"--worker-binary: " + dir + " is not a file"},
		{"worker binary is a script", dataflow(func(o *runnerOptions) { o.WorkerBinary = script }),
			"--worker-binary: " + script + " is not a linux executable (ELF); `make worker` builds one"},
		{"worker binary is empty", dataflow(func(o *runnerOptions) { o.WorkerBinary = empty }),
			"--worker-binary: " + empty + " is not a linux executable (ELF); `make worker` builds one"},
		{"worker binary for arm64", dataflow(func(o *runnerOptions) { o.WorkerBinary = arm }),
			"--worker-binary: " + arm + " is built for EM_AARCH64, but Dataflow workers are linux/amd64 (GOOS=linux GOARCH=amd64)"},
		{"worker binary built with cgo", dataflow(func(o *runnerOptions) { o.WorkerBinary = dynamic }),
			"--worker-binary: " + dynamic + " is dynamically linked (built with cgo, as bin/jetstream is for DuckDB); the worker must be built with CGO_ENABLED=0 (`make worker`)"},
		{"dataflow without dry run", dataflow(func(o *runnerOptions) { o.DryRun = false }),
			"--runner dataflow needs --results-staging gs://BUCKET/PREFIX (where the workers write the statistics tables), or --dry-run"},
		{"dataflow with a local results staging", dataflow(func(o *runnerOptions) { o.DryRun, o.ResultsStaging = false, "out/staging" }),
			`--results-staging: want a Cloud Storage path gs://BUCKET/PATH, got "out/staging"`},
		{"dataflow run", dataflow(func(o *runnerOptions) { o.DryRun, o.ResultsStaging = false, "gs://jetstream-results/staging" }), ""},
		{"several problems", dataflow(func(o *runnerOptions) { o.Region, o.TempLocation, o.WorkerBinary = "", "tmp", missing }),
			"--runner dataflow needs --region (e.g. us-central1)\n" +
				`--temp-location: want a Cloud Storage path gs://BUCKET/PATH, got "tmp"` + "\n" +
				"--worker-binary: " + missing + " does not exist (`make worker` builds bin/jetstream-worker)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("validate: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("validate: no error, want %q", tc.want)
			case tc.want != "" && err.Error() != tc.want:
				t.Fatalf("validate:\n got %q\nwant %q", err, tc.want)
			}
		})
	}
}

func TestRunnerApplySetsBeamFlags(t *testing.T) {
	worker := writeELF(t, elf.EM_X86_64, false)
	dataflow := runnerOptions{Runner: runnerDataflow, Project: "jetstream-ci", Region: "us-central1",
		TempLocation: "gs://jetstream-ci/tmp", WorkerBinary: worker, DryRun: true}
	withStaging := dataflow
	withStaging.TempLocation, withStaging.StagingLocation = "gs://jetstream-ci/tmp/", "gs://jetstream-staging/jobs"
	trailingSlash := dataflow
	trailingSlash.TempLocation = "gs://jetstream-ci/tmp/"
	for _, tc := range []struct {
		name string
		o    runnerOptions
		want map[string]string // Beam flags after apply; others unchanged
	}{
		{"prism", runnerOptions{Runner: runnerPrism}, map[string]string{beamRunner: "prism", beamDryRun: "false"}},
		{"dataflow dry run", dataflow, map[string]string{
			beamRunner: "dataflow", beamProject: "jetstream-ci", beamRegion: "us-central1",
			beamTempLocation: "gs://jetstream-ci/tmp", beamStagingLocation: "gs://jetstream-ci/tmp/staging",
			beamWorkerBinary: worker, beamDryRun: "true", beamEnvironmentType: "docker"}},
		{"dataflow, temp location with a slash", trailingSlash, map[string]string{
			beamTempLocation: "gs://jetstream-ci/tmp/", beamStagingLocation: "gs://jetstream-ci/tmp/staging"}},
		{"dataflow with a staging location", withStaging, map[string]string{
			beamTempLocation: "gs://jetstream-ci/tmp/", beamStagingLocation: "gs://jetstream-staging/jobs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keepBeamState(t)
			// As a Prism run earlier in the process leaves it.
			if err := setBeamFlags(map[string]string{beamEnvironmentType: "loopback", beamProject: "before", beamWorkerBinary: "before"}); err != nil {
				t.Fatal(err)
			}
			before := map[string]string{}
			for _, name := range managedBeamFlags {
				before[name] = beamFlag(t, name)
			}
			if err := tc.o.validate(); err != nil {
				t.Fatal(err)
			}
			if err := tc.o.apply(&bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			for _, name := range managedBeamFlags {
				want, ok := tc.want[name]
				if !ok && tc.o.Runner == runnerPrism {
					want = before[name]
				} else if !ok {
					continue
				}
				if got := beamFlag(t, name); got != want {
					t.Errorf("--%s = %q, want %q", name, got, want)
				}
			}
			if got, want := dataflowDryRun(), tc.o.Runner == runnerDataflow; got != want {
				t.Errorf("dataflowDryRun() = %v, want %v", got, want)
			}
			if tc.o.Runner == runnerDataflow {
				if got := beam.PipelineOptions.Get(beamWorkerBinary); got != worker {
					t.Errorf("pipeline option worker_binary = %q, want %q", got, worker)
				}
			}
		})
	}
}

// TestRunnerPrismAfterDataflow: a Prism run after a Dataflow one in the same process gets
// back the environment type Prism had set (loopback) and Beam's own logger.
func TestRunnerPrismAfterDataflow(t *testing.T) {
	keepBeamState(t)
	if err := setBeamFlags(map[string]string{beamEnvironmentType: "loopback"}); err != nil {
		t.Fatal(err)
	}
	dataflow := runnerOptions{Runner: runnerDataflow, Project: "jetstream-ci", Region: "us-central1",
		TempLocation: "gs://jetstream-ci/tmp", WorkerBinary: writeELF(t, elf.EM_X86_64, false), DryRun: true}
	if err := dataflow.apply(&bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if got := *jobopts.EnvironmentType; got != "docker" {
		t.Fatalf("environment type for Dataflow = %q, want docker", got)
	}
	if !dryRunLoggerInstalled {
		t.Fatal("the dry run's logger is not installed")
	}
	if err := (runnerOptions{Runner: runnerPrism}).apply(&bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{beamRunner: "prism", beamDryRun: "false", beamEnvironmentType: "loopback"} {
		if got := beamFlag(t, name); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
	if dryRunLoggerInstalled || dataflowDryRun() {
		t.Errorf("after a Prism apply: dry-run logger installed %v, dataflowDryRun %v; want false, false", dryRunLoggerInstalled, dataflowDryRun())
	}
}

// TestRunnerFlagsFromEnvironment: each flag is read from JETSTREAM_<NAME>, and the command
// line wins over the environment.
func TestRunnerFlagsFromEnvironment(t *testing.T) {
	env := map[string]string{
		"JETSTREAM_RUNNER":           "dataflow",
		"JETSTREAM_PROJECT_ID":       "jetstream-ci",
		"JETSTREAM_REGION":           "us-central1",
		"JETSTREAM_TEMP_LOCATION":    "gs://jetstream-ci/tmp",
		"JETSTREAM_STAGING_LOCATION": "gs://jetstream-ci/staging",
		"JETSTREAM_WORKER_BINARY":    "bin/jetstream-worker",
		"JETSTREAM_DRY_RUN":          "true",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	parse := func(args ...string) runnerOptions {
		t.Helper()
		var got runnerOptions
		app := &cli.App{Flags: newRunnerFlags(), Action: func(c *cli.Context) error {
			got = runnerOptionsFrom(c)
			return nil
		}}
		if err := app.Run(append([]string{"jetstream"}, args...)); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := runnerOptions{Runner: "dataflow", Project: "jetstream-ci", Region: "us-central1", TempLocation: "gs://jetstream-ci/tmp",
		StagingLocation: "gs://jetstream-ci/staging", WorkerBinary: "bin/jetstream-worker", DryRun: true}
	if got := parse(); got != want {
		t.Errorf("from the environment:\n got %+v\nwant %+v", got, want)
	}
	want.Region, want.Runner, want.DryRun = "europe-west1", "prism", false
	if got := parse("--region", "europe-west1", "--runner", "Prism", "--dry-run=false"); got != want {
		t.Errorf("command line over the environment:\n got %+v\nwant %+v", got, want)
	}
}

// TestRunRunnerFlags: `jetstream run` has the runner flags and checks them before it reads
// anything else.
func TestRunRunnerFlags(t *testing.T) {
	keepBeamState(t)
	missing := filepath.Join(t.TempDir(), "experiment.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--runner", "dataflow", "--project-id", "jetstream-ci", "--experiment", missing},
			"--runner dataflow needs --region (e.g. us-central1)\n" +
				"--runner dataflow needs --temp-location gs://BUCKET/PATH\n" +
				"--runner dataflow needs --worker-binary (a static linux/amd64 build: `make worker` writes bin/jetstream-worker)\n" +
				"--runner dataflow needs --results-staging gs://BUCKET/PREFIX (where the workers write the statistics tables), or --dry-run"},
		{[]string{"--runner", "dataflow", "--project-id", "jetstream-ci", "--region", "us-central1", "--temp-location", "gs://jetstream-ci/tmp",
			"--worker-binary", missing, "--results-staging", "out"},
			"--worker-binary: " + missing + " does not exist (`make worker` builds bin/jetstream-worker)\n" +
				`--results-staging: want a Cloud Storage path gs://BUCKET/PATH, got "out"`},
		{[]string{"--runner", "spark"}, `--runner: want prism or dataflow, got "spark"`},
	} {
		app := App()
		app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
		err := app.Run(append([]string{"jetstream", "run"}, tc.args...))
		if err == nil || err.Error() != tc.want {
			t.Errorf("run %q: got error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestShardDraws checks that only a Dataflow run cuts big bootstraps into shards (which
// Dataflow spreads over workers): a Prism run computes every cell in place.
func TestShardDraws(t *testing.T) {
	keepBeamState(t)
	for _, tc := range []struct {
		runner string
		want   int64
	}{{runnerPrism, -1}, {runnerDataflow, 0}} {
		if err := flag.Set(beamRunner, tc.runner); err != nil {
			t.Fatal(err)
		}
		if got := shardDraws(); got != tc.want {
			t.Errorf("runner %s: shardDraws() = %d, want %d", tc.runner, got, tc.want)
		}
	}
}

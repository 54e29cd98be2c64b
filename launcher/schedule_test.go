package launcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/schedule"
)

// scheduleTestCLI, when set in the environment, makes the test binary a stand-in for the
// jetstream binary: it runs scheduleTestApp on its arguments as cmd/jetstream's main runs
// App (SIGINT cancels the context; an error exits 1). `schedule run` re-executes its own
// binary (os.Executable), so in these tests a job's command reaches fakeRunCommand.
const scheduleTestCLI = "JETSTREAM_SCHEDULE_TEST_CLI"

func init() {
	if os.Getenv(scheduleTestCLI) == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := scheduleTestApp().RunContext(ctx, os.Args)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "jetstream:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// scheduleTestApp is jetstream with `schedule` and stand-ins for `run` and `plan`.
func scheduleTestApp() *cli.App {
	return &cli.App{
		Name:            "jetstream",
		HideHelpCommand: true,
		Commands: []*cli.Command{
			scheduleCommand(),
			fakeRunCommand(),
			{Name: "plan", Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "experiment-slug"},
				&cli.StringFlag{Name: "format"},
			}, Action: func(*cli.Context) error { return nil }},
		},
	}
}

// fakeRunCommand has the flags of `run` the sample spec uses; what it does depends on its
// first --experiment-slug: print (its flags, and a line on stderr), exit-3, hang (ignoring
// interrupts), graceful (stops when interrupted, failing).
func fakeRunCommand() *cli.Command {
	return &cli.Command{
		Name: "run",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "experiment-slug"},
			&cli.StringFlag{Name: "from"},
			&cli.StringFlag{Name: "to"},
			&cli.StringSliceFlag{Name: "analysis-periods", Aliases: []string{"period"}},
			&cli.StringFlag{Name: "warehouse"},
			&cli.StringFlag{Name: "sql-output-dir"},
			&cli.StringFlag{Name: "bucket"},
			&cli.StringFlag{Name: "output", Value: "out"},
		},
		Action: func(c *cli.Context) error {
			slugs := c.StringSlice("experiment-slug")
			mode := ""
			if len(slugs) > 0 {
				mode = slugs[0]
			}
			switch mode {
			case "print":
				fmt.Fprintf(c.App.Writer, "run %q bucket=%s output=%s\n", slugs, c.String("bucket"), c.String("output"))
				fmt.Fprintln(c.App.ErrWriter, "run: a line on stderr")
			case "exit-3":
				return cli.Exit("jetstream: 1 of 2 experiments failed", 3)
			case "hang":
				signal.Ignore(os.Interrupt)
				fmt.Fprintln(c.App.Writer, "hanging")
				select {}
			case "graceful":
				fmt.Fprintln(c.App.Writer, "working")
				<-c.Context.Done()
				fmt.Fprintln(c.App.Writer, "interrupted, stopping")
				return errors.New("interrupted")
			}
			return nil
		},
	}
}

const goldenSpec = "../schedule/testdata/jobs.toml"

// goldenFlags render goldenSpec as schedule's golden test does.
var goldenFlags = []string{"--image", "us-docker.pkg.dev/moz-fx-data-experiments/jetstream/jetstream-flex:2026.1.0",
	"--namespace", "jetstream", "--binary-in-image", "/template/jetstream", "--spec-in-image", "/template/jobs.toml",
	"--service-account", "jetstream"}

// runSchedule runs the app on args, returning its output, the exit code an ExitCoder asked
// for (-1: none) and the error.
func runSchedule(t *testing.T, app *cli.App, args ...string) (stdout, stderr string, code int, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	code = -1
	savedExit, savedErr := cli.OsExiter, cli.ErrWriter
	cli.OsExiter, cli.ErrWriter = func(c int) { code = c }, &errOut
	defer func() { cli.OsExiter, cli.ErrWriter = savedExit, savedErr }()
	err = app.Run(append([]string{"jetstream"}, args...))
	return out.String(), errOut.String(), code, err
}

func TestScheduleHelp(t *testing.T) {
	out, _, _, err := runSchedule(t, scheduleTestApp(), "schedule", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"jetstream schedule --spec FILE --image IMAGE [--namespace NS]",
		"jetstream schedule run NAME --spec FILE [--grace-period DURATION]",
		"Examples:",
		"jetstream schedule --spec jobs.toml --image us-docker.pkg.dev/P/R/jetstream:TAG > jobs_dag.py",
		"as --bucket when it is gs://BUCKET[/PREFIX]",
		"[$JETSTREAM_SPEC]", "[$JETSTREAM_OUT]", "[$JETSTREAM_IMAGE]", "[$JETSTREAM_NAMESPACE]",
		"[$JETSTREAM_SPEC_IN_IMAGE]", "[$JETSTREAM_BINARY_IN_IMAGE]", "[$JETSTREAM_SERVICE_ACCOUNT]",
		`(default: "default")`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("schedule --help lacks %q:\n%s", want, out)
		}
	}
	// Help of `schedule run`, asked before or after the job name (which is then not run).
	for _, args := range [][]string{{"schedule", "run", "--help"}, {"schedule", "run", "some-job", "--help"}} {
		out, _, _, err := runSchedule(t, scheduleTestApp(), args...)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		for _, want := range []string{
			"jetstream schedule run NAME --spec FILE [--grace-period DURATION]",
			"jetstream schedule run weekly-search-backfill --spec /app/jobs.toml",
			"or 124 when it timed out",
			"[$JETSTREAM_SPEC]", "[$JETSTREAM_GRACE_PERIOD]", "(default: 30s)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%q lacks %q:\n%s", args, want, out)
			}
		}
	}
}

// Every flag of `schedule` and `schedule run` is also read from JETSTREAM_<NAME>.
func TestScheduleFlagsEnvVars(t *testing.T) {
	cmd := scheduleCommand()
	flags := slices.Clone(cmd.Flags)
	for _, sub := range cmd.Subcommands {
		flags = append(flags, sub.Flags...)
	}
	if len(flags) != 9 {
		t.Errorf("%d flags", len(flags))
	}
	for _, f := range flags {
		name := f.Names()[0]
		want := []string{"JETSTREAM_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
		if got := f.(cli.DocGenerationFlag).GetEnvVars(); !reflect.DeepEqual(got, want) {
			t.Errorf("--%s: EnvVars %q, want %q", name, got, want)
		}
	}
}

func TestScheduleRendersGolden(t *testing.T) {
	golden, err := os.ReadFile("../schedule/testdata/jobs_dag.py")
	if err != nil {
		t.Fatal(err)
	}
	// --out: written atomically, creating the folder; nothing on stdout
	out := filepath.Join(t.TempDir(), "dags", "jetstream_custom.py")
	stdout, _, _, err := runSchedule(t, scheduleTestApp(), append([]string{"schedule", "--spec", goldenSpec, "--out", out}, goldenFlags...)...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, golden) {
		t.Errorf("--out %s differs from the golden:\n%s", out, got)
	}
	if stdout != "" {
		t.Errorf("stdout %q with --out", stdout)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("files beside the DAG: %v", entries)
	}
	// without --out: stdout
	stdout, _, _, err = runSchedule(t, scheduleTestApp(), append([]string{"schedule", "--spec", goldenSpec}, goldenFlags...)...)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(golden) {
		t.Errorf("stdout differs from the golden:\n%s", stdout)
	}
	// every flag from the environment instead
	for i := 0; i < len(goldenFlags); i += 2 {
		t.Setenv("JETSTREAM_"+strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(goldenFlags[i], "--"), "-", "_")), goldenFlags[i+1])
	}
	t.Setenv("JETSTREAM_SPEC", goldenSpec)
	stdout, _, _, err = runSchedule(t, scheduleTestApp(), "schedule")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(golden) {
		t.Errorf("with JETSTREAM_* variables, stdout differs from the golden:\n%s", stdout)
	}
}

// The sample spec is valid for the real jetstream commands too, and renders the golden.
func TestScheduleGoldenWithRealCommands(t *testing.T) {
	app := App()
	if app.Command("schedule") == nil {
		app.Commands = append(app.Commands, scheduleCommand())
	}
	golden, err := os.ReadFile("../schedule/testdata/jobs_dag.py")
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, _, err := runSchedule(t, app, append([]string{"schedule", "--spec", goldenSpec}, goldenFlags...)...)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(golden) {
		t.Errorf("stdout differs from the golden:\n%s", stdout)
	}
	subs := jobCommands(app)
	i := slices.IndexFunc(subs, func(s schedule.Subcommand) bool { return s.Name == "run" })
	if i < 0 || !slices.Contains(subs[i].Flags, "experiment-slug") || !slices.Contains(subs[i].Flags, "bucket") || !slices.Contains(subs[i].Flags, "output") {
		t.Errorf("jobCommands: run %+v", subs)
	}
	for _, s := range subs {
		if s.Name == "schedule" || s.Name == "help" {
			t.Errorf("jobCommands lists %q", s.Name)
		}
	}
}

func writeSpec(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.toml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScheduleBadSpec(t *testing.T) {
	spec := writeSpec(t, `[jobs.bad]
command = "jetstream run --experiment-slug x"
schedule = "weekly"
weekday = "funday"
time = "05:30"
timeout = "2h"
owner = "someone@mozilla.com"

[jobs.recursive]
command = "jetstream schedule run bad --spec jobs.toml"
schedule = "daily"
time = "05:30"
timeout = "2h"
owner = "someone@mozilla.com"

[jobs.typo]
command = "jetstream run --experiment-slugs x"
schedule = "daily"
time = "05:30"
timeout = "2h"
owner = "someone@mozilla.com"
`)
	out := filepath.Join(t.TempDir(), "dag.py")
	_, _, code, err := runSchedule(t, scheduleTestApp(), append([]string{"schedule", "--spec", spec, "--out", out}, goldenFlags...)...)
	want := spec + `:4: job "bad": weekday: "funday" is not a weekday: want monday, tuesday, wednesday, thursday, friday, saturday or sunday` + "\n" +
		spec + `:10: job "recursive": command: unknown subcommand "schedule": want one of run, plan` + "\n" +
		spec + `:17: job "typo": command: jetstream run has no flag --experiment-slugs (did you mean "experiment-slug"?)`
	if err == nil || err.Error() != want {
		t.Errorf("error\n got %v\nwant %s", err, want)
	}
	if code != -1 {
		t.Errorf("exit code %d: a bad spec is an error (exit 1 from main)", code)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DAG written for a bad spec: %v", err)
	}
	// `schedule run` checks the spec too, before running anything
	_, _, _, err = runSchedule(t, scheduleTestApp(), "schedule", "run", "bad", "--spec", spec)
	if err == nil || !strings.HasPrefix(err.Error(), spec+`:4: job "bad": weekday: "funday"`) {
		t.Errorf("schedule run: %v", err)
	}
	// usage errors
	good := writeSpec(t, "[jobs.a]\ncommand = \"jetstream plan\"\nschedule = \"daily\"\ntime = \"01:00\"\ntimeout = \"1m\"\nowner = \"o@mozilla.com\"\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"schedule", "--image", "i"}, "schedule: --spec is required: the job spec file"},
		{[]string{"schedule", "--spec", good}, "schedule: --image is required: the container image the DAGs' tasks run jetstream in"},
		{[]string{"schedule", "--spec", good, "--image", "i", "extra"}, `schedule: unexpected argument "extra" (to run a job: jetstream schedule run NAME --spec FILE)`},
		{[]string{"schedule", "--spec", good, "--image", "i:{{ ds }}"}, good + `: render DAG: image "i:{{ ds }}": Airflow would render it as a Jinja template`},
		{[]string{"schedule", "--spec", filepath.Join(t.TempDir(), "missing.toml"), "--image", "i"}, "job spec: open "},
		{[]string{"schedule", "run", "--spec", good}, "schedule run: no job name: jetstream schedule run NAME --spec FILE"},
		{[]string{"schedule", "run", "a"}, "schedule run: --spec is required: the job spec file"},
		{[]string{"schedule", "run", "nope", "--spec", good}, good + `: no job "nope" (jobs: a)`},
		{[]string{"schedule", "run", "a", "extra", "--spec", good}, `schedule run: unexpected argument "extra": one job name, then flags`},
		{[]string{"schedule", "run", "a", "--spec", good, "--grace-period", "0s"}, "schedule run: --grace-period 0s is not positive"},
		{[]string{"schedule", "run", "a", "--spec", good, "--grace-period", "soon"}, `schedule run: invalid value "soon" for flag -grace-period: parse error`},
	} {
		_, _, _, err := runSchedule(t, scheduleTestApp(), c.args...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %s", c.args, err, c.want)
		}
	}
}

// runSpec holds jobs of every fakeRunCommand mode.
const runSpec = `[jobs.printing]
command = "jetstream run --experiment-slug print --experiment-slug 'two words'"
schedule = "daily"
time = "01:00"
timeout = "1m"
output_prefix = "gs://bucket/custom/printing"
owner = "o@mozilla.com"

[jobs.failing]
command = "jetstream run --experiment-slug exit-3"
schedule = "daily"
time = "01:00"
timeout = "1m"
owner = "o@mozilla.com"

[jobs.hanging]
command = "jetstream run --experiment-slug hang"
schedule = "daily"
time = "01:00"
timeout = "1s"
owner = "o@mozilla.com"

[jobs.graceful]
command = "jetstream run --experiment-slug graceful"
schedule = "weekly"
weekday = "monday"
time = "01:00"
timeout = "1s"
owner = "o@mozilla.com"
`

func TestScheduleRunExitCodes(t *testing.T) {
	t.Setenv(scheduleTestCLI, "1") // for the job's process, not this one
	spec := writeSpec(t, runSpec)
	cases := []struct {
		name   string
		args   []string
		code   int    // -1: no exit code asked for
		err    string // the error, or what the exit message starts with
		stdout string
		stderr []string // lines stderr holds
		within time.Duration
	}{
		{name: "success, flags after the name", args: []string{"run", "printing", "--spec", spec}, code: -1,
			stdout: "run [\"print\" \"two words\"] bucket=gs://bucket/custom/printing output=out\n",
			stderr: []string{`jetstream schedule: job "printing": jetstream run --experiment-slug print --experiment-slug 'two words' --bucket gs://bucket/custom/printing (timeout 1m0s)`,
				"run: a line on stderr"}},
		{name: "success, flags before the name", args: []string{"run", "--spec", spec, "printing"}, code: -1,
			stdout: "run [\"print\" \"two words\"] bucket=gs://bucket/custom/printing output=out\n"},
		{name: "success, --spec of schedule", args: []string{"--spec", spec, "run", "printing"}, code: -1,
			stdout: "run [\"print\" \"two words\"] bucket=gs://bucket/custom/printing output=out\n"},
		{name: "the job's exit status", args: []string{"run", "failing", "--spec", spec}, code: 3,
			err:    `jetstream: schedule run: job "failing": jetstream run exited with status 3`,
			stderr: []string{"jetstream: 1 of 2 experiments failed"}},
		{name: "a hanging job is killed", args: []string{"run", "hanging", "--spec", spec, "--grace-period", "300ms"}, code: 124,
			err:    `jetstream: schedule run: job "hanging" timed out after 1s: interrupted, and killed when it had not stopped 300ms later`,
			stdout: "hanging\n", within: time.Second + 300*time.Millisecond + time.Second},
		{name: "a job that stops when interrupted", args: []string{"run", "graceful", "--spec", spec}, code: 124,
			err:    `jetstream: schedule run: job "graceful" timed out after 1s: interrupted, and it stopped within the 30s grace period`,
			stdout: "working\ninterrupted, stopping\n", stderr: []string{"jetstream: interrupted"}, within: 5 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			stdout, stderr, code, err := runSchedule(t, scheduleTestApp(), append([]string{"schedule"}, c.args...)...)
			elapsed := time.Since(start)
			if code != c.code {
				t.Errorf("exit code %d, want %d", code, c.code)
			}
			switch {
			case c.err == "" && err != nil:
				t.Errorf("error %v", err)
			case c.err != "" && (err == nil || err.Error() != c.err):
				t.Errorf("error %v, want %s", err, c.err)
			}
			if c.err != "" && !strings.Contains(stderr, c.err+"\n") {
				t.Errorf("stderr lacks the exit message %q:\n%s", c.err, stderr)
			}
			if stdout != c.stdout {
				t.Errorf("stdout %q, want %q", stdout, c.stdout)
			}
			lines := strings.Split(stderr, "\n")
			for _, want := range c.stderr {
				if !slices.Contains(lines, want) {
					t.Errorf("stderr lacks the line %q:\n%s", want, stderr)
				}
			}
			if c.within > 0 && elapsed > c.within {
				t.Errorf("took %s, want at most %s", elapsed, c.within)
			}
		})
	}
}

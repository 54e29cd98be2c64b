package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/transforms"
)

// Tests of the command line's operations features: help, usage errors and their exit
// status, environment variables, completion, exit codes, the JSON logger and the batches
// of --parallelism. Helpers are prefixed oc (ops CLI).

// ocTrapExit replaces urfave/cli's OsExiter for the test, so that an error that is a
// cli.ExitCoder cannot end the test binary; it records the status asked for (-1: none).
func ocTrapExit(t *testing.T) *int {
	t.Helper()
	old := cli.OsExiter
	code := -1
	cli.OsExiter = func(c int) { code = c }
	t.Cleanup(func() { cli.OsExiter = old })
	return &code
}

// ocRunApp runs a fresh App on args (without the program name), returning its standard
// output, its standard error and its error. Beam's flags are restored after the test
// (the analysing commands set the runner's).
func ocRunApp(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	keepBeamState(t)
	// A run with --runner prism starts Prism's job server and points Beam's --endpoint at
	// it; keepBeamState sets --runner back to the tests' default, for which that endpoint
	// is not Prism's in-process one: restore it too.
	endpoint := flag.Lookup("endpoint").Value.String()
	t.Cleanup(func() {
		if err := flag.Set("endpoint", endpoint); err != nil {
			t.Error(err)
		}
	})
	app := App()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err = app.Run(append([]string{"jetstream"}, args...))
	return out.String(), errOut.String(), err
}

// ocCommandsWant is every command of App(), in order, with the usage line its --help
// prints and whether its help must show an example.
type ocCommandWant struct {
	name, usage string
	example     bool
}

var ocCommandsWant = []ocCommandWant{
	{"run", "jetstream run [command options]", true},
	{"rerun", "jetstream rerun [command options]", true},
	{"backfill", "jetstream backfill [command options]", true},
	{"rerun-config-changed", "jetstream rerun-config-changed [command options]", true},
	{"ensure-enrollments", "jetstream ensure-enrollments [command options]", true},
	{"export-statistics-to-json", "jetstream export-statistics-to-json [command options]", true},
	{"launch", "jetstream launch [command options]", true},
	{"schedule", "jetstream schedule --spec FILE --image IMAGE [--namespace NS]", true},
	{"plan", "jetstream plan [command options]", false},
	{"sample-data", "jetstream sample-data [command options]", false},
	{"statistics", "jetstream statistics [command options]", false},
	{"simulate", "jetstream simulate [command options]", true},
	{"validate-config", "jetstream validate-config [command options] FILE...", false},
	{"show-config", "jetstream show-config [command options] FILE|SLUG", false},
	{"completion", "jetstream completion [command options] bash|zsh", true},
}

// ocAnalysing are the commands that analyse experiments: their help ends with the exit
// statuses.
var ocAnalysing = []string{"run", "rerun", "backfill", "rerun-config-changed", "ensure-enrollments"}

func TestOpsCLIHelp(t *testing.T) {
	var names []string
	for _, c := range App().Commands {
		names = append(names, c.Name)
	}
	for _, c := range ocCommandsWant {
		if !slices.Contains(names, c.name) {
			t.Errorf("App() has no command %s (commands: %v)", c.name, names)
		}
	}
	for _, name := range names {
		// A command added since this test was written: its usage line at least.
		tc := ocCommandWant{name, "jetstream " + name + " ", false}
		if i := slices.IndexFunc(ocCommandsWant, func(c ocCommandWant) bool { return c.name == name }); i >= 0 {
			tc = ocCommandsWant[i]
		}
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := ocRunApp(t, tc.name, "--help")
			if err != nil {
				t.Fatalf("--help: %v", err)
			}
			if !strings.Contains(out, "USAGE:\n   "+tc.usage) {
				t.Errorf("help lacks the usage line %q:\n%s", tc.usage, out)
			}
			if !strings.Contains(out, "NAME:\n   jetstream "+tc.name+" - ") {
				t.Errorf("help lacks its NAME line:\n%s", out)
			}
			hasExample := regexp.MustCompile(`(?m)^\s*Examples?( \([^)]*\))?:$`).MatchString(out)
			if tc.example && !hasExample {
				t.Errorf("help has no Example section:\n%s", out)
			}
			if slices.Contains(ocAnalysing, tc.name) {
				if !hasExample {
					t.Errorf("an analysing command without an example")
				}
				for _, s := range []string{"Exit status: 0 success, 1 failure (nothing published), 2 bad usage",
					"[$JETSTREAM_DATASET_ID]", "[$JETSTREAM_MIN_CLIENTS]", "--publish-only",
					"(listed in suppressions/suppressions_<slug>.json instead)"} {
					if !strings.Contains(out, s) {
						t.Errorf("help lacks %q:\n%s", s, out)
					}
				}
			}
		})
	}
	// The subcommand too.
	out, _, err := ocRunApp(t, "schedule", "run", "--help")
	if err != nil || !strings.Contains(out, "USAGE:\n   jetstream schedule run NAME --spec FILE") || !strings.Contains(out, "Example:") {
		t.Errorf("schedule run --help: %v\n%s", err, out)
	}
}

// ocCommandPaths lists every command and subcommand of cmds as the words that invoke it.
func ocCommandPaths(cmds []*cli.Command, parent []string) [][]string {
	var out [][]string
	for _, c := range cmds {
		path := append(slices.Clone(parent), c.Name)
		out = append(out, path)
		out = append(out, ocCommandPaths(c.Subcommands, path)...)
	}
	return out
}

// ocFind finds the command of a path in app.
func ocFind(t *testing.T, app *cli.App, path []string) *cli.Command {
	t.Helper()
	cmds := app.Commands
	var found *cli.Command
	for _, name := range path {
		found = nil
		for _, c := range cmds {
			if c.Name == name {
				found = c
			}
		}
		if found == nil {
			t.Fatalf("no command %v", path)
		}
		cmds = found.Subcommands
	}
	return found
}

// Every command, every subcommand and the program itself refuse an unknown flag, and the
// program an unknown command, as bad usage: exit status 2.
func TestOpsCLIUnknownFlagIsUsage(t *testing.T) {
	exit := ocTrapExit(t)
	paths := ocCommandPaths(App().Commands, nil)
	if len(paths) < len(ocCommandsWant)+1 || !slices.ContainsFunc(paths, func(p []string) bool { return slices.Equal(p, []string{"schedule", "run"}) }) {
		t.Fatalf("commands %v", paths)
	}
	paths = append(paths, nil) // the program itself
	for _, path := range paths {
		t.Run(strings.Join(append([]string{"jetstream"}, path...), " "), func(t *testing.T) {
			_, _, err := ocRunApp(t, append(slices.Clone(path), "--no-such-flag")...)
			if err == nil || !strings.Contains(err.Error(), "flag provided but not defined: -no-such-flag") {
				t.Fatalf("error %v, want the unknown flag named", err)
			}
			if got := ExitCode(err); got != ExitUsage {
				t.Errorf("exit status %d, want %d (error %v)", got, ExitUsage, err)
			}
		})
	}
	_, _, err := ocRunApp(t, "no-such-command")
	if err == nil || ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), `no command "no-such-command"`) {
		t.Errorf("unknown command: error %v (exit status %d), want a usage error naming it", err, ExitCode(err))
	}
	if *exit != -1 {
		t.Errorf("urfave/cli exited with status %d itself", *exit)
	}
	// Without arguments, the program prints its help.
	out, _, err := ocRunApp(t)
	if err != nil || !strings.Contains(out, "COMMANDS:") || !strings.Contains(out, "Exit status: 0 success") {
		t.Errorf("jetstream without arguments: %v\n%s", err, out)
	}
}

// Bad command lines beyond unknown flags: each is a usage error (2) whose message names
// what is wrong, and nothing is written.
func TestOpsCLIBadUsage(t *testing.T) {
	exit := ocTrapExit(t)
	dir := t.TempDir()
	output := filepath.Join(dir, "out")
	warehouseFlag := "--warehouse=duckdb:" + filepath.Join(dir, "absent", "mozdata.duckdb")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--min-clients", "abc"}, `invalid value "abc" for flag -min-clients`},
		{[]string{"run", "--min-clients", "-1"}, "--min-clients: want a number ≥ 0, got -1"},
		{[]string{"run", "--retries", "-2"}, "--retries: want a number ≥ 0, got -2"},
		{[]string{"run", "--parallelism", "-1"}, "--parallelism: want a number ≥ 0, got -1"},
		{[]string{"run", "--timeout", "-1s"}, "--timeout: want a duration ≥ 0, got -1s"},
		{[]string{"run", "--timeout", "6 hours"}, `invalid value "6 hours" for flag -timeout`},
		{[]string{"run", "--publish-only"}, "--publish-only needs --results-staging"},
		{[]string{"run", "--log-to-bigquery"}, `--log-to-bigquery needs --warehouse bigquery:PROJECT, got "duckdb:`},
		{[]string{"run", "--analysis-periods", "week,fortnight"}, `--analysis-periods: unknown analysis period "fortnight"`},
		{[]string{"run", "--runner", "spark"}, `--runner: want prism or dataflow, got "spark"`},
		{[]string{"run", "--output", ""}, "--output must not be empty"},
		// urfave/cli stops reading flags at the first argument: a stray one is refused
		// rather than analysing with the flags after it ignored.
		{[]string{"run", "2026-09-14", "--date", "2026-09-14"}, `run takes no arguments, got "2026-09-14"`},
		{[]string{"rerun", "my-experiment"}, `rerun takes no arguments, got "my-experiment"`},
		{[]string{"rerun", "--experimenter-url", "http://127.0.0.1:1"}, "rerun: --experiment-slug is required"},
		{[]string{"backfill", "--end-date", "2026-09-30"}, "backfill: required flags not set: --start-date"},
		{[]string{"backfill"}, "backfill: required flags not set: --start-date, --end-date"},
		{[]string{"backfill", "--start-date", "2026-09-01", "--end-date", "2026-09-02", "--experimenter-url", "http://127.0.0.1:1"},
			"backfill: --experiment-slug is required"},
		{[]string{"rerun-config-changed"}, "rerun-config-changed needs the experiments: --experimenter-url or --experiment FILE (without --config)"},
		{[]string{"export-statistics-to-json"}, "export-statistics-to-json: required flags not set: --experiment-slug"},
		{[]string{"export-statistics-to-json", "--experiment-slug", "x", "--bucket", "none"}, "--bucket none: there is nowhere to export to"},
		{[]string{"statistics", "--metric", "active_hours"}, "statistics: required flags not set: --input"},
		{[]string{"launch", "--region", "us-central1"}, "--project-id is required"},
		{[]string{"plan", "--date", "2026-13-01"}, `--date: want a date as YYYY-MM-DD, got "2026-13-01"`},
		{[]string{"plan", "--format", "yaml"}, `--format: want table or json, got "yaml"`},
		{[]string{"sample-data", "--clients", "0", "--out", output}, "--clients must be at least 1, got 0"},
		{[]string{"validate-config"}, "validate-config: no files given"},
		{[]string{"show-config"}, "show-config: want one FILE or SLUG, got 0 arguments"},
		{[]string{"schedule", "run"}, "schedule run: no job name"},
		{[]string{"completion"}, "completion: want bash or zsh, got []"},
		{[]string{"completion", "fish"}, `completion: want bash or zsh, got ["fish"]`},
		{[]string{"completion", "bash", "zsh"}, `completion: want bash or zsh, got ["bash" "zsh"]`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := tc.args
			if slices.Contains(ocAnalysing, args[0]) {
				// where a run would write, were it to start
				args = append([]string{args[0], "--output=" + output, warehouseFlag}, args[1:]...)
			}
			stdout, _, err := ocRunApp(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q\n%s", err, tc.want, stdout)
			}
			if got := ExitCode(err); got != ExitUsage {
				t.Errorf("exit status %d, want %d (error %v)", got, ExitUsage, err)
			}
		})
	}
	if _, err := os.Stat(output); !os.IsNotExist(err) {
		t.Errorf("a bad command line wrote %s (%v)", output, err)
	}
	if *exit != -1 {
		t.Errorf("urfave/cli exited with status %d itself", *exit)
	}
}

// Bad dates name their flag and value, and are usage errors; nothing is written.
func TestOpsCLIBadDates(t *testing.T) {
	dir := t.TempDir()
	output := filepath.Join(dir, "out")
	common := []string{"--output=" + output, "--warehouse=duckdb:" + filepath.Join(dir, "absent", "mozdata.duckdb")}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--date", "2026-13-01"}, `--date: want a date as YYYY-MM-DD, got "2026-13-01"`},
		{[]string{"run", "--from", "X"}, `--from: want a date as YYYY-MM-DD, got "X"`},
		{[]string{"run", "--from", "2026-09-01", "--to", "2026-02-30"}, `--to: want a date as YYYY-MM-DD, got "2026-02-30"`},
		{[]string{"run", "--from", "2026-09-14", "--to", "2026-09-01"}, "--to 2026-09-01 is before --from 2026-09-14"},
		{[]string{"run", "--date", "2026-09-14", "--to", "2026-09-20"}, "--date cannot be combined with --from or --to"},
		{[]string{"ensure-enrollments", "--date", "14/09/2026"}, `--date: want a date as YYYY-MM-DD, got "14/09/2026"`},
		{[]string{"backfill", "--start-date", "2026-9-1", "--end-date", "2026-09-30"}, `--start-date: want a date as YYYY-MM-DD, got "2026-9-1"`},
		{[]string{"backfill", "--start-date", "2026-09-01", "--end-date", "tomorrow"}, `--end-date: want a date as YYYY-MM-DD, got "tomorrow"`},
		{[]string{"backfill", "--start-date", "2026-09-14", "--end-date", "2026-09-01"}, "--end-date 2026-09-01 is before --start-date 2026-09-14"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := ocRunApp(t, append(slices.Clone(tc.args), common...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if got := ExitCode(err); got != ExitUsage {
				t.Errorf("exit status %d, want %d", got, ExitUsage)
			}
		})
	}
	// An end date after yesterday (by the clock of the run): today's data is incomplete.
	before := time.Now().UTC()
	_, _, err := ocRunApp(t, append([]string{"backfill", "--start-date", "2026-09-01", "--end-date", "2999-01-01"}, common...)...)
	after := time.Now().UTC()
	ok := false
	for _, now := range []time.Time{before, after} {
		want := "--end-date 2999-01-01: the last date with complete data is yesterday, " + yesterday(now).Format(time.DateOnly)
		ok = ok || err != nil && err.Error() == want
	}
	if !ok || ExitCode(err) != ExitUsage {
		t.Errorf("end date after yesterday: error %v (exit status %d), want yesterday (%s) named, exit status 2",
			err, ExitCode(err), yesterday(before).Format(time.DateOnly))
	}
	if _, err := os.Stat(output); !os.IsNotExist(err) {
		t.Errorf("a bad date wrote %s (%v)", output, err)
	}
}

// ocEnvName is the environment variable of a flag: JETSTREAM_ and its name, upper case,
// '-' as '_'.
func ocEnvName(flag string) string {
	return "JETSTREAM_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Every flag of every command and subcommand has its variable JETSTREAM_<NAME>, and each
// command reads all its flags from them.
func TestOpsCLIEnvironment(t *testing.T) {
	paths := ocCommandPaths(App().Commands, nil)
	total := 0
	for _, path := range paths {
		cmd := ocFind(t, App(), path)
		for _, f := range cmd.Flags {
			total++
			env := reflect.ValueOf(f).Elem().FieldByName("EnvVars").Interface().([]string)
			if want := ocEnvName(f.Names()[0]); !slices.Contains(env, want) {
				t.Errorf("%v --%s: EnvVars %v, want %s", path, f.Names()[0], env, want)
			}
		}
	}
	if total < 100 {
		t.Errorf("only %d flags: the commands lost theirs?", total)
	}

	// Every flag read from its variable, command by command, by a fresh App (urfave/cli
	// keeps a value read from the environment in the flag).
	for _, path := range paths {
		t.Run(strings.Join(path, " "), func(t *testing.T) {
			app := App()
			app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
			cmd := ocFind(t, app, path)
			if len(cmd.Flags) == 0 {
				return // completion: no flags
			}
			checks := map[string]func(c *cli.Context) (got, want string){}
			for _, f := range cmd.Flags {
				name := f.Names()[0]
				var value string
				var get func(c *cli.Context) string
				want := ""
				switch f.(type) {
				case *cli.StringFlag:
					value, want, get = "env-"+name, "env-"+name, func(c *cli.Context) string { return c.String(name) }
				case *cli.BoolFlag:
					value, want, get = "true", "true", func(c *cli.Context) string { return fmt.Sprint(c.Bool(name)) }
				case *cli.IntFlag:
					value, want, get = "7", "7", func(c *cli.Context) string { return fmt.Sprint(c.Int(name)) }
				case *cli.Uint64Flag:
					value, want, get = "7", "7", func(c *cli.Context) string { return fmt.Sprint(c.Uint64(name)) }
				case *cli.Int64Flag:
					value, want, get = "7", "7", func(c *cli.Context) string { return fmt.Sprint(c.Int64(name)) }
				case *cli.Float64Flag:
					value, want, get = "0.25", "0.25", func(c *cli.Context) string { return fmt.Sprint(c.Float64(name)) }
				case *cli.DurationFlag:
					value, want, get = "90s", "1m30s", func(c *cli.Context) string { return c.Duration(name).String() }
				case *cli.StringSliceFlag:
					value, want, get = "a,b", "a|b", func(c *cli.Context) string { return strings.Join(c.StringSlice(name), "|") }
				case *cli.GenericFlag:
					value, want, get = "A=1,2", "A=1,2", func(c *cli.Context) string { return fmt.Sprint(c.Generic(name)) }
				default:
					t.Fatalf("--%s: flag type %T not covered by this test", name, f)
				}
				t.Setenv(ocEnvName(name), value)
				checks[name] = func(c *cli.Context) (string, string) { return get(c), want }
			}
			ran := false
			cmd.Action = func(c *cli.Context) error {
				ran = true
				for name, check := range checks {
					if got, want := check(c); got != want || !c.IsSet(name) {
						t.Errorf("--%s from %s: %q (set: %v), want %q", name, ocEnvName(name), got, c.IsSet(name), want)
					}
				}
				return nil
			}
			if err := app.Run(append([]string{"jetstream"}, path...)); err != nil {
				t.Fatal(err)
			}
			if !ran {
				t.Fatal("the command did not run")
			}
		})
	}
}

// JETSTREAM_* reach the run's options through runOptionsFrom; a flag on the command line
// wins over its variable; a bad value in a variable is a usage error naming it.
func TestOpsCLIEnvironmentRunOptions(t *testing.T) {
	run := func(t *testing.T, args ...string) (RunOptions, error) {
		t.Helper()
		app := App()
		app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
		var got RunOptions
		ocFind(t, app, []string{"run"}).Action = func(c *cli.Context) error {
			var err error
			got, err = runOptionsFrom(c)
			return err
		}
		err := app.Run(append([]string{"jetstream", "run"}, args...))
		return got, err
	}
	t.Run("dataset", func(t *testing.T) {
		t.Setenv("JETSTREAM_DATASET_ID", "from_env")
		o, err := run(t)
		if err != nil || o.Dataset != "from_env" {
			t.Errorf("JETSTREAM_DATASET_ID: dataset %q (%v), want from_env", o.Dataset, err)
		}
		o, err = run(t, "--dataset-id", "from_flag")
		if err != nil || o.Dataset != "from_flag" {
			t.Errorf("--dataset-id over JETSTREAM_DATASET_ID: dataset %q (%v), want from_flag", o.Dataset, err)
		}
	})
	t.Run("operations", func(t *testing.T) {
		for name, value := range map[string]string{"JETSTREAM_MIN_CLIENTS": "3", "JETSTREAM_TIMEOUT": "2h", "JETSTREAM_RETRIES": "2",
			"JETSTREAM_PARALLELISM": "4", "JETSTREAM_PUBLISH_ONLY": "true", "JETSTREAM_RESULTS_STAGING": "gs://bucket/staging",
			"JETSTREAM_ANALYSIS_PERIODS": "week,overall", "JETSTREAM_DATE": "2026-09-14", "JETSTREAM_STATISTICS_ONLY": "1"} {
			t.Setenv(name, value)
		}
		o, err := run(t)
		if err != nil {
			t.Fatal(err)
		}
		day := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
		if o.MinClients != 3 || o.Timeout != 2*time.Hour || o.Retries != 2 || o.RetryDelay != 30*time.Second || o.Parallelism != 4 ||
			!o.PublishOnly || o.ResultsStaging != "gs://bucket/staging" || !o.StatisticsOnly || !o.From.Equal(day) || !o.To.Equal(day) ||
			!slices.Equal(o.Periods, []configs.Period{configs.Week, configs.Overall}) {
			t.Errorf("options from the environment: %+v", o)
		}
	})
	t.Run("bad value", func(t *testing.T) {
		t.Setenv("JETSTREAM_MIN_CLIENTS", "abc")
		_, _, err := ocRunApp(t, "run")
		if err == nil || !strings.Contains(err.Error(), `could not parse "abc" as int value from environment variable "JETSTREAM_MIN_CLIENTS" for flag min-clients`) ||
			ExitCode(err) != ExitUsage {
			t.Errorf("error %v (exit status %d), want a usage error naming the variable", err, ExitCode(err))
		}
	})
}

func TestOpsCLICompletion(t *testing.T) {
	exit := ocTrapExit(t)
	bash, _, err := ocRunApp(t, "completion", "bash")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"--generate-bash-completion", "complete -o bashdefault -o default -F _jetstream_complete jetstream", "COMPREPLY="} {
		if !strings.Contains(bash, s) {
			t.Errorf("bash script lacks %q:\n%s", s, bash)
		}
	}
	if path, err := exec.LookPath("bash"); err == nil {
		check := exec.Command(path, "-n")
		check.Stdin = strings.NewReader(bash)
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s", err, out)
		}
	}
	zsh, _, err := ocRunApp(t, "completion", "zsh")
	if err != nil || !strings.HasPrefix(zsh, "#compdef jetstream\n") || !strings.Contains(zsh, "--generate-bash-completion") {
		t.Errorf("zsh script (%v):\n%s", err, zsh)
	}
	_, _, err = ocRunApp(t, "completion", "fish")
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), `want bash or zsh, got ["fish"]`) {
		t.Errorf("completion fish: %v (exit status %d), want a usage error", err, ExitCode(err))
	}

	// What the scripts ask the program: the commands, and the flags of a command that
	// start with the word being completed. (urfave/cli reads that word from os.Args.)
	oldArgs := os.Args
	t.Cleanup(func() { os.Args = oldArgs })
	complete := func(args ...string) (string, string, error) {
		os.Args = append([]string{"jetstream"}, args...)
		return ocRunApp(t, args...)
	}
	out, _, err := complete("--generate-bash-completion")
	var want []string
	for _, c := range App().Commands {
		want = append(want, c.Name)
	}
	if got := strings.Fields(out); err != nil || !slices.Equal(got, want) || !slices.Contains(got, "rerun-config-changed") {
		t.Errorf("commands completed: %v (%v), want %v", got, err, want)
	}
	out, _, err = complete("run", "--da", "--generate-bash-completion")
	if got := strings.Fields(out); err != nil || !slices.Equal(got, []string{"--date", "--dataset-id", "--dataset"}) {
		t.Errorf("run --da completed: %v (%v), want --date --dataset-id --dataset", got, err)
	}
	out, _, err = complete("backfill", "--end", "--generate-bash-completion")
	if got := strings.Fields(out); err != nil || !slices.Equal(got, []string{"--end-date"}) {
		t.Errorf("backfill --end completed: %v (%v), want --end-date (a required flag is completed, not demanded)", got, err)
	}
	if *exit != -1 {
		t.Errorf("urfave/cli exited with status %d itself", *exit)
	}
}

func TestOpsCLIExitCode(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"usage", usageError{boom}, 2},
		{"usage wrapped", fmt.Errorf("run: %w", usageError{boom}), 2},
		{"partial", partialError{boom}, 3},
		{"partial wrapped", fmt.Errorf("jetstream: %w", partialError{boom}), 3},
		{"partial joined", errors.Join(errors.New("other"), partialError{boom}), 3},
		{"partial wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", partialError{boom})), 3},
		{"plain", boom, 1},
		{"deadline", fmt.Errorf("the run timed out: %w", context.DeadlineExceeded), 1},
	}
	for _, tc := range cases {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%s: ExitCode(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
	if ExitSuccess != 0 || ExitFailure != 1 || ExitUsage != 2 || ExitPartial != 3 {
		t.Errorf("exit statuses %d %d %d %d, want 0 1 2 3", ExitSuccess, ExitFailure, ExitUsage, ExitPartial)
	}
	// The wrapped error's text is the error's own.
	if got := (partialError{boom}).Error(); got != "boom" || !errors.Is(partialError{boom}, boom) || !errors.Is(usageError{boom}, boom) {
		t.Errorf("partialError text %q / unwrapping", got)
	}
}

// ocLogLines decodes the JSON log lines of a buffer, each a JSON object.
func ocLogLines(t *testing.T, data string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %d is not one JSON object: %v\n%s", i+1, err, line)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestOpsCLILogger(t *testing.T) {
	var buf bytes.Buffer
	if isTerminal(&buf) {
		t.Error("isTerminal(a buffer) = true")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("isTerminal(a regular file) = true")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Error("isTerminal(/dev/null) = true: a character device, but not a terminal")
	}
	log := newLogger(&buf)
	before := time.Now()
	log.Debug("not shown")
	log.Info("planned", "experiments", 2, "warehouse", "duckdb:x")
	log.Warn("pipeline failed; retrying", "attempt", 1, "in", "30s")
	log.Error("pipeline failed", "batch", "1/2")
	log.WithGroup("g").Info("grouped", "level", "kept", "msg", "kept too")
	lines := ocLogLines(t, buf.String())
	if strings.Count(buf.String(), "\n") != 4 || len(lines) != 4 {
		t.Fatalf("%d lines, want 4 (DEBUG is not shown):\n%s", len(lines), buf.String())
	}
	want := []map[string]any{
		{"severity": "INFO", "message": "planned", "experiments": 2.0, "warehouse": "duckdb:x"},
		{"severity": "WARNING", "message": "pipeline failed; retrying", "attempt": 1.0, "in": "30s"},
		{"severity": "ERROR", "message": "pipeline failed", "batch": "1/2"},
		{"severity": "INFO", "message": "grouped", "g": map[string]any{"level": "kept", "msg": "kept too"}},
	}
	for i, line := range lines {
		stamp, _ := line["time"].(string)
		at, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil || at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
			t.Errorf("line %d: time %q (%v), want now", i+1, stamp, err)
		}
		delete(line, "time")
		if !reflect.DeepEqual(line, want[i]) {
			t.Errorf("line %d: %v, want %v (and a time)", i+1, line, want[i])
		}
	}
	// At a terminal: text without the time (dropTime), levels as slog names them.
	if a := dropTime(nil, slog.Time(slog.TimeKey, time.Now())); !a.Equal(slog.Attr{}) {
		t.Errorf("dropTime kept %v", a)
	}
	if a := dropTime([]string{"g"}, slog.String(slog.TimeKey, "x")); a.Value.String() != "x" {
		t.Errorf("dropTime dropped a grouped time attribute")
	}
	discardLogger.Error("nothing") // must not panic
	if (RunOptions{}).logger() != discardLogger {
		t.Error("a run without Log does not discard")
	}
}

// ocPlan is a plan of experiments e1… with queries named after their experiment.
func ocPlan(experiments int, queries map[string]int) *pipeline.Plan {
	plan := &pipeline.Plan{
		Skipped: []pipeline.Skip{{Slug: "skipped-one", Reason: "EndedException"}},
		Failed:  []pipeline.Failure{{Slug: "failed-one", Reason: pipeline.ReasonConfig, Message: "no config"}},
		Config:  transforms.Config{Seed: 42},
	}
	for i := 1; i <= experiments; i++ {
		slug := fmt.Sprintf("e%d", i)
		plan.Experiments = append(plan.Experiments, pipeline.ExperimentPlan{Analysis: &configs.Analysis{Slug: slug}, TableSlug: slug})
		for q := 1; q <= queries[slug]; q++ {
			plan.Queries = append(plan.Queries, transforms.Query{Experiment: slug, Table: fmt.Sprintf("%s_q%d", slug, q)})
		}
	}
	// A query whose experiment is not planned belongs to no batch.
	plan.Queries = append(plan.Queries, transforms.Query{Experiment: "stray", Table: "stray_q1"})
	return plan
}

func TestOpsCLISplitPlan(t *testing.T) {
	plan := ocPlan(5, map[string]int{"e1": 2, "e2": 1, "e3": 3, "e4": 1, "e5": 2})
	batches := splitPlan(plan, 2)
	type batch struct {
		experiments, queries []string
		skipped, failed      int
	}
	want := []batch{
		{[]string{"e1", "e2"}, []string{"e1_q1", "e1_q2", "e2_q1"}, 1, 1},
		{[]string{"e3", "e4"}, []string{"e3_q1", "e3_q2", "e3_q3", "e4_q1"}, 0, 0},
		{[]string{"e5"}, []string{"e5_q1", "e5_q2"}, 0, 0},
	}
	if len(batches) != len(want) {
		t.Fatalf("%d batches, want 3", len(batches))
	}
	for i, b := range batches {
		var got batch
		for _, ep := range b.Experiments {
			got.experiments = append(got.experiments, ep.Analysis.Slug)
		}
		for _, q := range b.Queries {
			got.queries = append(got.queries, q.Table)
		}
		got.skipped, got.failed = len(b.Skipped), len(b.Failed)
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("batch %d: %+v, want %+v", i+1, got, want[i])
		}
		if b.Config.Seed != 42 {
			t.Errorf("batch %d: config %+v, want the plan's", i+1, b.Config)
		}
		if b == plan {
			t.Errorf("batch %d is the plan itself", i+1)
		}
	}
	if batches[0].Skipped[0].Slug != "skipped-one" || batches[0].Failed[0].Slug != "failed-one" {
		t.Errorf("first batch: skipped %v, failed %v", batches[0].Skipped, batches[0].Failed)
	}
	// The plan is untouched.
	if len(plan.Experiments) != 5 || len(plan.Queries) != 10 {
		t.Errorf("the plan changed: %d experiments, %d queries", len(plan.Experiments), len(plan.Queries))
	}
	for _, n := range []int{0, -1, 5, 6} {
		if got := splitPlan(plan, n); len(got) != 1 || got[0] != plan {
			t.Errorf("splitPlan(plan, %d) = %d plans, want the plan itself", n, len(got))
		}
	}
	if got := splitPlan(plan, 1); len(got) != 5 || got[4].Experiments[0].Analysis.Slug != "e5" || len(got[4].Queries) != 2 {
		t.Errorf("splitPlan(plan, 1): %d plans", len(got))
	}
}

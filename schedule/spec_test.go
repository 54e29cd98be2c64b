package schedule

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testCommands are jetstream's subcommands as the launcher lists them (flags abridged).
var testCommands = []Subcommand{
	{Name: "run", Flags: []string{"experiment", "experiment-slug", "config", "warehouse", "date", "from", "to", "period", "output", "bucket", "seed", "sql-output-dir"}},
	{Name: "plan", Flags: []string{"date", "from", "to", "experiment-slug", "experiments-file", "format", "now"}},
	{Name: "sample-data", Flags: []string{"clients", "seed", "out", "overwrite"}},
	{Name: "validate-config", Flags: nil}, // nil: flags not checked
}

func TestParseSample(t *testing.T) {
	spec, err := Load("testdata/jobs.toml", testCommands)
	if err != nil {
		t.Fatal(err)
	}
	want := []Job{
		{
			Name:        "daily-sidebar-plan",
			Description: "What the daily run analyses of the sidebar experiment.",
			Command:     "jetstream plan --experiment-slug sidebar-redesign --format json",
			Args:        []string{"plan", "--experiment-slug", "sidebar-redesign", "--format", "json"},
			Schedule:    Daily,
			Hour:        0, Minute: 15,
			Timeout: 10 * time.Minute,
			Owner:   "analyst@mozilla.com",
		},
		{
			Name:       "monthly-overall",
			Command:    `jetstream run --experiment-slug holdback-2026 --period overall --sql-output-dir "/tmp/sql out"`,
			Args:       []string{"run", "--experiment-slug", "holdback-2026", "--period", "overall", "--sql-output-dir", "/tmp/sql out"},
			Schedule:   Monthly,
			DayOfMonth: 28,
			Hour:       23, Minute: 59,
			Timeout:      90 * time.Minute,
			OutputPrefix: "/data/custom/monthly-overall",
			Owner:        "holdbacks@mozilla.com",
		},
		{
			Name:        "weekly-search-backfill",
			Description: `Re-analyses the "search" experiment's January weeks every Monday, for the search team's dashboard.`,
			Command:     "jetstream run --experiment-slug search-engine-defaults --from 2026-01-01 --to 2026-01-31 --period week --warehouse bigquery:moz-fx-data-experiments",
			Args: []string{"run", "--experiment-slug", "search-engine-defaults", "--from", "2026-01-01", "--to", "2026-01-31",
				"--period", "week", "--warehouse", "bigquery:moz-fx-data-experiments"},
			Schedule: Weekly,
			Weekday:  time.Monday,
			Hour:     5, Minute: 30,
			Timeout:      2 * time.Hour,
			OutputPrefix: "gs://mozanalysis-custom/weekly-search-backfill",
			Owner:        "someone@mozilla.com",
		},
	}
	if spec.File != "testdata/jobs.toml" {
		t.Errorf("File = %q", spec.File)
	}
	if !reflect.DeepEqual(spec.Jobs, want) {
		t.Errorf("jobs:\n got %+v\nwant %+v", spec.Jobs, want)
	}
	j, err := spec.Job("monthly-overall")
	if err != nil || j.DayOfMonth != 28 {
		t.Errorf("Job(monthly-overall) = %+v, %v", j, err)
	}
	if _, err := spec.Job("weekly-search"); err == nil || err.Error() != `testdata/jobs.toml: no job "weekly-search" (jobs: daily-sidebar-plan, monthly-overall, weekly-search-backfill)` {
		t.Errorf("Job(weekly-search): %v", err)
	}
}

// jobDoc is a spec of one valid weekly job "a-job", its keys one per line from line 2 in
// the order of baseKeys, with changes: key=value replaces (or adds at the end) a key,
// key= without value removes it.
func jobDoc(changes ...string) string {
	keys := []string{"command", "schedule", "weekday", "time", "timeout", "owner"}
	values := map[string]string{
		"command": `"jetstream run --experiment-slug my-experiment"`, "schedule": `"weekly"`, "weekday": `"monday"`,
		"time": `"05:30"`, "timeout": `"2h"`, "owner": `"someone@mozilla.com"`,
	}
	for _, c := range changes {
		k, v, _ := strings.Cut(c, "=")
		if _, ok := values[k]; !ok {
			keys = append(keys, k)
		}
		values[k] = v
	}
	var b strings.Builder
	b.WriteString("[jobs.a-job]\n")
	for _, k := range keys {
		if values[k] != "" {
			b.WriteString(k + " = " + values[k] + "\n")
		}
	}
	return b.String()
}

func TestParseValid(t *testing.T) {
	spec, err := Parse("jobs.toml", []byte(jobDoc()), testCommands)
	if err != nil {
		t.Fatal(err)
	}
	want := Job{Name: "a-job", Command: "jetstream run --experiment-slug my-experiment",
		Args: []string{"run", "--experiment-slug", "my-experiment"}, Schedule: Weekly, Weekday: time.Monday,
		Hour: 5, Minute: 30, Timeout: 2 * time.Hour, Owner: "someone@mozilla.com"}
	if len(spec.Jobs) != 1 || !reflect.DeepEqual(spec.Jobs[0], want) {
		t.Errorf("got %+v\nwant %+v", spec.Jobs, want)
	}
	// Weekdays in any case; flags in every spelling the CLI accepts; --help; a value that
	// looks like a negative number; words after -- are not flags.
	spec, err = Parse("jobs.toml", []byte(jobDoc(`weekday="Sunday"`,
		`command="jetstream run -experiment-slug=x --seed -1 -h --date=2026-01-02 -- --not-a-flag"`)), testCommands)
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := []string{"run", "-experiment-slug=x", "--seed", "-1", "-h", "--date=2026-01-02", "--", "--not-a-flag"}
	if j := spec.Jobs[0]; j.Weekday != time.Sunday || !reflect.DeepEqual(j.Args, wantArgs) {
		t.Errorf("got %+v", j)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want string // the whole error
	}{
		{"unknown key", jobDoc(`tiemout="1h"`),
			`jobs.toml:8: job "a-job": tiemout: unknown key (did you mean "timeout"?) (a job has description, command, schedule, weekday, day_of_month, time, timeout, output_prefix, owner)`},
		{"unknown top-level key", "title = \"x\"\n" + jobDoc(),
			`jobs.toml:1: title: unknown key: a spec holds only [jobs.NAME] tables`},
		{"unknown table in a job", jobDoc() + "[jobs.a-job.env]\nX = \"1\"\n",
			`jobs.toml:8: job "a-job": env: unknown key (a job has description, command, schedule, weekday, day_of_month, time, timeout, output_prefix, owner)`},
		{"wrong type", jobDoc(`timeout=7200`),
			`jobs.toml:6: job "a-job": timeout: got a TOML integer, want a string holding a Go duration, such as "2h" or "90m"`},
		{"TOML time instead of a string", jobDoc(`time=05:30:00`),
			`jobs.toml:5: job "a-job": time: got a TOML local time, want a string "HH:MM" (UTC), such as "05:30"`},
		{"job is not a table", "[jobs]\na-job = 1\n",
			`jobs.toml:2: job "a-job": got a TOML integer, want a table [jobs.a-job]`},
		{"jobs is not a table", "jobs = 1\n",
			`jobs.toml:1: jobs: got a TOML integer, want tables [jobs.NAME]`},
		{"syntax error", jobDoc(`owner="someone`),
			`jobs.toml:7: basic strings cannot have new lines`},
		{"no jobs", "# nothing yet\n", `jobs.toml: no jobs: want one [jobs.NAME] table per job`},
		{"bad job name", strings.Replace(jobDoc(), "[jobs.a-job]", "[jobs.A_Job]", 1),
			`jobs.toml:1: job "A_Job": invalid job name: want lower-case letters, digits and '-' only ([a-z0-9-]+)`},
		{"missing command", jobDoc(`command=`),
			`jobs.toml:1: job "a-job": command: missing, want a string, a jetstream command line such as "jetstream run --experiment-slug my-experiment"`},
		{"empty command", jobDoc(`command="  "`),
			`jobs.toml:2: job "a-job": command: empty: want a jetstream command line, such as "jetstream run --experiment-slug my-experiment"`},
		{"not jetstream", jobDoc(`command="bq query 'select 1'"`),
			`jobs.toml:2: job "a-job": command: "bq": must start with "jetstream" (a job runs a jetstream command)`},
		{"no subcommand", jobDoc(`command="jetstream"`),
			`jobs.toml:2: job "a-job": command: names no subcommand: want one of run, plan, sample-data, validate-config`},
		{"flag before subcommand", jobDoc(`command="jetstream --help run"`),
			`jobs.toml:2: job "a-job": command: "--help" before the subcommand: write the subcommand first, then its flags (one of run, plan, sample-data, validate-config)`},
		{"unknown subcommand", jobDoc(`command="jetstream backfil --from 2026-01-01"`),
			`jobs.toml:2: job "a-job": command: unknown subcommand "backfil": want one of run, plan, sample-data, validate-config`},
		{"misspelt subcommand", jobDoc(`command="jetstream pan"`),
			`jobs.toml:2: job "a-job": command: unknown subcommand "pan" (did you mean "plan"?): want one of run, plan, sample-data, validate-config`},
		{"unknown flag", jobDoc(`command="jetstream run --experiement-slug x"`),
			`jobs.toml:2: job "a-job": command: jetstream run has no flag --experiement-slug (did you mean "experiment-slug"?)`},
		{"unbalanced quote", jobDoc(`command="jetstream run --experiment-slug 'x"`),
			`jobs.toml:2: job "a-job": command: unterminated ' quote starting at character 33`},
		{"shell operator", jobDoc(`command="jetstream run > out.log"`),
			`jobs.toml:2: job "a-job": command: shell operator '>' at character 15: no shell runs the command (quote it to pass it as text)`},
		{"missing schedule", jobDoc(`schedule=`, `weekday=`),
			`jobs.toml:1: job "a-job": schedule: missing, want a string: "daily", "weekly" or "monthly"`},
		{"bad schedule", jobDoc(`schedule="hourly"`, `weekday=`),
			`jobs.toml:3: job "a-job": schedule: "hourly" is not a schedule: want daily, weekly or monthly`},
		{"weekly without weekday", jobDoc(`weekday=`),
			`jobs.toml:1: job "a-job": weekday: missing: a weekly job needs the day it runs, such as "monday"`},
		{"bad weekday", jobDoc(`weekday="mon"`),
			`jobs.toml:4: job "a-job": weekday: "mon" is not a weekday: want monday, tuesday, wednesday, thursday, friday, saturday or sunday`},
		{"weekday on a daily job", jobDoc(`schedule="daily"`),
			`jobs.toml:4: job "a-job": weekday: only for weekly jobs (this one is daily)`},
		{"day_of_month on a weekly job", jobDoc(`day_of_month=1`),
			`jobs.toml:8: job "a-job": day_of_month: only for monthly jobs (this one is weekly)`},
		{"monthly without day_of_month", jobDoc(`schedule="monthly"`, `weekday=`),
			`jobs.toml:1: job "a-job": day_of_month: missing: a monthly job needs the day of the month it runs, 1 to 28`},
		{"day_of_month 29", jobDoc(`schedule="monthly"`, `weekday=`, `day_of_month=29`),
			`jobs.toml:7: job "a-job": day_of_month: 29 is out of range: want 1 to 28 (a day every month has)`},
		{"day_of_month 0", jobDoc(`schedule="monthly"`, `weekday=`, `day_of_month=0`),
			`jobs.toml:7: job "a-job": day_of_month: 0 is out of range: want 1 to 28 (a day every month has)`},
		{"missing time", jobDoc(`time=`),
			`jobs.toml:1: job "a-job": time: missing, want a string "HH:MM" (UTC), such as "05:30"`},
		{"hour 24", jobDoc(`time="24:00"`),
			`jobs.toml:5: job "a-job": time: "24:00" is not a time of day: want HH:MM in UTC, 00:00 to 23:59`},
		{"minute 60", jobDoc(`time="05:60"`),
			`jobs.toml:5: job "a-job": time: "05:60" is not a time of day: want HH:MM in UTC, 00:00 to 23:59`},
		{"one-digit hour", jobDoc(`time="5:30"`),
			`jobs.toml:5: job "a-job": time: "5:30" is not a time of day: want HH:MM in UTC, 00:00 to 23:59`},
		{"missing timeout", jobDoc(`timeout=`),
			`jobs.toml:1: job "a-job": timeout: missing, want a string holding a Go duration, such as "2h" or "90m"`},
		{"bad timeout", jobDoc(`timeout="2 hours"`),
			`jobs.toml:6: job "a-job": timeout: "2 hours" is not a Go duration: want e.g. "2h", "90m" or "1h30m"`},
		{"zero timeout", jobDoc(`timeout="0s"`),
			`jobs.toml:6: job "a-job": timeout: "0s" is not positive: a job needs time to run`},
		{"negative timeout", jobDoc(`timeout="-1h"`),
			`jobs.toml:6: job "a-job": timeout: "-1h" is not positive: a job needs time to run`},
		{"missing owner", jobDoc(`owner=`),
			`jobs.toml:1: job "a-job": owner: missing, want a string, an email address`},
		{"owner not an email", jobDoc(`owner="search team"`),
			`jobs.toml:7: job "a-job": owner: "search team" is not an email address: want the address alone, such as "someone@mozilla.com"`},
		{"owner with a name", jobDoc(`owner="Some One <someone@mozilla.com>"`),
			`jobs.toml:7: job "a-job": owner: "Some One <someone@mozilla.com>" is not an email address: want the address alone, such as "someone@mozilla.com"`},
		{"empty output prefix", jobDoc(`output_prefix=""`),
			`jobs.toml:8: job "a-job": output_prefix: empty: leave the key out to pass no output prefix`},
		{"bad gs prefix", jobDoc(`output_prefix="gs://"`),
			`jobs.toml:8: job "a-job": output_prefix: "gs://" is not a GCS prefix: want gs://BUCKET[/PREFIX]`},
		{"other scheme", jobDoc(`output_prefix="s3://bucket/x"`),
			`jobs.toml:8: job "a-job": output_prefix: "s3://bucket/x": only gs://BUCKET[/PREFIX] or a folder are supported`},
		{"output prefix and --bucket", jobDoc(`output_prefix="gs://b-1/x"`, `command="jetstream run --bucket gs://b-2"`),
			`jobs.toml:8: job "a-job": output_prefix: is passed as --bucket, and the command sets --bucket itself: keep one of them`},
		{"output prefix and --output=", jobDoc(`output_prefix="out/x"`, `command="jetstream run --output=elsewhere"`),
			`jobs.toml:8: job "a-job": output_prefix: is passed as --output, and the command sets --output itself: keep one of them`},
		{"output prefix for a command without --bucket", jobDoc(`output_prefix="gs://b-1/x"`, `command="jetstream plan --date 2026-01-01"`),
			`jobs.toml:8: job "a-job": output_prefix: is passed as --bucket, and jetstream plan has no such flag: leave output_prefix out, or run a command that writes to --bucket (gs://) or --output (a folder)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec, err := Parse("jobs.toml", []byte(c.doc), testCommands)
			if err == nil {
				t.Fatalf("no error; jobs %+v", spec.Jobs)
			}
			if err.Error() != c.want {
				t.Errorf("error\n got %s\nwant %s\ndoc:\n%s", err, c.want, c.doc)
			}
		})
	}
}

// A spec with several bad jobs reports every problem, each an *Error naming its job and
// key, jobs in name order; the good jobs do not hide them.
func TestParseReportsEveryProblem(t *testing.T) {
	doc := `[jobs.zz]
command = "jetstream run"
schedule = "daily"
time = "25:00"
timeout = "1h"
owner = "z@mozilla.com"

[jobs.good]
command = "jetstream run"
schedule = "daily"
time = "01:00"
timeout = "1h"
owner = "g@mozilla.com"

[jobs.aa]
command = "python run.py"
schedule = "weekly"
weekday = "someday"
time = "01:00"
timeout = "0s"
owner = "a@mozilla.com"
`
	_, err := Parse("many.toml", []byte(doc), testCommands)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`many.toml:16: job "aa": command: "python": must start with "jetstream" (a job runs a jetstream command)`,
		`many.toml:18: job "aa": weekday: "someday" is not a weekday: want monday, tuesday, wednesday, thursday, friday, saturday or sunday`,
		`many.toml:20: job "aa": timeout: "0s" is not positive: a job needs time to run`,
		`many.toml:4: job "zz": time: "25:00" is not a time of day: want HH:MM in UTC, 00:00 to 23:59`,
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.File != "many.toml" || e.Line != 16 || e.Job != "aa" || e.Key != "command" {
		t.Errorf("first *Error = %+v", e)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such.toml", testCommands)
	if err == nil || !strings.HasPrefix(err.Error(), "job spec: open testdata/no-such.toml: ") {
		t.Errorf("error %v", err)
	}
}

func TestCron(t *testing.T) {
	cases := []struct {
		job  Job
		want string
	}{
		{Job{Schedule: Daily, Hour: 0, Minute: 15}, "15 0 * * *"},
		{Job{Schedule: Daily, Hour: 23, Minute: 59}, "59 23 * * *"},
		{Job{Schedule: Weekly, Weekday: time.Monday, Hour: 5, Minute: 30}, "30 5 * * 1"},
		{Job{Schedule: Weekly, Weekday: time.Sunday, Hour: 12, Minute: 0}, "0 12 * * 0"},
		{Job{Schedule: Weekly, Weekday: time.Saturday, Hour: 6, Minute: 5}, "5 6 * * 6"},
		{Job{Schedule: Monthly, DayOfMonth: 1, Hour: 5, Minute: 30}, "30 5 1 * *"},
		{Job{Schedule: Monthly, DayOfMonth: 28, Hour: 23, Minute: 59}, "59 23 28 * *"},
	}
	for _, c := range cases {
		if got := c.job.Cron(); got != c.want {
			t.Errorf("%+v: Cron() = %q, want %q", c.job, got, c.want)
		}
	}
	// From a spec: every key reaches the expression.
	for _, c := range []struct{ doc, want string }{
		{jobDoc(`schedule="daily"`, `weekday=`, `time="07:05"`), "5 7 * * *"},
		{jobDoc(`weekday="friday"`, `time="18:45"`), "45 18 * * 5"},
		{jobDoc(`schedule="monthly"`, `weekday=`, `day_of_month=15`, `time="00:00"`), "0 0 15 * *"},
	} {
		spec, err := Parse("jobs.toml", []byte(c.doc), testCommands)
		if err != nil {
			t.Fatal(err)
		}
		if got := spec.Jobs[0].Cron(); got != c.want {
			t.Errorf("Cron() = %q, want %q\n%s", got, c.want, c.doc)
		}
	}
}

func TestRunArgs(t *testing.T) {
	// Spare capacity: an append to the job's Args would write into it.
	args := append(make([]string, 0, 8), "run", "--experiment-slug", "x")
	cases := []struct {
		prefix string
		flag   string
		want   []string
	}{
		{"", "", []string{"run", "--experiment-slug", "x"}},
		{"gs://bucket/custom/job", "bucket", []string{"run", "--experiment-slug", "x", "--bucket", "gs://bucket/custom/job"}},
		{"/data/custom/job", "output", []string{"run", "--experiment-slug", "x", "--output", "/data/custom/job"}},
		{"out/job", "output", []string{"run", "--experiment-slug", "x", "--output", "out/job"}},
	}
	for _, c := range cases {
		j := Job{Args: args, OutputPrefix: c.prefix}
		if got := j.OutputFlag(); got != c.flag {
			t.Errorf("%q: OutputFlag() = %q, want %q", c.prefix, got, c.flag)
		}
		if got := j.RunArgs(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: RunArgs() = %q, want %q", c.prefix, got, c.want)
		}
	}
	if spare := args[3:5]; spare[0] != "" || spare[1] != "" {
		t.Errorf("RunArgs wrote into the job's Args: %q", args[:5])
	}
}

func TestDAGID(t *testing.T) {
	for name, want := range map[string]string{
		"weekly-search-backfill": "jetstream_custom_weekly_search_backfill",
		"x":                      "jetstream_custom_x",
		"2026-q1":                "jetstream_custom_2026_q1",
	} {
		if got := (Job{Name: name}).DAGID(); got != want {
			t.Errorf("%s: DAGID() = %q, want %q", name, got, want)
		}
	}
}

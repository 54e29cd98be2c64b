package schedule

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Kind is how often a job runs.
type Kind string

// The schedules a job can have.
const (
	Daily   Kind = "daily"   // every day at Time
	Weekly  Kind = "weekly"  // every Weekday at Time
	Monthly Kind = "monthly" // every month on DayOfMonth at Time
)

// Job is one validated job of a spec.
type Job struct {
	Name        string // [a-z0-9-]+, the key of its [jobs.NAME] table
	Description string
	// Command is the command line as written in the spec, starting with "jetstream".
	Command string
	// Args is Command split into words, without the leading "jetstream": Args[0] is the
	// subcommand. RunArgs adds the output prefix.
	Args         []string
	Schedule     Kind
	Weekday      time.Weekday // Weekly jobs
	DayOfMonth   int          // Monthly jobs: 1–28, a day every month has
	Hour, Minute int          // UTC
	Timeout      time.Duration
	// OutputPrefix is where the job's outputs go: gs://BUCKET[/PREFIX], passed as --bucket,
	// or a folder, passed as --output; "" passes nothing.
	OutputPrefix string
	Owner        string // an email address, who is told when the job fails
}

// Subcommand returns the jetstream subcommand the job runs.
func (j Job) Subcommand() string { return j.Args[0] }

// OutputFlag returns the flag (without dashes) the job's OutputPrefix is passed as:
// "bucket" for a gs:// prefix (where `jetstream run` publishes its JSON documents), "output"
// for a folder (where it writes everything), "" without an output prefix.
func (j Job) OutputFlag() string { return outputFlag(j.OutputPrefix) }

func outputFlag(prefix string) string {
	switch {
	case prefix == "":
		return ""
	case strings.HasPrefix(prefix, "gs://"):
		return "bucket"
	default:
		return "output"
	}
}

// RunArgs returns the arguments the job's jetstream binary runs with: Args, then the output
// prefix as --bucket or --output.
func (j Job) RunArgs() []string {
	args := slices.Clone(j.Args)
	if f := j.OutputFlag(); f != "" {
		args = append(args, "--"+f, j.OutputPrefix)
	}
	return args
}

// Cron returns the job's schedule as a cron expression (minute hour day-of-month month
// day-of-week, UTC), e.g. "30 5 * * 1" for Mondays at 05:30.
func (j Job) Cron() string {
	switch j.Schedule {
	case Weekly:
		return fmt.Sprintf("%d %d * * %d", j.Minute, j.Hour, int(j.Weekday))
	case Monthly:
		return fmt.Sprintf("%d %d %d * *", j.Minute, j.Hour, j.DayOfMonth)
	default:
		return fmt.Sprintf("%d %d * * *", j.Minute, j.Hour)
	}
}

// DAGID returns the id of the job's Airflow DAG: jetstream_custom_<name, '-' → '_'>.
func (j Job) DAGID() string { return "jetstream_custom_" + strings.ReplaceAll(j.Name, "-", "_") }

// Spec is a parsed job spec file.
type Spec struct {
	File string // the name errors use
	Jobs []Job  // sorted by name
}

// Job returns the job called name.
func (s *Spec) Job(name string) (Job, error) {
	for _, j := range s.Jobs {
		if j.Name == name {
			return j, nil
		}
	}
	names := make([]string, len(s.Jobs))
	for i, j := range s.Jobs {
		names[i] = j.Name
	}
	return Job{}, fmt.Errorf("%s: no job %q (jobs: %s)", s.File, name, strings.Join(names, ", "))
}

// Subcommand is a jetstream subcommand jobs may run: its name (or an alias) and the names of
// its flags, every alias, without dashes. A nil Flags accepts any flag.
type Subcommand struct {
	Name  string
	Flags []string
}

// Error is a problem with a spec: the file, the line when known, the job and the key.
type Error struct {
	File string
	Line int    // 0: unknown
	Job  string // "" for the file as a whole
	Key  string // "" for the job as a whole
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Job != "" {
		fmt.Fprintf(&b, "job %q: ", e.Job)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads and validates the spec file at path; see Parse.
func Load(path string, commands []Subcommand) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("job spec: %w", err)
	}
	return Parse(path, data, commands)
}

// rawJob is a [jobs.NAME] table as written; pointers tell a missing key from a zero value.
type rawJob struct {
	Description  *string `toml:"description"`
	Command      *string `toml:"command"`
	Schedule     *string `toml:"schedule"`
	Weekday      *string `toml:"weekday"`
	DayOfMonth   *int64  `toml:"day_of_month"`
	Time         *string `toml:"time"`
	Timeout      *string `toml:"timeout"`
	OutputPrefix *string `toml:"output_prefix"`
	Owner        *string `toml:"owner"`
}

type rawSpec struct {
	Jobs map[string]rawJob `toml:"jobs"`
}

// jobKeys are the keys of a job table, in the order they are checked, and what each wants.
var jobKeys = []struct{ name, want string }{
	{"description", "a string"},
	{"command", `a string, a jetstream command line such as "jetstream run --experiment-slug my-experiment"`},
	{"schedule", `a string: "daily", "weekly" or "monthly"`},
	{"weekday", `a string such as "monday"`},
	{"day_of_month", "an integer from 1 to 28"},
	{"time", `a string "HH:MM" (UTC), such as "05:30"`},
	{"timeout", `a string holding a Go duration, such as "2h" or "90m"`},
	{"output_prefix", `a string: gs://BUCKET[/PREFIX] or a folder`},
	{"owner", "a string, an email address"},
}

var (
	jobName     = regexp.MustCompile(`^[a-z0-9-]+$`)
	clockTime   = regexp.MustCompile(`^([0-9]{2}):([0-9]{2})$`)
	mismatch    = regexp.MustCompile(`^cannot decode TOML (.+?) into `)
	gcsPrefix   = regexp.MustCompile(`^gs://[a-z0-9][-_.a-z0-9]*[a-z0-9](/.*)?$`)
	hasScheme   = regexp.MustCompile(`^[a-zA-Z][-+.a-zA-Z0-9]*://`)
	weekdayByID = map[string]time.Weekday{}
)

func init() {
	for d := time.Sunday; d <= time.Saturday; d++ {
		weekdayByID[strings.ToLower(d.String())] = d
	}
}

// Parse reads a job spec (TOML) and validates every job: file is the name errors use, and
// commands are the subcommands a job may run. Unknown keys are errors. The error lists
// every problem found, one per line, each an *Error naming the file, the line when known,
// the job and the key.
func Parse(file string, data []byte, commands []Subcommand) (*Spec, error) {
	var raw rawSpec
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, decodeError(file, err)
	}
	lines := keyLines(data)
	if len(raw.Jobs) == 0 {
		return nil, &Error{File: file, Err: errors.New("no jobs: want one [jobs.NAME] table per job")}
	}
	names := make([]string, 0, len(raw.Jobs))
	for name := range raw.Jobs {
		names = append(names, name)
	}
	slices.Sort(names)
	spec := &Spec{File: file}
	var errs []error
	for _, name := range names {
		v := &validator{file: file, name: name, lines: lines}
		j := v.job(raw.Jobs[name], commands)
		if len(v.errs) > 0 {
			errs = append(errs, v.errs...)
			continue
		}
		spec.Jobs = append(spec.Jobs, j)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return spec, nil
}

// decodeError turns go-toml's errors into Errors naming the job and key.
func decodeError(file string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, len(strict.Errors))
		for i := range strict.Errors {
			errs[i] = unknownKey(file, &strict.Errors[i])
		}
		return errors.Join(errs...)
	}
	var derr *toml.DecodeError
	if !errors.As(err, &derr) {
		return &Error{File: file, Err: err}
	}
	line, _ := derr.Position()
	msg := strings.TrimPrefix(derr.Error(), "toml: ")
	key := derr.Key()
	e := &Error{File: file, Line: line}
	switch {
	case len(key) >= 3 && key[0] == "jobs":
		e.Job, e.Key = key[1], strings.Join(key[2:], ".")
		if m := mismatch.FindStringSubmatch(msg); m != nil {
			msg = "got a TOML " + m[1] + ", want " + wantOf(key[2])
		}
	case len(key) == 2 && key[0] == "jobs":
		e.Job = key[1]
		if m := mismatch.FindStringSubmatch(msg); m != nil {
			msg = "got a TOML " + m[1] + ", want a table [jobs." + key[1] + "]"
		}
	case len(key) == 1 && key[0] == "jobs":
		e.Key = "jobs"
		if m := mismatch.FindStringSubmatch(msg); m != nil {
			msg = "got a TOML " + m[1] + ", want tables [jobs.NAME]"
		}
	}
	e.Err = errors.New(msg)
	return e
}

func wantOf(key string) string {
	for _, k := range jobKeys {
		if k.name == key {
			return k.want
		}
	}
	return "something else"
}

func unknownKey(file string, d *toml.DecodeError) error {
	line, _ := d.Position()
	key := d.Key()
	switch {
	case len(key) >= 3 && key[0] == "jobs":
		names := make([]string, len(jobKeys))
		for i, k := range jobKeys {
			names[i] = k.name
		}
		return &Error{File: file, Line: line, Job: key[1], Key: strings.Join(key[2:], "."),
			Err: fmt.Errorf("unknown key%s (a job has %s)", suggest(key[2], names), strings.Join(names, ", "))}
	default:
		return &Error{File: file, Line: line, Key: strings.Join(key, "."),
			Err: errors.New("unknown key: a spec holds only [jobs.NAME] tables")}
	}
}

// validator checks one job, collecting every problem.
type validator struct {
	file  string
	name  string // the job's
	lines map[string]int
	errs  []error
}

func (v *validator) fail(key string, format string, args ...any) {
	line := v.lines["jobs."+v.name+"."+key]
	if line == 0 {
		line = v.lines["jobs."+v.name]
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: line, Job: v.name, Key: key, Err: fmt.Errorf(format, args...)})
}

func (v *validator) required(key string, p *string) (string, bool) {
	if p == nil {
		v.fail(key, "missing, want %s", wantOf(key))
		return "", false
	}
	return *p, true
}

func (v *validator) job(r rawJob, commands []Subcommand) Job {
	j := Job{Name: v.name}
	if !jobName.MatchString(v.name) {
		v.fail("", "invalid job name: want lower-case letters, digits and '-' only ([a-z0-9-]+)")
	}
	if r.Description != nil {
		j.Description = *r.Description
	}
	if r.OutputPrefix != nil {
		j.OutputPrefix = *r.OutputPrefix
		v.outputPrefix(j.OutputPrefix)
	}
	if cmd, ok := v.required("command", r.Command); ok {
		j.Command = cmd
		j.Args = v.command(cmd, j.OutputFlag(), commands)
	}
	known := false // whether the schedule is one of the kinds (so the other keys can be checked)
	if s, ok := v.required("schedule", r.Schedule); ok {
		j.Schedule = Kind(s)
		switch j.Schedule {
		case Daily, Weekly, Monthly:
			known = true
		default:
			v.fail("schedule", "%q is not a schedule: want daily, weekly or monthly", s)
		}
	}
	switch {
	case j.Schedule == Weekly && r.Weekday == nil:
		v.fail("weekday", "missing: a weekly job needs the day it runs, such as \"monday\"")
	case j.Schedule == Weekly:
		d, ok := weekdayByID[strings.ToLower(*r.Weekday)]
		if !ok {
			v.fail("weekday", "%q is not a weekday: want monday, tuesday, wednesday, thursday, friday, saturday or sunday", *r.Weekday)
		}
		j.Weekday = d
	case r.Weekday != nil && known:
		v.fail("weekday", "only for weekly jobs (this one is %s)", j.Schedule)
	}
	switch {
	case j.Schedule == Monthly && r.DayOfMonth == nil:
		v.fail("day_of_month", "missing: a monthly job needs the day of the month it runs, 1 to 28")
	case j.Schedule == Monthly:
		if d := *r.DayOfMonth; d < 1 || d > 28 {
			v.fail("day_of_month", "%d is out of range: want 1 to 28 (a day every month has)", d)
		} else {
			j.DayOfMonth = int(d)
		}
	case r.DayOfMonth != nil && known:
		v.fail("day_of_month", "only for monthly jobs (this one is %s)", j.Schedule)
	}
	if t, ok := v.required("time", r.Time); ok {
		m := clockTime.FindStringSubmatch(t)
		var h, min int
		if m != nil {
			h, _ = strconv.Atoi(m[1])
			min, _ = strconv.Atoi(m[2])
		}
		if m == nil || h > 23 || min > 59 {
			v.fail("time", "%q is not a time of day: want HH:MM in UTC, 00:00 to 23:59", t)
		}
		j.Hour, j.Minute = h, min
	}
	if t, ok := v.required("timeout", r.Timeout); ok {
		d, err := time.ParseDuration(t)
		switch {
		case err != nil:
			v.fail("timeout", "%q is not a Go duration: want e.g. \"2h\", \"90m\" or \"1h30m\"", t)
		case d <= 0:
			v.fail("timeout", "%q is not positive: a job needs time to run", t)
		}
		j.Timeout = d
	}
	if o, ok := v.required("owner", r.Owner); ok {
		if a, err := mail.ParseAddress(o); err != nil || a.Address != o {
			v.fail("owner", "%q is not an email address: want the address alone, such as \"someone@mozilla.com\"", o)
		}
		j.Owner = o
	}
	return j
}

func (v *validator) outputPrefix(p string) {
	switch {
	case p == "":
		v.fail("output_prefix", "empty: leave the key out to pass no output prefix")
	case strings.HasPrefix(p, "gs://"):
		if !gcsPrefix.MatchString(p) {
			v.fail("output_prefix", "%q is not a GCS prefix: want gs://BUCKET[/PREFIX]", p)
		}
	case hasScheme.MatchString(p):
		v.fail("output_prefix", "%q: only gs://BUCKET[/PREFIX] or a folder are supported", p)
	}
}

// command splits and checks a command line, returning its words after "jetstream".
func (v *validator) command(cmd, outFlag string, commands []Subcommand) []string {
	words, err := Split(cmd)
	if err != nil {
		v.fail("command", "%v", err)
		return nil
	}
	known := make([]string, len(commands))
	for i, c := range commands {
		known[i] = c.Name
	}
	switch {
	case len(words) == 0:
		v.fail("command", "empty: want a jetstream command line, such as \"jetstream run --experiment-slug my-experiment\"")
		return nil
	case words[0] != "jetstream":
		v.fail("command", "%q: must start with \"jetstream\" (a job runs a jetstream command)", words[0])
		return nil
	case len(words) == 1:
		v.fail("command", "names no subcommand: want one of %s", strings.Join(known, ", "))
		return nil
	case strings.HasPrefix(words[1], "-"):
		v.fail("command", "%q before the subcommand: write the subcommand first, then its flags (one of %s)", words[1], strings.Join(known, ", "))
		return nil
	}
	args := words[1:]
	i := slices.IndexFunc(commands, func(c Subcommand) bool { return c.Name == args[0] })
	if i < 0 {
		v.fail("command", "unknown subcommand %q%s: want one of %s", args[0], suggest(args[0], known), strings.Join(known, ", "))
		return nil
	}
	sub := commands[i]
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		name, ok := flagName(a)
		if !ok {
			continue
		}
		switch {
		case name == outFlag:
			v.fail("output_prefix", "is passed as --%s, and the command sets --%s itself: keep one of them", outFlag, outFlag)
		case sub.Flags != nil && name != "help" && name != "h" && !slices.Contains(sub.Flags, name):
			v.fail("command", "jetstream %s has no flag --%s%s", sub.Name, name, suggest(name, sub.Flags))
		}
	}
	if outFlag != "" && sub.Flags != nil && !slices.Contains(sub.Flags, outFlag) {
		v.fail("output_prefix", "is passed as --%s, and jetstream %s has no such flag: leave output_prefix out, or run a command that writes to --bucket (gs://) or --output (a folder)", outFlag, sub.Name)
	}
	return args
}

// flagName returns the name of a flag argument (-name, --name, --name=value); a word that
// does not start with '-' and a letter (a negative number, "-") is not a flag.
func flagName(arg string) (string, bool) {
	name, ok := strings.CutPrefix(arg, "--")
	if !ok {
		name, ok = strings.CutPrefix(arg, "-")
	}
	if !ok || name == "" {
		return "", false
	}
	if c := name[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
		return "", false
	}
	name, _, _ = strings.Cut(name, "=")
	return name, true
}

// suggest returns ` (did you mean "x"?)` for the candidate that configs.Closest finds a
// likely typo of got (the config validator's rule), else "".
func suggest(got string, candidates []string) string {
	best := configs.Closest(got, candidates)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// keyLines maps every dotted key path of a TOML document (tables and keys, and every prefix
// of them) to the line where it first appears.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		var keys []string
		line := 0
		for it := e.Key(); it.Next(); {
			n := it.Node()
			keys = append(keys, string(n.Data))
			if line == 0 {
				line = lineOf(&p, n.Data)
			}
		}
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keys
		case unstable.KeyValue:
			keys = append(slices.Clone(table), keys...)
		default:
			continue
		}
		for i := 1; i <= len(keys); i++ {
			k := strings.Join(keys[:i], ".")
			if _, ok := lines[k]; !ok {
				lines[k] = line
			}
		}
	}
	return lines
}

// lineOf returns the line of a slice of the parser's input; 0 when the slice is not part of
// the input (the parser copies keys that hold escapes).
func lineOf(p *unstable.Parser, b []byte) (line int) {
	defer func() {
		if recover() != nil {
			line = 0
		}
	}()
	if len(b) == 0 {
		return 0
	}
	return p.Shape(p.Range(b)).Start.Line
}

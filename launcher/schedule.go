package launcher

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/schedule"
)

// timeoutExitCode is the exit status of `jetstream schedule run` when the job timed out,
// as timeout(1)'s.
const timeoutExitCode = 124

// scheduleCommand is `jetstream schedule`: it renders the Airflow DAGs of a job spec, and
// (`schedule run`) runs one job of it with its timeout. See package schedule.
func scheduleCommand() *cli.Command {
	specUsage := "job spec, a TOML file of [jobs.NAME] tables (see schedule/README.md)"
	return &cli.Command{
		Name:  "schedule",
		Usage: "scheduled custom jobs: render their Airflow DAGs, or run one with its timeout",
		UsageText: "jetstream schedule --spec FILE --image IMAGE [--namespace NS] [--spec-in-image PATH] [--binary-in-image PATH]\n" +
			"                   [--service-account KSA] [--out DAG.py]\n" +
			"jetstream schedule run NAME --spec FILE [--grace-period DURATION]",
		Description: "A job spec registers jetstream commands to run on a schedule (daily, weekly or monthly,\n" +
			"at a UTC time) with a timeout, their outputs going to an output prefix. `jetstream schedule`\n" +
			"checks every job (each command must be a jetstream command these flags accept) and renders\n" +
			"one Airflow DAG per job into one Python file; each DAG's task runs\n" +
			"`jetstream schedule run NAME --spec PATH` in the jetstream image, which runs the job's\n" +
			"command and interrupts it (then kills it) when it runs out of time.\n\n" +
			"Examples:\n" +
			"   jetstream schedule --spec jobs.toml --image us-docker.pkg.dev/P/R/jetstream:TAG > jobs_dag.py\n" +
			"   jetstream schedule --spec jobs.toml --image IMAGE --namespace jetstream --service-account jetstream \\\n" +
			"       --spec-in-image /template/jobs.toml --binary-in-image /template/jetstream --out dags/jetstream_custom.py\n" +
			"   jetstream schedule run weekly-search-backfill --spec /app/jobs.toml\n\n" +
			"A job's output_prefix is passed to its command as --bucket when it is gs://BUCKET[/PREFIX],\n" +
			"and as --output when it is a folder. `schedule run` exits with the job's exit status, or\n" +
			"124 when the job timed out.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "spec", EnvVars: envVars("spec"), Usage: specUsage},
			&cli.StringFlag{Name: "out", EnvVars: envVars("out"), Usage: "write the DAG file here, atomically (default: standard output)"},
			&cli.StringFlag{Name: "image", EnvVars: envVars("image"), Usage: "container image the DAGs' tasks run, holding the jetstream binary and the spec (required)"},
			&cli.StringFlag{Name: "namespace", Value: "default", EnvVars: envVars("namespace"), Usage: "Kubernetes namespace of the tasks' pods"},
			&cli.StringFlag{Name: "spec-in-image", EnvVars: envVars("spec-in-image"), Usage: "path of the job spec inside the image, given to `schedule run` (default: --spec as given)"},
			&cli.StringFlag{Name: "binary-in-image", Value: "jetstream", EnvVars: envVars("binary-in-image"), Usage: "the jetstream binary inside the image: a path, or a name on its PATH (the Flex Template image has /template/jetstream)"},
			&cli.StringFlag{Name: "service-account", EnvVars: envVars("service-account"), Usage: "Kubernetes service account of the tasks' pods, bound to a Google service account for BigQuery and GCS (default: the namespace's default)"},
		},
		Action: renderSchedule,
		Subcommands: []*cli.Command{{
			Name:      "run",
			Usage:     "run one job of a spec, with its timeout",
			ArgsUsage: "NAME",
			UsageText: "jetstream schedule run NAME --spec FILE [--grace-period DURATION]",
			Description: "Runs the job's command with this jetstream binary, its output passed through. When the\n" +
				"job's timeout expires, or this command receives SIGINT or SIGTERM (a stopped pod), the\n" +
				"job's command is interrupted (SIGINT, which jetstream handles by cancelling its work),\n" +
				"and killed if it is still running --grace-period later. Exits with the command's exit\n" +
				"status, or 124 when it timed out.\n\n" +
				"Example:\n" +
				"   jetstream schedule run weekly-search-backfill --spec /app/jobs.toml",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "spec", EnvVars: envVars("spec"), Usage: specUsage},
				&cli.DurationFlag{Name: "grace-period", Value: schedule.DefaultGrace, EnvVars: envVars("grace-period"),
					Usage: "how long a job that timed out has to stop after it is interrupted, before it is killed"},
			},
			Action: runScheduled,
		}},
	}
}

// jobCommands are the subcommands a job may run: the App's commands, each with its flags,
// except `schedule` itself and `help`.
func jobCommands(app *cli.App) []schedule.Subcommand {
	var subs []schedule.Subcommand
	for _, c := range app.Commands {
		if c.Name == "schedule" || c.Name == "help" {
			continue
		}
		flags := []string{} // checked
		for _, f := range c.Flags {
			flags = append(flags, f.Names()...)
		}
		if len(c.Subcommands) > 0 {
			flags = nil // flags belong to the subcommands: not checked
		}
		for _, name := range c.Names() {
			subs = append(subs, schedule.Subcommand{Name: name, Flags: flags})
		}
	}
	return subs
}

func renderSchedule(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError{fmt.Errorf("schedule: unexpected argument %q (to run a job: jetstream schedule run NAME --spec FILE)", c.Args().First())}
	}
	specPath, image := c.String("spec"), c.String("image")
	switch {
	case specPath == "":
		return usageError{errors.New("schedule: --spec is required: the job spec file")}
	case image == "":
		return usageError{errors.New("schedule: --image is required: the container image the DAGs' tasks run jetstream in")}
	}
	spec, err := schedule.Load(specPath, jobCommands(c.App))
	if err != nil {
		return err
	}
	inImage := c.String("spec-in-image")
	if inImage == "" {
		inImage = specPath
	}
	dag, err := schedule.RenderDAG(spec.Jobs, schedule.RenderOptions{Image: image, Namespace: c.String("namespace"),
		Executable: c.String("binary-in-image"), SpecPath: inImage, ServiceAccount: c.String("service-account")})
	if err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	out := c.String("out")
	if out == "" {
		_, err := writerOr(c.App.Writer, os.Stdout).Write(dag)
		return err
	}
	if err := export.WriteFileAtomic(out, dag); err != nil {
		return fmt.Errorf("schedule: writing the DAG file: %w", err)
	}
	return nil
}

func runScheduled(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usageError{errors.New("schedule run: no job name: jetstream schedule run NAME --spec FILE")}
	}
	name := args[0]
	// urfave/cli stops parsing flags at the first argument: parse those after NAME.
	help, err := parseFlagsAfterArgs(c, args[1:])
	if err != nil {
		return fmt.Errorf("schedule run: %w", err)
	}
	if help {
		return cli.ShowCommandHelp(c.Lineage()[1], c.Command.Name)
	}
	specPath := ""
	for _, l := range c.Lineage() { // --spec of `schedule run`, else of `schedule`
		if specPath = l.String("spec"); specPath != "" {
			break
		}
	}
	grace := c.Duration("grace-period")
	switch {
	case specPath == "":
		return usageError{errors.New("schedule run: --spec is required: the job spec file")}
	case grace <= 0:
		return usageError{fmt.Errorf("schedule run: --grace-period %s is not positive", grace)}
	}
	spec, err := schedule.Load(specPath, jobCommands(c.App))
	if err != nil {
		return err
	}
	job, err := spec.Job(name)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("schedule run: job %q: finding the jetstream executable: %w", name, err)
	}
	stdout, stderr := writerOr(c.App.Writer, os.Stdout), writerOr(c.App.ErrWriter, os.Stderr)
	fmt.Fprintf(stderr, "jetstream schedule: job %q: %s (timeout %s)\n", name,
		schedule.Quote(append([]string{"jetstream"}, job.RunArgs()...)), job.Timeout)
	// Kubernetes stops a pod (Airflow's timeout, a deleted pod) with SIGTERM: the job is
	// interrupted as on its own timeout. (main cancels c.Context on SIGINT.)
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM)
	defer stop()
	err = schedule.RunWithGrace(ctx, job, exe, stdout, stderr, grace)
	var exit *schedule.ExitError
	var timeout *schedule.TimeoutError
	switch {
	case errors.As(err, &timeout):
		return cli.Exit("jetstream: schedule run: "+err.Error(), timeoutExitCode)
	case errors.As(err, &exit) && exit.Code > 0:
		return cli.Exit("jetstream: schedule run: "+err.Error(), exit.Code)
	case err != nil:
		return fmt.Errorf("schedule run: %w", err)
	}
	return nil
}

// parseFlagsAfterArgs sets the command's flags found in args (those after the first
// argument, which urfave/cli leaves unparsed), and tells whether --help is one of them; any
// other argument is an error.
func parseFlagsAfterArgs(c *cli.Context, args []string) (help bool, err error) {
	if len(args) == 0 {
		return false, nil
	}
	set := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(set); err != nil {
			return false, err
		}
	}
	if err := set.Parse(args); err != nil {
		return false, err
	}
	if set.NArg() > 0 {
		return false, fmt.Errorf("unexpected argument %q: one job name, then flags", set.Arg(0))
	}
	set.Visit(func(f *flag.Flag) {
		if f.Name == "help" || f.Name == "h" {
			help = true
		} else if err == nil {
			err = c.Set(f.Name, f.Value.String())
		}
	})
	return help, err
}

func writerOr(w, fallback io.Writer) io.Writer {
	if w == nil {
		return fallback
	}
	return w
}

package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	dataflow "google.golang.org/api/dataflow/v1b3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// Dataflow job states (google.golang.org/api/dataflow/v1b3 spells them as strings).
const (
	jobStateDone      = "JOB_STATE_DONE"
	jobStateCancelled = "JOB_STATE_CANCELLED"
)

// terminalJobStates are the states a Dataflow job never leaves.
var terminalJobStates = []string{jobStateDone, "JOB_STATE_FAILED", jobStateCancelled, "JOB_STATE_UPDATED", "JOB_STATE_DRAINED"}

// launchSettings are what `jetstream launch` does not take from flags: how it retries
// requests that fail transiently. Tests inject fast ones.
type launchSettings struct {
	// Attempts is how many times a request is tried when it fails transiently (HTTP 429 or
	// 5xx; also network errors for the idempotent GET and cancel requests).
	Attempts int
	// RetryDelay is the pause before retry n (1 for the first retry).
	RetryDelay func(retry int) time.Duration
	// CancelTimeout bounds the cancel request sent after --timeout or an interruption
	// (it runs on a context of its own: the command's may be the one that was cancelled).
	CancelTimeout time.Duration
}

var defaultLaunchSettings = launchSettings{
	Attempts:      4,
	RetryDelay:    exponentialDelay(2*time.Second, 30*time.Second),
	CancelTimeout: time.Minute,
}

// exponentialDelay doubles the pause after every retry, from first up to max.
func exponentialDelay(first, max time.Duration) func(retry int) time.Duration {
	return func(retry int) time.Duration {
		d := first
		for i := 1; i < retry && d < max; i++ {
			d *= 2
		}
		return min(d, max)
	}
}

// The categories the launch flags are listed under in the help.
const (
	launchCategory    = "Launch"
	parameterCategory = "Parameters of the run (Flex Template parameters)"
)

// sharedParameters are the template parameters whose `run` flag has the name of one of the
// launch's own flags: that flag stands for both, and its value — when set — is also sent
// as the parameter. --timeout bounds the job twice: the run gives up after it by itself
// (even when nobody waits), and with --wait this command cancels the job when it passes.
var sharedParameters = map[string]func(c *cli.Context) string{
	"timeout": func(c *cli.Context) string {
		if d := c.Duration("timeout"); d > 0 {
			return d.String()
		}
		return ""
	},
}

func launchCommand() *cli.Command { return launchCommandWith(defaultLaunchSettings) }

func launchCommandWith(settings launchSettings) *cli.Command {
	return &cli.Command{
		Name:  "launch",
		Usage: "start `jetstream run` on Dataflow through the Flex Template, and optionally wait for it",
		Description: "Launches the Dataflow Flex Template (templates/metadata.json), which runs `jetstream run`\n" +
			"on Dataflow with the parameters given here: each parameter of the run has the flag of the\n" +
			"same name as `run`'s (--date, --experiment-slug, …); --parameter NAME=VALUE sends any other.\n" +
			"Every value is checked against the template's rules before anything is sent. Prints the\n" +
			"job's id, name and console URL; with --wait, follows the job until it ends and fails unless\n" +
			"it is JOB_STATE_DONE (after --timeout, or on Ctrl-C, the job is cancelled). The launcher\n" +
			"flags are also read from JETSTREAM_<FLAG>, e.g. JETSTREAM_PROJECT_ID.\n" +
			"\n" +
			"Example (the daily run of 2026-10-07, waiting for it):\n" +
			"\n" +
			"   jetstream launch --template-path gs://my-bucket/templates/jetstream.json \\\n" +
			"       --project-id my-project --region us-central1 \\\n" +
			"       --date 2026-10-07 --results-staging gs://my-bucket/staging \\\n" +
			"       --service-account-email jetstream@my-project.iam.gserviceaccount.com \\\n" +
			"       --wait --timeout 6h",
		Flags: launchFlags(),
		Action: func(c *cli.Context) error {
			req, err := launchRequestFrom(c)
			if err != nil {
				return usageError{err}
			}
			return launchJob(c, req, settings)
		},
	}
}

// launchFlags are launch's own flags, then a flag for every template parameter.
func launchFlags() []cli.Flag {
	flags := launchOwnFlags()
	for _, p := range TemplateParameters {
		if _, shared := sharedParameters[p.Name]; shared {
			continue
		}
		usage := p.Help
		if p.Required {
			usage += " (required)"
		}
		usage += " [parameter " + p.Name + "]"
		switch {
		case p.IsList:
			usage += " (repeatable, or comma-separated)"
			flags = append(flags, &cli.StringSliceFlag{Name: p.Flag(), Usage: usage, Category: parameterCategory})
		case p.IsBool:
			flags = append(flags, &cli.BoolFlag{Name: p.Flag(), Usage: usage, Category: parameterCategory})
		default:
			flags = append(flags, &cli.StringFlag{Name: p.Flag(), Usage: usage, Category: parameterCategory})
		}
	}
	return flags
}

// launchOwnFlags are the flags of the launch itself, each also read from JETSTREAM_<NAME>.
func launchOwnFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "template-path", EnvVars: envVars("template-path"), Category: launchCategory,
			Usage: "gs://BUCKET/PATH of the Flex Template's spec file (required)"},
		&cli.StringFlag{Name: "project-id", EnvVars: envVars("project-id"), Category: launchCategory,
			Usage: "Google Cloud project the job runs in (required)"},
		&cli.StringFlag{Name: "region", EnvVars: envVars("region"), Category: launchCategory,
			Usage: "Dataflow region, e.g. us-central1 (required)"},
		&cli.StringFlag{Name: "job-name", EnvVars: envVars("job-name"), Category: launchCategory,
			Usage: "the Dataflow job's name, [a-z]([-a-z0-9]*[a-z0-9])? (default: jetstream-<--date>)"},
		&cli.StringFlag{Name: "service-account-email", EnvVars: envVars("service-account-email"), Category: launchCategory,
			Usage: "service account the job runs as (default: the project's Compute Engine default one)"},
		&cli.IntFlag{Name: "max-workers", EnvVars: envVars("max-workers"), Category: launchCategory, DefaultText: "Dataflow's",
			Usage: "at most this many workers, 1 to 1000"},
		&cli.StringFlag{Name: "temp-location", EnvVars: envVars("temp-location"), Category: launchCategory,
			Usage: "gs://BUCKET/PATH for the job's temporary files (default: the template's, else Dataflow's)"},
		&cli.StringFlag{Name: "staging-location", EnvVars: envVars("staging-location"), Category: launchCategory,
			Usage: "gs://BUCKET/PATH for the job's staged files (default: the template's, else Dataflow's)"},
		&cli.BoolFlag{Name: "wait", EnvVars: envVars("wait"), Category: launchCategory,
			Usage: "follow the job until it ends; fail unless it ends JOB_STATE_DONE"},
		&cli.DurationFlag{Name: "poll-interval", Value: 30 * time.Second, EnvVars: envVars("poll-interval"), Category: launchCategory,
			Usage: "with --wait: how often the job's state is read"},
		&cli.DurationFlag{Name: "timeout", EnvVars: envVars("timeout"), Category: launchCategory, DefaultText: "none",
			Usage: "the job's time limit, e.g. 6h: sent as the run's timeout parameter (the run gives up after it), " +
				"and with --wait the job is cancelled when it passes"},
		&cli.StringFlag{Name: "dataflow-endpoint", EnvVars: envVars("dataflow-endpoint"), Category: launchCategory,
			Usage: "Dataflow API base URL, without credentials (tests, private endpoints; default: Google's, with application default credentials)"},
		&cli.BoolFlag{Name: "validate-only", EnvVars: envVars("validate-only"), Category: launchCategory,
			Usage: "have Dataflow validate the launch request without starting a job"},
		&cli.GenericFlag{Name: "parameter", Value: &parameterList{}, EnvVars: envVars("parameter"), Category: parameterCategory,
			Usage: "NAME=VALUE: a template parameter that has no flag of its own (repeatable; the value may hold commas)"},
	}
}

// parameterList collects --parameter NAME=VALUE, each as given (a value may hold commas).
type parameterList []string

func (l *parameterList) Set(s string) error { *l = append(*l, s); return nil }
func (l *parameterList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, " ")
}

// launchRequest is a validated launch.
type launchRequest struct {
	Project, Region string
	Endpoint        string // "" = Google's
	Request         *dataflow.LaunchFlexTemplateRequest
	Wait            bool
	PollInterval    time.Duration
	Timeout         time.Duration // 0 = none
}

var (
	dataflowJobNameRE   = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	parameterNameRE     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	dataflowRegionRE    = regexp.MustCompile(`^[a-z]+(-[a-z]+[0-9]+)+$`)
	jobNameInvalidChars = regexp.MustCompile(`[^a-z0-9]+`)
)

// dataflowJobName makes s a valid Dataflow job name: lower case, every run of other
// characters than letters and digits replaced by one '-', starting with a letter and not
// ending with '-'.
func dataflowJobName(s string) string {
	s = jobNameInvalidChars.ReplaceAllString(strings.ToLower(s), "-")
	s = strings.TrimLeftFunc(s, func(r rune) bool { return r < 'a' || r > 'z' })
	s = strings.TrimRight(s, "-")
	if s == "" {
		return "jetstream"
	}
	return s
}

// launchRequestFrom validates the flags of c, reporting every problem at once, each naming
// its flag; nothing is sent before.
func launchRequestFrom(c *cli.Context) (*launchRequest, error) {
	var errs []error
	required := func(flag string) string {
		v := strings.TrimSpace(c.String(flag))
		if v == "" {
			errs = append(errs, fmt.Errorf("--%s is required", flag))
		}
		return v
	}
	r := &launchRequest{
		Project:      required("project-id"),
		Region:       required("region"),
		Endpoint:     c.String("dataflow-endpoint"),
		Wait:         c.Bool("wait"),
		PollInterval: c.Duration("poll-interval"),
		Timeout:      c.Duration("timeout"),
	}
	templatePath := required("template-path")
	if templatePath != "" {
		if err := checkGCSPath(templatePath); err != nil {
			errs = append(errs, fmt.Errorf("--template-path: %w", err))
		} else if strings.HasSuffix(templatePath, "/") || !strings.Contains(strings.TrimPrefix(templatePath, "gs://"), "/") {
			errs = append(errs, fmt.Errorf("--template-path: want the template's spec file gs://BUCKET/PATH, got %q", templatePath))
		}
	}
	if r.Region != "" && !dataflowRegionRE.MatchString(r.Region) {
		errs = append(errs, fmt.Errorf("--region: want a Dataflow region such as us-central1, got %q", r.Region))
	}
	if r.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("--poll-interval must be positive, got %s", r.PollInterval))
	}
	if r.Timeout < 0 {
		errs = append(errs, fmt.Errorf("--timeout must not be negative, got %s", r.Timeout))
	}
	params, err := launchParameters(c)
	if err != nil {
		errs = append(errs, err)
	}
	env, err := launchEnvironment(c)
	if err != nil {
		errs = append(errs, err)
	}
	jobName := c.String("job-name")
	if jobName == "" {
		date := params["date"]
		if date == "" {
			date = time.Now().UTC().Format(time.DateOnly)
		}
		jobName = dataflowJobName("jetstream-" + date)
	} else if !dataflowJobNameRE.MatchString(jobName) {
		errs = append(errs, fmt.Errorf("--job-name: %q is not a Dataflow job name: lower-case letters, digits and '-', starting with a letter and not ending with '-' (e.g. %q)",
			jobName, dataflowJobName(jobName)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r.Request = &dataflow.LaunchFlexTemplateRequest{
		LaunchParameter: &dataflow.LaunchFlexTemplateParameter{
			JobName:              jobName,
			ContainerSpecGcsPath: templatePath,
			Parameters:           params,
			Environment:          env,
		},
		ValidateOnly: c.Bool("validate-only"),
	}
	return r, nil
}

// launchParameters are the template parameters of the flags of c: those of
// TemplateParameters, checked against their regexes, and --parameter NAME=VALUE.
func launchParameters(c *cli.Context) (map[string]string, error) {
	params := map[string]string{}
	var errs []error
	for _, p := range TemplateParameters {
		flag := p.Flag()
		var v string
		switch value, shared := sharedParameters[p.Name]; {
		case shared:
			v = value(c)
		case !c.IsSet(flag):
		case p.IsList:
			var elems []string
			for _, e := range c.StringSlice(flag) {
				if e = strings.TrimSpace(e); e != "" {
					elems = append(elems, e)
				}
			}
			v = strings.Join(elems, ",")
		case p.IsBool:
			v = strconv.FormatBool(c.Bool(flag))
		default:
			v = strings.TrimSpace(c.String(flag))
		}
		if v == "" {
			if p.Required {
				errs = append(errs, fmt.Errorf("--%s is required (template parameter %s: %s)", flag, p.Name, p.Help))
			}
			continue
		}
		if err := checkParameter(p, v); err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", flag, err))
			continue
		}
		params[p.Name] = v
	}
	var extra []string
	if l, ok := c.Generic("parameter").(*parameterList); ok && l != nil {
		extra = *l
	}
	for _, kv := range extra {
		name, value, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("--parameter: want NAME=VALUE, got %q", kv))
		case !parameterNameRE.MatchString(name):
			errs = append(errs, fmt.Errorf("--parameter %q: %q is not a parameter name (a letter, then letters, digits and '_')", kv, name))
		case slices.ContainsFunc(TemplateParameters, func(p TemplateParameter) bool { return p.Name == name }):
			errs = append(errs, fmt.Errorf("--parameter %q: %s has a flag of its own, use --%s", kv, name, strings.ReplaceAll(name, "_", "-")))
		default:
			if _, dup := params[name]; dup {
				errs = append(errs, fmt.Errorf("--parameter %q: parameter %s is given twice", kv, name))
				continue
			}
			params[name] = value
		}
	}
	if len(params) == 0 {
		params = nil
	}
	return params, errors.Join(errs...)
}

// checkParameter checks value against the regexes Dataflow checks the parameter with.
func checkParameter(p TemplateParameter, value string) error {
	for _, expr := range p.Regexes {
		re, err := regexp.Compile(expr)
		if err != nil {
			return fmt.Errorf("template parameter %s has a bad regex %q: %w", p.Name, expr, err)
		}
		if !re.MatchString(value) {
			return fmt.Errorf("%q does not match %s (%s)", value, expr, p.Help)
		}
	}
	return nil
}

// launchEnvironment is the job's runtime environment from the flags of c; nil when none is
// set, so that the template's own defaults apply.
func launchEnvironment(c *cli.Context) (*dataflow.FlexTemplateRuntimeEnvironment, error) {
	var errs []error
	env := &dataflow.FlexTemplateRuntimeEnvironment{
		ServiceAccountEmail: strings.TrimSpace(c.String("service-account-email")),
		TempLocation:        strings.TrimSpace(c.String("temp-location")),
		StagingLocation:     strings.TrimSpace(c.String("staging-location")),
	}
	for flag, path := range map[string]string{"temp-location": env.TempLocation, "staging-location": env.StagingLocation} {
		if path != "" {
			if err := checkGCSPath(path); err != nil {
				errs = append(errs, fmt.Errorf("--%s: %w", flag, err))
			}
		}
	}
	if e := env.ServiceAccountEmail; e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " /")) {
		errs = append(errs, fmt.Errorf("--service-account-email: want a service account's email, got %q", e))
	}
	if c.IsSet("max-workers") {
		n := c.Int("max-workers")
		if n < 1 || n > 1000 {
			errs = append(errs, fmt.Errorf("--max-workers: want 1 to 1000, got %d", n))
		}
		env.MaxWorkers = int64(n)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if env.ServiceAccountEmail == "" && env.TempLocation == "" && env.StagingLocation == "" && env.MaxWorkers == 0 {
		return nil, nil
	}
	return env, nil
}

// dataflowJobs sends the requests of one launch.
type dataflowJobs struct {
	svc             *dataflow.Service
	project, region string
	settings        launchSettings
	log             io.Writer // retries and other notices
}

func newDataflowService(ctx context.Context, endpoint string) (*dataflow.Service, error) {
	var opts []option.ClientOption
	if endpoint != "" {
		if !strings.Contains(endpoint, "://") {
			endpoint = "http://" + endpoint
		}
		if !strings.HasSuffix(endpoint, "/") {
			endpoint += "/" // the API's paths are resolved relative to it
		}
		opts = append(opts, option.WithEndpoint(endpoint), option.WithoutAuthentication())
	}
	svc, err := dataflow.NewService(ctx, opts...)
	if err != nil {
		if endpoint == "" {
			return nil, fmt.Errorf("connecting to Dataflow with the application default credentials (`gcloud auth application-default login`, or GOOGLE_APPLICATION_CREDENTIALS): %w", err)
		}
		return nil, fmt.Errorf("connecting to Dataflow at --dataflow-endpoint %s: %w", endpoint, err)
	}
	return svc, nil
}

// launchJob sends the launch request and, with --wait, follows the job.
func launchJob(c *cli.Context, r *launchRequest, settings launchSettings) error {
	ctx := c.Context
	out := c.App.Writer
	svc, err := newDataflowService(ctx, r.Endpoint)
	if err != nil {
		return err
	}
	d := &dataflowJobs{svc: svc, project: r.Project, region: r.Region, settings: settings, log: c.App.ErrWriter}
	lp := r.Request.LaunchParameter
	job, err := d.launch(ctx, r.Request)
	if err != nil {
		return err
	}
	if r.Request.ValidateOnly {
		fmt.Fprintf(out, "validated: Dataflow accepts the launch of %s as job %s (--validate-only: no job started)\n", lp.ContainerSpecGcsPath, lp.JobName)
		return nil
	}
	if job == nil || job.Id == "" {
		return fmt.Errorf("launching %s as job %s: Dataflow's answer names no job", lp.ContainerSpecGcsPath, lp.JobName)
	}
	name := job.Name
	if name == "" {
		name = lp.JobName
	}
	consoleURL := d.consoleURL(job.Id)
	fmt.Fprintf(out, "launched Dataflow job %s\n  id:      %s\n  console: %s\n", name, job.Id, consoleURL)
	if !r.Wait {
		return nil
	}
	return d.wait(ctx, out, job, name, consoleURL, r.PollInterval, r.Timeout)
}

func (d *dataflowJobs) consoleURL(jobID string) string {
	return fmt.Sprintf("https://console.cloud.google.com/dataflow/jobs/%s/%s?project=%s",
		url.PathEscape(d.region), url.PathEscape(jobID), url.QueryEscape(d.project))
}

// launch sends the launch request, retried while it fails transiently.
func (d *dataflowJobs) launch(ctx context.Context, req *dataflow.LaunchFlexTemplateRequest) (*dataflow.Job, error) {
	lp := req.LaunchParameter
	var resp *dataflow.LaunchFlexTemplateResponse
	err := d.retry(ctx, "launch", false, func() error {
		var err error
		resp, err = d.svc.Projects.Locations.FlexTemplates.Launch(d.project, d.region, req).Context(ctx).Do()
		return err
	})
	if err != nil {
		var apiErr *googleapi.Error
		if errors.As(err, &apiErr) && apiErr.Code == http.StatusConflict {
			return nil, fmt.Errorf("launching %s as job %s in %s/%s: %w (a job of this name is running: wait for it, or choose another --job-name)",
				lp.ContainerSpecGcsPath, lp.JobName, d.project, d.region, err)
		}
		return nil, fmt.Errorf("launching %s as job %s in %s/%s: %w", lp.ContainerSpecGcsPath, lp.JobName, d.project, d.region, err)
	}
	return resp.Job, nil
}

// get reads the job, retried while it fails transiently.
func (d *dataflowJobs) get(ctx context.Context, id string) (*dataflow.Job, error) {
	var job *dataflow.Job
	err := d.retry(ctx, "reading job "+id, true, func() error {
		var err error
		job, err = d.svc.Projects.Locations.Jobs.Get(d.project, d.region, id).Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the state of job %s: %w", id, err)
	}
	return job, nil
}

// cancel requests the job's cancellation, on a context of its own (ctx may be the one that
// was cancelled).
func (d *dataflowJobs) cancel(ctx context.Context, id string) error {
	cctx, stop := context.WithTimeout(context.WithoutCancel(ctx), d.settings.CancelTimeout)
	defer stop()
	err := d.retry(cctx, "cancelling job "+id, true, func() error {
		_, err := d.svc.Projects.Locations.Jobs.Update(d.project, d.region, id, &dataflow.Job{RequestedState: jobStateCancelled}).Context(cctx).Do()
		return err
	})
	if err != nil {
		return fmt.Errorf("cancelling job %s: %w", id, err)
	}
	return nil
}

// wait follows the job until it ends, printing its state whenever it changes. The job is
// cancelled when timeout (if positive) passes or ctx is cancelled.
func (d *dataflowJobs) wait(ctx context.Context, out io.Writer, job *dataflow.Job, name, consoleURL string, poll, timeout time.Duration) error {
	waitCtx, stop := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		waitCtx, stop = context.WithTimeout(ctx, timeout)
	}
	defer stop()
	state, shown := job.CurrentState, ""
	for {
		if state != "" && state != shown {
			fmt.Fprintf(out, "%s  job %s: %s\n", time.Now().UTC().Format(time.TimeOnly), job.Id, state)
			shown = state
		}
		if slices.Contains(terminalJobStates, state) {
			if state == jobStateDone {
				return nil
			}
			return fmt.Errorf("job %s (%s) ended in %s, not %s; see %s", job.Id, name, state, jobStateDone, consoleURL)
		}
		if waitCtx.Err() == nil {
			timer := time.NewTimer(poll)
			select {
			case <-waitCtx.Done():
			case <-timer.C:
			}
			timer.Stop()
		}
		if waitCtx.Err() != nil {
			return d.stopWaiting(ctx, job.Id, name, consoleURL, state, timeout)
		}
		j, err := d.get(waitCtx, job.Id)
		if err != nil {
			if waitCtx.Err() != nil {
				continue // the timeout or the interruption, handled above
			}
			return fmt.Errorf("waiting for Dataflow job %s (%s): %w; see %s", job.Id, name, err, consoleURL)
		}
		if j.CurrentState != "" {
			state = j.CurrentState
		}
	}
}

// stopWaiting cancels the job after the timeout passed or ctx was cancelled, and returns
// the error saying so.
func (d *dataflowJobs) stopWaiting(ctx context.Context, id, name, consoleURL, state string, timeout time.Duration) error {
	if state == "" {
		state = "not started"
	}
	why := fmt.Sprintf("after the --timeout of %s", timeout)
	var cause error
	if ctx.Err() != nil {
		cause = context.Cause(ctx)
		why = fmt.Sprintf("when interrupted (%v)", cause)
	}
	if err := d.cancel(ctx, id); err != nil {
		return errors.Join(fmt.Errorf("job %s (%s) was still %s %s, and could not be cancelled: cancel it in the console, %s",
			id, name, state, why, consoleURL), err, cause)
	}
	err := fmt.Errorf("job %s (%s) was cancelled %s, while %s; see %s", id, name, why, state, consoleURL)
	if cause != nil {
		return errors.Join(err, cause)
	}
	return err
}

// retry calls call until it succeeds, fails for good, or has been tried
// d.settings.Attempts times, pausing d.settings.RetryDelay between tries. A failure is
// transient with HTTP status 429 or 5xx, and, when network is set (idempotent requests),
// when the request did not get an answer.
func (d *dataflowJobs) retry(ctx context.Context, what string, network bool, call func() error) error {
	attempts := max(d.settings.Attempts, 1)
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || attempt >= attempts || !transientError(err, network) {
			if attempt > 1 {
				return fmt.Errorf("%w (%d attempts)", err, attempt)
			}
			return err
		}
		delay := d.settings.RetryDelay(attempt)
		fmt.Fprintf(d.log, "dataflow %s: %v; trying again in %s (attempt %d of %d)\n", what, err, delay, attempt+1, attempts)
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w (gave up retrying: %w)", err, context.Cause(ctx))
		case <-timer.C:
		}
	}
}

func transientError(err error, network bool) bool {
	var apiErr *googleapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.Code == http.StatusTooManyRequests || apiErr.Code >= 500
	}
	var urlErr *url.Error
	return network && errors.As(err, &urlErr)
}

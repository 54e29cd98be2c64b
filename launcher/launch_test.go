package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

const (
	launchTestProject  = "my-project"
	launchTestRegion   = "us-central1"
	launchTestJobID    = "2026-10-07_01_02_03-4242"
	launchTestTemplate = "gs://my-bucket/templates/jetstream.json"
	launchTestConsole  = "https://console.cloud.google.com/dataflow/jobs/us-central1/2026-10-07_01_02_03-4242?project=my-project"
)

const (
	launchTestBase    = "/v1b3/projects/" + launchTestProject + "/locations/" + launchTestRegion
	launchTestLaunch  = "POST " + launchTestBase + "/flexTemplates:launch"
	launchTestGet     = "GET " + launchTestBase + "/jobs/" + launchTestJobID
	launchTestCancel  = "PUT " + launchTestBase + "/jobs/" + launchTestJobID
	launchTestJobName = "jetstream-2026-10-07"
)

// fakeDataflow stands in for the Dataflow REST API (v1b3): it launches one job, whose
// state follows states, and records every request.
type fakeDataflow struct {
	mu           sync.Mutex
	requests     []string         // "METHOD PATH" of every request
	launchBodies []map[string]any // decoded bodies of the launch requests
	cancelBodies []map[string]any // decoded bodies of the PUT requests
	launchErrors []int            // HTTP statuses of the first launch requests
	getErrors    []int            // HTTP statuses of the first GET requests
	states       []string         // the job's state at each successful GET; the last one repeats
	gets         int              // successful GETs
	getFailures  int              // GETs answered with an error of getErrors
	onGet        func(n int)      // called at the n-th successful GET
}

func (f *fakeDataflow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req := r.Method + " " + r.URL.Path
	f.requests = append(f.requests, req)
	decode := func() map[string]any {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			body = map[string]any{"undecodable body": err.Error()}
		}
		return body
	}
	switch req {
	case launchTestLaunch:
		body := decode()
		f.launchBodies = append(f.launchBodies, body)
		if n := len(f.launchBodies); n <= len(f.launchErrors) {
			writeAPIError(w, f.launchErrors[n-1])
			return
		}
		if body["validateOnly"] == true {
			writeJSONResponse(w, map[string]any{})
			return
		}
		lp, _ := body["launchParameter"].(map[string]any)
		writeJSONResponse(w, map[string]any{"job": map[string]any{
			"id": launchTestJobID, "name": lp["jobName"], "projectId": launchTestProject, "location": launchTestRegion,
		}})
	case launchTestGet:
		if f.getFailures < len(f.getErrors) {
			f.getFailures++
			writeAPIError(w, f.getErrors[f.getFailures-1])
			return
		}
		f.gets++
		state := f.states[min(f.gets, len(f.states))-1]
		if f.onGet != nil {
			f.onGet(f.gets)
		}
		writeJSONResponse(w, map[string]any{"id": launchTestJobID, "name": launchTestJobName, "currentState": state})
	case launchTestCancel:
		f.cancelBodies = append(f.cancelBodies, decode())
		writeJSONResponse(w, map[string]any{"id": launchTestJobID, "currentState": "JOB_STATE_CANCELLING"})
	default:
		http.Error(w, "unexpected request "+req, http.StatusNotFound)
	}
}

func (f *fakeDataflow) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func writeJSONResponse(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error": {"code": %d, "message": "fake error %d", "status": "FAKE"}}`, status, status)
}

// fastLaunchSettings retry without noticeable pauses.
var fastLaunchSettings = launchSettings{Attempts: 3, RetryDelay: func(int) time.Duration { return time.Millisecond }, CancelTimeout: 5 * time.Second}

// hermeticLaunchEnv empties the environment variables of the launch flags, which would
// otherwise fill in flags the tests leave out.
func hermeticLaunchEnv(t *testing.T) {
	for _, f := range launchFlags() {
		if e, ok := f.(interface{ GetEnvVars() []string }); ok {
			for _, name := range e.GetEnvVars() {
				t.Setenv(name, "")
			}
		}
	}
}

// runLaunch runs `jetstream launch args…` with cmd, as main does, and returns its output.
func runLaunch(ctx context.Context, cmd *cli.Command, args ...string) (string, error) {
	var buf bytes.Buffer
	app := &cli.App{Name: "jetstream", Commands: []*cli.Command{cmd}, Writer: &buf, ErrWriter: &buf}
	err := app.RunContext(ctx, append([]string{"jetstream", "launch"}, args...))
	return buf.String(), err
}

// launchArgs are the flags of a launch against srv with the required parameters, changed
// by overrides: pairs of a flag and its value, "" to leave the flag out.
func launchArgs(srv *httptest.Server, overrides ...string) []string {
	flags := [][2]string{
		{"--dataflow-endpoint", srv.URL},
		{"--template-path", launchTestTemplate},
		{"--project-id", launchTestProject},
		{"--region", launchTestRegion},
		{"--date", "2026-10-07"},
		{"--results-staging", "gs://my-bucket/staging"},
	}
	for i := 0; i+1 < len(overrides); i += 2 {
		j := slices.IndexFunc(flags, func(f [2]string) bool { return f[0] == overrides[i] })
		if j < 0 {
			flags = append(flags, [2]string{overrides[i], overrides[i+1]})
		} else {
			flags[j][1] = overrides[i+1]
		}
	}
	var args []string
	for _, f := range flags {
		if f[1] != "" {
			args = append(args, f[0]+"="+f[1])
		}
	}
	return args
}

func newFakeDataflow(t *testing.T, f *fakeDataflow) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func jsonText(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestLaunchSendsTemplateAndParameters(t *testing.T) {
	hermeticLaunchEnv(t)
	f := &fakeDataflow{}
	srv := newFakeDataflow(t, f)
	out, err := runLaunch(context.Background(), launchCommand(), append(launchArgs(srv),
		"--experiment-slug", "slug-a", "--experiment-slug", "slug-b,slug-c",
		"--statistics-only", "--recreate-enrollments=false",
		"--min-clients", "50",
		"--warehouse", "bigquery:moz-fx-data-shared-prod",
		"--timeout", "6h",
		"--parameter", "labels=team=experiments,cost=jetstream",
		"--parameter", "empty=",
		"--service-account-email", "jetstream@my-project.iam.gserviceaccount.com",
		"--max-workers", "20",
		"--temp-location", "gs://my-bucket/tmp",
		"--staging-location", "gs://my-bucket/stage",
	)...)
	if err != nil {
		t.Fatalf("launch: %v\n%s", err, out)
	}
	want := map[string]any{
		"launchParameter": map[string]any{
			"jobName":              launchTestJobName,
			"containerSpecGcsPath": launchTestTemplate,
			"parameters": map[string]any{
				"date":                 "2026-10-07",
				"results_staging":      "gs://my-bucket/staging",
				"experiment_slug":      "slug-a,slug-b,slug-c",
				"statistics_only":      "true",
				"recreate_enrollments": "false",
				"min_clients":          "50",
				"warehouse":            "bigquery:moz-fx-data-shared-prod",
				"timeout":              "6h0m0s",
				"labels":               "team=experiments,cost=jetstream",
				"empty":                "",
			},
			"environment": map[string]any{
				"serviceAccountEmail": "jetstream@my-project.iam.gserviceaccount.com",
				"maxWorkers":          float64(20),
				"tempLocation":        "gs://my-bucket/tmp",
				"stagingLocation":     "gs://my-bucket/stage",
			},
		},
	}
	if len(f.launchBodies) != 1 {
		t.Fatalf("got %d launch requests, want 1", len(f.launchBodies))
	}
	if got := f.launchBodies[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("launch request body:\n%s\nwant:\n%s", jsonText(got), jsonText(want))
	}
	if got := f.recorded(); !slices.Equal(got, []string{launchTestLaunch}) {
		t.Errorf("requests %q, want only the launch (no --wait)", got)
	}
	for _, line := range []string{
		"launched Dataflow job " + launchTestJobName,
		"  id:      " + launchTestJobID,
		"  console: " + launchTestConsole,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

// launchSampleValues are valid values of every template parameter (a parameter added to
// TemplateParameters needs one here).
var launchSampleValues = map[string]string{
	"date": "2026-10-07", "experiment_slug": "a,b", "warehouse": "bigquery:my-project",
	"dataset_id": "mozanalysis", "bucket": "gs://my-bucket/json", "results_staging": "gs://my-bucket/staging",
	"experimenter_url": "https://experimenter.example", "config_repo": "/metric-hub@abc123,/extra",
	"analysis_periods": "week,overall", "statistics_only": "true", "recreate_enrollments": "false",
	"min_clients": "10", "log_to_bigquery": "true", "parallelism": "4", "retries": "2",
	"timeout": "1h30m0s", "seed": "42", "read_parts": "3",
}

func TestLaunchSendsEveryTemplateParameter(t *testing.T) {
	hermeticLaunchEnv(t)
	f := &fakeDataflow{}
	srv := newFakeDataflow(t, f)
	args := launchArgs(srv)
	want := map[string]any{}
	for _, p := range TemplateParameters {
		v, ok := launchSampleValues[p.Name]
		if !ok {
			t.Fatalf("launchSampleValues has no value for the template parameter %s", p.Name)
		}
		args = append(args, "--"+p.Flag()+"="+v)
		want[p.Name] = v
	}
	out, err := runLaunch(context.Background(), launchCommand(), args...)
	if err != nil {
		t.Fatalf("launch: %v\n%s", err, out)
	}
	if len(f.launchBodies) != 1 {
		t.Fatalf("got %d launch requests, want 1", len(f.launchBodies))
	}
	lp, _ := f.launchBodies[0]["launchParameter"].(map[string]any)
	if got := lp["parameters"]; !reflect.DeepEqual(got, want) {
		t.Errorf("parameters:\n%s\nwant:\n%s", jsonText(got), jsonText(want))
	}
	if _, ok := lp["environment"]; ok {
		t.Errorf("environment %v sent, but no environment flag is set", lp["environment"])
	}
}

func TestLaunchSharedFlagsAreKnown(t *testing.T) {
	// A template parameter whose run flag is one of launch's own flags must be declared in
	// sharedParameters, with a decision on what the flag sends.
	own := map[string]bool{}
	for _, f := range launchOwnFlags() {
		own[f.Names()[0]] = true
	}
	var collide []string
	for _, p := range TemplateParameters {
		if _, shared := sharedParameters[p.Name]; shared || !own[p.Flag()] {
			continue
		}
		collide = append(collide, p.Name)
	}
	if collide != nil {
		t.Errorf("template parameters %q have no flag of their own (a launch flag has their name) and are not in sharedParameters", collide)
	}
	for name := range sharedParameters {
		if !slices.ContainsFunc(TemplateParameters, func(p TemplateParameter) bool { return p.Name == name }) {
			t.Errorf("sharedParameters has %s, which is no template parameter", name)
		}
	}
}

func TestLaunchValidateOnly(t *testing.T) {
	hermeticLaunchEnv(t)
	f := &fakeDataflow{}
	srv := newFakeDataflow(t, f)
	out, err := runLaunch(context.Background(), launchCommand(), append(launchArgs(srv, "--job-name", "my-rerun"), "--validate-only", "--wait")...)
	if err != nil {
		t.Fatalf("launch --validate-only: %v\n%s", err, out)
	}
	if len(f.launchBodies) != 1 || f.launchBodies[0]["validateOnly"] != true {
		t.Fatalf("launch bodies %s, want one with validateOnly true", jsonText(f.launchBodies))
	}
	lp, _ := f.launchBodies[0]["launchParameter"].(map[string]any)
	if lp["jobName"] != "my-rerun" {
		t.Errorf("jobName %v, want the --job-name my-rerun", lp["jobName"])
	}
	if got := f.recorded(); !slices.Equal(got, []string{launchTestLaunch}) {
		t.Errorf("requests %q, want only the launch (there is no job to wait for)", got)
	}
	if !strings.Contains(out, "validated:") || strings.Contains(out, "launched") {
		t.Errorf("output should say the launch was validated, not launched:\n%s", out)
	}
}

func TestLaunchWaitUntilDone(t *testing.T) {
	hermeticLaunchEnv(t)
	f := &fakeDataflow{states: []string{"JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_RUNNING", "JOB_STATE_RUNNING", "JOB_STATE_DONE"}}
	srv := newFakeDataflow(t, f)
	out, err := runLaunch(context.Background(), launchCommand(), append(launchArgs(srv), "--wait", "--poll-interval", "2ms")...)
	if err != nil {
		t.Fatalf("launch --wait: %v\n%s", err, out)
	}
	if f.gets != 5 {
		t.Errorf("the job was read %d times, want 5 (until JOB_STATE_DONE)", f.gets)
	}
	var states []string
	for _, line := range strings.Split(out, "\n") {
		if _, state, ok := strings.Cut(line, "job "+launchTestJobID+": "); ok {
			states = append(states, state)
		}
	}
	if want := []string{"JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_DONE"}; !slices.Equal(states, want) {
		t.Errorf("printed states %q, want each change once: %q\n%s", states, want, out)
	}
	if len(f.cancelBodies) != 0 {
		t.Errorf("a finished job was cancelled: %s", jsonText(f.cancelBodies))
	}
}

func TestLaunchWaitJobNotDone(t *testing.T) {
	for _, state := range []string{"JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_DRAINED"} {
		t.Run(state, func(t *testing.T) {
			hermeticLaunchEnv(t)
			f := &fakeDataflow{states: []string{"JOB_STATE_RUNNING", state}}
			srv := newFakeDataflow(t, f)
			out, err := runLaunch(context.Background(), launchCommand(), append(launchArgs(srv), "--wait", "--poll-interval", "2ms")...)
			if err == nil {
				t.Fatalf("launch --wait of a job ending %s succeeded:\n%s", state, out)
			}
			want := fmt.Sprintf("job %s (%s) ended in %s, not JOB_STATE_DONE; see %s", launchTestJobID, launchTestJobName, state, launchTestConsole)
			if err.Error() != want {
				t.Errorf("error %q\nwant  %q", err, want)
			}
			if f.gets != 2 || len(f.cancelBodies) != 0 {
				t.Errorf("%d reads and %d cancels, want 2 reads and none", f.gets, len(f.cancelBodies))
			}
		})
	}
}

func TestLaunchTimeoutCancelsJob(t *testing.T) {
	hermeticLaunchEnv(t)
	f := &fakeDataflow{states: []string{"JOB_STATE_RUNNING"}}
	srv := newFakeDataflow(t, f)
	out, err := runLaunch(context.Background(), launchCommand(), append(launchArgs(srv), "--wait", "--poll-interval", "2ms", "--timeout", "40ms")...)
	if err == nil {
		t.Fatalf("launch --wait --timeout with a job that keeps running succeeded:\n%s", out)
	}
	want := fmt.Sprintf("job %s (%s) was cancelled after the --timeout of 40ms, while JOB_STATE_RUNNING; see %s", launchTestJobID, launchTestJobName, launchTestConsole)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\nwant it to say %q", err, want)
	}
	if f.gets < 2 {
		t.Errorf("the job was read %d times before the timeout, want several", f.gets)
	}
	requests := f.recorded()
	if last := requests[len(requests)-1]; last != launchTestCancel {
		t.Errorf("last request %q, want the cancel request %q", last, launchTestCancel)
	}
	if want := []map[string]any{{"requestedState": "JOB_STATE_CANCELLED"}}; !reflect.DeepEqual(f.cancelBodies, want) {
		t.Errorf("cancel requests %s, want %s", jsonText(f.cancelBodies), jsonText(want))
	}
	lp, _ := f.launchBodies[0]["launchParameter"].(map[string]any)
	params, _ := lp["parameters"].(map[string]any)
	if params["timeout"] != "40ms" {
		t.Errorf("the run's timeout parameter is %v, want --timeout's 40ms", params["timeout"])
	}
}

func TestLaunchInterruptCancelsJob(t *testing.T) {
	hermeticLaunchEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeDataflow{states: []string{"JOB_STATE_RUNNING"}, onGet: func(n int) {
		if n == 2 {
			cancel() // Ctrl-C while waiting
		}
	}}
	srv := newFakeDataflow(t, f)
	out, err := runLaunch(ctx, launchCommand(), append(launchArgs(srv), "--wait", "--poll-interval", "2ms")...)
	if err == nil {
		t.Fatalf("an interrupted launch --wait succeeded:\n%s", out)
	}
	want := fmt.Sprintf("job %s (%s) was cancelled when interrupted (context canceled), while JOB_STATE_RUNNING; see %s", launchTestJobID, launchTestJobName, launchTestConsole)
	if !strings.Contains(err.Error(), want) || !errors.Is(err, context.Canceled) {
		t.Errorf("error %q\nwant it to say %q and wrap context.Canceled", err, want)
	}
	if want := []map[string]any{{"requestedState": "JOB_STATE_CANCELLED"}}; !reflect.DeepEqual(f.cancelBodies, want) {
		t.Errorf("cancel requests %s, want %s", jsonText(f.cancelBodies), jsonText(want))
	}
	if f.gets != 2 {
		t.Errorf("the job was read %d times, want 2 (no poll after the interruption)", f.gets)
	}
}

func TestLaunchRetriesTransientErrors(t *testing.T) {
	hermeticLaunchEnv(t)
	f := &fakeDataflow{launchErrors: []int{503}, getErrors: []int{503, 429}, states: []string{"JOB_STATE_DONE"}}
	srv := newFakeDataflow(t, f)
	out, err := runLaunch(context.Background(), launchCommandWith(fastLaunchSettings), append(launchArgs(srv), "--wait", "--poll-interval", "2ms")...)
	if err != nil {
		t.Fatalf("launch after a 503: %v\n%s", err, out)
	}
	want := []string{launchTestLaunch, launchTestLaunch, launchTestGet, launchTestGet, launchTestGet}
	if got := f.recorded(); !slices.Equal(got, want) {
		t.Errorf("requests\n%q\nwant\n%q", got, want)
	}
	if !reflect.DeepEqual(f.launchBodies[0], f.launchBodies[1]) {
		t.Errorf("the retried launch differs:\n%s\nthen\n%s", jsonText(f.launchBodies[0]), jsonText(f.launchBodies[1]))
	}
	if n := strings.Count(out, "trying again"); n != 3 {
		t.Errorf("output tells of %d retries, want 3:\n%s", n, out)
	}
	if !strings.Contains(out, "launched Dataflow job "+launchTestJobName) || !strings.Contains(out, ": JOB_STATE_DONE") {
		t.Errorf("output lacks the launch or the final state:\n%s", out)
	}
}

func TestLaunchErrorsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []int
		launches int
		want     []string
	}{
		{"gives up after the attempts", []int{503, 502, 500, 503}, 3, []string{"launching " + launchTestTemplate + " as job " + launchTestJobName, "fake error 500", "3 attempts"}},
		{"bad request", []int{400}, 1, []string{"launching " + launchTestTemplate, "fake error 400"}},
		{"name taken", []int{409}, 1, []string{"fake error 409", "another --job-name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hermeticLaunchEnv(t)
			f := &fakeDataflow{launchErrors: tc.statuses}
			srv := newFakeDataflow(t, f)
			out, err := runLaunch(context.Background(), launchCommandWith(fastLaunchSettings), launchArgs(srv)...)
			if err == nil {
				t.Fatalf("launch succeeded despite HTTP %v:\n%s", tc.statuses, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(f.launchBodies) != tc.launches {
				t.Errorf("%d launch requests, want %d", len(f.launchBodies), tc.launches)
			}
		})
	}
}

func TestLaunchRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string // overrides of launchArgs
		more []string // further arguments
		want []string // in the error
	}{
		{"no template", []string{"--template-path", ""}, nil, []string{"--template-path is required"}},
		{"no date", []string{"--date", ""}, nil, []string{"--date is required"}},
		{"no project nor region", []string{"--project-id", "", "--region", ""}, nil, []string{"--project-id is required", "--region is required"}},
		{"bad date", []string{"--date", "2026-1-7"}, nil, []string{`--date: "2026-1-7" does not match`}},
		{"bad list", nil, []string{"--analysis-periods", "week", "--min-clients", "ten"}, []string{`--min-clients: "ten" does not match`}},
		{"bad parameter name", nil, []string{"--parameter", "bad name=1"}, []string{`--parameter "bad name=1": "bad name" is not a parameter name`}},
		{"parameter without value", nil, []string{"--parameter", "labels"}, []string{`--parameter: want NAME=VALUE, got "labels"`}},
		{"parameter with a flag", nil, []string{"--parameter", "min_clients=5"}, []string{"use --min-clients"}},
		{"parameter twice", nil, []string{"--parameter", "a=1", "--parameter", "a=2"}, []string{"parameter a is given twice"}},
		{"template not on GCS", []string{"--template-path", "templates/jetstream.json"}, nil, []string{"--template-path: want a Cloud Storage path"}},
		{"template is a bucket", []string{"--template-path", "gs://my-bucket"}, nil, []string{"--template-path: want the template's spec file"}},
		{"bad job name", []string{"--job-name", "Daily_Run"}, nil, []string{`--job-name: "Daily_Run" is not a Dataflow job name`, `"daily-run"`}},
		{"bad max workers", nil, []string{"--max-workers", "0"}, []string{"--max-workers: want 1 to 1000, got 0"}},
		{"bad temp location", nil, []string{"--temp-location", "/tmp"}, []string{"--temp-location: want a Cloud Storage path"}},
		{"bad poll interval", nil, []string{"--poll-interval", "0s"}, []string{"--poll-interval must be positive"}},
		{"negative timeout", nil, []string{"--timeout", "-1m"}, []string{"--timeout must not be negative"}},
		{"bad region", []string{"--region", "US Central"}, nil, []string{"--region: want a Dataflow region"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hermeticLaunchEnv(t)
			f := &fakeDataflow{}
			srv := newFakeDataflow(t, f)
			out, err := runLaunch(context.Background(), launchCommand(), append(launchArgs(srv, tc.args...), tc.more...)...)
			if err == nil {
				t.Fatalf("launch succeeded:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if got := f.recorded(); len(got) != 0 {
				t.Errorf("requests %q sent despite bad input", got)
			}
		})
	}
}

func TestLaunchFlagsFromEnvironment(t *testing.T) {
	hermeticLaunchEnv(t)
	f := &fakeDataflow{}
	srv := newFakeDataflow(t, f)
	t.Setenv("JETSTREAM_PROJECT_ID", launchTestProject)
	t.Setenv("JETSTREAM_TEMPLATE_PATH", launchTestTemplate)
	t.Setenv("JETSTREAM_MAX_WORKERS", "7")
	out, err := runLaunch(context.Background(), launchCommand(), launchArgs(srv, "--project-id", "", "--template-path", "")...)
	if err != nil {
		t.Fatalf("launch with JETSTREAM_PROJECT_ID and JETSTREAM_TEMPLATE_PATH: %v\n%s", err, out)
	}
	if len(f.launchBodies) != 1 {
		t.Fatalf("%d launch requests, want 1 (to %s)", len(f.launchBodies), launchTestLaunch)
	}
	lp, _ := f.launchBodies[0]["launchParameter"].(map[string]any)
	if lp["containerSpecGcsPath"] != launchTestTemplate || !reflect.DeepEqual(lp["environment"], map[string]any{"maxWorkers": float64(7)}) {
		t.Errorf("launch parameter %s, want the template and max workers of the environment", jsonText(lp))
	}
}

func TestLaunchHelpHasExample(t *testing.T) {
	out, err := runLaunch(context.Background(), launchCommand(), "--help")
	if err != nil {
		t.Fatalf("launch --help: %v", err)
	}
	for _, want := range []string{
		"Example", "jetstream launch --template-path gs://my-bucket/templates/jetstream.json",
		"--parameter", "--wait", "--timeout", "$JETSTREAM_PROJECT_ID",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	for _, p := range TemplateParameters {
		if !strings.Contains(out, "--"+p.Flag()+" ") {
			t.Errorf("help lacks the flag --%s of template parameter %s", p.Flag(), p.Name)
		}
	}
}

func TestLaunchDataflowJobName(t *testing.T) {
	for in, want := range map[string]string{
		"jetstream-2026-10-07":      "jetstream-2026-10-07",
		"Jetstream_2026.10.07":      "jetstream-2026-10-07",
		"jetstream-My Experiment!":  "jetstream-my-experiment",
		"--9lives--":                "lives",
		"2026-10-07":                "jetstream",
		"jetstream--été--2026":      "jetstream-t-2026",
		"jetstream-2026-10-07 ":     "jetstream-2026-10-07",
		"JETSTREAM-SLUG-A-2026-1-7": "jetstream-slug-a-2026-1-7",
	} {
		got := dataflowJobName(in)
		if got != want {
			t.Errorf("dataflowJobName(%q) = %q, want %q", in, got, want)
		}
		if !dataflowJobNameRE.MatchString(got) {
			t.Errorf("dataflowJobName(%q) = %q is not a valid job name", in, got)
		}
	}
}

func TestLaunchRetryDelays(t *testing.T) {
	delay := defaultLaunchSettings.RetryDelay
	var got []time.Duration
	for retry := 1; retry <= 6; retry++ {
		got = append(got, delay(retry))
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("retry delays %v, want %v", got, want)
	}
}

package schedule

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/jobs_dag.py from testdata/jobs.toml")

// goldenOptions are the options testdata/jobs_dag.py is rendered with (the launcher's
// tests render it with the same flags).
var goldenOptions = RenderOptions{
	Image:          "us-docker.pkg.dev/moz-fx-data-experiments/jetstream/jetstream-flex:2026.1.0",
	Namespace:      "jetstream",
	Executable:     "/template/jetstream",
	SpecPath:       "/template/jobs.toml",
	ServiceAccount: "jetstream",
}

const goldenDAG = "testdata/jobs_dag.py"

func TestRenderDAGGolden(t *testing.T) {
	spec, err := Load("testdata/jobs.toml", testCommands)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RenderDAG(spec.Jobs, goldenOptions)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(goldenDAG, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenDAG)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("RenderDAG differs from %s (go test ./schedule/ -run Golden -update rewrites it):\n%s", goldenDAG, got)
	}
	// The same jobs in any order render the same bytes.
	reversed := slices.Clone(spec.Jobs)
	slices.Reverse(reversed)
	again, err := RenderDAG(reversed, goldenOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, got) {
		t.Error("rendering the jobs in reverse order changed the DAG file")
	}
	if !slices.IsSortedFunc(spec.Jobs, func(a, b Job) int { return strings.Compare(a.Name, b.Name) }) || reversed[0].Name != "weekly-search-backfill" {
		t.Errorf("jobs were reordered in place: %v", reversed)
	}
}

// python3 returns the path of python3; the test fails without it (CI installs it).
func python3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to check the rendered DAG: %v", err)
	}
	return p
}

func TestGoldenDAGCompiles(t *testing.T) {
	py := python3(t)
	// A copy, so that py_compile's __pycache__ stays out of testdata.
	dir := t.TempDir()
	src := filepath.Join(dir, "jobs_dag.py")
	data, err := os.ReadFile(goldenDAG)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, "-m", "py_compile", src).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m py_compile %s: %v\n%s", goldenDAG, err, out)
	}
	// and a file that is not Python fails the same check (the check can fail)
	bad := filepath.Join(dir, "bad.py")
	if err := os.WriteFile(bad, []byte("with DAG(\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(py, "-m", "py_compile", bad).Run(); err == nil {
		t.Error("py_compile accepted a broken file")
	}
}

// stubAirflow holds just enough of Airflow's API for the DAG file to run: DAG (a context
// manager) and KubernetesPodOperator record their arguments, and a driver prints them.
var stubAirflow = map[string]string{
	"airflow/__init__.py": `DAGS = []
_current = []


class DAG:
    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.tasks = []
        DAGS.append(self)

    def __enter__(self):
        _current.append(self)
        return self

    def __exit__(self, *exc):
        _current.pop()
`,
	"airflow/providers/__init__.py":                           "",
	"airflow/providers/cncf/__init__.py":                      "",
	"airflow/providers/cncf/kubernetes/__init__.py":           "",
	"airflow/providers/cncf/kubernetes/operators/__init__.py": "",
	"airflow/providers/cncf/kubernetes/operators/pod.py": `import airflow


class KubernetesPodOperator:
    def __init__(self, **kwargs):
        self.kwargs = kwargs
        airflow._current[-1].tasks.append(self)
`,
	"driver.py": `import datetime
import json
import runpy
import sys

import airflow

module = runpy.run_path(sys.argv[1])


def encode(v):
    if isinstance(v, datetime.timedelta):
        return {"seconds": v.total_seconds()}
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    raise TypeError(type(v))


print(json.dumps([{
    "dag": d.kwargs,
    "tasks": [t.kwargs for t in d.tasks],
    "module_level": [k for k, v in module.items() if v is d],
} for d in airflow.DAGS], default=encode))
`,
}

type pyDelta struct {
	Seconds float64 `json:"seconds"`
}

type pyDAG struct {
	DAG struct {
		DagID         string  `json:"dag_id"`
		Description   string  `json:"description"`
		DocMD         string  `json:"doc_md"`
		Schedule      string  `json:"schedule"`
		StartDate     string  `json:"start_date"`
		Catchup       bool    `json:"catchup"`
		MaxActiveRuns int     `json:"max_active_runs"`
		DagrunTimeout pyDelta `json:"dagrun_timeout"`
		DefaultArgs   struct {
			Owner          string   `json:"owner"`
			Email          []string `json:"email"`
			EmailOnFailure bool     `json:"email_on_failure"`
			Retries        int      `json:"retries"`
		} `json:"default_args"`
		Tags []string `json:"tags"`
	} `json:"dag"`
	Tasks []struct {
		TaskID           string   `json:"task_id"`
		Name             string   `json:"name"`
		Namespace        string   `json:"namespace"`
		ServiceAccount   string   `json:"service_account_name"`
		Image            string   `json:"image"`
		Cmds             []string `json:"cmds"`
		Arguments        []string `json:"arguments"`
		ExecutionTimeout pyDelta  `json:"execution_timeout"`
		StartupTimeout   int      `json:"startup_timeout_seconds"`
		GetLogs          bool     `json:"get_logs"`
	} `json:"tasks"`
	ModuleLevel []string `json:"module_level"`
}

// TestGoldenDAGRuns runs the golden DAG file against a stub of Airflow's API and checks the
// arguments every DAG and task gets: one DAG per job with its cron schedule, timeouts, owner
// and the `jetstream schedule run` command.
func TestGoldenDAGRuns(t *testing.T) {
	py := python3(t)
	dir := t.TempDir()
	for name, src := range stubAirflow {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := filepath.Abs(goldenDAG)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-B", filepath.Join(dir, "driver.py"), golden)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running %s: %v\n%s", goldenDAG, err, stderr.Bytes())
	}
	var dags []pyDAG
	if err := json.Unmarshal(out, &dags); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	spec, err := Load("testdata/jobs.toml", testCommands)
	if err != nil {
		t.Fatal(err)
	}
	if len(dags) != len(spec.Jobs) {
		t.Fatalf("%d DAGs for %d jobs", len(dags), len(spec.Jobs))
	}
	for i, j := range spec.Jobs {
		d := dags[i]
		want := j.Timeout.Seconds()
		if d.DAG.DagID != j.DAGID() || d.DAG.Schedule != j.Cron() || d.DAG.Catchup || d.DAG.MaxActiveRuns != 1 ||
			d.DAG.DagrunTimeout.Seconds != want || d.DAG.Description != j.Description ||
			d.DAG.StartDate != "2025-01-01T00:00:00+00:00" {
			t.Errorf("job %s: DAG %+v", j.Name, d.DAG)
		}
		if a := d.DAG.DefaultArgs; a.Owner != j.Owner || !reflect.DeepEqual(a.Email, []string{j.Owner}) || !a.EmailOnFailure || a.Retries != 0 {
			t.Errorf("job %s: default_args %+v", j.Name, a)
		}
		if !reflect.DeepEqual(d.ModuleLevel, []string{"dag_" + strings.ReplaceAll(j.Name, "-", "_")}) {
			t.Errorf("job %s: module-level names of the DAG %q (Airflow finds DAGs there)", j.Name, d.ModuleLevel)
		}
		if len(d.Tasks) != 1 {
			t.Fatalf("job %s: %d tasks", j.Name, len(d.Tasks))
		}
		task := d.Tasks[0]
		if task.TaskID != "run" || task.Name != "jetstream-custom-"+j.Name || task.Namespace != goldenOptions.Namespace ||
			task.ServiceAccount != "jetstream" || task.StartupTimeout != 600 ||
			task.Image != goldenOptions.Image || !reflect.DeepEqual(task.Cmds, []string{"/template/jetstream"}) ||
			!reflect.DeepEqual(task.Arguments, []string{"schedule", "run", j.Name, "--spec", goldenOptions.SpecPath}) ||
			task.ExecutionTimeout.Seconds != want || !task.GetLogs {
			t.Errorf("job %s: task %+v", j.Name, task)
		}
	}
	// The values themselves, for the three kinds of schedule.
	type row struct {
		id, cron string
		timeout  float64
	}
	var got []row
	for _, d := range dags {
		got = append(got, row{d.DAG.DagID, d.DAG.Schedule, d.DAG.DagrunTimeout.Seconds})
	}
	wantRows := []row{
		{"jetstream_custom_daily_sidebar_plan", "15 0 * * *", 600},
		{"jetstream_custom_monthly_overall", "59 23 28 * *", 5400},
		{"jetstream_custom_weekly_search_backfill", "30 5 * * 1", 7200},
	}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("DAGs %v, want %v", got, wantRows)
	}
	wantDoc := "Scheduled jetstream job `weekly-search-backfill` of `/template/jobs.toml`, owned by someone@mozilla.com.\n\n" +
		"Re-analyses the \"search\" experiment's January weeks every Monday, for the search team's dashboard.\n\n" +
		"Runs `jetstream run --experiment-slug search-engine-defaults --from 2026-01-01 --to 2026-01-31 --period week " +
		"--warehouse bigquery:moz-fx-data-experiments --bucket gs://mozanalysis-custom/weekly-search-backfill` with a 2h0m0s timeout."
	if dags[2].DAG.DocMD != wantDoc {
		t.Errorf("doc_md\n got %q\nwant %q", dags[2].DAG.DocMD, wantDoc)
	}
	if doc := dags[1].DAG.DocMD; !strings.Contains(doc, "--sql-output-dir '/tmp/sql out' --output /data/custom/monthly-overall`") {
		t.Errorf("doc_md of monthly-overall: %q", doc)
	}
}

// Strings that need escaping in Python reach the DAG unchanged.
func TestRenderDAGEscapes(t *testing.T) {
	py := python3(t)
	j := Job{Name: "x", Args: []string{"plan"}, Schedule: Daily, Timeout: 1500 * time.Millisecond, Owner: "o@mozilla.com",
		Description: "quotes \" ' \\ newline\n tab\t unicode é ✓ \u2028 <html> {{ jinja }} %s"}
	src, err := RenderDAG([]Job{j}, RenderOptions{Image: `img"x`, Namespace: "ns'", SpecPath: `C:\spec.toml`})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "dag.py")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	// Parse the file and evaluate its literals, without Airflow.
	prog := `import ast, json, sys
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
out = {}
for node in ast.walk(tree):
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        out[node.targets[0].id] = ast.literal_eval(node.value)
    if isinstance(node, ast.keyword) and node.arg in ("description", "execution_timeout"):
        v = node.value
        out[node.arg] = ast.literal_eval(v) if node.arg == "description" else ast.unparse(v)
print(json.dumps(out))
`
	out, err := exec.Command(py, "-c", prog, path).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, src)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]string{"IMAGE": `img"x`, "NAMESPACE": "ns'", "JETSTREAM": "jetstream", "SPEC": `C:\spec.toml`, "description": j.Description,
		"execution_timeout": "datetime.timedelta(seconds=1.5)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// Without a service account the pods run as the namespace's default one.
	if bytes.Contains(src, []byte("service_account_name")) {
		t.Errorf("service_account_name rendered without RenderOptions.ServiceAccount:\n%s", src)
	}
}

func TestRenderDAGErrors(t *testing.T) {
	good := Job{Name: "a", Args: []string{"run"}, Schedule: Daily, Timeout: time.Hour, Owner: "o@mozilla.com"}
	with := func(f func(*Job)) []Job { j := good; f(&j); return []Job{j} }
	cases := []struct {
		name string
		jobs []Job
		opts RenderOptions
		want string
	}{
		{"no jobs", nil, goldenOptions, "render DAG: no jobs"},
		{"no image", []Job{good}, RenderOptions{Namespace: "n", SpecPath: "s"}, "render DAG: no image: the DAG's tasks run jetstream in a container image"},
		{"no namespace", []Job{good}, RenderOptions{Image: "i", SpecPath: "s"}, "render DAG: no Kubernetes namespace"},
		{"no spec path", []Job{good}, RenderOptions{Image: "i", Namespace: "n"}, "render DAG: no spec path: the tasks read the spec from this path in the image"},
		{"bad name", with(func(j *Job) { j.Name = "a_b" }), goldenOptions, `render DAG: job "a_b": invalid name: want [a-z0-9-]+`},
		{"twice", []Job{good, good}, goldenOptions, `render DAG: job "a" twice`},
		{"no timeout", with(func(j *Job) { j.Timeout = 0 }), goldenOptions, `render DAG: job "a": timeout 0s is not positive`},
		{"jinja in the image", []Job{good}, RenderOptions{Image: "img:{{ ds }}", Namespace: "n", SpecPath: "s"},
			`render DAG: image "img:{{ ds }}": Airflow would render it as a Jinja template`},
		{"jinja in the spec path", []Job{good}, RenderOptions{Image: "i", Namespace: "n", SpecPath: "{% x %}.toml"},
			`render DAG: spec path "{% x %}.toml": Airflow would render it as a Jinja template`},
		{"spec path Airflow reads as a template file", []Job{good}, RenderOptions{Image: "i", Namespace: "n", SpecPath: "/app/jobs.yaml"},
			`render DAG: spec path "/app/jobs.yaml": Airflow would read a task argument ending in .yaml as a template file: name the spec *.toml`},
		{"no command", with(func(j *Job) { j.Args = nil }), goldenOptions, `render DAG: job "a": no command`},
		{"no owner", with(func(j *Job) { j.Owner = "" }), goldenOptions, `render DAG: job "a": no owner`},
	}
	for _, c := range cases {
		_, err := RenderDAG(c.jobs, c.opts)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %s", c.name, err, c.want)
		}
	}
}

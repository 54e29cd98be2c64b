package schedule

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

//go:embed dag.py.tmpl
var dagTemplate string

var dag = template.Must(template.New("dag.py").Funcs(template.FuncMap{"py": pyString}).Parse(dagTemplate))

// RenderOptions say where the rendered DAGs run their jobs.
type RenderOptions struct {
	Image     string // the jetstream container image, e.g. us-docker.pkg.dev/PROJECT/REPO/jetstream:TAG
	Namespace string // the Kubernetes namespace of the pods
	// Executable is the jetstream binary in the image: a path, or a name on its PATH
	// ("" = "jetstream").
	Executable string
	// SpecPath is the path of the spec file inside the image, given to
	// `jetstream schedule run NAME --spec SPEC`.
	SpecPath string
	// ServiceAccount is the Kubernetes service account the pods run as (bound to a Google
	// service account by Workload Identity, for BigQuery and GCS); "" = the namespace's
	// default.
	ServiceAccount string
}

// dagJob is a job as the template sees it.
type dagJob struct {
	Job
	Var       string // the Python variable of its DAG
	PodName   string
	Doc       string // the DAG's doc_md
	TimeDelta string // the timeout as a Python datetime.timedelta
}

// RenderDAG renders the Airflow DAG file (Python) of a spec's jobs: one DAG per job, named
// jetstream_custom_<name with '-' → '_'>, scheduled by its cron expression (UTC) without
// catch-up, at most one run at a time, the run and the task both timing out after the
// job's timeout, its owner emailed on failure; its one task runs
// `jetstream schedule run NAME --spec SPEC` in opts.Image with the cncf.kubernetes
// provider's KubernetesPodOperator (in the Kubernetes cluster Airflow runs its pods in). Jobs are sorted by name, so the same jobs always render
// the same bytes.
func RenderDAG(jobs []Job, opts RenderOptions) ([]byte, error) {
	switch {
	case len(jobs) == 0:
		return nil, errors.New("render DAG: no jobs")
	case opts.Image == "":
		return nil, errors.New("render DAG: no image: the DAG's tasks run jetstream in a container image")
	case opts.Namespace == "":
		return nil, errors.New("render DAG: no Kubernetes namespace")
	case opts.SpecPath == "":
		return nil, errors.New("render DAG: no spec path: the tasks read the spec from this path in the image")
	}
	if opts.Executable == "" {
		opts.Executable = "jetstream"
	}
	// The pod operator's image, namespace, command and arguments are templated fields:
	// Airflow renders them with Jinja, and loads an argument ending in one of its template
	// extensions as a template file.
	for _, f := range []struct{ what, value string }{{"image", opts.Image}, {"namespace", opts.Namespace},
		{"executable", opts.Executable}, {"spec path", opts.SpecPath}} {
		if strings.Contains(f.value, "{{") || strings.Contains(f.value, "{%") || strings.Contains(f.value, "{#") {
			return nil, fmt.Errorf("render DAG: %s %q: Airflow would render it as a Jinja template", f.what, f.value)
		}
	}
	for _, ext := range []string{".yaml", ".yml", ".json"} {
		if strings.HasSuffix(opts.SpecPath, ext) {
			return nil, fmt.Errorf("render DAG: spec path %q: Airflow would read a task argument ending in %s as a template file: name the spec *.toml", opts.SpecPath, ext)
		}
	}
	sorted := slices.Clone(jobs)
	slices.SortFunc(sorted, func(a, b Job) int { return strings.Compare(a.Name, b.Name) })
	data := struct {
		RenderOptions
		Jobs []dagJob
	}{RenderOptions: opts}
	for i, j := range sorted {
		switch {
		case !jobName.MatchString(j.Name):
			return nil, fmt.Errorf("render DAG: job %q: invalid name: want [a-z0-9-]+", j.Name)
		case i > 0 && sorted[i-1].Name == j.Name:
			return nil, fmt.Errorf("render DAG: job %q twice", j.Name)
		case j.Timeout <= 0:
			return nil, fmt.Errorf("render DAG: job %q: timeout %s is not positive", j.Name, j.Timeout)
		case len(j.Args) == 0:
			return nil, fmt.Errorf("render DAG: job %q: no command", j.Name)
		case j.Owner == "":
			return nil, fmt.Errorf("render DAG: job %q: no owner", j.Name)
		}
		data.Jobs = append(data.Jobs, dagJob{
			Job:       j,
			Var:       "dag_" + strings.ReplaceAll(j.Name, "-", "_"),
			PodName:   "jetstream-custom-" + j.Name,
			Doc:       docMarkdown(j, opts.SpecPath),
			TimeDelta: "datetime.timedelta(seconds=" + strconv.FormatFloat(j.Timeout.Seconds(), 'f', -1, 64) + ")",
		})
	}
	var b bytes.Buffer
	if err := dag.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render DAG: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// docMarkdown is the documentation Airflow shows on the job's DAG page.
func docMarkdown(j Job, spec string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scheduled jetstream job `%s` of `%s`, owned by %s.\n\n", j.Name, spec, j.Owner)
	if j.Description != "" {
		b.WriteString(j.Description + "\n\n")
	}
	fmt.Fprintf(&b, "Runs `%s` with a %s timeout.", Quote(append([]string{"jetstream"}, j.RunArgs()...)), j.Timeout)
	return b.String()
}

// pyString renders s as a Python string literal (a JSON string is one).
func pyString(s string) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Quote joins words into a command line Split splits back into the same words, quoting
// with '…' the words that need it.
func Quote(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		if w != "" && !strings.ContainsFunc(w, needsQuote) {
			quoted[i] = w
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

func needsQuote(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_./:=@,+%", r)
}

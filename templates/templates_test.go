package templates_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jetstream-beam/jetstream/launcher"
)

// metadataParameter is one entry of metadata.json's parameters, as Dataflow reads it.
type metadataParameter struct {
	Name       string   `json:"name"`
	Label      string   `json:"label"`
	HelpText   string   `json:"helpText"`
	IsOptional *bool    `json:"isOptional"` // absent means required, for Dataflow
	Regexes    []string `json:"regexes"`
}

type metadata struct {
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Parameters  []metadataParameter `json:"parameters"`
}

func readMetadata(t *testing.T) metadata {
	t.Helper()
	raw, err := os.ReadFile("metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m metadata
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("metadata.json: %v", err)
	}
	return m
}

// TestMetadataMatchesTemplateParameters: metadata.json declares exactly
// launcher.TemplateParameters, in their order, field by field.
func TestMetadataMatchesTemplateParameters(t *testing.T) {
	m := readMetadata(t)
	if m.Name != "jetstream" {
		t.Errorf("metadata.json name = %q, want jetstream", m.Name)
	}
	if m.Description == "" {
		t.Error("metadata.json has no description")
	}
	var got, want []string
	for _, p := range m.Parameters {
		got = append(got, p.Name)
	}
	for _, p := range launcher.TemplateParameters {
		want = append(want, p.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("metadata.json parameters:\n got %q\nwant %q (launcher.TemplateParameters)", got, want)
	}
	for i, p := range launcher.TemplateParameters {
		mp := m.Parameters[i]
		if mp.Label != p.Label {
			t.Errorf("%s: label %q, want %q", p.Name, mp.Label, p.Label)
		}
		if mp.HelpText != p.Help {
			t.Errorf("%s: helpText %q, want %q", p.Name, mp.HelpText, p.Help)
		}
		if mp.IsOptional == nil {
			t.Errorf("%s: isOptional missing, want %v", p.Name, !p.Required)
		} else if *mp.IsOptional != !p.Required {
			t.Errorf("%s: isOptional %v, want %v", p.Name, *mp.IsOptional, !p.Required)
		}
		if !slices.Equal(mp.Regexes, p.Regexes) {
			t.Errorf("%s: regexes %q, want %q", p.Name, mp.Regexes, p.Regexes)
		}
	}
}

// TestTemplateParametersAreRunFlags: the program turns every template parameter into the run
// flag TemplateParameter.Flag names, so `jetstream run` must have it.
func TestTemplateParametersAreRunFlags(t *testing.T) {
	var flags []string
	for _, c := range launcher.App().Commands {
		if c.Name != "run" {
			continue
		}
		for _, f := range c.Flags {
			flags = append(flags, f.Names()...)
		}
	}
	if len(flags) == 0 {
		t.Fatal("launcher.App() has no run command with flags")
	}
	var missing []string
	for _, p := range launcher.TemplateParameters {
		if !slices.Contains(flags, p.Flag()) {
			missing = append(missing, "--"+p.Flag())
		}
	}
	if len(missing) > 0 {
		t.Errorf("template parameters without their run flag: %s", strings.Join(missing, ", "))
	}
}

// TestDockerfileMatchesMakefile: the image copies the binary `make flex-template-binary`
// builds — static, linux/amd64, from ./cmd/jetstream — to the path FLEX_TEMPLATE_GO_BINARY
// names, on Google's Go template launcher base image.
func TestDockerfileMatchesMakefile(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatal("make is needed to read the Makefile's flex-template-binary target (`.ci/run` installs it)")
	}
	// -n prints the commands without running them (the target is phony, so it always has one).
	cmd := exec.Command(makeBin, "-n", "--no-print-directory", "-f", "Makefile", "GO=go", "flex-template-binary")
	cmd.Dir = ".."
	// Under `make test` this is a sub-make: without its parent's variables it prints only
	// the target's command (no "Entering directory" lines).
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "MAKEFLAGS" && name != "MFLAGS" && name != "MAKELEVEL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n flex-template-binary: %v\n%s", err, out)
	}
	build := strings.Fields(strings.TrimSpace(string(out)))
	for _, env := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"} {
		if !slices.Contains(build, env) {
			t.Errorf("make flex-template-binary does not set %s: %s", env, out)
		}
	}
	i := slices.Index(build, "build")
	if i < 1 || build[i-1] != "go" {
		t.Fatalf("make flex-template-binary does not run go build: %s", out)
	}
	if build[len(build)-1] != "./cmd/jetstream" {
		t.Errorf("make flex-template-binary builds %q, want ./cmd/jetstream", build[len(build)-1])
	}
	o := slices.Index(build, "-o")
	if o < 0 || o+1 >= len(build) {
		t.Fatalf("make flex-template-binary has no -o: %s", out)
	}
	binary := build[o+1]

	d := readDockerfile(t)
	if !strings.HasPrefix(d.from, "gcr.io/dataflow-templates-base/go-template-launcher-base") {
		t.Errorf("Dockerfile FROM %s, want gcr.io/dataflow-templates-base/go-template-launcher-base", d.from)
	}
	if len(d.copies) != 1 {
		t.Fatalf("Dockerfile COPY instructions %q, want one (the binary)", d.copies)
	}
	src, dst := d.copies[0][0], d.copies[0][1]
	if filepath.Clean(src) != filepath.Clean(binary) {
		t.Errorf("Dockerfile copies %s, but make flex-template-binary writes %s", src, binary)
	}
	if env := d.env["FLEX_TEMPLATE_GO_BINARY"]; env != dst {
		t.Errorf("FLEX_TEMPLATE_GO_BINARY=%q, but the binary is copied to %q", env, dst)
	}
	if !filepath.IsAbs(dst) {
		t.Errorf("the binary's path in the image %q is not absolute", dst)
	}
	if d.entrypoint {
		t.Error("Dockerfile sets ENTRYPOINT: the base image's go_template_launcher must stay the entrypoint")
	}
}

type dockerfile struct {
	from       string
	copies     [][2]string // source, destination
	env        map[string]string
	entrypoint bool
}

// readDockerfile reads what the test checks of Dockerfile: FROM (with ARG defaults
// substituted), COPY and ENV (KEY=VALUE or KEY VALUE), ENTRYPOINT.
func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{env: map[string]string{}}
	args := map[string]string{}
	unquote := func(s string) string { return strings.Trim(s, `"'`) }
	for _, line := range strings.Split(strings.ReplaceAll(string(raw), "\\\n", " "), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			if name, value, ok := strings.Cut(fields[1], "="); ok {
				args[name] = unquote(value)
			}
		case "FROM":
			d.from = os.Expand(fields[1], func(name string) string { return args[name] })
		case "COPY":
			var paths []string
			for _, f := range fields[1:] {
				if !strings.HasPrefix(f, "--") {
					paths = append(paths, f)
				}
			}
			if len(paths) != 2 {
				t.Fatalf("Dockerfile: %q: want COPY SOURCE DESTINATION", line)
			}
			d.copies = append(d.copies, [2]string{paths[0], paths[1]})
		case "ENV":
			if name, value, ok := strings.Cut(fields[1], "="); ok {
				d.env[name] = unquote(value)
			} else if len(fields) == 3 {
				d.env[fields[1]] = unquote(fields[2])
			}
		case "ENTRYPOINT", "CMD":
			d.entrypoint = true
		}
	}
	return d
}

// python3 is the path of python3; the DAG's tests need it, so its absence fails them.
func python3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is not installed: it is needed to check the Airflow DAG templates/airflow/jetstream_dag.py (`.ci/run` installs it; apt-get install python3)")
	}
	return p
}

// TestAirflowDAGCompiles: the DAG file is valid Python.
func TestAirflowDAGCompiles(t *testing.T) {
	cmd := exec.Command(python3(t), "-m", "py_compile", "airflow/jetstream_dag.py")
	cmd.Env = append(os.Environ(), "PYTHONPYCACHEPREFIX="+t.TempDir()) // no __pycache__ in the tree
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python3 -m py_compile templates/airflow/jetstream_dag.py: %v\n%s", err, out)
	}
}

// TestAirflowDAG runs airflow/test_jetstream_dag.py: the DAG executed against stub airflow
// modules, its tasks, dependencies, schedule, retries, timeouts and launch body checked.
func TestAirflowDAG(t *testing.T) {
	cmd := exec.Command(python3(t), "airflow/test_jetstream_dag.py")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 templates/airflow/test_jetstream_dag.py: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestREADMEListsParameters: the deployment README's parameters table has every parameter.
func TestREADMEListsParameters(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range launcher.TemplateParameters {
		if !strings.Contains(string(raw), "| `"+p.Name+"` |") {
			t.Errorf("README.md: no row | `%s` | in the parameters table", p.Name)
		}
	}
}

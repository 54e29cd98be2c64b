package launcher

import (
	"errors"
	"flag"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jetstream-beam/jetstream/experimenter"
)

// FlexTemplateArgs turns the arguments Dataflow's Go Flex Template launcher starts the
// template's program with into the argv of `jetstream run --runner dataflow …` (argv[0] is
// executable), ready for App().Run.
//
// The launcher (/opt/google/dataflow/go_template_launcher, the FLEX_TEMPLATE_GO_BINARY
// program's parent) passes every argument as --name=value, without a subcommand, sorted by
// name: the template parameters of the launch request (TemplateParameters, as
// templates/metadata.json declares them) and Dataflow's own pipeline options in Beam's
// spelling — always --runner, --project, --region, --job_name and --template_location (the
// job file the launcher reads back, gs://…/staging/template_launches/…/job_object), and
// those of the launch's environment, e.g. --temp_location, --staging_location,
// --service_account_email, --max_num_workers, --subnetwork, --machine_type, --labels.
//
//   - A template parameter becomes its `run` flag (TemplateParameter.Flag): a list one flag
//     per comma-separated element, a boolean --flag=true or --flag=false; an empty value is
//     the parameter left out. A required parameter that is missing, a boolean that is not
//     one, or a value its regexes refuse is an error naming the parameter. Without
//     warehouse, the warehouse is bigquery:<project>; without experimenter_url, the
//     experiments are Mozilla's Experimenter's (experimenter.DefaultBaseURL), not the sample.
//   - --runner (dataflow or DataflowRunner), --project, --region, --temp_location,
//     --staging_location, --worker_binary and --dry_run become the runner flags
//     --project-id, --region, --temp-location, --staging-location, --worker-binary (default:
//     executable, which is also the workers' program) and --dry-run; project and region are
//     required, and temp_location defaults to <staging_location>/tmp, as Beam's does.
//   - Any other option must be one of Beam's Go flags (defined by the Dataflow runner and
//     the SDK, e.g. job_name, template_location, service_account_email, subnetwork,
//     max_num_workers): it is set on the global flag set, as Beam's own flag parsing would
//     have set it. An unknown option is an error naming it, and then no flag is set. A
//     template parameter wins over a Beam flag of the same name (parallelism).
//
// With --template_location, Beam's Dataflow runner writes the job there for the launcher to
// submit, and returns without waiting for the job.
func FlexTemplateArgs(args []string, executable string) ([]string, error) {
	given, err := parseFlexArgs(args)
	if err != nil {
		return nil, err
	}
	var errs []error
	runner := map[string]string{}
	beamValues := map[string]string{}
	params := map[string]string{}
	for _, a := range given {
		switch {
		case templateParameter(a.name) != nil:
			params[a.name] = a.value
		case slices.Contains(flexRunnerOptions, a.name):
			runner[a.name] = a.value
		case flag.Lookup(a.name) != nil:
			beamValues[a.name] = a.value
		default:
			errs = append(errs, fmt.Errorf("--%s: neither a template parameter (%s) nor a Beam pipeline option", a.name, templateParameterNames()))
		}
	}

	argv := []string{executable, "run", "--runner=" + runnerDataflow}
	if r, ok := runner["runner"]; ok && !strings.EqualFold(r, runnerDataflow) && !strings.EqualFold(r, "DataflowRunner") {
		errs = append(errs, fmt.Errorf("--runner=%s: the Flex Template runs on Dataflow (want dataflow or DataflowRunner)", r))
	}
	project := runner["project"]
	for _, name := range []string{"project", "region"} {
		if runner[name] == "" {
			errs = append(errs, fmt.Errorf("--%s: missing (the Flex Template launcher passes the job's %s)", name, name))
		}
	}
	temp, staging := runner["temp_location"], runner["staging_location"]
	if temp == "" && staging != "" {
		temp = strings.TrimSuffix(staging, "/") + "/tmp"
	}
	if temp == "" {
		errs = append(errs, errors.New("--temp_location: missing, and no --staging_location to put it under"))
	}
	worker := executable
	if w := runner["worker_binary"]; w != "" {
		worker = w
	}
	argv = append(argv, "--project-id="+project, "--region="+runner["region"], "--temp-location="+temp)
	if staging != "" {
		argv = append(argv, "--staging-location="+staging)
	}
	argv = append(argv, "--worker-binary="+worker)
	if d, ok := runner["dry_run"]; ok {
		b, err := parseFlexBool(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("--dry_run: %w", err))
		}
		argv = append(argv, "--dry-run="+strconv.FormatBool(b))
	}

	for _, p := range TemplateParameters {
		value, ok := params[p.Name]
		if !ok || value == "" {
			switch {
			case p.Required:
				errs = append(errs, fmt.Errorf("template parameter %s (--%s) is required: %s", p.Name, p.Name, p.Help))
			case p.Name == "warehouse" && project != "":
				argv = append(argv, "--warehouse=bigquery:"+project)
			case p.Name == "experimenter_url":
				argv = append(argv, "--experimenter-url="+experimenter.DefaultBaseURL)
			}
			continue
		}
		flagArgs, err := p.runArgs(value)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		argv = append(argv, flagArgs...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("flex template arguments: %w", errors.Join(errs...))
	}
	if err := setBeamFlagsOrRestore(beamValues); err != nil {
		return nil, fmt.Errorf("flex template arguments: %w", err)
	}
	return argv, nil
}

// flexRunnerOptions are the launcher's pipeline options that the runner flags of `run`
// cover (runnerFlags): they become those flags, not Beam flags.
var flexRunnerOptions = []string{"runner", "project", "region", "temp_location", "staging_location", "worker_binary", "dry_run"}

type flexArg struct{ name, value string }

// parseFlexArgs reads --name=value arguments (a bare --name is --name=true); a name given
// twice is an error.
func parseFlexArgs(args []string) ([]flexArg, error) {
	var out []flexArg
	seen := map[string]bool{}
	var errs []error
	for _, arg := range args {
		rest, ok := strings.CutPrefix(arg, "--")
		if !ok || rest == "" || strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "=") {
			errs = append(errs, fmt.Errorf("%q: want --name=value", arg))
			continue
		}
		name, value, hasValue := strings.Cut(rest, "=")
		if !hasValue {
			value = "true"
		}
		if seen[name] {
			errs = append(errs, fmt.Errorf("--%s: given twice", name))
			continue
		}
		seen[name] = true
		out = append(out, flexArg{name, value})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("flex template arguments: %w", errors.Join(errs...))
	}
	return out, nil
}

func templateParameter(name string) *TemplateParameter {
	for i := range TemplateParameters {
		if TemplateParameters[i].Name == name {
			return &TemplateParameters[i]
		}
	}
	return nil
}

func templateParameterNames() string {
	names := make([]string, len(TemplateParameters))
	for i, p := range TemplateParameters {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// runArgs are the `run` arguments that set the parameter to value (not empty).
func (p TemplateParameter) runArgs(value string) ([]string, error) {
	switch {
	case p.IsBool:
		b, err := parseFlexBool(value)
		if err != nil {
			return nil, fmt.Errorf("template parameter %s: %w", p.Name, err)
		}
		return []string{"--" + p.Flag() + "=" + strconv.FormatBool(b)}, nil
	case p.IsList:
		var out []string
		for _, v := range strings.Split(value, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, "--"+p.Flag()+"="+v)
			}
		}
		return out, nil
	}
	for _, re := range p.Regexes {
		if !regexp.MustCompile(re).MatchString(value) {
			return nil, fmt.Errorf("template parameter %s: %q does not match %s", p.Name, value, re)
		}
	}
	return []string{"--" + p.Flag() + "=" + value}, nil
}

func parseFlexBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", s)
}

// setBeamFlagsOrRestore sets Beam's Go flags to values, in name order; if one refuses its
// value, those already set get their previous values back.
func setBeamFlagsOrRestore(values map[string]string) error {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	previous := map[string]string{}
	for _, name := range names {
		f := flag.Lookup(name)
		old := f.Value.String()
		if err := flag.Set(name, values[name]); err != nil {
			for n, v := range previous {
				_ = flag.Set(n, v) // a flag's own String() is a value it accepts
			}
			return fmt.Errorf("beam option --%s=%s: %w", name, values[name], err)
		}
		previous[name] = old
	}
	return nil
}

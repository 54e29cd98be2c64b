package launcher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
)

// configRepoFlag and platformFlag are new flags each time: urfave/cli keeps a value read
// from the environment in the flag itself.
func configRepoFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "config-repo", Usage: "metric-hub-shaped folder, or PATH@REV for a git revision of it, merged over the embedded metric-hub (repeatable; later wins)"}
}

func platformFlag() cli.Flag {
	return &cli.StringFlag{Name: "platform", Value: "firefox_desktop", Usage: "platform (app_name) to resolve experiment configs for"}
}

func validateConfigCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate-config",
		Usage:     "check metric-hub configuration files: unknown keys, types, references, resolution",
		ArgsUsage: "FILE...",
		Description: "Each file is checked in the role its path gives it, as metric-hub lays out folders\n" +
			"(outcomes/<platform>/*.toml, defaults/*.toml, definitions/*.toml; any other file is an\n" +
			"experiment config), against the embedded metric-hub with --config-repo folders merged over\n" +
			"it, and resolved with a synthetic experiment (branches control and treatment, live since\n" +
			"2024-01-01) on --platform. Findings print as file:line:col: key: severity: message.\n" +
			"Unknown keys (which Jetstream silently ignores) are warnings; invalid TOML, values of the\n" +
			"wrong type, names that resolve to nothing and unknown statistics are errors.\n\n" +
			"Exit status: 0 when no file has an error (warnings allowed), 1 when any has, as\n" +
			"Jetstream's validate_config (which also uses 2 and 3 for dry-run data volumes; there is\n" +
			"no dry run here).",
		Flags: []cli.Flag{configRepoFlag(), platformFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError{fmt.Errorf("validate-config: no files given")}
			}
			failed, err := runValidateConfig(c.App.Writer, validateRequest{
				Files: c.Args().Slice(), Repos: c.StringSlice("config-repo"), Platform: c.String("platform"),
			})
			if err != nil {
				return err
			}
			if failed > 0 {
				return cli.Exit(fmt.Sprintf("jetstream: %d of %d files have errors", failed, c.NArg()), 1)
			}
			return nil
		},
	}
}

type validateRequest struct {
	Files    []string
	Repos    []string
	Platform string
}

// runValidateConfig prints the findings of every file and returns how many files have
// errors. err is for problems that are not the files' (an unusable --config-repo).
func runValidateConfig(out io.Writer, req validateRequest) (failed int, err error) {
	coll, err := configs.MetricHubWith(req.Repos...)
	if err != nil {
		return 0, err
	}
	for _, f := range req.Files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(out, "%s: error: %v\n", f, err)
			failed++
			continue
		}
		fs := coll.ValidateFile(f, data, req.Platform)
		for _, x := range fs {
			fmt.Fprintln(out, x.String())
		}
		if configs.HasErrors(fs) {
			failed++
		}
	}
	return failed, nil
}

func showConfigCommand() *cli.Command {
	return &cli.Command{
		Name:      "show-config",
		Usage:     "print an experiment's resolved configuration",
		ArgsUsage: "FILE|SLUG",
		Description: "Resolves an experiment config file, or the config of SLUG in the --config-repo folders,\n" +
			"as Jetstream does (platform defaults, the file, outcomes; names looked up in the\n" +
			"definitions) and prints it in the shape of the golden files: experiment, periods,\n" +
			"data_sources, segments, exposure_signal. The experiment is SLUG's record in\n" +
			"--experiments-file (Experimenter v8 JSON) when it is there, else the synthetic one\n" +
			"(branches control and treatment, live since 2024-01-01, on --platform). A SLUG without a\n" +
			"config file but in --experiments-file resolves from the platform defaults alone.\n" +
			"--format toml renders the same document as TOML (which has no null: null fields are left out).",
		Flags: []cli.Flag{configRepoFlag(), platformFlag(),
			&cli.StringFlag{Name: "experiments-file", Usage: "Experimenter v8 JSON (one record or a list)"},
			&cli.StringFlag{Name: "format", Value: "json", Usage: "json or toml"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError{fmt.Errorf("show-config: want one FILE or SLUG, got %d arguments", c.NArg())}
			}
			return runShowConfig(c.App.Writer, showRequest{
				Target: c.Args().First(), Repos: c.StringSlice("config-repo"), Platform: c.String("platform"),
				ExperimentsFile: c.String("experiments-file"), Format: c.String("format"), Now: time.Now().UTC(),
			})
		},
	}
}

type showRequest struct {
	Target          string
	Repos           []string
	Platform        string
	ExperimentsFile string
	Format          string
	Now             time.Time
}

func runShowConfig(out io.Writer, req showRequest) error {
	if req.Format != "json" && req.Format != "toml" {
		return fmt.Errorf("--format: want json or toml, got %q", req.Format)
	}
	coll, err := configs.MetricHubWith(req.Repos...)
	if err != nil {
		return err
	}
	var spec *configs.Spec
	slug := req.Target
	if isFile(req.Target) {
		if spec, err = configs.LoadFile(req.Target); err != nil {
			return err
		}
		slug = strings.TrimSuffix(filepath.Base(req.Target), filepath.Ext(req.Target))
	} else if s, ok := coll.Configs[slug]; ok {
		spec = s
	}
	exp, found, err := findExperiment(req.ExperimentsFile, slug, req.Now)
	if err != nil {
		return err
	}
	if spec == nil && !found {
		var known []string
		for k := range coll.Configs {
			known = append(known, k)
		}
		sort.Strings(known)
		msg := fmt.Sprintf("%s: no such file, and no experiment config with that slug", req.Target)
		if len(known) == 0 {
			msg += " (no config folder given: use --config-repo)"
		} else if s := configs.Closest(slug, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		if req.ExperimentsFile != "" {
			msg += " nor in " + req.ExperimentsFile
		}
		return fmt.Errorf("%s", msg)
	}
	if !found {
		exp = configs.SyntheticExperiment(slug, req.Platform)
	}
	a, err := coll.Resolve(spec, exp)
	if err != nil {
		return err
	}
	data, err := a.Report().JSON()
	if err != nil {
		return err
	}
	if req.Format == "toml" {
		if data, err = jsonToTOML(data); err != nil {
			return err
		}
	} else {
		data = append(data, '\n')
	}
	_, err = out.Write(data)
	return err
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// findExperiment looks slug up in an Experimenter file (by slug or normandy slug).
func findExperiment(file, slug string, now time.Time) (experimenter.Experiment, bool, error) {
	if file == "" {
		return experimenter.Experiment{}, false, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return experimenter.Experiment{}, false, fmt.Errorf("--experiments-file: %w", err)
	}
	exps, err := experimenter.Parse(data, now)
	if err != nil {
		return experimenter.Experiment{}, false, fmt.Errorf("%s: %w", file, err)
	}
	for _, e := range exps {
		if e.Slug == slug || e.NormandySlug == slug {
			return e, true, nil
		}
	}
	return experimenter.Experiment{}, false, nil
}

// jsonToTOML renders a JSON document as TOML: integers stay integers, nulls are left out.
func jsonToTOML(data []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return toml.Marshal(tomlValue(v))
}

func tomlValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if val != nil {
				out[k] = tomlValue(val)
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, val := range x {
			if val != nil {
				out = append(out, tomlValue(val))
			}
		}
		return out
	}
	return v
}

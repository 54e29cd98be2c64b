//go:build cgo

package warehouse

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jetstream-beam/jetstream/configs"
)

// metricHubDir is the metric-hub corpus beside the repository.
const metricHubDir = "../../shared/metric-hub"

// goldenConfigsDir holds the reference parser's resolution of each experiment config,
// with the platform chosen for it.
const goldenConfigsDir = "../../shared/golden/configs"

// corpusMetric is one metric select_expression written in a metric-hub file.
type corpusMetric struct {
	File     string // the file that defines it, relative to metric-hub
	Name     string
	Platform string
	Raw      string // as written
	SQL      string // rendered as Jetstream renders it ("" when rendering failed)
	Err      error  // the rendering error
}

// metricHubCorpus collects every metric that has a select_expression in the metric-hub
// corpus: the definitions of every platform (definitions/ and jetstream/definitions/),
// the experiment configs, the defaults and the outcomes. Each is rendered through
// configs as Jetstream renders it: the helper functions, {experiment_slug}, and — for the
// few that use {{ parameters.x }} — a resolution of their file against the synthetic
// experiment.
func metricHubCorpus(t *testing.T) []corpusMetric {
	t.Helper()
	root := metricHubDir
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("metric-hub corpus not found (tests read ../shared beside the checkout): %v", err)
	}
	defs, err := configs.LoadCollection(root)
	if err != nil {
		t.Fatal(err)
	}
	js, err := configs.LoadCollection(filepath.Join(root, "jetstream"))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := configs.LoadCollection(root, filepath.Join(root, "jetstream"))
	if err != nil {
		t.Fatal(err)
	}
	fns := merged.Functions
	rel := func(file string) string {
		if r, err := filepath.Rel(root, file); err == nil {
			return r
		}
		return file
	}
	var out []corpusMetric
	// add renders the metrics of one file; resolve, when not nil, resolves the file (for
	// parameters) and returns its resolved metrics.
	add := func(s *configs.Spec, platform, slug string, resolve func() (*configs.Analysis, error)) {
		var resolved *configs.Analysis
		var resolveErr error
		resolvedOnce := false
		for _, name := range sortedKeys(s.Metrics) {
			m := s.Metrics[name]
			if strings.TrimSpace(m.SelectExpression) == "" {
				continue
			}
			cm := corpusMetric{File: rel(s.File), Name: name, Platform: platform, Raw: m.SelectExpression}
			if strings.Contains(m.SelectExpression, "parameters") && resolve != nil {
				if !resolvedOnce {
					resolved, resolveErr = resolve()
					resolvedOnce = true
				}
				switch {
				case resolveErr != nil:
					cm.Err = resolveErr
				case resolved.Metrics[name] == nil:
					cm.Err = os.ErrNotExist
				default:
					cm.SQL = resolved.Metrics[name].SelectExpression
				}
			} else {
				cm.SQL, cm.Err = fns.RenderSelect(m.SelectExpression, slug)
			}
			out = append(out, cm)
		}
	}
	const slug = "coverage-test"
	for _, c := range []*configs.Collection{defs, js} {
		for _, p := range sortedKeys(c.Definitions) {
			add(c.Definitions[p], p, slug, nil)
		}
	}
	for _, p := range sortedKeys(js.Defaults) {
		add(js.Defaults[p], p, slug, nil)
	}
	for _, p := range sortedKeys(js.Outcomes) {
		for _, o := range sortedKeys(js.Outcomes[p]) {
			add(js.Outcomes[p][o], p, slug, func() (*configs.Analysis, error) {
				exp := configs.SyntheticExperiment(slug, p)
				exp.Outcomes = []string{o}
				return merged.Resolve(nil, exp)
			})
		}
	}
	for _, s := range sortedKeys(js.Configs) {
		p := goldenPlatform(s)
		spec := merged.Configs[s]
		add(js.Configs[s], p, s, func() (*configs.Analysis, error) {
			return merged.Resolve(spec, configs.SyntheticExperiment(s, p))
		})
	}
	return out
}

// goldenPlatform is the platform the golden resolution chose for an experiment config.
func goldenPlatform(slug string) string {
	data, err := os.ReadFile(filepath.Join(goldenConfigsDir, slug+".json"))
	if err == nil {
		var g struct{ Platform string }
		if json.Unmarshal(data, &g) == nil && g.Platform != "" {
			return g.Platform
		}
	}
	return "firefox_desktop"
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

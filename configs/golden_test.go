package configs

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/jetstream-beam/jetstream/experimenter"
)

const (
	metricHubDir = "../../shared/metric-hub"
	goldenDir    = "../../shared/golden/configs"
)

type golden struct {
	File       string          `json:"file"`
	Slug       string          `json:"slug"`
	Valid      bool            `json:"valid"`
	Error      *string         `json:"error"`
	Platform   string          `json:"platform"`
	Experiment json.RawMessage `json:"experiment"`
	Periods    json.RawMessage `json:"periods"`
	Sources    json.RawMessage `json:"data_sources"`
	Segments   json.RawMessage `json:"segments"`
	Exposure   json.RawMessage `json:"exposure_signal"`
}

// syntheticExperiment is the golden files' Experimenter record (README "The synthetic
// experiment").
func syntheticExperiment(slug, platform string) experimenter.Experiment {
	return SyntheticExperiment(slug, platform)
}

// decode reads JSON keeping number spelling (0 vs 0.0).
func decode(t *testing.T, data []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func loadMetricHub(t testing.TB) *Collection {
	t.Helper()
	c := NewCollection()
	for _, root := range []string{metricHubDir, metricHubDir + "/jetstream"} {
		// experiment configs are parsed one by one by the tests
		one, err := loadRoot(os.DirFS(root), ".", root)
		if err != nil {
			t.Fatal(err)
		}
		c.Merge(one)
	}
	return c
}

// experimentFields are the golden `experiment` fields the test compares.
var experimentFields = []string{"normandy_slug", "app_name", "app_id", "branches", "start_date", "end_date", "status",
	"enrollment_period", "last_enrollment_date", "reference_branch", "skip", "is_private", "dataset_id",
	"sample_size", "analysis_unit", "enrollments_query_type", "enrollment_query", "segments"}

func TestGoldenConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s: %v", goldenDir, err)
	}
	c := loadMetricHub(t)
	var total, verdicts, full, wsOnly int
	var mismatches []string
	for _, f := range files {
		if filepath.Base(f) == "index.json" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatal(err)
		}
		total++
		want := decode(t, data).(map[string]any)
		spec, err := LoadFile(filepath.Join(metricHubDir, "jetstream", g.File))
		var a *Analysis
		if err == nil {
			a, err = c.Resolve(spec, syntheticExperiment(g.Slug, g.Platform))
		}
		if (err == nil) != g.Valid {
			mismatches = append(mismatches, g.File+": verdict: got error "+errString(err)+", want valid="+boolString(g.Valid)+" "+deref(g.Error))
			continue
		}
		verdicts++
		if !g.Valid {
			wantMsg := deref(g.Error)
			wantMsg = wantMsg[strings.Index(wantMsg, ": ")+2:]
			if !strings.Contains(err.Error(), wantMsg) || !errors.Is(err, ErrDefinitionNotFound) {
				mismatches = append(mismatches, g.File+": error "+err.Error()+", want "+deref(g.Error))
				continue
			}
			full++
			continue
		}
		js, err := a.Report().JSON()
		if err != nil {
			t.Fatal(err)
		}
		got := decode(t, js).(map[string]any)
		var diffs []string
		for _, k := range []string{"periods", "data_sources", "segments", "exposure_signal"} {
			if !reflect.DeepEqual(got[k], want[k]) {
				diffs = append(diffs, k+": "+firstDiff(got[k], want[k]))
			}
		}
		ge, we := got["experiment"].(map[string]any), want["experiment"].(map[string]any)
		for _, k := range experimentFields {
			if !reflect.DeepEqual(ge[k], we[k]) {
				diffs = append(diffs, "experiment."+k+": "+firstDiff(ge[k], we[k]))
			}
		}
		if len(diffs) > 0 {
			// COMPATIBILITY.md §1: the reference reads TOML with a parser that alters
			// whitespace inside multi-line strings; accept differences in whitespace only.
			same := true
			for _, k := range []string{"periods", "data_sources", "segments", "exposure_signal"} {
				if !reflect.DeepEqual(normWS(got[k]), normWS(want[k])) {
					same = false
				}
			}
			if !same {
				mismatches = append(mismatches, g.File+": "+strings.Join(diffs, "; "))
				continue
			}
			wsOnly++
		}
		full++
	}
	sort.Strings(mismatches)
	for _, m := range mismatches {
		t.Error(m)
	}
	t.Logf("golden configs: %d files, verdicts match %d/%d, full match %d/%d (%d of them differ only in SQL whitespace, COMPATIBILITY.md §1)", total, verdicts, total, full, total, wsOnly)
	if full != total {
		t.Errorf("golden configs: full match %d/%d", full, total)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// firstDiff describes the first difference between two decoded JSON values.
func firstDiff(got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return short(got, want)
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		var ks []string
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			if !reflect.DeepEqual(g[k], w[k]) {
				return k + "." + firstDiff(g[k], w[k])
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return short(got, want)
		}
		for i := range w {
			if !reflect.DeepEqual(g[i], w[i]) {
				return "[" + string(rune('0'+i%10)) + "]." + firstDiff(g[i], w[i])
			}
		}
	}
	return short(got, want)
}

func short(got, want any) string {
	gs, _ := json.Marshal(got)
	ws, _ := json.Marshal(want)
	clip := func(b []byte) string {
		if len(b) > 300 {
			return string(b[:300]) + "…"
		}
		return string(b)
	}
	return "got " + clip(gs) + " want " + clip(ws)
}

// normWS collapses every run of white space in the strings of a decoded JSON value.
func normWS(v any) any {
	switch x := v.(type) {
	case string:
		return strings.Join(strings.Fields(x), " ")
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normWS(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normWS(e)
		}
		return out
	}
	return v
}

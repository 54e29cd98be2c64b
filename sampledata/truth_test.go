package sampledata

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestMeanClosedForms(t *testing.T) {
	truth, err := Generate(Options{Clients: 1, Design: sampleDesign()}, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	// Σ_{d=a..b} q^d for a ≥ 1, in closed form.
	geo := func(q float64, a, b int) float64 {
		return (math.Pow(q, float64(a)) - math.Pow(q, float64(b+1))) / (1 - q)
	}
	eMu := math.Exp(0.7 * 0.7 / 2) // E[μ]·E[G], E[G] = 2·0.5 = 1
	const ep, tag = 0.625, 0.9
	rowsC := func(a, b int) float64 { return ep * geo(0.99, a, b) }
	rowsT := func(a, b int) float64 { return ep * geo(0.9925, a, b) }
	tests := []struct {
		branch, metric string
		a, b           int
		want           float64
	}{
		{"control", MetricDaysOfUse, 0, 6, tag + rowsC(1, 6)},
		{"treatment", MetricDaysOfUse, 0, 6, tag + rowsT(1, 6)},
		{"control", MetricDaysOfUse, 7, 13, rowsC(7, 13)},
		{"control", MetricDaysOfUse, -7, -1, 7 * ep},
		{"treatment", MetricDaysOfUse, -3, 2, 3*ep + tag + rowsT(1, 2)},
		{"control", MetricActiveHours, 0, 28, eMu * (tag + rowsC(1, 28))},
		{"treatment", MetricActiveHours, 0, 28, 1.05 * eMu * (tag + rowsT(1, 28))},
		{"treatment", MetricActiveHours, -28, -1, 28 * ep * eMu},
		{"treatment", MetricURICount, 0, 6, 25 * 1.05 * eMu * (tag + rowsT(1, 6))},
		{"treatment", MetricSearchCount, 0, 6, 0.6 * 2 * (tag + rowsT(1, 6))},
		{"control", MetricAdClicks, 21, 27, 0.05 * 0.6 * 2 * rowsC(21, 27)},
		// Day 0 alone: annotated with probability 0.9; day 1 alone: alive 0.99, active 0.625.
		{"control", MetricRetained, 0, 0, tag},
		{"control", MetricRetained, 1, 1, 0.99 * ep},
		// Pre-enrollment week: 1 − E[(1−p)^7] = 1 − Π_{j<7} (1.2+j)/(3.2+j).
		{"control", MetricRetained, -7, -1, 1 - 1.2*2.2*3.2*4.2*5.2*6.2*7.2/(3.2*4.2*5.2*6.2*7.2*8.2*9.2)},
	}
	for _, tt := range tests {
		got, ok := truth.Mean(tt.branch, tt.metric, tt.a, tt.b)
		if !ok || math.Abs(got-tt.want) > 1e-12*math.Max(1, tt.want) {
			t.Errorf("Mean(%s, %s, [%d, %d]) = %.15g, %t; want %.15g", tt.branch, tt.metric, tt.a, tt.b, got, ok, tt.want)
		}
	}
}

// bruteRetained computes P(any counted row in [a, b]) by summing over the churn day directly
// and integrating p with the Beta function.
func bruteRetained(alpha, beta, tag, h float64, a, b int) float64 {
	lbeta := func(x, y float64) float64 {
		lx, _ := math.Lgamma(x)
		ly, _ := math.Lgamma(y)
		lxy, _ := math.Lgamma(x + y)
		return lx + ly - lxy
	}
	m := func(k int) float64 { return math.Exp(lbeta(alpha, beta+float64(k)) - lbeta(alpha, beta)) }
	trials := func(churn int) int {
		k := 0
		for d := a; d <= b; d++ {
			if d < 0 || (d >= 1 && d < churn) {
				k++
			}
		}
		return k
	}
	const horizon = 5000
	noRow := 0.0
	for churn := 1; churn <= horizon; churn++ {
		noRow += math.Pow(1-h, float64(churn-1)) * h * m(trials(churn))
	}
	noRow += math.Pow(1-h, horizon) * m(trials(math.MaxInt))
	if a <= 0 && b >= 0 {
		noRow *= 1 - tag
	}
	return 1 - noRow
}

func TestRetainedProbability(t *testing.T) {
	m := DefaultModel()
	for _, h := range []float64{0, 0.0085, 0.01, 0.2} {
		for _, w := range [][2]int{{0, 0}, {1, 1}, {5, 5}, {0, 6}, {7, 13}, {21, 27}, {0, 28}, {-7, -1}, {-28, -1}, {-3, 4}, {-1, 0}} {
			for _, tag := range []float64{0.9, 0, 1} {
				got := retainedProbability(m, tag, h, w[0], w[1])
				want := bruteRetained(m.ActivityAlpha, m.ActivityBeta, tag, h, w[0], w[1])
				if math.Abs(got-want) > 1e-12 {
					t.Errorf("h = %v, tag = %v, window %v: retained = %.15g, want %.15g", h, tag, w, got, want)
				}
			}
		}
	}
}

func TestSampleDesignTruth(t *testing.T) {
	truth, err := Generate(Options{Clients: 1, Design: sampleDesign()}, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	// Relative uplifts of the bundled sample (see DefaultEffects).
	tests := []struct {
		metric string
		a, b   int
		uplift float64
	}{
		{MetricActiveHours, 0, 6, 0.057401},
		{MetricActiveHours, 21, 27, 0.115420},
		{MetricActiveHours, 0, 28, 0.085435},
		{MetricURICount, 0, 28, 0.085435},
		{MetricDaysOfUse, 0, 28, 0.033748},
		{MetricSearchCount, 0, 28, 0.033748},
		{MetricRetained, 0, 28, 0.000491},
		{MetricRetained, 21, 27, 0.056199},
		{MetricActiveHours, -7, -1, 0},
	}
	for _, tt := range tests {
		e, ok := truth.Effect(tt.metric, tt.a, tt.b)
		if !ok || math.Abs(e.RelativeUplift-tt.uplift) > 1e-6 {
			t.Errorf("Effect(%s, [%d, %d]) = %+v, %t; want uplift %.4f", tt.metric, tt.a, tt.b, e, ok, tt.uplift)
		}
		if d := e.Treatment - e.Reference; ok && math.Abs(e.Difference-d) > 1e-12 {
			t.Errorf("difference %v, want %v", e.Difference, d)
		}
	}
	// The precomputed table holds the same values.
	for _, w := range truth.Windows {
		for _, mt := range w.Metrics {
			e, ok := truth.EffectFor(mt.Branch, mt.Metric, w.Start, w.End)
			if !ok || e != mt.Effect {
				t.Errorf("window %s %d, %s: table %+v, Effect %+v", w.Period, w.Index, mt.Metric, mt.Effect, e)
			}
		}
		if len(w.Metrics) != len(Metrics()) {
			t.Errorf("window %s %d has %d metrics", w.Period, w.Index, len(w.Metrics))
		}
	}
}

func TestEffectNotAvailable(t *testing.T) {
	truth, err := Generate(Options{Clients: 1, Design: sampleDesign()}, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, branch, metric string
		a, b                 int
	}{
		{"unknown metric", "treatment", "qualified_cumulative_days_of_use", 0, 6},
		{"unknown branch", "treatment-b", MetricActiveHours, 0, 6},
		{"empty window", "treatment", MetricActiveHours, 6, 0},
		{"beyond the data", "treatment", MetricActiveHours, 0, 30},
		{"before the history", "treatment", MetricActiveHours, -29, -1},
	}
	for _, tt := range tests {
		if e, ok := truth.EffectFor(tt.branch, tt.metric, tt.a, tt.b); ok {
			t.Errorf("%s: got %+v, want ok = false", tt.name, e)
		}
	}
	if _, ok := truth.Effect(MetricActiveHours, 0, 29); !ok {
		t.Error("window [0, 29] is covered by the data but has no truth")
	}
	single := truth
	single.Design.Branches = []Branch{{"control", 1}}
	if _, ok := single.Effect(MetricActiveHours, 0, 6); ok {
		t.Error("a design without a treatment branch has an effect")
	}
}

func TestEffectComparesFirstTreatmentBranch(t *testing.T) {
	d := sampleDesign()
	d.Branches = []Branch{{"treatment-a", 1}, {"control", 1}, {"treatment-b", 1}}
	truth, err := Generate(Options{Clients: 1, Design: d}, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := truth.Effect(MetricActiveHours, 0, 6)
	a, _ := truth.EffectFor("treatment-a", MetricActiveHours, 0, 6)
	self, _ := truth.EffectFor("control", MetricActiveHours, 0, 6)
	if e != a || e.RelativeUplift <= 0 || self.Difference != 0 {
		t.Errorf("Effect = %+v, EffectFor(treatment-a) = %+v, EffectFor(control) = %+v", e, a, self)
	}
	if n := len(truth.Windows[0].Metrics); n != 2*len(Metrics()) {
		t.Errorf("%d metric rows per window, want one per metric and treatment branch", n)
	}
}

func TestTruthJSONRoundTrip(t *testing.T) {
	d := sampleDesign()
	d.FeatureID = "sidebar"
	opts := Options{Clients: 300, Seed: 1<<64 - 1, PreDays: 10, Design: d, Effects: NullEffects()}
	truth, err := Generate(opts, &counter{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), TruthFile)
	if err := truth.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadTruth(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, truth) {
		t.Errorf("round trip changed the truth:\n got %+v\nwant %+v", back, truth)
	}
	if back.Seed != 1<<64-1 || back.PreDays != 10 || back.FirstDate != "2026-08-22" || back.LastDate != "2026-10-06" {
		t.Errorf("seed %d, pre days %d, dates %s … %s", back.Seed, back.PreDays, back.FirstDate, back.LastDate)
	}
	if _, err := LoadTruth(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("no error for a missing file")
	}
}

// windowAggregator is a Writer that computes each client's metrics over analysis windows as
// Jetstream would (enrollment-day rows count only if annotated) and accumulates them per
// branch.
type windowAggregator struct {
	slug     string
	windows  [][2]int
	branches map[string]int

	client   string
	branch   int
	enrolled time.Time
	values   [][]float64 // [window][metric]

	stats [][][]sampleStats // [branch][window][metric]
}

func newWindowAggregator(d Design, windows [][2]int) *windowAggregator {
	a := &windowAggregator{slug: d.Slug, windows: windows, branches: map[string]int{}, branch: -1}
	for i, b := range d.Branches {
		a.branches[b.Name] = i
		a.stats = append(a.stats, make([][]sampleStats, len(windows)))
		for w := range windows {
			a.stats[i][w] = make([]sampleStats, len(Metrics()))
		}
	}
	a.values = make([][]float64, len(windows))
	for w := range windows {
		a.values[w] = make([]float64, len(Metrics()))
	}
	return a
}

func (a *windowAggregator) flush() {
	if a.branch < 0 {
		return
	}
	for w := range a.windows {
		for m := range Metrics() {
			a.stats[a.branch][w][m].add(a.values[w][m])
			a.values[w][m] = 0
		}
	}
	a.branch = -1
}

func (a *windowAggregator) Event(e Event) error {
	if e.ClientID != a.client {
		a.flush()
		a.client = e.ClientID
	}
	if e.Category == CategoryNormandy && e.Method == MethodEnroll && e.StringValue == a.slug {
		a.branch = a.branches[e.MapValues[0].Value]
		a.enrolled = e.SubmissionDate
	}
	return nil
}

func (a *windowAggregator) ClientDay(c ClientDay) error {
	d := daysBetween(a.enrolled, c.SubmissionDate)
	if d == 0 && !slicesContainsKey(c.Experiments, a.slug) {
		return nil
	}
	for w, win := range a.windows {
		if d < win[0] || d > win[1] {
			continue
		}
		v := a.values[w]
		// Same order as Metrics().
		v[0] += c.ActiveHoursSum
		v[1] += float64(c.URICount)
		v[2]++
		v[3] += float64(c.SearchCount)
		v[4] += float64(c.AdClicks)
		v[5] = 1
	}
	return nil
}

func slicesContainsKey(kvs []KeyValue, key string) bool {
	for _, kv := range kvs {
		if kv.Key == key {
			return true
		}
	}
	return false
}

func TestTruthMatchesGeneratedData(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 50,000 clients")
	}
	d := sampleDesign()
	windows := [][2]int{{0, 6}, {7, 13}, {0, 28}, {-7, -1}}
	agg := newWindowAggregator(d, windows)
	truth, err := Generate(Options{Clients: 50_000, Seed: 2024, Design: d}, agg)
	if err != nil {
		t.Fatal(err)
	}
	agg.flush()
	for b, branch := range d.Branches {
		for w, win := range windows {
			for m, metric := range Metrics() {
				s := agg.stats[b][w][m]
				if int64(s.n) != truth.BranchCounts[branch.Name] {
					t.Fatalf("%d clients aggregated in %s, truth says %d", int(s.n), branch.Name, truth.BranchCounts[branch.Name])
				}
				want, ok := truth.Mean(branch.Name, metric, win[0], win[1])
				if !ok {
					t.Fatalf("no truth for %s %v", metric, win)
				}
				within(t, branch.Name+" "+metric+" "+windowName(win), s.mean(), want, s.se(), 4)
			}
		}
	}
}

func windowName(w [2]int) string { return fmt.Sprintf("[%d, %d]", w[0], w[1]) }

func TestDefaultEffectIsDetectable(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 20,000 clients")
	}
	// With 20,000 clients the overall active-hours uplift is clearly non-zero, and the sample
	// uplift agrees with the analytic one.
	d := sampleDesign()
	overall := [2]int{0, 28}
	agg := newWindowAggregator(d, [][2]int{overall})
	truth, err := Generate(Options{Clients: 20_000, Seed: 99, Design: d}, agg)
	if err != nil {
		t.Fatal(err)
	}
	agg.flush()
	for m, metric := range Metrics() {
		ref, treat := agg.stats[0][0][m], agg.stats[1][0][m]
		uplift := treat.mean()/ref.mean() - 1
		// Delta method for the ratio of two independent means.
		se := math.Sqrt(treat.se()*treat.se()/(ref.mean()*ref.mean()) +
			treat.mean()*treat.mean()*ref.se()*ref.se()/math.Pow(ref.mean(), 4))
		e, _ := truth.Effect(metric, overall[0], overall[1])
		t.Logf("%-12s uplift %+.4f ± %.4f (truth %+.4f, z of truth %.1f)", metric, uplift, se, e.RelativeUplift, e.RelativeUplift/se)
		within(t, metric+" uplift", uplift, e.RelativeUplift, se, 4)
		if metric == MetricActiveHours && e.RelativeUplift/se < 4 {
			t.Errorf("active_hours: true uplift %.4f is only %.1f standard errors", e.RelativeUplift, e.RelativeUplift/se)
		}
	}
}

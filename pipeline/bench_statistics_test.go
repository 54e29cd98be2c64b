package pipeline

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/transforms"
)

// The statistics benchmark: the part of the pipeline after the warehouse has returned the
// per-client rows (partial tallies per query and key, as ReadClients emits them →
// MergeTallies → ComputeCells → rows) on Prism, against the same statistics computed in plain Go in one
// process, on the sample experiment's weekly metrics.
//
//	go test -run '^$' -bench StatisticsPipeline -benchtime 1x ./pipeline/
//
// Sizes (environment):
//
//	JETSTREAM_BENCH_CLIENTS  clients (default 1,000,000)
//	JETSTREAM_BENCH_SAMPLES  num_samples of bootstrap_mean (default: unset, the statistic's
//	                         default — 10,000 — as the sample config sets no parameter)
//
// Reported: pipeline-s, plain-s (plain-tally-s + plain-compute-s), pipeline/plain, the
// peak RSS of each path (VmHWM, reset through /proc/self/clear_refs before each path, so
// both include the process before the path: runtime, Beam and the shared per-client data,
// reported as baseline-MiB), clients, replicates.
//
// Measured (2 vCPUs, shared with other work, so figures vary by ±30 %): 1,000,000 clients,
// 6,747,130 values, 52 rows, num_samples 10,000. With per-client (key, value) elements into
// a lifted CombinePerKey, the pipeline took 7.1–7.7 s against plain Go's 3.9–4.1 s (ratio
// 1.8–2.0; with num_samples 1 it was 3.7 s against 0.4 s: the per-element path, key
// encoding and the boxed Tally per AddInput). Since ReadClients tallies each query's rows
// itself and emits one partial tally per key (merged by MergeTallies): pipeline 4.13 s,
// plain 3.67 s (tally 0.33 s, compute 3.34 s), ratio 1.13; peak RSS 189 MiB pipeline,
// 173 MiB plain, from a 127 MiB baseline.

func init() {
	register.DoFn2x0[int, func(string, statistics.Tally)](&benchSourceFn{})
}

const (
	benchSeed   = 20240501 // per-client data
	benchShards = 8        // source elements of the pipeline (ReadClients' queries)
)

// benchMetrics are the sample's weekly metrics (samples/sample-sidebar-redesign.toml).
var benchMetrics = []string{"active_hours", "uri_count", "days_of_use", "retained"}

var benchSegments = []string{transforms.SegmentAll, "default_browser_users"}

var benchBranches = []string{"control", "treatment"}

// benchClients are the per-client rows a weekly metrics query of the sample returns:
// branch, the segment column, then the metrics in benchMetrics order.
type benchClients struct {
	Branch  []uint8
	Default []bool
	Metrics [4][]float64
}

func (c *benchClients) Len() int { return len(c.Branch) }

// generateBenchClients draws n clients deterministically, after sampledata's model for one
// week (sampledata/model.go), simplified: activity p ~ Kumaraswamy(2, 1.2) (≈ Beta(2, 1.2)),
// churn day 1 + Geometric(0.05 control, 0.04 treatment), a row on each of the 7 days with
// probability p while alive; per row x = μ·G·m with μ ~ LogNormal(0, 0.7), G ~ Gamma(2, 0.5),
// m = 1.05 for treatment; active hours on the 5 s grid; URIs ≈ Poisson(25·x) (normal
// approximation); 35 % default-browser users. active_hours has tens of thousands of
// distinct values, uri_count thousands, days_of_use 8, retained 2.
func generateBenchClients(n int) *benchClients {
	r := rand.New(rand.NewPCG(benchSeed, uint64(n)))
	c := &benchClients{Branch: make([]uint8, n), Default: make([]bool, n)}
	for m := range c.Metrics {
		c.Metrics[m] = make([]float64, n)
	}
	for i := range n {
		branch := uint8(r.IntN(2))
		p := math.Pow(1-math.Pow(1-r.Float64(), 1/1.2), 1/2.0)
		hazard, effect := 0.05, 1.0
		if branch == 1 {
			hazard, effect = 0.04, 1.05
		}
		churn := 1 + int(math.Floor(math.Log(1-r.Float64())/math.Log(1-hazard)))
		mu := math.Exp(0.7 * r.NormFloat64())
		var hours5s, uris, days float64
		for d := range 7 {
			if d >= churn || r.Float64() >= p {
				continue
			}
			x := mu * (r.ExpFloat64() + r.ExpFloat64()) * 0.5 * effect
			hours5s += math.Round(x * 720)
			uris += math.Max(0, math.Round(25*x+math.Sqrt(25*x)*r.NormFloat64()))
			days++
		}
		c.Branch[i] = branch
		c.Default[i] = r.Float64() < 0.35
		c.Metrics[0][i] = hours5s / 720
		c.Metrics[1][i] = uris
		c.Metrics[2][i] = days
		if days > 0 {
			c.Metrics[3][i] = 1
		}
	}
	return c
}

var benchCache struct {
	sync.Mutex
	clients map[int]*benchClients
}

// benchData returns the n clients, generated once per process (the benchmark's setup and
// Prism's loopback workers, which run in the same process, share them; a worker in another
// process would generate the same clients).
func benchData(n int) *benchClients {
	benchCache.Lock()
	defer benchCache.Unlock()
	if c, ok := benchCache.clients[n]; ok {
		return c
	}
	if benchCache.clients == nil {
		benchCache.clients = map[int]*benchClients{}
	}
	c := generateBenchClients(n)
	benchCache.clients[n] = c
	return c
}

// benchCells are the benchmark's cells: [segment][metric], the last metric the identity.
func benchCells() [][]transforms.Cell {
	cells := make([][]transforms.Cell, len(benchSegments))
	for s, seg := range benchSegments {
		for _, m := range append(append([]string(nil), benchMetrics...), transforms.Identity) {
			cells[s] = append(cells[s], transforms.Cell{Experiment: "sample-sidebar-redesign", Basis: "enrollments",
				Period: "week", Window: 1, Segment: seg, Metric: m})
		}
	}
	return cells
}

// benchSourceFn plays ReadClients after the warehouse has answered: shard i of the clients
// (a query's rows) exploded into the shard's tallies per (cell, branch) key — a value per
// metric plus the identity 1, in segment all and, for default-browser users, in the
// segment — and one partial tally emitted per key, as ReadClients does.
type benchSourceFn struct {
	Clients int
	Shards  int
}

func (f *benchSourceFn) ProcessElement(shard int, emitTally func(string, statistics.Tally)) {
	c := benchData(f.Clients)
	cells := benchCells()
	keys := make([][][]string, len(cells)) // [segment][metric][branch]
	for s := range cells {
		for _, cell := range cells[s] {
			keys[s] = append(keys[s], []string{cell.BranchKey(benchBranches[0]), cell.BranchKey(benchBranches[1])})
		}
	}
	tallies := transforms.Tallies{}
	emit := tallies.Add
	defer tallies.Emit(emitTally)
	n := c.Len()
	for i := shard * n / f.Shards; i < (shard+1)*n/f.Shards; i++ {
		b := c.Branch[i]
		for s := range keys {
			if s == 1 && !c.Default[i] {
				continue
			}
			for m := range benchMetrics {
				emit(keys[s][m][b], c.Metrics[m][i])
			}
			emit(keys[s][len(benchMetrics)][b], 1)
		}
	}
}

// benchConfig is the sample's weekly analysis: bootstrap_mean for the continuous metrics
// (num_samples the statistic's default unless samples > 0), binomial for retained.
func benchConfig(b *testing.B, samples int64) (transforms.Config, map[string][]string, map[string]map[string]any) {
	params := map[string]any{}
	if samples > 0 {
		params["num_samples"] = samples
	}
	enc, err := transforms.EncodeParams(params)
	if err != nil {
		b.Fatal(err)
	}
	stats := map[string][]string{"active_hours": {"bootstrap_mean"}, "uri_count": {"bootstrap_mean"},
		"days_of_use": {"bootstrap_mean"}, "retained": {"binomial"}, transforms.Identity: {"count"}}
	exp := transforms.ExperimentConfig{Slug: "sample-sidebar-redesign", TableSlug: "sample_sidebar_redesign",
		Branches: benchBranches, ReferenceBranch: "control",
		Windows: []transforms.WindowLength{{Period: "week", Window: 1, Days: 7}}}
	for _, m := range benchMetrics {
		mc := transforms.MetricConfig{Name: m}
		for _, st := range stats[m] {
			sc := transforms.StatisticConfig{Name: st}
			if st == "bootstrap_mean" {
				sc.Params = enc
			}
			mc.Statistics = append(mc.Statistics, sc)
		}
		exp.Metrics = append(exp.Metrics, mc)
	}
	return transforms.Config{Seed: 42, Experiments: []transforms.ExperimentConfig{exp}},
		stats, map[string]map[string]any{"bootstrap_mean": params}
}

// plainStatistics is the single-process computation: one goroutine tallies every client
// into its (cell, branch) tallies, then each cell's statistics are computed with the
// pipeline's seeds (statistics.Compute; a bootstrap uses all CPUs, as a pipeline worker
// does with Config.Workers = 0). It returns the rendered rows and the two durations.
func plainStatistics(b *testing.B, c *benchClients, cfg transforms.Config, stats map[string][]string,
	params map[string]map[string]any) (rows []string, tally, compute time.Duration) {
	start := time.Now()
	cells := benchCells()
	tallies := make([][][2]statistics.Tally, len(cells)) // [segment][metric][branch]
	for s := range cells {
		tallies[s] = make([][2]statistics.Tally, len(cells[s]))
	}
	for i := range c.Len() {
		br := c.Branch[i]
		for s := range cells {
			if s == 1 && !c.Default[i] {
				continue
			}
			for m := range benchMetrics {
				tallies[s][m][br].Add(c.Metrics[m][i])
			}
			tallies[s][len(benchMetrics)][br].Add(1)
		}
	}
	for s := range tallies {
		for m := range tallies[s] {
			for br := range tallies[s][m] {
				tallies[s][m][br].Compact()
			}
		}
	}
	tally = time.Since(start)

	start = time.Now()
	table := cells[0][0].StatisticsTable(cfg.Experiments[0].TableSlug)
	for s := range cells {
		for m, cell := range cells[s] {
			inputs := []statistics.Input{{Branch: benchBranches[0], Tally: tallies[s][m][0]}, {Branch: benchBranches[1], Tally: tallies[s][m][1]}}
			for _, name := range stats[cell.Metric] {
				st, err := statistics.New(name, params[name])
				if err != nil {
					b.Fatal(err)
				}
				key := cell.Key()
				out, errs := statistics.Compute(st, inputs, func(branch string) uint64 {
					return statistics.Seed(cfg.Seed, key, branch, name)
				})
				if len(errs) > 0 {
					b.Fatalf("plain Go: %s %s: %v", key, name, errs)
				}
				for _, r := range out {
					r.Metric, r.Segment, r.AnalysisBasis = cell.Metric, cell.Segment, cell.Basis
					rows = append(rows, renderRow(table, r))
				}
			}
		}
	}
	return rows, tally, time.Since(start)
}

func benchEnvInt(b *testing.B, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 10, 64)
	if err != nil || n < 0 {
		b.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux ≥ 4.0); false when
// that is not possible, in which case peaks are process-wide since the start.
func resetPeakRSS() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// procStatusMiB reads a kB field (VmHWM, VmRSS) of /proc/self/status, in MiB.
func procStatusMiB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return math.NaN()
}

// BenchmarkStatisticsPipeline1M times the statistics part of the pipeline (per-client
// elements → Analyse on Prism → rows) against the plain-Go computation of the same rows,
// and fails unless both give identical rows (same tallies and seeds: equal work). The plain
// path runs first; the peak RSS of each path is measured from a reset high-water mark.
func BenchmarkStatisticsPipeline1M(b *testing.B) {
	n := int(benchEnvInt(b, "JETSTREAM_BENCH_CLIENTS", 1_000_000))
	samples := benchEnvInt(b, "JETSTREAM_BENCH_SAMPLES", 0)
	cfg, stats, params := benchConfig(b, samples)
	replicates := samples
	if replicates == 0 {
		replicates = 10_000 // bootstrap_mean's default num_samples
	}

	b.StopTimer()
	c := benchData(n)
	elements := 0
	for i := range c.Len() {
		elements += len(benchMetrics) + 1
		if c.Default[i] {
			elements += len(benchMetrics) + 1
		}
	}
	runtime.GC()
	baseMiB := procStatusMiB("VmRSS")

	var plainD, tallyD, computeD, pipeD time.Duration
	var plainPeak, pipePeak float64
	reset := true
	for range b.N {
		reset = resetPeakRSS() && reset
		b.StartTimer()
		want, tally, compute := plainStatistics(b, c, cfg, stats, params)
		b.StopTimer()
		plainPeak = math.Max(plainPeak, procStatusMiB("VmHWM"))
		tallyD += tally
		computeD += compute
		plainD += tally + compute

		p, s := beam.NewPipelineWithRoot()
		shards := make([]int, benchShards)
		for i := range shards {
			shards[i] = i
		}
		tallies := beam.ParDo(s, &benchSourceFn{Clients: n, Shards: benchShards}, beam.CreateList(s, shards))
		noPairs := transforms.PairTallyPerBranch(s, beam.ParDo(s, clientPairKV, beam.CreateList(s, []clientPair{})))
		rows, errs := transforms.ComputeCells(s, cfg, transforms.MergeTallies(s, tallies), noPairs, beam.PCollection{})
		wantAny := make([]any, len(want))
		for i, w := range want {
			wantAny[i] = w
		}
		passert.Equals(s, beam.ParDo(s, renderRow, rows), wantAny...)
		passert.Empty(s, errs)

		reset = resetPeakRSS() && reset
		b.StartTimer()
		start := time.Now()
		err := ptest.Run(p)
		d := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatalf("pipeline (rows must equal the plain-Go rows): %v", err)
		}
		pipePeak = math.Max(pipePeak, procStatusMiB("VmHWM"))
		pipeD += d
		if b.N == 1 {
			b.Logf("%d clients, %d elements, %d rows, bootstrap num_samples %d: plain %.2fs (tally %.2fs, compute %.2fs), pipeline %.2fs",
				n, elements, len(want), replicates, (tally + compute).Seconds(), tally.Seconds(), compute.Seconds(), d.Seconds())
		}
	}
	if !reset {
		b.Logf("VmHWM could not be reset: both peaks are process-wide since the start")
	}
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(float64(n), "clients")
	b.ReportMetric(float64(replicates), "replicates")
	b.ReportMetric(per(pipeD), "pipeline-s")
	b.ReportMetric(per(plainD), "plain-s")
	b.ReportMetric(per(tallyD), "plain-tally-s")
	b.ReportMetric(per(computeD), "plain-compute-s")
	b.ReportMetric(pipeD.Seconds()/plainD.Seconds(), "pipeline/plain")
	b.ReportMetric(pipePeak, "pipeline-peak-MiB")
	b.ReportMetric(plainPeak, "plain-peak-MiB")
	b.ReportMetric(baseMiB, "baseline-MiB")
}

//go:build cgo

package launcher

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/sampledata"
	"github.com/jetstream-beam/jetstream/samples"
	"github.com/jetstream-beam/jetstream/transforms"
)

// The end-to-end benchmark: the local analysis (DuckDB + Prism, through Run) of the bundled
// sample experiment on a sample warehouse of N clients, with the config
// testdata/bench_e2e.toml (12 metrics: 10 numeric ones with bootstrap_mean,
// linear_model_mean adjusted by the metric over preenrollment_week, and deciles; 2 booleans
// with binomial; 2 segments and "all"). For each size it runs week 1 (2026-09-14) and
// overall (2026-10-07), one Run each, each followed by the plain-Go reference of its
// statistics, and prints one table of every size's stages. Nothing is asserted.
//
//	make bench BENCH_CLIENTS="1000000 5000000"
//	JETSTREAM_BENCH_E2E=1 JETSTREAM_BENCH_CLIENTS=1000000,5000000 go test -run '^$' -bench EndToEnd -benchtime 1x -timeout 0 ./launcher/
//
// Environment:
//
//	JETSTREAM_BENCH_E2E        must be set (else skipped, so that `make bench-micro`, which
//	                           runs every benchmark, does not analyse millions of clients)
//	JETSTREAM_BENCH_CLIENTS    clients, one size or several separated by commas or spaces
//	                           (default 1,000,000); a sub-benchmark per size
//	JETSTREAM_BENCH_SEED       seed of the sample warehouses (default 1)
//	JETSTREAM_BENCH_CACHE      folder of the generated warehouses (default
//	                           $HOME/.cache/jetstream); each is kept in bench-<clients>-seed<seed>/
//	                           and generated once (the generation is not part of the timings)
//	JETSTREAM_BENCH_OUTPUT     keep the runs' output in this folder (default: a temporary one)
//	JETSTREAM_BENCH_STATS_ONLY when set, also run each analysis's statistics-only pipeline
//	                           (reading the metrics tables it wrote) for the ratio to plain Go,
//	                           instead of estimating it (see below); it adds about a pipeline's
//	                           time per analysis
//	JETSTREAM_BENCH_RUNS       only these analyses: "week1", "overall" or both, separated by
//	                           commas (default both)
//	JETSTREAM_BENCH_DUCKDB     options of the DuckDB warehouse URL, e.g. memory_limit=1GB
//	                           (appended as duckdb:PATH?OPTIONS; default none: the warehouse
//	                           package's defaults)
//	JETSTREAM_BENCH_HEAP_PROFILE  a folder: during each analysis, whenever the Go heap's live
//	                           bytes (as of the last GC) reach a new maximum, at most once a
//	                           second, write the heap profile to heap-<run>.pb.gz there, so
//	                           that the file left is the profile at the Go peak (read it with
//	                           go tool pprof -top -inuse_space; the live bytes are logged)
//
// The stages come from the run's log lines (planning, planned, enrollments, pipeline,
// pipeline finished, published), timed as they are written (wall times):
//
//	plan             planning → planned: the decisions and the resolved config
//	SQL enrollments  planned → last enrollments: the enrollments query written in the
//	                 warehouse (recreated every time: RecreateEnrollments)
//	pipeline         pipeline → pipeline finished: the whole Beam pipeline
//	publish          pipeline finished → published: tables moved into place, JSON documents
//	finish           published → Run's return: config records and the summary
//
// and, inside the pipeline, the busy time of each stage's DoFns (the "pipeline finished"
// line's sql_seconds … write_seconds, from Beam counters: see transforms.CounterStageSQL for
// what each covers). Busy times are summed over Prism's workers (one per core): they may add
// up to more than the pipeline's wall time; the runner's own work (encoding, shuffles,
// bundle scheduling) is in none of them.
//
// After each analysis, the plain-Go reference computes the same statistics in this
// process without Beam (transforms.TallyInProcess + ComputeInProcess, on the plan the run
// built: one goroutine reads the metrics tables the run wrote and tallies them, then
// computes every statistic of every cell, a bootstrap using every core as on a pipeline
// worker). Its rows are the pipeline's (TestInProcessMatchesPipeline). The ratio divides
// the pipeline's time without the metrics SQL — its wall time minus the SQL's busy time
// (exact when the SQL runs one query at a time, as here: one data source per window), or
// the measured statistics-only pipeline with JETSTREAM_BENCH_STATS_ONLY — by plain Go's.
//
// Peak RSS per stage is the largest VmRSS sampled every 50 ms during it; an analysis's
// peak is VmHWM (reset through /proc/self/clear_refs before each analysis), which includes
// the test binary, DuckDB's memory and Prism, all in this process. "of which Go" is the
// largest memory the Go runtime held in the stage (runtime/metrics, sampled likewise): the
// rest of the RSS is DuckDB's (C) memory.
func BenchmarkEndToEnd(b *testing.B) {
	if os.Getenv("JETSTREAM_BENCH_E2E") == "" {
		// `make bench-micro` (-bench . ./...) would otherwise generate and analyse a million clients.
		b.Skip("set JETSTREAM_BENCH_E2E=1 (make bench) to run the end-to-end benchmark")
	}
	sizes := benchSizes(b)
	seed := uint64(benchEnvInt(b, "JETSTREAM_BENCH_SEED", 1))
	// The config file is named after the experiment's slug.
	cfg, err := os.ReadFile(filepath.Join("testdata", "bench_e2e.toml"))
	if err != nil {
		b.Fatal(err)
	}
	config := filepath.Join(b.TempDir(), samples.ConfigName)
	if err := os.WriteFile(config, cfg, 0o644); err != nil {
		b.Fatal(err)
	}
	var table []benchStage
	for _, clients := range sizes {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			dir := benchWarehouse(b, clients, seed)
			var stages []benchStage
			var sum benchSummary
			b.ResetTimer()
			for range b.N {
				stages, sum = benchSize(b, clients, dir, config)
			}
			b.StopTimer()
			for i := range stages {
				stages[i].clients = clients
			}
			table = append(table, stages...)
			b.ReportMetric(sum.total.Seconds(), "total-s")
			b.ReportMetric(float64(sum.peakKiB)/1024, "peak-MiB")
			b.ReportMetric(float64(sum.rows), "client-rows")
			b.ReportMetric(sum.plain.Seconds(), "plain-go-s")
			b.ReportMetric(sum.statistics.Seconds()/sum.plain.Seconds(), "pipeline/plain")
		})
	}
	if len(table) > 0 {
		printStages(os.Stdout, table)
	}
}

// benchSummary adds up the analyses of one size.
type benchSummary struct {
	total, plain, statistics time.Duration // Runs, plain-Go references, statistics pipelines
	rows                     int64
	peakKiB                  int64
}

// benchSize analyses week 1 and overall on the warehouse in dir, each followed by its
// plain-Go reference, and returns their stages.
func benchSize(b *testing.B, clients int, dir, config string) ([]benchStage, benchSummary) {
	out := os.Getenv("JETSTREAM_BENCH_OUTPUT")
	if out == "" {
		out = b.TempDir()
	}
	runs := []benchRun{
		{"week 1", time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC), configs.Week},
		{"overall", time.Date(2026, 10, 7, 0, 0, 0, 0, time.UTC), configs.Overall},
	}
	if only := os.Getenv("JETSTREAM_BENCH_RUNS"); only != "" {
		keep := map[string]bool{}
		for _, f := range strings.Split(only, ",") {
			keep[strings.TrimSpace(f)] = true
		}
		runs = slices.DeleteFunc(runs, func(r benchRun) bool { return !keep[strings.ReplaceAll(r.name, " ", "")] })
		if len(runs) == 0 {
			b.Fatalf("JETSTREAM_BENCH_RUNS=%q: want week1, overall or both", only)
		}
	}
	warehouse := "duckdb:" + filepath.Join(dir, sampledata.DatabaseFile)
	if opts := os.Getenv("JETSTREAM_BENCH_DUCKDB"); opts != "" {
		warehouse += "?" + opts
	}
	var all []benchStage
	var sum benchSummary
	for _, r := range runs {
		o := RunOptions{ConfigOnly: true, ConfigFile: config, Warehouse: warehouse,
			Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events", From: r.date, To: r.date,
			Periods: []configs.Period{r.period}, Output: out, ReadParts: readParts(0), RecreateEnrollments: true,
			Now: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)}
		a := benchAnalysis(b, r.name, o)
		sum.total += a.total
		sum.plain += a.plain
		sum.statistics += a.statistics
		sum.rows += a.rows
		sum.peakKiB = max(sum.peakKiB, a.peakKiB)
		all = append(all, a.stages...)
	}
	all = append(all, benchStage{run: "week 1 + overall", name: "total", took: sum.total, rows: sum.rows, peakKiB: sum.peakKiB})
	return all, sum
}

// benchRun is one analysis of the benchmark.
type benchRun struct {
	name   string
	date   time.Time
	period configs.Period
}

// benchResult is one analysis and its plain-Go reference.
type benchResult struct {
	stages            []benchStage
	total             time.Duration // Run
	plain, statistics time.Duration // plain Go; the pipeline without its metrics SQL
	rows              int64
	peakKiB           int64 // VmHWM of the Run
}

// benchAnalysis runs one analysis (Run with o), then its plain-Go reference on the plan the
// run built, and returns their stages.
func benchAnalysis(b *testing.B, name string, o RunOptions) benchResult {
	var plan *pipeline.Plan
	old := runPipelineOnce
	runPipelineOnce = func(ctx context.Context, p *pipeline.Plan, location string) (pipeline.Stats, error) {
		plan = p
		return pipeline.RunWithStats(ctx, p, location)
	}
	defer func() { runPipelineOnce = old }()
	rec := newStageRecorder()
	o.Log = newLogger(rec)
	stopProfiles := heapProfiles(b, name)
	resetPeakRSS()
	start := time.Now()
	rec.begin(start)
	var summary bytes.Buffer
	cpu := cpuTime()
	err := Run(context.Background(), o, &summary)
	stages := rec.end(time.Now())
	took, cpu := time.Since(start), cpuTime()-cpu
	stopProfiles()
	if err != nil {
		b.Fatalf("%s: %v\n%s\n%s", name, err, summary.String(), rec.log.String())
	}
	if plan == nil {
		b.Fatalf("%s: no pipeline ran\n%s", name, rec.log.String())
	}
	// A failed query is published as the metrics' errors and the run succeeds: timings of
	// such a run would be meaningless.
	if rec.clientRows == 0 || strings.Contains(summary.String(), "error:") {
		b.Fatalf("%s: the analysis failed\n%s", name, summary.String())
	}
	res := benchResult{total: took, rows: rec.clientRows, peakKiB: procStatusKiB("VmHWM")}
	var pipelineWall time.Duration
	for _, s := range stages {
		if s.name == "start" || s.name == "" {
			continue
		}
		s.run = name
		res.stages = append(res.stages, s)
		if s.name == "pipeline" {
			pipelineWall = s.took
			for _, busy := range rec.busy {
				busy.run = name
				res.stages = append(res.stages, busy)
			}
		}
	}
	_, goMem := maxPeak(stages)
	res.stages = append(res.stages, benchStage{run: name, name: "total", took: took, rows: rec.clientRows, peakKiB: res.peakKiB, goPeakKiB: goMem},
		benchStage{run: name, name: "  CPU (user + system, the whole process)", took: cpu, busy: true})

	plain := benchPlainGo(b, name, plan)
	res.stages = append(res.stages, plain...)
	res.plain = plain[len(plain)-1].took
	statsName := "pipeline without metrics SQL (wall − SQL busy)"
	res.statistics = pipelineWall - rec.sqlBusy
	if os.Getenv("JETSTREAM_BENCH_STATS_ONLY") != "" {
		statsName = "statistics-only pipeline (wall)"
		res.statistics = benchStatisticsOnly(b, name, plan)
	}
	res.stages = append(res.stages, benchStage{run: name, name: statsName, took: res.statistics},
		benchStage{run: name, name: "ratio pipeline / plain Go (target ≤ 3×)", ratio: res.statistics.Seconds() / res.plain.Seconds()})
	return res
}

// heapProfiles starts JETSTREAM_BENCH_HEAP_PROFILE's sampler for the analysis name (see
// BenchmarkEndToEnd) and returns its stop function; without the variable it does nothing.
func heapProfiles(b *testing.B, name string) (stop func()) {
	dir := os.Getenv("JETSTREAM_BENCH_HEAP_PROFILE")
	if dir == "" {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "heap-"+strings.ReplaceAll(name, " ", "")+".pb.gz")
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		var at time.Duration
		start := time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				b.Logf("%s: Go heap live peak %.0f MiB at %s (profile %s)", name, float64(peak)/(1<<20), at.Round(time.Second), path)
				return
			case <-tick.C:
			}
			metrics.Read(live)
			if v := live[0].Value.Uint64(); v > peak {
				peak, at = v, time.Since(start)
				if err := writeHeapProfile(path); err != nil {
					b.Errorf("heap profile: %v", err)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// writeHeapProfile writes the heap profile (as of the last GC) to path, replacing it whole.
func writeHeapProfile(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".heap-*")
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// benchPlainGo computes the plan's statistics in plain Go in this process (see
// BenchmarkEndToEnd) and returns its stages: read + tally, statistics, and their sum.
func benchPlainGo(b *testing.B, name string, plan *pipeline.Plan) []benchStage {
	ctx := context.Background()
	rec := newStageRecorder()
	start := time.Now()
	rec.begin(start)
	rec.mark("plain Go: read + tally", start)
	ct, err := transforms.TallyInProcess(ctx, plan.Queries)
	if err != nil {
		rec.end(time.Now())
		b.Fatalf("%s: plain Go: %v", name, err)
	}
	rec.mark("plain Go: statistics", time.Now())
	_, errs, err := transforms.ComputeInProcess(plan.Config, ct)
	stages := rec.end(time.Now())
	if err != nil {
		b.Fatalf("%s: plain Go: %v", name, err)
	}
	if len(errs) > 0 {
		b.Logf("%s: plain Go: %d statistics failed, e.g. %s %s: %s", name, len(errs), errs[0].Metric, errs[0].Statistic, errs[0].Message)
	}
	var out []benchStage
	for _, s := range stages[1:] { // stages[0] is "start", empty
		s.run = name
		out = append(out, s)
	}
	out[0].rows = ct.Rows
	rss, goMem := maxPeak(out)
	return append(out, benchStage{run: name, name: "plain Go (read + tally + statistics, 1 process)", took: time.Since(start),
		rows: ct.Rows, peakKiB: rss, goPeakKiB: goMem})
}

// benchStatisticsOnly runs the plan's pipeline again reading the metrics tables it wrote
// (Jetstream's --statistics-only) into a scratch folder, and returns its wall time.
func benchStatisticsOnly(b *testing.B, name string, plan *pipeline.Plan) time.Duration {
	reuse := *plan
	reuse.Queries = slices.Clone(plan.Queries)
	for i := range reuse.Queries {
		reuse.Queries[i].Reuse = true
	}
	start := time.Now()
	if _, err := pipeline.RunWithStats(context.Background(), &reuse, b.TempDir()); err != nil {
		b.Fatalf("%s: statistics-only pipeline: %v", name, err)
	}
	return time.Since(start)
}

// benchSizes reads JETSTREAM_BENCH_CLIENTS: sizes separated by commas or spaces.
func benchSizes(b *testing.B) []int {
	s := os.Getenv("JETSTREAM_BENCH_CLIENTS")
	if strings.TrimSpace(s) == "" {
		return []int{1_000_000}
	}
	var sizes []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n < 1 {
			b.Fatalf("JETSTREAM_BENCH_CLIENTS=%q: %q is not a positive integer", s, f)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

func benchEnvInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// benchWarehouse returns the folder of the sample warehouse of clients and seed, generating
// it first when absent (WriteDuckDB writes mozdata.duckdb last, by renaming it into place).
func benchWarehouse(b *testing.B, clients int, seed uint64) string {
	cache := os.Getenv("JETSTREAM_BENCH_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			b.Fatal(err)
		}
		cache = filepath.Join(home, ".cache", "jetstream")
	}
	dir := filepath.Join(cache, fmt.Sprintf("bench-%d-seed%d", clients, seed))
	if _, err := os.Stat(filepath.Join(dir, sampledata.DatabaseFile)); err == nil {
		return dir
	}
	design, err := sampleDesign()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	b.Logf("generating the sample warehouse of %d clients in %s", clients, dir)
	if _, err := sampledata.WriteDuckDB(dir, sampledata.Options{Clients: clients, Seed: seed, Design: design}); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated in %s", time.Since(start).Round(time.Millisecond))
	return dir
}

type benchStage struct {
	clients   int
	run, name string
	took      time.Duration
	busy      bool    // took is a busy time summed over workers, not a wall time
	ratio     float64 // > 0: the row is this ratio, not a time
	rows      int64   // client rows read (pipeline, read, plain Go and totals), 0 otherwise
	peakKiB   int64
	goPeakKiB int64 // the largest memory the Go runtime held (the rest of the RSS is DuckDB's, C)
}

// stageRecorder is the run's log: it keeps the lines, and starts a stage at each of the
// launcher's stage lines as it is written, while a sampler records the largest VmRSS of
// the current stage. From the "pipeline finished" line it keeps the client rows and the
// busy time of each stage of the pipeline.
type stageRecorder struct {
	mu           sync.Mutex
	log          bytes.Buffer
	stages       []benchStage
	current      string
	started      time.Time
	peak, goPeak int64
	clientRows   int64
	busy         []benchStage // the pipeline's stages, busy times
	sqlBusy      time.Duration
	stop, done   chan struct{}
}

// stageAfter names the stage a log line starts.
var stageAfter = map[string]string{
	"planning":          "plan",
	"planned":           "SQL enrollments",
	"pipeline":          "pipeline",
	"pipeline finished": "publish",
	"published":         "finish",
}

// pipelineStages are the busy-time fields of the "pipeline finished" line, and their rows.
var pipelineStages = []struct{ field, name string }{
	{"sql_seconds", "  SQL metrics (busy)"},
	{"read_seconds", "  read (busy)"},
	{"combine_seconds", "  combine (busy)"},
	{"bootstrap_seconds", "  bootstrap (busy)"},
	{"write_seconds", "  write (busy)"},
}

func newStageRecorder() *stageRecorder {
	return &stageRecorder{stop: make(chan struct{}), done: make(chan struct{})}
}

func (r *stageRecorder) begin(now time.Time) {
	r.current, r.started = "start", now
	go func() {
		defer close(r.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-tick.C:
				rss, goMem := procStatusKiB("VmRSS"), goRuntimeKiB()
				r.mu.Lock()
				r.peak, r.goPeak = max(r.peak, rss), max(r.goPeak, goMem)
				r.mu.Unlock()
			}
		}
	}()
}

// mark starts the stage name at now, for stages that write no log line.
func (r *stageRecorder) mark(name string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.switchTo(name, now)
}

// switchTo ends the current stage at now and starts name; r.mu is held.
func (r *stageRecorder) switchTo(name string, now time.Time) {
	r.peak, r.goPeak = max(r.peak, procStatusKiB("VmRSS")), max(r.goPeak, goRuntimeKiB())
	if r.current == name {
		return // a second enrollments line: the same stage goes on
	}
	r.stages = append(r.stages, benchStage{name: r.current, took: now.Sub(r.started), peakKiB: r.peak, goPeakKiB: r.goPeak})
	r.current, r.started, r.peak, r.goPeak = name, now, 0, 0
}

func (r *stageRecorder) end(now time.Time) []benchStage {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	r.switchTo("", now)
	return r.stages
}

func (r *stageRecorder) Write(p []byte) (int, error) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.Write(p)
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		msg, _ := line["message"].(string)
		if next, ok := stageAfter[msg]; ok {
			r.switchTo(next, now)
		}
		if msg == "pipeline finished" {
			r.pipelineFinished(line)
		}
	}
	return len(p), nil
}

// pipelineFinished keeps the figures of a "pipeline finished" line (logPipelineStats); the
// stage that just ended is the pipeline's. r.mu is held.
func (r *stageRecorder) pipelineFinished(line map[string]any) {
	rows, ok := line["client_rows"].(float64)
	if !ok {
		return
	}
	r.clientRows += int64(rows)
	r.stages[len(r.stages)-1].rows = int64(rows)
	for _, st := range pipelineStages {
		sec, _ := line[st.field].(float64)
		d := time.Duration(sec * float64(time.Second))
		s := benchStage{name: st.name, took: d, busy: true}
		if st.field == "read_seconds" {
			s.rows = int64(rows)
		}
		if st.field == "sql_seconds" {
			r.sqlBusy += d
		}
		r.busy = append(r.busy, s)
	}
}

func maxPeak(stages []benchStage) (rss, goMem int64) {
	for _, s := range stages {
		rss, goMem = max(rss, s.peakKiB), max(goMem, s.goPeakKiB)
	}
	return rss, goMem
}

var goMemorySamples = []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}

// goRuntimeKiB is the memory the Go runtime has mapped and not returned to the system,
// read without stopping the world.
func goRuntimeKiB() int64 {
	s := make([]metrics.Sample, len(goMemorySamples))
	copy(s, goMemorySamples)
	metrics.Read(s)
	return int64(s[0].Value.Uint64()-s[1].Value.Uint64()) / 1024
}

// procStatusKiB reads a field of /proc/self/status in KiB (0 when unavailable).
func procStatusKiB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM to the current RSS (Linux ≥ 4.0; ignored elsewhere).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// printStages prints one table of every size's stages: text columns left-aligned,
// figures right-aligned.
func printStages(w io.Writer, stages []benchStage) {
	fmt.Fprintf(w, "\nend-to-end (load average %s; busy times are summed over workers)\n", loadAverage())
	table := [][]string{{"clients", "run", "stage", "wall s", "busy s", "client rows", "rows/s", "peak RSS MiB", "of which Go MiB"}}
	for _, s := range stages {
		wall, busy, rows, rate, rss, goMem := "", "", "", "", "", ""
		switch {
		case s.ratio > 0:
			wall = fmt.Sprintf("%.2f×", s.ratio)
		case s.busy:
			busy = fmt.Sprintf("%.2f", s.took.Seconds())
		default:
			wall = fmt.Sprintf("%.2f", s.took.Seconds())
		}
		if s.rows > 0 {
			rows = strconv.FormatInt(s.rows, 10)
			if s.took > 0 {
				rate = strconv.FormatInt(int64(float64(s.rows)/s.took.Seconds()), 10)
			}
		}
		if s.peakKiB > 0 {
			rss = fmt.Sprintf("%.0f", float64(s.peakKiB)/1024)
			if s.goPeakKiB > 0 {
				goMem = fmt.Sprintf("%.0f", float64(s.goPeakKiB)/1024)
			}
		}
		table = append(table, []string{strconv.Itoa(s.clients), s.run, s.name, wall, busy, rows, rate, rss, goMem})
	}
	widths := make([]int, len(table[0]))
	for _, row := range table {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range table {
		var line strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i < 3 {
				line.WriteString(cell + pad + "  ")
			} else {
				line.WriteString(pad + cell + "  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(line.String(), " "))
	}
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

// cpuTime is the user + system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

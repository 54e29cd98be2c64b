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
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/sampledata"
	"github.com/jetstream-beam/jetstream/samples"
)

// The end-to-end benchmark: the local analysis (DuckDB + Prism, through Run) of the bundled
// sample experiment on a sample warehouse of N clients, with the config
// testdata/bench_e2e.toml (12 metrics: 10 numeric ones with bootstrap_mean,
// linear_model_mean adjusted by the metric over preenrollment_week, and deciles; 2 booleans
// with binomial; 2 segments and "all"). It runs week 1 (2026-09-14) and overall
// (2026-10-07), one Run each, and prints one table of the stages. Nothing is asserted.
//
//	make bench-e2e CLIENTS_BENCH=1000000
//	JETSTREAM_BENCH_E2E=1 go test -run '^$' -bench EndToEnd -benchtime 1x -timeout 0 ./launcher/
//
// Environment:
//
//	JETSTREAM_BENCH_E2E      must be set (else skipped, so that `make bench` stays as it was)
//	JETSTREAM_BENCH_CLIENTS  clients (default 1,000,000)
//	JETSTREAM_BENCH_SEED     seed of the sample warehouse (default 1)
//	JETSTREAM_BENCH_CACHE    folder of the generated warehouses (default
//	                         $HOME/.cache/jetstream); each is kept in bench-<clients>-seed<seed>/
//	                         and generated once (the generation is not part of the timings)
//	JETSTREAM_BENCH_OUTPUT   keep the run's output in this folder (default: a temporary one)
//
// The stages come from the run's log lines (planning, planned, enrollments, pipeline,
// pipeline finished, published), timed as they are written:
//
//	plan         planning → planned: the decisions and the resolved config
//	SQL enroll   planned → last enrollments: the enrollments query written in the warehouse
//	             (recreated every time: RecreateEnrollments)
//	pipeline     pipeline → pipeline finished: the metrics queries written in the warehouse,
//	             their read, combine + bootstrap and the staged tables, MERGED: the launcher
//	             logs nothing between them (the pipeline runs them all)
//	publish      pipeline finished → published: tables moved into place, JSON documents
//	finish       published → Run's return: config records and the summary
//
// Each analysis is then run again with StatisticsOnly (reading the metrics tables it wrote):
// its pipeline is read + combine/bootstrap + stage, and the difference of the two pipelines
// estimates the metrics SQL. The "week 1 + overall" total counts the analyses only.
//
// Peak RSS per stage is the largest VmRSS sampled every 50 ms during it; the run's peak is
// VmHWM (reset through /proc/self/clear_refs before the first run), which includes the
// test binary, DuckDB's memory and Prism, all in this process. "of which Go" is the largest
// memory the Go runtime held in the stage (runtime/metrics, sampled likewise): the rest of
// the RSS is DuckDB's (C) memory.
//
// The plain-Go reference of the statistics stage lives in the pipeline package's test
// (BenchmarkStatisticsPipeline, pipeline/bench_statistics_test.go), which this package
// cannot import; run it alongside:
//
//	JETSTREAM_BENCH_CLIENTS=1000000 go test -run '^$' -bench StatisticsPipeline -benchtime 1x ./pipeline/
func BenchmarkEndToEnd(b *testing.B) {
	if os.Getenv("JETSTREAM_BENCH_E2E") == "" {
		// `make bench` (-bench . ./...) would otherwise generate and analyse a million clients.
		b.Skip("set JETSTREAM_BENCH_E2E=1 (make bench-e2e) to run the end-to-end benchmark")
	}
	clients := benchEnvInt(b, "JETSTREAM_BENCH_CLIENTS", 1_000_000)
	seed := uint64(benchEnvInt(b, "JETSTREAM_BENCH_SEED", 1))
	dir := benchWarehouse(b, clients, seed)
	// The config file is named after the experiment's slug.
	cfg, err := os.ReadFile(filepath.Join("testdata", "bench_e2e.toml"))
	if err != nil {
		b.Fatal(err)
	}
	config := filepath.Join(b.TempDir(), samples.ConfigName)
	if err := os.WriteFile(config, cfg, 0o644); err != nil {
		b.Fatal(err)
	}
	// Each analysis is followed by its statistics-only rerun, which reads the metrics tables
	// the analysis wrote instead of running their queries: the difference of the two
	// pipelines is the metrics SQL.
	week1, overall := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 7, 0, 0, 0, 0, time.UTC)
	runs := []struct {
		name      string
		date      time.Time
		period    configs.Period
		statsOnly bool
	}{
		{"week 1", week1, configs.Week, false},
		{"week 1 stats-only", week1, configs.Week, true},
		{"overall", overall, configs.Overall, false},
		{"overall stats-only", overall, configs.Overall, true},
	}
	b.ResetTimer()
	for range b.N {
		out := os.Getenv("JETSTREAM_BENCH_OUTPUT")
		if out == "" {
			out = b.TempDir()
		}
		resetPeakRSS()
		var all []benchStage
		var total time.Duration
		var rows int64
		var derived []benchStage
		pipelineTook := map[string]time.Duration{}
		for _, r := range runs {
			rec := newStageRecorder()
			o := RunOptions{ConfigOnly: true, ConfigFile: config, Warehouse: "duckdb:" + filepath.Join(dir, sampledata.DatabaseFile),
				Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events", From: r.date, To: r.date,
				Periods: []configs.Period{r.period}, Output: out, ReadParts: 1, RecreateEnrollments: !r.statsOnly, StatisticsOnly: r.statsOnly,
				Now: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC), Log: newLogger(rec)}
			start := time.Now()
			rec.begin(start)
			var summary bytes.Buffer
			err := Run(context.Background(), o, &summary)
			stages := rec.end(time.Now())
			if err != nil {
				b.Fatalf("%s: %v\n%s\n%s", r.name, err, summary.String(), rec.log.String())
			}
			took := time.Since(start)
			if !r.statsOnly {
				total += took
				rows += rec.clientRows
			}
			for i := range stages {
				stages[i].run = r.name
				if strings.HasPrefix(stages[i].name, "pipeline") {
					pipelineTook[r.name] = stages[i].took
				}
			}
			if r.statsOnly {
				full := strings.TrimSuffix(r.name, " stats-only")
				derived = append(derived, benchStage{run: full, name: "≈ SQL metrics (pipeline − stats-only pipeline)",
					took: pipelineTook[full] - pipelineTook[r.name]})
			}
			all = append(all, stages...)
			rss, goMem := maxPeak(stages)
			all = append(all, benchStage{run: r.name, name: "total", took: took, rows: rec.clientRows, peakKiB: rss, goPeakKiB: goMem})
		}
		b.StopTimer()
		hwm := procStatusKiB("VmHWM")
		_, goMem := maxPeak(all)
		all = append(all, benchStage{run: "week 1 + overall", name: "total", took: total, rows: rows, peakKiB: hwm, goPeakKiB: goMem})
		all = append(all, derived...)
		printStages(os.Stdout, clients, all, hwm)
		b.ReportMetric(total.Seconds(), "total-s")
		b.ReportMetric(float64(hwm)/1024, "peak-MiB")
		b.ReportMetric(float64(rows), "client-rows")
		b.StartTimer()
	}
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
	run, name string
	took      time.Duration
	rows      int64 // client rows read (pipeline and totals), 0 otherwise
	peakKiB   int64
	goPeakKiB int64 // the largest memory the Go runtime held (the rest of the RSS is DuckDB's, C)
}

// stageRecorder is the run's log: it keeps the lines, and starts a stage at each of the
// launcher's stage lines as it is written, while a sampler records the largest VmRSS of
// the current stage.
type stageRecorder struct {
	mu           sync.Mutex
	log          bytes.Buffer
	stages       []benchStage
	current      string
	started      time.Time
	peak, goPeak int64
	clientRows   int64
	stop, done   chan struct{}
}

// stageAfter names the stage a log line starts.
var stageAfter = map[string]string{
	"planning":          "plan",
	"planned":           "SQL enroll",
	"pipeline":          "pipeline (SQL metrics + read + combine/bootstrap + stage)",
	"pipeline finished": "publish",
	"published":         "finish",
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
		var line struct {
			Message    string `json:"message"`
			ClientRows *int64 `json:"client_rows"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if next, ok := stageAfter[line.Message]; ok {
			r.switchTo(next, now)
		}
		if line.Message == "pipeline finished" && line.ClientRows != nil {
			r.clientRows += *line.ClientRows
			r.stages[len(r.stages)-1].rows = *line.ClientRows
		}
	}
	return len(p), nil
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

func printStages(w io.Writer, clients int, stages []benchStage, hwm int64) {
	fmt.Fprintf(w, "\nend-to-end, %d clients (load average %s)\n", clients, loadAverage())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tstage\twall s\tclient rows\trows/s\tpeak RSS MiB\tof which Go MiB\t")
	for _, s := range stages {
		if s.name == "start" || s.name == "" {
			continue
		}
		rows, rate := "", ""
		if s.rows > 0 {
			rows = strconv.FormatInt(s.rows, 10)
			rate = strconv.FormatInt(int64(float64(s.rows)/s.took.Seconds()), 10)
		}
		rss, goMem := "", ""
		if s.peakKiB > 0 {
			rss, goMem = fmt.Sprintf("%.0f", float64(s.peakKiB)/1024), fmt.Sprintf("%.0f", float64(s.goPeakKiB)/1024)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t\n", s.run, s.name, s.took.Seconds(), rows, rate, rss, goMem)
	}
	tw.Flush()
	fmt.Fprintf(w, "peak RSS of the process (VmHWM): %.0f MiB\n", float64(hwm)/1024)
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

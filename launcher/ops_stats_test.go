package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestRunLogsClientRows: the "pipeline finished" log line counts the per-client rows the
// pipeline read (Beam's jetstream/client_rows counter, through Prism's metrics), and each
// stage's busy time (the jetstream/stage_ns_* counters). The
// fixture enrolls two clients; week 1 on both bases with two data sources is four
// queries (basis × data source), each returning every enrolled client: 8 rows.
func TestRunLogsClientRows(t *testing.T) {
	o := fixtureRun(t)
	config := periodList("weekly", "active_hours", "active_hours_doubled") +
		bootstrapMetric("active_hours", activeHoursSQL, "clients_daily", bothBases) +
		bootstrapMetric("active_hours_doubled", activeHoursSQL+" * 2", "clients_last_seen", bothBases) +
		dataSources("clients_daily", "clients_last_seen")
	if err := os.WriteFile(o.ConfigFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	o.Log = newLogger(&logs)
	if err := Run(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	var finished []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["message"] == "pipeline finished" {
			finished = append(finished, rec)
		}
	}
	if len(finished) != 1 {
		t.Fatalf("%d 'pipeline finished' lines, want 1:\n%s", len(finished), logs.String())
	}
	if got := finished[0]["client_rows"]; got != float64(8) {
		t.Errorf("client_rows = %v, want 8 (2 clients × 4 queries)", got)
	}
	if finished[0]["severity"] != slog.LevelInfo.String() {
		t.Errorf("severity = %v, want INFO", finished[0]["severity"])
	}
	if _, ok := finished[0]["rows_per_second"].(float64); !ok {
		t.Errorf("no rows_per_second in %v", finished[0])
	}
	// Every stage did some work: the SQL wrote four metrics tables, every cell was read,
	// gathered, bootstrapped and written. Busy times are summed over workers, but each
	// stage ran inside the pipeline: none can be busy longer than the pipeline's wall time
	// times its workers (Prism's: one per CPU).
	limit := finished[0]["seconds"].(float64)*float64(runtime.NumCPU()) + 0.001 // the log rounds to ms
	for _, stage := range []string{"sql", "read", "combine", "bootstrap", "write"} {
		got, ok := finished[0][stage+"_seconds"].(float64)
		if !ok || got <= 0 || got > limit {
			t.Errorf("%s_seconds = %v, want a busy time in (0, %g] s", stage, finished[0][stage+"_seconds"], limit)
		}
	}
}

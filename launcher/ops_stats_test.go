package launcher

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// TestRunLogsClientRows: the "pipeline finished" log line counts the per-client rows the
// pipeline read (Beam's jetstream/client_rows counter, through Prism's metrics). The
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
}

//go:build integration

// Package bqemulator starts the open-source BigQuery emulator (goccy/bigquery-emulator, built
// by `make test-integration` and named by BIGQUERY_EMULATOR_BIN) for integration tests and
// loads Jetstream's integration-test telemetry into it.
package bqemulator

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/option"
)

type kv struct {
	Key   string `bigquery:"key" json:"key"`
	Value string `bigquery:"value" json:"value"`
}

type eventRow struct {
	SubmissionDate   civil.Date          `bigquery:"submission_date" json:"submission_date"`
	ClientID         string              `bigquery:"client_id" json:"client_id"`
	ProfileGroupID   string              `bigquery:"profile_group_id" json:"profile_group_id"`
	EventCategory    string              `bigquery:"event_category" json:"event_category"`
	EventMethod      bigquery.NullString `bigquery:"event_method" json:"event_method"`
	EventStringValue string              `bigquery:"event_string_value" json:"event_string_value"`
	EventMapValues   []kv                `bigquery:"event_map_values" json:"event_map_values"`
	SampleID         int64               `bigquery:"sample_id" json:"sample_id"`
}

type clientsDailyRow struct {
	SubmissionDate civil.Date `bigquery:"submission_date" json:"submission_date"`
	ClientID       string     `bigquery:"client_id" json:"client_id"`
	ProfileGroupID string     `bigquery:"profile_group_id" json:"profile_group_id"`
	ActiveHoursSum float64    `bigquery:"active_hours_sum" json:"active_hours_sum"`
	Experiments    []kv       `bigquery:"experiments" json:"experiments"`
}

// Start starts the emulator for project mozdata on a free port and returns its
// host:port; it is stopped when the test ends.
func Start(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("BIGQUERY_EMULATOR_BIN")
	if bin == "" {
		t.Fatal("BIGQUERY_EMULATOR_BIN is not set: run `make test-integration`, which builds the emulator")
	}
	port, grpcPort := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--project=mozdata", "--host=127.0.0.1", fmt.Sprintf("--port=%d", port), fmt.Sprintf("--grpc-port=%d", grpcPort))
	logFile, err := os.Create(filepath.Join(t.TempDir(), "emulator.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	host := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.Dial("tcp", host)
		if err == nil {
			conn.Close()
			return host
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not listen on %s within 30 s: %v", host, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// LoadTelemetry creates mozdata.telemetry.events and mozdata.telemetry.clients_daily in the
// emulator from the NDJSON fixtures, with the types BigQuery's autodetection gives them.
func LoadTelemetry(t testing.TB, host, dir string) {
	t.Helper()
	ctx := context.Background()
	bq, err := bigquery.NewClient(ctx, "mozdata", option.WithEndpoint("http://"+host), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer bq.Close()
	for _, ds := range []string{"telemetry", "mozanalysis"} {
		if err := bq.Dataset(ds).Create(ctx, nil); err != nil {
			t.Fatalf("dataset %s: %v", ds, err)
		}
	}
	loadTable[eventRow](t, bq, dir, "events", "test_events.ndjson")
	loadTable[clientsDailyRow](t, bq, dir, "clients_daily", "test_clients_daily.ndjson")
}

func loadTable[Row any](t testing.TB, bq *bigquery.Client, dir, table, file string) {
	t.Helper()
	ctx := context.Background()
	schema, err := bigquery.InferSchema(*new(Row))
	if err != nil {
		t.Fatal(err)
	}
	tbl := bq.Dataset("telemetry").Table(table)
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: schema}); err != nil {
		t.Fatalf("table %s: %v", table, err)
	}
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []*Row
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		r := new(Row)
		if err := json.Unmarshal(sc.Bytes(), r); err != nil {
			t.Fatalf("%s:%d: %v", file, line, err)
		}
		rows = append(rows, r)
	}
	if err := tbl.Inserter().Put(ctx, rows); err != nil {
		t.Fatalf("inserting into %s: %v", table, err)
	}
}

package launcher

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// A run's output depends only on the data, the plan and the seed: computed with one
// bootstrap goroutine, the queries in plan order and every bootstrap in place, or with eight
// goroutines, the queries in reverse order, every metrics table read in three parts by
// analysis_id hash and every bootstrap spread over shards of one block (256 replicates)
// computed apart and joined, every published file is byte-identical; and running the same
// date again into the same output leaves exactly the same files (WRITE_TRUNCATE semantics:
// no row twice, nothing appended).
func TestRunDeterministicAndIdempotent(t *testing.T) {
	url, _ := defaultSample(t)
	ctx := context.Background()
	day := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	o := RunOptions{Warehouse: url, Dataset: "mozanalysis", EventsTable: "mozdata.telemetry.events", From: day, To: day,
		Periods: []configs.Period{configs.Week}, Now: testNow}
	decisions, coll, err := runDecisions(ctx, o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	client, err := warehouse.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	run := func(out string, workers int, reverse bool, shardDraws int64, readParts int) map[string][]byte {
		t.Helper()
		plan, err := pipeline.NewPlan(decisions, client.Dialect(), pipeline.Options{Warehouse: url, Dataset: o.Dataset,
			EventsTable: o.EventsTable, Workers: workers, ShardDraws: shardDraws, ReadParts: readParts})
		if err != nil || len(plan.Queries) == 0 {
			t.Fatalf("plan: %v, %d queries", err, len(plan.Queries))
		}
		if reverse {
			slices.Reverse(plan.Queries)
		}
		for _, ep := range plan.Experiments {
			if _, err := ep.Enrollments.Ensure(ctx, client, o.Dataset, o.Now); err != nil {
				t.Fatal(err)
			}
		}
		store, err := export.OpenStore(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		pub := publication{Output: out, Store: store, Collection: coll, Warehouse: client, Dataset: o.Dataset, Start: o.Now}
		if err := runAndPublish(ctx, plan, pub, 0, 0, discardLogger); err != nil {
			t.Fatal(err)
		}
		return readTree(t, out)
	}
	dir := t.TempDir()
	one := run(filepath.Join(dir, "one"), 1, false, -1, 1)
	many := run(filepath.Join(dir, "many"), 8, true, 1, 3)
	if len(one) < 2 {
		t.Fatalf("the run published %d files, want the week's table and JSON at least", len(one))
	}
	sameTree(t, "1 worker vs 8 workers, queries reversed", one, many)
	again := run(filepath.Join(dir, "one"), 1, false, -1, 1)
	sameTree(t, "the same date run twice", one, again)
}

// readTree reads every file under dir, by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, what string, a, b map[string][]byte) {
	t.Helper()
	for name, data := range a {
		if other, ok := b[name]; !ok {
			t.Errorf("%s: %s missing from the second output", what, name)
		} else if !bytes.Equal(data, other) {
			t.Errorf("%s: %s differs", what, name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s: %s only in the second output", what, name)
		}
	}
}

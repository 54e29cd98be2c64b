package transforms

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/jetstream-beam/jetstream/warehouse"
)

// Identity is the pseudo-metric whose count rows give the clients per branch, as in Jetstream.
const Identity = "identity"

// SegmentAll is the segment of every enrolled client.
const SegmentAll = "all"

func init() {
	register.DoFn3x1[context.Context, Query, func(string, float64), error](&readFn{})
	register.Emitter2[string, float64]()
}

// ReadClients runs every query and explodes each client row into (branch key, value)
// pairs: one per non-NULL metric value plus one for the identity count.
func ReadClients(s beam.Scope, queries beam.PCollection) beam.PCollection {
	s = s.Scope("ReadClients")
	return beam.ParDo(s, &readFn{}, queries)
}

type readFn struct{}

func (f *readFn) ProcessElement(ctx context.Context, q Query, emit func(string, float64)) error {
	client, err := warehouse.Open(q.Warehouse)
	if err != nil {
		return err
	}
	// keys[s][m] is the cell of segment s (0 = all, then q.Segments) and metric m (the last
	// one is the identity count).
	base := Cell{Experiment: q.Experiment, Basis: q.Basis, Period: q.Period, Window: q.Window}
	segments := append([]string{SegmentAll}, q.Segments...)
	keys := make([][]Cell, len(segments))
	for s, seg := range segments {
		for _, m := range append(slices.Clone(q.Metrics), Identity) {
			c := base
			c.Segment, c.Metric = seg, m
			keys[s] = append(keys[s], c)
		}
	}
	first := len(warehouse.MetricsKeyColumns)
	metrics := first + len(q.Segments)
	in := make([]bool, len(segments))
	values := make([]float64, len(q.Metrics))
	present := make([]bool, len(q.Metrics))
	err = client.Query(ctx, q.SQL, func(cols []string, vals []any) error {
		if len(vals) != metrics+len(q.Metrics) {
			return fmt.Errorf("query for %s: got %d columns %v, want %d", keys[0][0].Key(), len(vals), cols, metrics+len(q.Metrics))
		}
		branch, ok := vals[1].(string)
		if !ok {
			return fmt.Errorf("query for %s: client %v has branch %v, want a string", keys[0][0].Key(), vals[0], vals[1])
		}
		in[0] = true
		for s := range q.Segments {
			// NULL (no segment rows, without a COALESCE) means not in the segment, as in Jetstream's filter.
			b, isBool := vals[first+s].(bool)
			if vals[first+s] != nil && !isBool {
				return fmt.Errorf("segment %q of client %v: value %v is not a boolean", q.Segments[s], vals[0], vals[first+s])
			}
			in[s+1] = b
		}
		for i := range q.Metrics {
			v, ok, err := numeric(vals[metrics+i])
			if err != nil {
				return fmt.Errorf("metric %q of client %v: %w", q.Metrics[i], vals[0], err)
			}
			values[i], present[i] = v, ok
		}
		for s := range segments {
			if !in[s] {
				continue
			}
			for i := range q.Metrics {
				if present[i] {
					emit(keys[s][i].BranchKey(branch), values[i])
				}
			}
			emit(keys[s][len(q.Metrics)].BranchKey(branch), 1)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading %s %s window %d of %s: %w", q.Basis, q.Period, q.Window, q.Experiment, err)
	}
	return nil
}

// numeric converts a warehouse value to float64; ok is false for NULL.
func numeric(v any) (float64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case bool:
		if x {
			return 1, true, nil
		}
		return 0, true, nil
	case int64:
		return float64(x), true, nil
	case int32:
		return float64(x), true, nil
	case int16:
		return float64(x), true, nil
	case int8:
		return float64(x), true, nil
	case uint64:
		return float64(x), true, nil
	case uint32:
		return float64(x), true, nil
	case float64:
		return x, !math.IsNaN(x), nil
	case float32:
		return float64(x), !math.IsNaN(float64(x)), nil
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true, nil
	case interface{ Float64() float64 }: // DuckDB DECIMAL
		return x.Float64(), true, nil
	}
	return 0, false, fmt.Errorf("value %v of type %T is not a number", v, v)
}

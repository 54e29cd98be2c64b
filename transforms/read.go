package transforms

import (
	"context"
	"fmt"
	"math"
	"math/big"

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
	base := Cell{Experiment: q.Experiment, Basis: q.Basis, Period: q.Period, Window: q.Window, Segment: SegmentAll}
	keys := make([]Cell, len(q.Metrics))
	for i, m := range q.Metrics {
		keys[i] = base
		keys[i].Metric = m
	}
	identity := base
	identity.Metric = Identity
	first := len(warehouse.MetricsKeyColumns)
	err = client.Query(ctx, q.SQL, func(cols []string, vals []any) error {
		if len(vals) != first+len(q.Metrics) {
			return fmt.Errorf("query for %s: got %d columns %v, want %d", base.Key(), len(vals), cols, first+len(q.Metrics))
		}
		branch, ok := vals[1].(string)
		if !ok {
			return fmt.Errorf("query for %s: client %v has branch %v, want a string", base.Key(), vals[0], vals[1])
		}
		for i := range q.Metrics {
			v, ok, err := numeric(vals[first+i])
			if err != nil {
				return fmt.Errorf("metric %q of client %v: %w", q.Metrics[i], vals[0], err)
			}
			if ok {
				emit(keys[i].BranchKey(branch), v)
			}
		}
		emit(identity.BranchKey(branch), 1)
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

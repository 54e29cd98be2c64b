package transforms

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Query is one warehouse read: the per-client metric values of one experiment, analysis
// basis and window. Result columns: warehouse.MetricsKeyColumns, then Segments (BOOL), then
// Metrics, in order.
type Query struct {
	Warehouse  string // warehouse URL, e.g. duckdb:sample/mozdata.duckdb
	SQL        string
	Experiment string
	Basis      string
	Period     string
	Window     int
	Segments   []string
	Metrics    []string
	// DataSource and Table name the query for people (errors, SQL files): Jetstream's
	// discrete metrics table <slug>_<basis>_<data source>_<period>_<window>.
	DataSource string
	Table      string
	// Identity: this query counts the clients (one query per basis and window does).
	Identity bool
	// Unanalysed are metric columns read only as parts of Pairs (a ratio's numerator or a
	// covariate that is not analysed itself in this period): no cells of their own.
	Unanalysed []string
	// Pairs are two columns read together per client, for the statistics of two columns.
	Pairs []PairColumns
	// Dataset, when set, is where the query's result is kept as Jetstream keeps it: the
	// metrics table Table (WRITE_TRUNCATE, labelled last_updated = Written, unix seconds),
	// which is then read. People query these tables for their own analyses.
	Dataset string
	Written int64
	// ReadParts is how many parts the metrics table is read in, by different workers
	// (≤ 1: one); the tallies of the parts merge into exactly the tallies of the whole.
	ReadParts int
	// Reuse reads the metrics table an earlier run wrote instead of running SQL again
	// (Jetstream's --statistics-only); a missing table is the data source's error.
	Reuse bool
}

// PairColumns names the cell metric of a two-column statistic and its columns:
// (numerator, denominator) for population_ratio, (metric, covariate) for a covariate-
// adjusted linear_model_mean.
type PairColumns struct {
	Metric string
	X, Y   string
	// Model: the pairs are only read by linear models without pre-treatments, so they are
	// tallied as a statistics.ModelTally with this TailFraction instead of every pair.
	Model        bool
	TailFraction float64
}

// Config is what the estimating and comparing steps need to know about the analysis. It
// travels inside the DoFns (serialised as JSON), so it holds only plain exported fields.
type Config struct {
	Seed uint64
	// Workers bounds the goroutines one statistic's bootstrap may use on a worker (0: all
	// CPUs). It never changes a result: replicates are split in fixed chunks.
	Workers int
	// ShardDraws is the bootstrap work (distinct values × replicates) above which a cell's
	// statistic is computed in shards of that size spread over workers (0: the default,
	// DefaultShardDraws; negative: never). It never changes a result.
	ShardDraws int64
	// ExactBootstrap makes bootstrap_mean draw one gamma variate per distinct value in
	// every replicate, instead of drawing runs of close values as one bin
	// (statistics.Options.ExactBootstrap).
	ExactBootstrap bool
	Experiments    []ExperimentConfig
}

// ExperimentConfig is the per-experiment part of Config.
type ExperimentConfig struct {
	Slug            string
	TableSlug       string // slug normalised for table names
	Branches        []string
	ReferenceBranch string
	Metrics         []MetricConfig
	Windows         []WindowLength
}

// MetricConfig lists the statistics of one metric.
type MetricConfig struct {
	Name       string
	Statistics []StatisticConfig
}

// StatisticConfig is a statistic with its config parameters, typed losslessly (JSON would
// turn TOML integers into floats), and the pre-treatments applied before it, in order.
type StatisticConfig struct {
	Name          string
	Params        []Param
	PreTreatments []PreTreatmentConfig
}

// PreTreatmentConfig is one pre-treatment with its parameters.
type PreTreatmentConfig struct {
	Name   string
	Params []Param
}

// WindowLength is the length in days of one analysis window of an experiment, the
// "analysis period length" normalize_over_analysis_period divides by.
type WindowLength struct {
	Period string
	Window int
	Days   int
}

// Param is one statistic parameter.
type Param struct {
	Key   string
	Kind  string // int, float, string or bool
	Value string
}

// EncodeParams turns a decoded TOML table into Params. A nested table (e.g.
// covariate_adjustment) becomes dotted keys ("covariate_adjustment.period").
func EncodeParams(m map[string]any) ([]Param, error) {
	var out []Param
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch v := m[k].(type) {
		case int64:
			out = append(out, Param{k, "int", strconv.FormatInt(v, 10)})
		case float64:
			out = append(out, Param{k, "float", strconv.FormatFloat(v, 'g', -1, 64)})
		case string:
			out = append(out, Param{k, "string", v})
		case bool:
			out = append(out, Param{k, "bool", strconv.FormatBool(v)})
		case map[string]any:
			nested, err := EncodeParams(v)
			if err != nil {
				return nil, fmt.Errorf("parameter %q: %w", k, err)
			}
			if len(nested) == 0 {
				out = append(out, Param{k, "table", ""})
			}
			for _, p := range nested {
				p.Key = k + "." + p.Key
				out = append(out, p)
			}
		default:
			return nil, fmt.Errorf("parameter %q: unsupported value %v (%T)", k, v, v)
		}
	}
	return out, nil
}

// DecodeParams is the inverse of EncodeParams.
func DecodeParams(ps []Param) (map[string]any, error) {
	m := make(map[string]any, len(ps))
	for _, p := range ps {
		var v any
		var err error
		switch p.Kind {
		case "int":
			v, err = strconv.ParseInt(p.Value, 10, 64)
		case "float":
			v, err = strconv.ParseFloat(p.Value, 64)
		case "bool":
			v, err = strconv.ParseBool(p.Value)
		case "string":
			v = p.Value
		case "table":
			v = map[string]any{}
		default:
			err = fmt.Errorf("unknown kind %q", p.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Key, err)
		}
		// Dotted keys rebuild nested tables.
		table, key := m, p.Key
		for {
			head, rest, nested := strings.Cut(key, ".")
			if !nested {
				break
			}
			sub, ok := table[head].(map[string]any)
			if !ok {
				sub = map[string]any{}
				table[head] = sub
			}
			table, key = sub, rest
		}
		table[key] = v
	}
	return m, nil
}

func (c Config) experiment(slug string) (ExperimentConfig, bool) {
	for _, e := range c.Experiments {
		if e.Slug == slug {
			return e, true
		}
	}
	return ExperimentConfig{}, false
}

// windowDays is the length of a window of the experiment, 0 when unknown.
func (e ExperimentConfig) windowDays(period string, window int) int {
	for _, w := range e.Windows {
		if w.Period == period && w.Window == window {
			return w.Days
		}
	}
	return 0
}

func (e ExperimentConfig) metric(name string) (MetricConfig, bool) {
	for _, m := range e.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return MetricConfig{}, false
}

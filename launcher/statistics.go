package launcher

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/clientdata"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/statistics"
)

func statisticsCommand() *cli.Command {
	return &cli.Command{
		Name:  "statistics",
		Usage: "compute one statistic over a per-client table and print Jetstream's statistic rows",
		Description: "Reads a table with a `branch` column and metric columns (CSV, JSONL or Parquet; an empty cell\n" +
			"or null is a null and is dropped, as Jetstream's query does) and prints the rows Jetstream would\n" +
			"write for that metric: every branch, and every ordered pair of branches compared.\n\n" +
			"Parameters use the config's names, e.g. --param num_samples=1000 --param confidence_interval=0.9\n" +
			"--param covariate_adjustment.period=preenrollment_week (the covariate is the column <metric>_pre).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Required: true, Usage: "per-client table: .csv, .jsonl/.ndjson or .parquet"},
			&cli.StringFlag{Name: "metric", Required: true, Usage: "metric column (for population_ratio: the name of the result rows)"},
			&cli.StringFlag{Name: "statistic", Value: "bootstrap_mean", Usage: "Jetstream statistic name"},
			&cli.StringSliceFlag{Name: "param", Usage: "statistic parameter key=value (repeatable; dotted keys make tables)"},
			&cli.StringFlag{Name: "reference-branch", Usage: "only print comparisons against this branch (default: every ordered pair)"},
			&cli.Uint64Flag{Name: "seed", Usage: "base seed; each branch's seed derives from it, the metric and the statistic"},
			&cli.StringFlag{Name: "rng", Value: string(statistics.Fast), Usage: "random engine: fast, or numpy-legacy to replay mozanalysis bit for bit (numpy.random.seed(--seed) before the statistic; needs --reference-branch)"},
			&cli.StringFlag{Name: "format", Value: "json", Usage: "json (schema v4 rows) or table"},
		},
		Action: func(c *cli.Context) error {
			return runStatistics(c.App.Writer, c.App.ErrWriter, statisticsRequest{
				Input: c.String("input"), Metric: c.String("metric"), Statistic: c.String("statistic"),
				Params: c.StringSlice("param"), Reference: c.String("reference-branch"), Seed: c.Uint64("seed"),
				Engine: statistics.Engine(c.String("rng")), Format: c.String("format"),
			})
		},
	}
}

type statisticsRequest struct {
	Input, Metric, Statistic string
	Params                   []string
	Reference                string
	Seed                     uint64
	Engine                   statistics.Engine
	Format                   string
}

func runStatistics(out, errOut io.Writer, req statisticsRequest) error {
	if req.Format != "json" && req.Format != "table" {
		return fmt.Errorf("--format: want json or table, got %q", req.Format)
	}
	params, err := parseParams(req.Params)
	if err != nil {
		return err
	}
	stat, err := statistics.NewWithOptions(req.Statistic, params, statistics.Options{Engine: req.Engine})
	if err != nil {
		return err
	}
	table, err := clientdata.Read(req.Input)
	if err != nil {
		return err
	}
	inputs, ordered, err := statisticInputs(table, req.Metric, params)
	if err != nil {
		return err
	}
	if req.Reference != "" && !hasBranch(inputs, req.Reference) {
		return fmt.Errorf("--reference-branch: %q is not a branch of %s", req.Reference, req.Input)
	}
	var rows []statistics.Row
	var errs []error
	if req.Engine == statistics.NumpyLegacy {
		// Replay mozanalysis: numpy.random.seed(S) right before the statistic, draws in its order.
		if req.Reference == "" {
			return fmt.Errorf("--rng numpy-legacy replays mozanalysis with one reference branch: give --reference-branch")
		}
		if req.Seed > math.MaxUint32 {
			return fmt.Errorf("--seed %d: numpy seeds are below 2^32", req.Seed)
		}
		rows, errs = statistics.Replay(req.Statistic, params, inputs, req.Reference, uint32(req.Seed), ordered)
	} else {
		seed := func(branch string) uint64 { return statistics.Seed(req.Seed, req.Metric, branch, req.Statistic) }
		rows, errs = statistics.Compute(stat, inputs, seed)
	}
	var kept []statistics.Row
	for _, r := range rows {
		if r.Comparison != "" && req.Reference != "" && r.ComparisonToBranch != req.Reference {
			continue
		}
		r.Metric, r.Segment, r.AnalysisBasis = req.Metric, "all", "enrollments"
		kept = append(kept, r)
	}
	if req.Format == "json" {
		writeRowsJSON(out, kept)
	} else {
		writeRowsTable(out, kept)
	}
	for _, e := range errs {
		fmt.Fprintln(errOut, "error:", e)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d branch(es) could not be computed", len(errs))
	}
	return nil
}

// statisticInputs builds one Input per branch (in first-appearance order) from the metric
// column, and the pairs a two-column statistic needs: (numerator, denominator) for
// population_ratio, (metric, <metric>_pre) with a covariate adjustment. The pairs are also
// returned in row order, which replaying mozanalysis' row resampling needs.
func statisticInputs(t *clientdata.Table, metric string, params map[string]any) ([]statistics.Input, map[string]statistics.OrderedPairs, error) {
	var x, y []float64
	var err error
	num, hasNum := params["numerator"].(string)
	den, hasDen := params["denominator"].(string)
	_, covariate := params["covariate_adjustment"]
	switch {
	case hasNum && hasDen:
		if x, err = t.Column(num); err != nil {
			return nil, nil, err
		}
		if y, err = t.Column(den); err != nil {
			return nil, nil, err
		}
	case covariate:
		if x, err = t.Column(metric); err != nil {
			return nil, nil, err
		}
		if y, err = t.Column(metric + "_pre"); err != nil {
			return nil, nil, err
		}
	}
	values := x
	if values == nil {
		if values, err = t.Column(metric); err != nil {
			return nil, nil, err
		}
	}
	ordered := map[string]statistics.OrderedPairs{}
	index := map[string]int{}
	var inputs []statistics.Input
	for i, b := range t.Branches {
		k, ok := index[b]
		if !ok {
			k = len(inputs)
			index[b] = k
			inputs = append(inputs, statistics.Input{Branch: b})
		}
		if !math.IsNaN(values[i]) {
			inputs[k].Tally.Add(values[i])
		}
		if y != nil && !math.IsNaN(x[i]) && !math.IsNaN(y[i]) {
			inputs[k].Pairs.Add(x[i], y[i])
			o := ordered[b]
			o.X, o.Y = append(o.X, x[i]), append(o.Y, y[i])
			ordered[b] = o
		}
	}
	for i := range inputs {
		inputs[i].Tally.Compact()
		inputs[i].Pairs.Compact()
	}
	return inputs, ordered, nil
}

// parseParams reads key=value parameters: integers, floats, booleans, else strings;
// dotted keys (covariate_adjustment.period) build nested tables, as in TOML.
func parseParams(kvs []string) (map[string]any, error) {
	params := map[string]any{}
	for _, kv := range kvs {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--param %q: want key=value", kv)
		}
		parts := strings.Split(key, ".")
		table := params
		for _, p := range parts[:len(parts)-1] {
			sub, ok := table[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				table[p] = sub
			}
			table = sub
		}
		table[parts[len(parts)-1]] = paramValue(value)
	}
	return params, nil
}

func paramValue(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	if b, err := strconv.ParseBool(s); err == nil {
		return b
	}
	return s
}

func hasBranch(inputs []statistics.Input, b string) bool {
	for _, in := range inputs {
		if in.Branch == b {
			return true
		}
	}
	return false
}

func writeRowsJSON(w io.Writer, rows []statistics.Row) {
	fmt.Fprint(w, "[")
	for i, r := range rows {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprint(w, "\n  ")
		w.Write(export.MarshalRow(r, 0))
	}
	if len(rows) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "]")
}

func writeRowsTable(w io.Writer, rows []statistics.Row) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "statistic\tparameter\tbranch\tcomparison\tvs\tpoint\tlower\tupper")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Statistic, r.Parameter, r.Branch, r.Comparison, r.ComparisonToBranch,
			number(r.Point), number(r.Lower), number(r.Upper))
	}
	tw.Flush()
}

package transforms

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// The analysis in this process, without Beam: the plain-Go reference the pipeline's
// statistics stages (read, combine, bootstrap) are measured against (the launcher's
// BenchmarkEndToEnd). It does the pipeline's work with the pipeline's code — rows tallied
// as ReadClients tallies them, tallies gathered per cell and branch as ComputeCells gathers
// them, every configured statistic computed with the same seeds — so its rows are the
// pipeline's rows, computed in one goroutine (a bootstrap uses Config.Workers goroutines,
// as on a pipeline worker).

// CellTallies are the tallies of every cell read by TallyInProcess.
type CellTallies struct {
	Values Tallies      // per (cell, branch) key
	Pairs  PairTallies  // per (cell, branch) key
	Models ModelTallies // per (cell, branch) key
	// Populations are the identity cells that exist even without clients (see ComputeCells).
	Populations []string
	// Rows is the number of client rows read.
	Rows int64
}

// TallyInProcess reads every query's client rows and tallies them per (cell, branch) key.
// A query with a Dataset is read from its metrics table, which an earlier run must have
// written (nothing is written here, whatever Query.Reuse says), in one part; a query
// without one runs its SQL. A failed query is an error: the reference has no error rows.
func TallyInProcess(ctx context.Context, queries []Query) (*CellTallies, error) {
	ct := &CellTallies{Values: Tallies{}, Pairs: PairTallies{}, Models: ModelTallies{}}
	for _, q := range queries {
		client, err := warehouse.Open(q.Warehouse)
		if err != nil {
			return nil, err
		}
		q.ReadParts = 1
		rt, err := newRowTallier(q, ct.Values, ct.Pairs, ct.Models)
		if err != nil {
			return nil, err
		}
		err = client.Query(ctx, ReadTask{Query: q}.sql(client.Dialect()), rt.add)
		ct.Rows += rt.rows
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Table, err)
		}
		ct.Populations = append(ct.Populations, populationCells(q)...)
	}
	ct.Values.Prune()
	ct.Pairs.Prune()
	ct.Models.Prune()
	return ct, nil
}

// ComputeInProcess computes every statistic of every cell of ct, cell by cell in key order,
// each in place (never in shards: shards never change a result). It returns the rows per
// statistics table, each table's rows sorted as the pipeline writes them
// (statistics.SortRows), and the statistics that could not be computed.
func ComputeInProcess(cfg Config, ct *CellTallies) (map[string][]statistics.Row, []AnalysisError, error) {
	cells, err := ct.inputs()
	if err != nil {
		return nil, nil, err
	}
	tables := map[string][]statistics.Row{}
	var errs []AnalysisError
	emit := func(table string, r statistics.Row) { tables[table] = append(tables[table], r) }
	fail := func(e AnalysisError) { errs = append(errs, e) }
	for _, key := range slices.Sorted(maps.Keys(cells)) {
		if err := cfg.computeCell(key, cells[key], emit, fail, nil); err != nil {
			return nil, nil, err
		}
	}
	for _, rows := range tables {
		statistics.SortRows(rows)
	}
	return tables, errs, nil
}

// inputs gathers the tallies per cell: one input per branch, in branch order, holding the
// branch's tally and pair tally, as gatherInputs does in the pipeline.
func (ct *CellTallies) inputs() (map[string][]statistics.Input, error) {
	byCell := map[string]map[string]*statistics.Input{}
	input := func(key string) (*statistics.Input, error) {
		cell, branch, err := ParseBranchKey(key)
		if err != nil {
			return nil, err
		}
		branches := byCell[cell.Key()]
		if branches == nil {
			branches = map[string]*statistics.Input{}
			byCell[cell.Key()] = branches
		}
		in := branches[branch]
		if in == nil {
			in = &statistics.Input{Branch: branch}
			branches[branch] = in
		}
		return in, nil
	}
	for key, t := range ct.Values {
		in, err := input(key)
		if err != nil {
			return nil, err
		}
		in.Tally = *t
	}
	for key, t := range ct.Pairs {
		in, err := input(key)
		if err != nil {
			return nil, err
		}
		in.Pairs = *t
	}
	for key, t := range ct.Models {
		in, err := input(key)
		if err != nil {
			return nil, err
		}
		in.Model = *t
	}
	cells := make(map[string][]statistics.Input, len(byCell)+len(ct.Populations))
	for _, key := range ct.Populations {
		cells[key] = []statistics.Input{}
	}
	for key, branches := range byCell {
		inputs := make([]statistics.Input, 0, len(branches))
		for _, b := range slices.Sorted(maps.Keys(branches)) {
			inputs = append(inputs, *branches[b])
		}
		cells[key] = inputs
	}
	return cells, nil
}

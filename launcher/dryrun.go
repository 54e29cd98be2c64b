package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// dryRun is a run that writes nothing: it prints the plan, dry-runs the enrollments query
// of every experiment and every metrics query (those whose enrollments table exists: the
// others read a table that a real run writes first), and with --runner dataflow has Beam
// translate the pipeline into a Dataflow job and print it. It fails naming every query the
// warehouse refuses.
func dryRun(ctx context.Context, plan *pipeline.Plan, o RunOptions, out io.Writer) error {
	fmt.Fprintf(out, "dry run: nothing is written\n\nplan: %s, %s, %d metrics queries\n", plural(len(plan.Experiments), "experiment"),
		plural(countWindows(plan), "window"), len(plan.Queries))
	if len(plan.Queries) == 0 {
		return nil
	}
	var errs []error
	client, err := warehouse.Open(o.Warehouse)
	switch {
	case err != nil && dataflowDryRun():
		// Translating the job needs no warehouse (CI translates it offline).
		fmt.Fprintf(out, "queries not dry-run: %v\n", err)
	case err != nil:
		return err
	}
	if client != nil {
		errs = dryRunQueries(ctx, client, plan, o, out)
	}
	if dataflowDryRun() {
		// Beam translates the pipeline and prints the Dataflow job; nothing runs.
		if err := pipeline.Run(ctx, plan, o.Output); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dryRunQueries dry-runs the enrollments query of every experiment and the metrics queries
// whose enrollments table exists, printing a table; it returns the errors.
func dryRunQueries(ctx context.Context, client warehouse.Client, plan *pipeline.Plan, o RunOptions, out io.Writer) (errs []error) {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "table\tdry run\tbytes processed")
	show := func(table string, bytes int64, err error) {
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", table, err))
			fmt.Fprintf(tw, "%s\tFAILED\t\n", table)
		case bytes < 0:
			fmt.Fprintf(tw, "%s\tok\t-\n", table)
		default:
			fmt.Fprintf(tw, "%s\tok\t%d\n", table, bytes)
		}
	}
	written := map[string]bool{}
	for _, ep := range plan.Experiments {
		table := ep.Enrollments.TableName()
		q, err := ep.Enrollments.Query(client.Dialect())
		if err != nil {
			return append(errs, err)
		}
		bytes, err := warehouse.DryRun(ctx, client, q)
		show(o.Dataset+"."+table, bytes, err)
		exists, err := client.TableExists(ctx, o.Dataset, table)
		if err != nil {
			return append(errs, err)
		}
		written[ep.Analysis.Slug] = exists && !o.RecreateEnrollments
	}
	unchecked := 0
	for _, q := range plan.Queries {
		if !written[q.Experiment] {
			unchecked++
			continue
		}
		if o.StatisticsOnly {
			exists, err := client.TableExists(ctx, o.Dataset, q.Table)
			if err == nil && !exists {
				err = errors.New("statistics only: the metrics table does not exist")
			}
			show(o.Dataset+"."+q.Table, -1, err)
			continue
		}
		bytes, err := warehouse.DryRun(ctx, client, q.SQL)
		show(o.Dataset+"."+q.Table, bytes, err)
	}
	tw.Flush()
	if unchecked > 0 {
		fmt.Fprintf(out, "%d metrics queries not checked: they read enrollments tables that the run writes first\n", unchecked)
	}
	return errs
}

func countWindows(plan *pipeline.Plan) int {
	n := 0
	for _, ep := range plan.Experiments {
		n += len(ep.Windows)
	}
	return n
}

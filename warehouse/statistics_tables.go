package warehouse

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/bigquery"
)

// StatisticsSchemaVersion is the schema_version label of statistics tables (Jetstream's
// StatisticResult schema 4).
const StatisticsSchemaVersion = "4"

// StatisticsSchema is the BigQuery schema of the statistics_<slug>_<period>_<window> tables,
// in Jetstream's column order.
var StatisticsSchema = bigquery.Schema{
	{Name: "metric", Type: bigquery.StringFieldType},
	{Name: "statistic", Type: bigquery.StringFieldType},
	{Name: "parameter", Type: bigquery.NumericFieldType},
	{Name: "branch", Type: bigquery.StringFieldType},
	{Name: "comparison", Type: bigquery.StringFieldType},
	{Name: "comparison_to_branch", Type: bigquery.StringFieldType},
	{Name: "ci_width", Type: bigquery.FloatFieldType},
	{Name: "point", Type: bigquery.FloatFieldType},
	{Name: "lower", Type: bigquery.FloatFieldType},
	{Name: "upper", Type: bigquery.FloatFieldType},
	{Name: "segment", Type: bigquery.StringFieldType},
	{Name: "analysis_basis", Type: bigquery.StringFieldType},
}

// StatisticsRows is one statistics table to publish: its name and its rows as
// newline-delimited JSON (export.EncodeTable).
type StatisticsRows struct {
	Name   string // statistics_<slug>_<period>_<window>
	Period string // the AnalysisPeriod value: day, week, …
	Rows   []byte
}

// StatisticsViewSQL is Jetstream's view over every window of a period: the union of the
// window tables through a wildcard, with window_index taken from the table suffix.
func StatisticsViewSQL(d Dialect, dataset, tableSlug, period, suffix string) string {
	return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS (SELECT *, CAST(REGEXP_EXTRACT(_TABLE_SUFFIX, r'[0-9]+$') AS INT64) AS window_index FROM %s)",
		d.Table(dataset, StatisticsView(tableSlug, suffix)), d.Table(dataset, fmt.Sprintf("statistics_%s_%s_*", tableSlug, period)))
}

// StatisticsView names the view of a period (statistics_<slug>_<suffix>).
func StatisticsView(tableSlug, suffix string) string { return "statistics_" + tableSlug + "_" + suffix }

// PublishStatistics loads the statistics tables of one experiment into dataset on BigQuery
// — each with a load job, WRITE_TRUNCATE (a rerun replaces the window, never appends),
// labelled last_updated and schema_version, described by the experiment's slug — and then
// re-creates the view of every period it touched, as Jetstream does after each run.
// suffixes maps a period to its view suffix (week → weekly).
func PublishStatistics(ctx context.Context, c Client, dataset, slug, tableSlug string, tables []StatisticsRows, suffixes map[string]string, now time.Time) error {
	bq, ok := c.(*bigQueryClient)
	if !ok {
		return fmt.Errorf("statistics tables are published to BigQuery, not to a %s warehouse", c.Dialect().Name())
	}
	if err := c.EnsureDataset(ctx, dataset); err != nil {
		return err
	}
	periods := map[string]bool{}
	for _, t := range tables {
		if !bq.replacesInPlace() {
			// The emulator appends to a labelled table despite WRITE_TRUNCATE.
			if err := c.DropTable(ctx, dataset, t.Name); err != nil {
				return err
			}
		}
		if err := bq.load(ctx, dataset, t.Name, StatisticsSchema, t.Rows); err != nil {
			return err
		}
		if err := bq.label(ctx, dataset, t.Name, slug, map[string]string{
			"last_updated": fmt.Sprint(now.Unix()), "schema_version": StatisticsSchemaVersion}); err != nil {
			return err
		}
		periods[t.Period] = true
	}
	for period := range periods {
		suffix, ok := suffixes[period]
		if !ok {
			return fmt.Errorf("statistics of %s: no view suffix for period %q", slug, period)
		}
		view := StatisticsView(tableSlug, suffix)
		if !bq.replacesInPlace() {
			// The emulator neither replaces views nor deletes them through the API (it
			// answers 500, retried forever), nor knows DROP VIEW IF EXISTS; DROP VIEW works.
			exists, err := c.TableExists(ctx, dataset, view)
			if err != nil {
				return err
			}
			if exists {
				if err := c.Exec(ctx, "DROP VIEW "+c.Dialect().Table(dataset, view)); err != nil {
					return fmt.Errorf("view %s: %w", view, err)
				}
			}
		}
		if err := c.Exec(ctx, StatisticsViewSQL(c.Dialect(), dataset, tableSlug, period, suffix)); err != nil {
			return fmt.Errorf("view %s: %w", view, err)
		}
	}
	return nil
}

// load runs a load job of newline-delimited JSON into dataset.table, replacing its rows.
func (c *bigQueryClient) load(ctx context.Context, dataset, table string, schema bigquery.Schema, data []byte) error {
	return c.loadWith(ctx, dataset, table, schema, data, bigquery.WriteTruncate)
}

func (c *bigQueryClient) loadWith(ctx context.Context, dataset, table string, schema bigquery.Schema, data []byte, disposition bigquery.TableWriteDisposition) error {
	src := bigquery.NewReaderSource(bytes.NewReader(data))
	src.SourceFormat = bigquery.JSON
	src.Schema = schema
	l := c.bq.Dataset(dataset).Table(table).LoaderFrom(src)
	l.WriteDisposition = disposition
	l.CreateDisposition = bigquery.CreateIfNeeded
	job, err := l.Run(ctx)
	if err == nil {
		var status *bigquery.JobStatus
		status, err = job.Wait(ctx)
		if err == nil {
			err = status.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("bigquery: loading %s.%s: %w", dataset, table, err)
	}
	return nil
}

// label sets a table's description and labels. (The emulator accepts and ignores them.)
func (c *bigQueryClient) label(ctx context.Context, dataset, table, description string, labels map[string]string) error {
	update := bigquery.TableMetadataToUpdate{Description: description}
	for k, v := range labels {
		update.SetLabel(k, v)
	}
	if _, err := c.bq.Dataset(dataset).Table(table).Update(ctx, update, ""); err != nil {
		return fmt.Errorf("bigquery: labelling %s.%s: %w", dataset, table, err)
	}
	return nil
}

// Column is a column of a table loaded from JSON: a name and a BigQuery type (STRING,
// TIMESTAMP, FLOAT64, …).
type Column struct{ Name, Type string }

// AppendJSON appends newline-delimited JSON rows to dataset.table on BigQuery with a load job
// (WRITE_APPEND), creating the dataset and the table with columns when absent: how
// Jetstream's log handler writes the logs table.
func AppendJSON(ctx context.Context, c Client, dataset, table string, columns []Column, rows []byte) error {
	bq, ok := c.(*bigQueryClient)
	if !ok {
		return fmt.Errorf("%s.%s: rows are appended to BigQuery, not to a %s warehouse", dataset, table, c.Dialect().Name())
	}
	if len(rows) == 0 {
		return nil
	}
	if err := c.EnsureDataset(ctx, dataset); err != nil {
		return err
	}
	schema := make(bigquery.Schema, len(columns))
	for i, col := range columns {
		schema[i] = &bigquery.FieldSchema{Name: col.Name, Type: bigquery.FieldType(col.Type)}
		if col.Type == "FLOAT64" {
			schema[i].Type = bigquery.FloatFieldType
		}
	}
	return bq.loadWith(ctx, dataset, table, schema, rows, bigquery.WriteAppend)
}

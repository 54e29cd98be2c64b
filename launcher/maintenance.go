package launcher

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/warehouse"
)

func ensureEnrollmentsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ensure-enrollments",
		Usage: "write the enrollments tables of the experiments due on a date, without analysing them",
		Description: "Writes enrollments_<slug> for every experiment the run of --date (default: yesterday)\n" +
			"would analyse, unless it exists (with --recreate-enrollments, it is written again).\n\n" +
			"Example:\n" +
			"  jetstream ensure-enrollments --experimenter-url https://experimenter.services.mozilla.com \\\n" +
			"      --experiment-slug my-experiment --warehouse bigquery:moz-fx-data-experiments\n\n" +
			exitStatusHelp,
		Flags: append(dateRangeFlags(), analysisFlags()...),
		Action: func(c *cli.Context) error {
			o, err := commandOptions(c)
			if err != nil {
				return err
			}
			return EnsureEnrollments(c.Context, o, c.App.Writer)
		},
	}
}

// EnsureEnrollments writes the enrollments tables of the experiments the run of o would
// analyse.
func EnsureEnrollments(ctx context.Context, o RunOptions, out io.Writer) error {
	dialect, err := warehouse.DialectOf(o.Warehouse)
	if err != nil {
		return usageError{fmt.Errorf("--warehouse: %w", err)}
	}
	decisions, _, err := runDecisions(ctx, o, out)
	if err != nil {
		return err
	}
	plan, err := pipeline.NewPlan(decisions, dialect, pipeline.Options{Warehouse: o.Warehouse, Dataset: o.Dataset, EventsTable: o.EventsTable, Now: o.Now})
	if err != nil {
		return err
	}
	if len(plan.Experiments) == 0 {
		fmt.Fprintln(out, "no experiment is due: no enrollments table to write")
		return failures(plan)
	}
	client, err := warehouse.Open(o.Warehouse)
	if err != nil {
		return err
	}
	show := func(table string, written bool) {
		state := "exists"
		if written {
			state = "written"
		}
		fmt.Fprintf(out, "%s: %s\n", table, state)
	}
	if err := ensureEnrollments(ctx, client, plan, o, o.logger(), show); err != nil {
		return err
	}
	return failures(plan)
}

func exportStatisticsCommand() *cli.Command {
	return &cli.Command{
		Name:  "export-statistics-to-json",
		Usage: "publish experiments' statistics tables again as the dashboards' JSON files",
		Description: "Reads every statistics table of each --experiment-slug — from the BigQuery warehouse's\n" +
			"dataset, or from the --output folder a local run wrote — and writes\n" +
			"statistics/statistics_<slug>_<period>.json to --bucket, as the run does after analysing.\n" +
			"Groups with fewer than --min-clients clients are left out.\n\n" +
			"Example:\n" +
			"  jetstream export-statistics-to-json --experiment-slug my-experiment \\\n" +
			"      --warehouse bigquery:moz-fx-data-experiments --bucket gs://mozanalysis",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "experiment-slug", Required: true, Usage: "the experiment (repeatable)"},
			&cli.StringFlag{Name: "warehouse", Usage: "read the tables from this BigQuery warehouse, bigquery:PROJECT (default: the --output folder)"},
			&cli.StringFlag{Name: "dataset-id", Aliases: []string{"dataset"}, Value: "mozanalysis", Usage: "dataset of the statistics tables"},
			&cli.StringFlag{Name: "output", Value: "out", Usage: "the folder a local run wrote its tables to"},
			&cli.StringFlag{Name: "bucket", Usage: "where the JSON goes: gs://BUCKET[/PREFIX] or a folder (default: the --output folder)"},
			&cli.IntFlag{Name: "min-clients", Value: DefaultMinClients, Usage: "leave out groups with fewer clients than this (0: none)"},
		},
		Action: func(c *cli.Context) error {
			req := exportRequest{Slugs: c.StringSlice("experiment-slug"), Warehouse: c.String("warehouse"), Dataset: c.String("dataset-id"),
				Output: c.String("output"), Bucket: c.String("bucket"), MinClients: c.Int("min-clients")}
			if req.Bucket == "" {
				req.Bucket = req.Output
			}
			if req.Bucket == "none" {
				return usageError{fmt.Errorf("--bucket none: there is nowhere to export to")}
			}
			return ExportStatistics(c.Context, req, c.App.Writer)
		},
	}
}

type exportRequest struct {
	Slugs      []string
	Warehouse  string // "" = the Output folder's tables
	Dataset    string
	Output     string
	Bucket     string
	MinClients int
}

// ExportStatistics writes the statistics JSON of every period of each experiment that has
// statistics tables.
func ExportStatistics(ctx context.Context, req exportRequest, out io.Writer) error {
	store, err := export.OpenStore(ctx, req.Bucket)
	if err != nil {
		return fmt.Errorf("--bucket: %w", err)
	}
	store = export.GuardedStore(store)
	defer store.Close()
	var client warehouse.Client
	if req.Warehouse != "" {
		if client, err = warehouse.Open(req.Warehouse); err != nil {
			return usageError{fmt.Errorf("--warehouse: %w", err)}
		}
	}
	for _, slug := range req.Slugs {
		tableSlug := warehouse.NormalizeName(slug)
		written := 0
		for _, period := range configs.Periods {
			var windows []export.Window
			if client == nil {
				windows, err = export.ReadPeriod(filepath.Join(req.Output, tablesDir), tableSlug, string(period))
			} else {
				windows, err = readPeriodFrom(ctx, client, req.Dataset, tableSlug, string(period))
			}
			if err != nil {
				return fmt.Errorf("experiment %q, %s: %w", slug, period, err)
			}
			if len(windows) == 0 {
				continue
			}
			windows, suppressed := export.SuppressPeriod(string(period), windows, req.MinClients)
			name := statisticsDir + "/" + export.StatisticsFile(tableSlug, period.Suffix())
			if err := store.Put(ctx, name, export.StatisticsJSON(windows)); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %s (%d windows, %d groups suppressed)\n", slug, name, len(windows), len(suppressed))
			written++
		}
		if written == 0 {
			return fmt.Errorf("experiment %q: no statistics tables (statistics_%s_<period>_<window>) to export", slug, tableSlug)
		}
	}
	return nil
}

// readPeriodFrom reads the statistics tables statistics_<slug>_<period>_<n> of a warehouse
// dataset, in window order.
func readPeriodFrom(ctx context.Context, client warehouse.Client, dataset, tableSlug, period string) ([]export.Window, error) {
	tables, err := client.ListTables(ctx, dataset)
	if err != nil {
		return nil, err
	}
	pattern := regexp.MustCompile("^statistics_" + regexp.QuoteMeta(tableSlug) + "_" + regexp.QuoteMeta(period) + `_([0-9]+)$`)
	var windows []export.Window
	for _, t := range tables {
		m := pattern.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		index, _ := strconv.Atoi(m[1])
		var ndjson []byte
		err := client.Query(ctx, "SELECT * FROM "+client.Dialect().Table(dataset, t), func(cols []string, values []any) error {
			line, err := rowJSON(cols, values)
			ndjson = append(append(ndjson, line...), '\n')
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s.%s: %w", dataset, t, err)
		}
		rows, err := export.DecodeTable(ndjson)
		if err != nil {
			return nil, fmt.Errorf("%s.%s row %w", dataset, t, err)
		}
		windows = append(windows, export.Window{Index: index, Rows: rows})
	}
	slices.SortFunc(windows, func(a, b export.Window) int { return a.Index - b.Index })
	return windows, nil
}

// rowJSON renders a warehouse row as a JSON object of its non-NULL columns, as BigQuery's
// JSON export does.
func rowJSON(cols []string, values []any) ([]byte, error) {
	obj := map[string]any{}
	for i, c := range cols {
		if values[i] != nil {
			obj[c] = values[i]
		}
	}
	return json.Marshal(obj)
}

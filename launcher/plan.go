package launcher

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/warehouse"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show what the run of a date computes: every due window, every skipped experiment and why",
		Description: "Without --experiment-slug, plans the daily run of --date over every experiment of\n" +
			"Experimenter (or --experiments-file), applying Jetstream's selection and skip rules.\n" +
			"With slugs, plans a rerun of those experiments; with --from/--to, a backfill over the dates.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "date", Usage: "analysis date, YYYY-MM-DD (default: yesterday, UTC, as the daily run)"},
			&cli.StringFlag{Name: "from", Usage: "first date of a backfill (with --to)"},
			&cli.StringFlag{Name: "to", Usage: "last date of a backfill (with --from)"},
			&cli.StringSliceFlag{Name: "experiment-slug", Usage: "plan only this experiment (repeatable)"},
			&cli.StringFlag{Name: "experiments-file", Usage: "Experimenter v8 JSON (a list or one record) instead of the API"},
			&cli.StringFlag{Name: "experimenter-url", Value: experimenter.DefaultBaseURL, Usage: "Experimenter base URL"},
			configRepoFlag(),
			&cli.StringSliceFlag{Name: "period", Usage: "only these analysis periods"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json"},
			&cli.StringFlag{Name: "now", Usage: "the clock that decides Live/Complete, RFC 3339 (default: the current time)"},
		},
		Action: func(c *cli.Context) error {
			req, err := planRequestFrom(c)
			if err != nil {
				return usageError{err}
			}
			return runPlan(c.Context, c.App.Writer, c.App.ErrWriter, req)
		},
	}
}

type planRequest struct {
	From, To        time.Time
	Slugs           []string
	ExperimentsFile string
	ExperimenterURL string
	Repos           []string
	Periods         []configs.Period
	Format          string
	Now             time.Time
}

func planRequestFrom(c *cli.Context) (planRequest, error) {
	req := planRequest{
		Slugs:           c.StringSlice("experiment-slug"),
		ExperimentsFile: c.String("experiments-file"),
		ExperimenterURL: c.String("experimenter-url"),
		Repos:           c.StringSlice("config-repo"),
		Format:          c.String("format"),
		Now:             time.Now().UTC(),
	}
	if req.Format != "table" && req.Format != "json" {
		return req, fmt.Errorf("--format: want table or json, got %q", req.Format)
	}
	if c.IsSet("experiments-file") && c.IsSet("experimenter-url") {
		return req, fmt.Errorf("--experiments-file and --experimenter-url are alternatives: give one")
	}
	if s := c.String("now"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return req, fmt.Errorf("--now: want an RFC 3339 time such as 2025-09-10T06:00:00Z, got %q", s)
		}
		req.Now = t.UTC()
	}
	var err error
	switch {
	case c.IsSet("date") && (c.IsSet("from") || c.IsSet("to")):
		return req, fmt.Errorf("--date cannot be combined with --from/--to")
	case c.IsSet("from") != c.IsSet("to"):
		return req, fmt.Errorf("a backfill needs both --from and --to")
	case c.IsSet("from"):
		if req.From, err = parseDate("--from", c.String("from")); err != nil {
			return req, err
		}
		if req.To, err = parseDate("--to", c.String("to")); err != nil {
			return req, err
		}
		if req.To.Before(req.From) {
			return req, fmt.Errorf("--from %s is after --to %s", c.String("from"), c.String("to"))
		}
	case c.IsSet("date"):
		if req.From, err = parseDate("--date", c.String("date")); err != nil {
			return req, err
		}
		req.To = req.From
	default:
		req.From = req.Now.Truncate(24*time.Hour).AddDate(0, 0, -1)
		req.To = req.From
	}
	for _, p := range c.StringSlice("period") {
		period, err := configs.ParsePeriod(p)
		if err != nil {
			return req, fmt.Errorf("--period: %w", err)
		}
		req.Periods = append(req.Periods, period)
	}
	return req, nil
}

func runPlan(ctx context.Context, out, errOut io.Writer, req planRequest) error {
	exps, rejected, err := loadExperiments(ctx, req.ExperimentsFile, req.ExperimenterURL, req.Now)
	if err != nil {
		return err
	}
	if req.Format == "json" { // the table lists them itself
		for _, r := range rejected {
			fmt.Fprintf(errOut, "warning: %v (record skipped)\n", r)
		}
	}
	coll, err := configs.MetricHubWith(req.Repos...)
	if err != nil {
		return err
	}
	planner := &pipeline.Planner{Collection: coll, Periods: req.Periods}
	days, err := planner.Range(exps, req.From, req.To, req.Slugs)
	if err != nil {
		return err
	}
	reports := make([]PlanReport, len(days))
	for i, decisions := range days {
		reports[i] = NewPlanReport(req.From.AddDate(0, 0, i), decisions, rejected)
	}
	if req.Format == "json" {
		var doc any = reports
		if len(reports) == 1 {
			doc = reports[0]
		}
		data, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", data)
		return err
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(out)
		}
		if err := r.WriteTable(out); err != nil {
			return err
		}
	}
	for _, r := range rejected {
		fmt.Fprintf(out, "rejected: %v\n", r)
	}
	return nil
}

// loadExperiments reads Experimenter records from a file, or else from the API at url;
// now decides Live/Complete. Malformed records are returned apart, the rest is kept.
func loadExperiments(ctx context.Context, file, url string, now time.Time) ([]experimenter.Experiment, []experimenter.RecordError, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, fmt.Errorf("--experiments-file: %w", err)
		}
		exps, rejected, err := experimenter.ParseList(data, now)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		return exps, rejected, nil
	}
	client := &experimenter.Client{BaseURL: url, Now: func() time.Time { return now }}
	return client.Experiments(ctx)
}

// PlanReport is the JSON contract of `jetstream plan` for one date; scripts read it.
type PlanReport struct {
	Date        string             `json:"date"`
	Experiments []ExperimentReport `json:"experiments"`
	Rejected    []RejectedRecord   `json:"rejected_records"`
}

// ExperimentReport is one experiment's decision.
type ExperimentReport struct {
	Slug               string         `json:"slug"`
	Outcome            string         `json:"outcome"` // analysed, skipped or failed
	Reason             *string        `json:"reason"`  // Jetstream's exception name; null when analysed
	Message            string         `json:"message,omitempty"`
	EnrollmentPeriod   *int           `json:"enrollment_period"`
	LastEnrollmentDate *string        `json:"last_enrollment_date"`
	Periods            []PeriodReport `json:"periods"`
}

// PeriodReport is one window computed on the date (fields as fixtures/readiness define them).
type PeriodReport struct {
	Period                       string `json:"period"`
	WindowIndex                  int    `json:"window_index"`
	AnalysisWindowStart          int    `json:"analysis_window_start"`
	AnalysisWindowEnd            int    `json:"analysis_window_end"`
	FirstDateDataRequired        string `json:"first_date_data_required"`
	LastDateDataRequired         string `json:"last_date_data_required"`
	StatisticsTable              string `json:"statistics_table"`
	MetricsTableEnrollmentsBasis string `json:"metrics_table_enrollments_basis"`
	Metrics                      int    `json:"metrics"` // metrics configured for the period
}

// RejectedRecord is an Experimenter record that could not be read.
type RejectedRecord struct {
	Index int    `json:"index"`
	Slug  string `json:"slug"`
	Error string `json:"error"`
}

// NewPlanReport renders the decisions of one date.
func NewPlanReport(d time.Time, decisions []pipeline.Decision, rejected []experimenter.RecordError) PlanReport {
	r := PlanReport{Date: d.Format(time.DateOnly), Experiments: []ExperimentReport{}, Rejected: []RejectedRecord{}}
	for _, dec := range decisions {
		r.Experiments = append(r.Experiments, experimentReport(dec))
	}
	for _, rec := range rejected {
		r.Rejected = append(r.Rejected, RejectedRecord{Index: rec.Index, Slug: rec.Slug, Error: rec.Error()})
	}
	return r
}

func experimentReport(dec pipeline.Decision) ExperimentReport {
	e := ExperimentReport{Slug: dec.Slug, Outcome: string(dec.Outcome), Message: dec.Message, Periods: []PeriodReport{}}
	if dec.Reason != "" {
		e.Reason = &dec.Reason
	}
	if a := dec.Analysis; a != nil {
		e.EnrollmentPeriod = &a.EnrollmentPeriod
		if !a.StartDate.IsZero() {
			last := a.StartDate.AddDate(0, 0, a.EnrollmentPeriod).Format(time.DateOnly)
			e.LastEnrollmentDate = &last
		}
	}
	for _, w := range dec.Windows {
		period := string(w.Period)
		e.Periods = append(e.Periods, PeriodReport{
			Period:                       period,
			WindowIndex:                  w.Index,
			AnalysisWindowStart:          w.Start,
			AnalysisWindowEnd:            w.End,
			FirstDateDataRequired:        w.FirstDate.Format(time.DateOnly),
			LastDateDataRequired:         w.LastDate.Format(time.DateOnly),
			StatisticsTable:              warehouse.StatisticsTable(dec.Slug, period, w.Index),
			MetricsTableEnrollmentsBasis: warehouse.MetricsTable(dec.Slug, warehouse.BasisEnrollments, period, w.Index),
			Metrics:                      len(dec.Analysis.Periods[w.Period]),
		})
	}
	return e
}

// WriteTable prints the report for people: a line per due window, and a line with the
// reason for every experiment with none.
func (r PlanReport) WriteTable(out io.Writer) error {
	counts := map[string]int{}
	windows := 0
	for _, e := range r.Experiments {
		counts[e.Outcome]++
		windows += len(e.Periods)
	}
	fmt.Fprintf(out, "%s: %s — %d analysed (%s), %d skipped, %d failed", r.Date,
		plural(len(r.Experiments), "experiment"), counts["analysed"], plural(windows, "window"), counts["skipped"], counts["failed"])
	if len(r.Rejected) > 0 {
		fmt.Fprintf(out, "; %s rejected", plural(len(r.Rejected), "Experimenter record"))
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERIMENT\tOUTCOME\tPERIOD\tWINDOW\tDAYS\tDATA\tMETRICS\tREASON")
	for _, e := range r.Experiments {
		if len(e.Periods) == 0 {
			reason := e.Message
			if e.Reason != nil {
				reason = *e.Reason + ": " + e.Message
			}
			fmt.Fprintf(tw, "%s\t%s\t\t\t\t\t\t%s\n", e.Slug, e.Outcome, reason)
			continue
		}
		for _, p := range e.Periods {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t[%d, %d]\t%s … %s\t%d\t\n", e.Slug, e.Outcome, p.Period, p.WindowIndex,
				p.AnalysisWindowStart, p.AnalysisWindowEnd, p.FirstDateDataRequired, p.LastDateDataRequired, p.Metrics)
		}
	}
	return tw.Flush()
}

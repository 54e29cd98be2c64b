package launcher

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/export"
	"github.com/jetstream-beam/jetstream/pipeline"
	"github.com/jetstream-beam/jetstream/sampledata"
	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/transforms"
)

// summarise prints, for the newest window of each period, every metric's per-branch
// estimate and each branch's relative uplift against the reference branch (enrollments
// basis, segment all), next to the generated truth when the warehouse is a sample.
func summarise(out io.Writer, plan *pipeline.Plan, o RunOptions) error {
	truth, hasTruth := sampleTruth(o.Warehouse)
	tables := filepath.Join(o.Output, tablesDir)
	for _, ep := range plan.Experiments {
		a := ep.Analysis
		fmt.Fprintf(out, "\n%s: %s analysed, results in %s\n", a.Slug, plural(len(ep.Windows), "window"), filepath.Join(o.Output, statisticsDir))
		for _, w := range latestWindows(ep.Windows) {
			table := transforms.Cell{Period: string(w.Period), Window: w.Index}.StatisticsTable(ep.TableSlug)
			rows, err := export.ReadTable(filepath.Join(tables, export.TableFile(table)))
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(out, "\n%s window %d: no statistics (every query failed; see the errors below)\n", w.Period, w.Index)
				continue
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\n%s window %d (days %d to %d after enrollment), enrollments basis, all clients:\n",
				w.Period, w.Index, w.Start, w.End)
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "metric\tstatistic\tbranch\tclients\testimate [95%% interval]\tvs %s: relative uplift\t%s\n", a.ReferenceBranch, truthHeader(hasTruth))
			for _, name := range a.Periods[w.Period] {
				printMetric(tw, rows, a, name, w, truth, hasTruth)
			}
			tw.Flush()
		}
	}
	var slugs []string
	for _, ep := range plan.Experiments {
		slugs = append(slugs, ep.Analysis.Slug)
	}
	errs, err := transforms.ReadErrorsDir(tables, slugs)
	if err != nil {
		return err
	}
	for _, e := range errs {
		fmt.Fprintf(out, "error: %s %s window %d, %s, %s/%s: %s\n", e.Experiment, e.Period, e.Window, e.Metric, e.AnalysisBasis, e.Segment, e.Message)
	}
	return nil
}

func printMetric(tw io.Writer, rows []statistics.Row, a *configs.Analysis, metric string, w pipeline.Window, truth sampledata.Truth, hasTruth bool) {
	counts := map[string]float64{}
	for _, r := range rows {
		if r.Metric == transforms.Identity && r.Segment == transforms.SegmentAll && r.AnalysisBasis == "enrollments" {
			counts[r.Branch] = r.Point
		}
	}
	for _, r := range rows {
		if r.Metric != metric || r.Segment != transforms.SegmentAll || r.AnalysisBasis != "enrollments" || r.Comparison != "" || r.Parameter != "" {
			continue
		}
		uplift, truthCol := "", ""
		if r.Branch != a.ReferenceBranch {
			for _, c := range rows {
				if c.Metric == metric && c.Statistic == r.Statistic && c.Branch == r.Branch && c.Segment == r.Segment &&
					c.AnalysisBasis == r.AnalysisBasis && c.Comparison == statistics.RelativeUplift && c.ComparisonToBranch == a.ReferenceBranch {
					uplift = fmt.Sprintf("%s [%s, %s]", percent(c.Point), percent(c.Lower), percent(c.Upper))
				}
			}
			if hasTruth {
				if e, ok := truth.EffectFor(r.Branch, metric, w.Start, w.End); ok {
					truthCol = percent(e.RelativeUplift)
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%s [%s, %s]\t%s\t%s\n", metric, r.Statistic, r.Branch, counts[r.Branch],
			number(r.Point), number(r.Lower), number(r.Upper), uplift, truthCol)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func truthHeader(has bool) string {
	if has {
		return "true uplift (sample)"
	}
	return ""
}

// latestWindows keeps the newest window of each period, in period order.
func latestWindows(ws []pipeline.Window) []pipeline.Window {
	latest := map[configs.Period]pipeline.Window{}
	for _, w := range ws {
		if w.Index >= latest[w.Period].Index {
			latest[w.Period] = w
		}
	}
	var out []pipeline.Window
	for _, p := range configs.Periods {
		if w, ok := latest[p]; ok {
			out = append(out, w)
		}
	}
	return out
}

// sampleTruth loads truth.json beside a local sample warehouse, if there is one.
func sampleTruth(url string) (sampledata.Truth, bool) {
	path, ok := strings.CutPrefix(url, "duckdb:")
	if !ok {
		return sampledata.Truth{}, false
	}
	t, err := sampledata.LoadTruth(filepath.Join(filepath.Dir(path), "truth.json"))
	return t, err == nil
}

func number(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.4g", v)
}

func percent(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%+.2f%%", 100*v)
}

package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jetstream-beam/jetstream/configs"
	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/statistics"
	"github.com/jetstream-beam/jetstream/transforms"
	"github.com/jetstream-beam/jetstream/warehouse"
)

// Options of a plan.
type Options struct {
	Warehouse   string // warehouse URL the pipeline reads from
	Dataset     string // dataset for the enrollments tables, e.g. mozanalysis
	EventsTable string // enrollment and exposure events, e.g. mozdata.telemetry.events
	Seed        uint64 // base seed; every cell derives its own from it
	Workers     int    // goroutines per bootstrap (0: all CPUs); results do not depend on it
	// ShardDraws is the bootstrap work above which a branch's replicates are computed in
	// shards spread over workers (0: transforms.DefaultShardDraws; negative: never).
	ShardDraws int64
	// ExactBootstrap: bootstrap_mean draws every distinct value in every replicate (see
	// transforms.Config.ExactBootstrap).
	ExactBootstrap bool
	// ReadParts is how many parts each metrics table is read in, by different workers.
	ReadParts int
	// StatisticsOnly reads the metrics tables an earlier run wrote, without running the
	// metric queries (Jetstream's --statistics-only).
	StatisticsOnly bool
	// Now is the run's time: the last_updated label of the metrics tables it writes.
	Now time.Time
}

// Plan is everything one pipeline run computes.
type Plan struct {
	Experiments []ExperimentPlan
	Skipped     []Skip
	// Failed are the experiments whose decision failed on some date (Jetstream counts them
	// as failed runs): none of their windows is computed, the others' are.
	Failed  []Failure
	Queries []transforms.Query
	Config  transforms.Config
}

// Failure is an experiment that cannot be analysed on a date, and why.
type Failure struct {
	Slug    string
	Date    time.Time
	Reason  string // Jetstream's exception name
	Message string
}

func (f Failure) Error() string {
	return fmt.Sprintf("experiment %q on %s: %s: %s", f.Slug, dateString(f.Date), f.Reason, f.Message)
}

// ExperimentPlan is the part of the plan for one experiment.
type ExperimentPlan struct {
	Analysis    *configs.Analysis
	Experiment  experimenter.Experiment // the Experimenter record
	Dates       Dates
	TableSlug   string
	Windows     []Window
	Enrollments warehouse.Enrollments
}

// Skip records an experiment that has no window to compute on any date of the plan, and why.
type Skip struct {
	Slug   string
	Reason string
}

// NewPlan gathers the windows of the analysed decisions (of one or many dates) per
// experiment and renders their warehouse queries in the dialect d. An experiment with a
// failed decision on any date is left out entirely and listed in Failed (Jetstream counts
// it as a failed run, and publishes nothing of a failed run); the others are planned. An
// experiment whose config cannot be planned (e.g. SQL the dialect cannot run) fails the
// same way.
func NewPlan(decisions []Decision, d warehouse.Dialect, opts Options) (*Plan, error) {
	plan := &Plan{Config: transforms.Config{Seed: opts.Seed, Workers: opts.Workers, ShardDraws: opts.ShardDraws, ExactBootstrap: opts.ExactBootstrap}}
	var order []string
	bySlug := map[string]*ExperimentPlan{}
	lastWord := map[string]string{}
	failed := map[string]bool{}
	for _, dec := range decisions {
		if dec.Outcome == Failed {
			if !failed[dec.Slug] {
				plan.Failed = append(plan.Failed, Failure{dec.Slug, dec.Date, dec.Reason, dec.Message})
			}
			failed[dec.Slug] = true
		}
	}
	for _, dec := range decisions {
		if failed[dec.Slug] {
			continue
		}
		if _, seen := lastWord[dec.Slug]; !seen {
			order = append(order, dec.Slug)
		}
		lastWord[dec.Slug] = dec.Message
		if dec.Reason != "" {
			lastWord[dec.Slug] = dec.Reason + ": " + dec.Message
		}
		if dec.Outcome != Analysed || len(dec.Windows) == 0 {
			continue
		}
		ep := bySlug[dec.Slug]
		if ep == nil {
			if err := checkReference(dec.Analysis); err != nil {
				plan.fail(dec, ReasonConfig, err)
				failed[dec.Slug] = true
				continue
			}
			ep = newExperimentPlan(dec.Analysis, dec.Dates, opts)
			ep.Experiment = dec.Experiment
			bySlug[dec.Slug] = ep
		}
		ep.Windows = append(ep.Windows, dec.Windows...)
	}
	for _, slug := range order {
		ep := bySlug[slug]
		if ep == nil {
			plan.Skipped = append(plan.Skipped, Skip{slug, lastWord[slug]})
			continue
		}
		if failed[slug] {
			continue
		}
		cfg, err := experimentConfig(ep.Analysis, ep.TableSlug)
		if err == nil {
			_, err = ep.Enrollments.Query(d) // refuse what the warehouse cannot run before anything runs
		}
		var queries []transforms.Query
		if err == nil {
			queries, err = ep.queries(d, opts)
		}
		if err != nil {
			plan.fail(Decision{Slug: slug, Date: ep.Windows[0].Date}, ReasonConfig, err)
			continue
		}
		for _, w := range ep.Windows {
			cfg.Windows = append(cfg.Windows, transforms.WindowLength{Period: string(w.Period), Window: w.Index, Days: w.Length()})
		}
		plan.Experiments = append(plan.Experiments, *ep)
		plan.Config.Experiments = append(plan.Config.Experiments, cfg)
		plan.Queries = append(plan.Queries, queries...)
	}
	return plan, nil
}

func (p *Plan) fail(dec Decision, reason string, err error) {
	p.Failed = append(p.Failed, Failure{Slug: dec.Slug, Date: dec.Date, Reason: reason, Message: err.Error()})
}

// checkReference refuses an analysis against a branch the experiment does not have: the
// config parser accepts any reference branch (as Jetstream's does), and the analysis would
// publish no comparison to it.
func checkReference(a *configs.Analysis) error {
	if a.ReferenceBranch != "" && len(a.Branches) > 0 && !slices.Contains(a.Branches, a.ReferenceBranch) {
		return a.Source.Locate("experiment.reference_branch",
			fmt.Errorf("branch %q is not one of the experiment's branches %v", a.ReferenceBranch, a.Branches))
	}
	return nil
}

func newExperimentPlan(a *configs.Analysis, dates Dates, opts Options) *ExperimentPlan {
	return &ExperimentPlan{
		Analysis:  a,
		Dates:     dates,
		TableSlug: warehouse.NormalizeName(a.Slug),
		Enrollments: warehouse.Enrollments{
			Slug:         a.Slug,
			First:        dates.Start,
			Last:         dates.LastEnrollment,
			SampleSize:   a.SampleSize,
			EventsTable:  opts.EventsTable,
			Segments:     segments(a),
			AnalysisUnit: a.AnalysisUnit,
			Exposure:     exposure(a),
			Type:         enrollmentsType(a),
			AppDataset:   warehouse.AppDataset(appID(a)),
			Custom:       a.EnrollmentQuery,
		},
	}
}

// enrollmentsType is the experiment's enrollments query type: its config's, else its
// platform's (normandy for desktop, Glean events for the mobile apps).
func enrollmentsType(a *configs.Analysis) string {
	if a.EnrollmentsQueryType != "" {
		return a.EnrollmentsQueryType
	}
	if p, ok := configs.PlatformOf(a.AppName); ok {
		return p.EnrollmentsQueryType
	}
	return warehouse.EnrollmentsNormandy
}

// appID is the experiment's Glean app id: Experimenter's, else its platform's.
func appID(a *configs.Analysis) string {
	if a.AppID != "" {
		return a.AppID
	}
	p, _ := configs.PlatformOf(a.AppName)
	return p.AppID
}

// exposure converts the analysis' exposure signal, nil for Jetstream's default exposures.
func exposure(a *configs.Analysis) *warehouse.ExposureSignal {
	x := a.Exposure
	if x == nil {
		return nil
	}
	out := &warehouse.ExposureSignal{Name: x.Name, SelectExpression: x.SelectExpression, FromExpression: x.FromExpression,
		WindowStart: x.WindowStart, WindowEnd: x.WindowEnd, ClientIDColumn: "client_id", SubmissionDateColumn: "submission_date",
		GroupIDColumn: "profile_group_id"}
	if ds := a.DataSources[x.DataSource]; ds != nil {
		out.ClientIDColumn, out.SubmissionDateColumn, out.GroupIDColumn = ds.ClientIDColumn, ds.SubmissionDateColumn, ds.GroupIDColumn
	}
	return out
}

// segments converts the analysis' resolved segments for the enrollments query.
func segments(a *configs.Analysis) []warehouse.Segment {
	var out []warehouse.Segment
	for _, s := range a.Segments {
		ds := s.DataSource
		out = append(out, warehouse.Segment{
			Name:             s.Name,
			SelectExpression: s.SelectExpression,
			DataSource: warehouse.SegmentSource{
				Name:                 ds.Name,
				FromExpression:       ds.FromExpression,
				ClientIDColumn:       ds.ClientIDColumn,
				GroupIDColumn:        ds.GroupIDColumn,
				SubmissionDateColumn: ds.SubmissionDateColumn,
				WindowStart:          ds.WindowStart,
				WindowEnd:            ds.WindowEnd,
			},
		})
	}
	return out
}

// experimentConfig validates every statistic of the experiment's metrics and records them.
func experimentConfig(a *configs.Analysis, tableSlug string) (transforms.ExperimentConfig, error) {
	cfg := transforms.ExperimentConfig{
		Slug:            a.Slug,
		TableSlug:       tableSlug,
		Branches:        a.Branches,
		ReferenceBranch: a.ReferenceBranch,
	}
	for _, name := range slices.Sorted(maps.Keys(a.Metrics)) {
		m := a.Metrics[name]
		mc := transforms.MetricConfig{Name: name}
		for _, st := range m.Statistics {
			key := fmt.Sprintf("metrics.%s.statistics.%s", name, st.Name)
			if _, err := statistics.New(st.Name, st.Params); err != nil {
				return cfg, a.Source.Locate(key, err)
			}
			params, err := transforms.EncodeParams(st.Params)
			if err != nil {
				return cfg, a.Source.Locate(key, err)
			}
			sc := transforms.StatisticConfig{Name: st.Name, Params: params}
			for i, pt := range st.PreTreatments {
				ptKey := fmt.Sprintf("%s.pre_treatments[%d]", key, i+1)
				if _, err := statistics.NewPreTreatment(pt.Name, pt.Params); err != nil {
					return cfg, a.Source.Locate(key+".pre_treatments", err)
				}
				ptParams, err := transforms.EncodeParams(pt.Params)
				if err != nil {
					return cfg, a.Source.Locate(key+".pre_treatments", fmt.Errorf("%s: %w", ptKey, err))
				}
				sc.PreTreatments = append(sc.PreTreatments, transforms.PreTreatmentConfig{Name: pt.Name, Params: ptParams})
			}
			mc.Statistics = append(mc.Statistics, sc)
		}
		cfg.Metrics = append(cfg.Metrics, mc)
	}
	return cfg, nil
}

// queries renders one metrics query per (window, analysis basis).
func (ep ExperimentPlan) queries(d warehouse.Dialect, opts Options) ([]transforms.Query, error) {
	a := ep.Analysis
	enrollments := d.Table(opts.Dataset, ep.Enrollments.TableName())
	var out []transforms.Query
	for _, w := range ep.Windows {
		for _, basis := range []string{warehouse.BasisEnrollments, warehouse.BasisExposures} {
			all, err := queryColumns(a, ep.Dates, w.Period, basis)
			if err != nil {
				return nil, err
			}
			var segmentNames []string
			for _, seg := range a.Segments {
				segmentNames = append(segmentNames, seg.Name)
			}
			// One query per data source (Jetstream's discrete metrics): a failing data source
			// does not take the others down, and each query stays small.
			for i, cols := range all.byDataSource() {
				mq := warehouse.MetricsQuery{
					Segments:         segmentNames,
					AnalysisUnit:     a.AnalysisUnit,
					Exposure:         exposure(a),
					FirstEnrollment:  ep.Dates.Start,
					LastEnrollment:   ep.Dates.LastEnrollment,
					Slug:             a.Slug,
					EnrollmentsTable: enrollments,
					Basis:            basis,
					WindowStart:      w.Start,
					WindowEnd:        w.End,
					FirstDate:        w.FirstDate,
					LastDate:         w.LastDate,
					Metrics:          cols.metrics,
				}
				sql, err := mq.SQL(d)
				if err != nil {
					return nil, fmt.Errorf("experiment %q, %s window %d: %w", a.Slug, w.Period, w.Index, err)
				}
				out = append(out, transforms.Query{
					Warehouse:  opts.Warehouse,
					SQL:        sql,
					Experiment: a.Slug,
					Basis:      basis,
					Period:     string(w.Period),
					Window:     w.Index,
					Segments:   segmentNames,
					Metrics:    cols.analysed,
					Unanalysed: cols.unanalysed,
					Pairs:      cols.pairs,
					DataSource: cols.dataSource,
					Table:      warehouse.DataSourceMetricsTable(a.Slug, basis, cols.dataSource, string(w.Period), w.Index),
					Identity:   i == 0,
					Dataset:    opts.Dataset,
					Written:    opts.Now.Unix(),
					ReadParts:  opts.ReadParts,
					Reuse:      opts.StatisticsOnly,
				})
			}
		}
	}
	return out, nil
}

// byDataSource splits the columns into one set per data source, in first-use order. A
// pair goes with its first column's data source, which then also reads the second column.
func (c columns) byDataSource() []columns {
	metricOf := map[string]warehouse.Metric{}
	for _, m := range c.metrics {
		metricOf[m.Name] = m
	}
	var order []string
	groups := map[string]*columns{}
	group := func(column string) *columns {
		ds := metricOf[column].DataSource.Name
		g, ok := groups[ds]
		if !ok {
			g = &columns{dataSource: ds}
			groups[ds] = g
			order = append(order, ds)
		}
		return g
	}
	for _, name := range c.analysed {
		g := group(name)
		g.analysed = append(g.analysed, name)
	}
	for _, p := range c.pairs {
		g := group(p.X)
		for _, col := range []string{p.X, p.Y} {
			if !slices.Contains(g.analysed, col) && !slices.Contains(g.unanalysed, col) {
				g.unanalysed = append(g.unanalysed, col)
			}
		}
		g.pairs = append(g.pairs, p)
	}
	out := make([]columns, 0, len(order))
	for _, ds := range order {
		g := groups[ds]
		for _, name := range append(slices.Clone(g.analysed), g.unanalysed...) {
			g.metrics = append(g.metrics, metricOf[name])
		}
		out = append(out, *g)
	}
	return out
}

// columns are the metric columns of one query: the analysed metrics, then the upstream
// metrics only read as parts of pairs, and the pairs of the two-column statistics.
type columns struct {
	dataSource string             // set by byDataSource
	metrics    []warehouse.Metric // SQL columns: analysed, then unanalysed
	analysed   []string
	unanalysed []string
	pairs      []transforms.PairColumns
}

// queryColumns lists the columns the query of a period and basis reads. Metrics derived
// from upstream metrics (depends_on) have no SQL of their own: a population_ratio reads its
// numerator and denominator columns as pairs, added to the query when the period does not
// analyse them itself.
func queryColumns(a *configs.Analysis, dates Dates, period configs.Period, basis string) (columns, error) {
	var c columns
	var deferred []string
	for _, name := range a.Periods[period] {
		m := a.Metrics[name]
		if !slices.Contains(m.AnalysisBases, basis) {
			continue
		}
		if m.DataSource == "" {
			deferred = append(deferred, name)
			continue
		}
		c.metrics = append(c.metrics, sqlMetric(a, m))
		c.analysed = append(c.analysed, name)
	}
	need := func(metric, column, key string) error {
		if slices.Contains(c.analysed, column) || slices.Contains(c.unanalysed, column) {
			return nil
		}
		up, ok := a.Metrics[column]
		if !ok || up.DataSource == "" {
			return a.Source.Locate(key, fmt.Errorf("metric %q: %q is not a metric read from a data source", metric, column))
		}
		c.metrics = append(c.metrics, sqlMetric(a, up))
		c.unanalysed = append(c.unanalysed, column)
		return nil
	}
	for _, name := range slices.Clone(c.analysed) {
		cov, ok, err := covariateOf(a, name, period)
		if err != nil {
			return c, err
		}
		if !ok {
			continue
		}
		column := cov.metric + "_pre"
		if !slices.Contains(c.unanalysed, column) {
			m := sqlMetric(a, a.Metrics[cov.metric])
			m.Name = column
			m.Window = &warehouse.MetricWindow{Start: cov.start, End: -1,
				FirstDate: dates.Start.AddDate(0, 0, cov.start), LastDate: dates.LastEnrollment.AddDate(0, 0, -1)}
			c.metrics = append(c.metrics, m)
			c.unanalysed = append(c.unanalysed, column)
		}
		model, tail := modelTally(a.Metrics[name], a.SmallestBranchShare)
		c.pairs = append(c.pairs, transforms.PairColumns{Metric: name, X: name, Y: column, Model: model, TailFraction: tail})
	}
	for _, name := range deferred {
		for _, st := range a.Metrics[name].Statistics {
			if st.Name != "population_ratio" {
				continue
			}
			key := fmt.Sprintf("metrics.%s.statistics.population_ratio", name)
			num, _ := st.Params["numerator"].(string)
			den, _ := st.Params["denominator"].(string)
			if err := need(name, num, key+".numerator"); err != nil {
				return c, err
			}
			if err := need(name, den, key+".denominator"); err != nil {
				return c, err
			}
			c.pairs = append(c.pairs, transforms.PairColumns{Metric: name, X: num, Y: den})
		}
	}
	return c, nil
}

// sqlMetric is a metric read from its data source.
func sqlMetric(a *configs.Analysis, m *configs.Metric) warehouse.Metric {
	ds := a.DataSources[m.DataSource]
	return warehouse.Metric{
		Name:             m.Name,
		SelectExpression: m.SelectExpression,
		DataSource: warehouse.DataSource{
			Name:                  ds.Name,
			FromExpression:        ds.FromExpression,
			ClientIDColumn:        ds.ClientIDColumn,
			GroupIDColumn:         ds.GroupIDColumn,
			SubmissionDateColumn:  ds.SubmissionDateColumn,
			ExperimentsColumnType: ds.ExperimentsColumnType,
		},
	}
}

// covariate is the pre-enrollment covariate of a linear model: the value of metric over
// the days [start, −1] before each client's enrollment.
type covariate struct {
	metric string
	start  int
}

// modelTally tells how the (metric, covariate) pairs of metric are tallied: as a
// statistics.ModelTally (model) unless one of its linear models has pre-treatments, which
// need the pairs themselves; tail is the largest TailFraction its linear models need when
// the smallest branch has that share of the clients.
func modelTally(m *configs.Metric, smallestShare float64) (model bool, tail float64) {
	model = true
	for _, st := range m.Statistics {
		s, err := statistics.New(st.Name, st.Params)
		if err != nil {
			continue // reported when the statistic is computed
		}
		frac, ok := statistics.ModelTailFraction(s, smallestShare)
		if !ok {
			continue
		}
		tail = max(tail, frac)
		if len(st.PreTreatments) > 0 {
			model = false
		}
	}
	return model, tail
}

// covariateOf finds the covariate of metric's linear models in period, as Jetstream decides
// it: the statistic has covariate_adjustment, the current period is not a pre-enrollment
// period nor the covariate's own, and the covariate metric is computed in the covariate
// period (Jetstream reads it from that period's metrics table; without it the model is
// unadjusted). Here the covariate is read by the same query, over the same window and data.
func covariateOf(a *configs.Analysis, metric string, period configs.Period) (covariate, bool, error) {
	if period == configs.PreenrollmentWeek || period == configs.PreenrollmentDays28 {
		return covariate{}, false, nil
	}
	var found *covariate
	for _, st := range a.Metrics[metric].Statistics {
		adj, ok := st.Params["covariate_adjustment"].(map[string]any)
		if !ok {
			continue
		}
		key := fmt.Sprintf("metrics.%s.statistics.%s.covariate_adjustment", metric, st.Name)
		p, _ := adj["period"].(string)
		covPeriod, err := configs.ParsePeriod(p)
		if err != nil || (covPeriod != configs.PreenrollmentWeek && covPeriod != configs.PreenrollmentDays28) {
			return covariate{}, false, a.Source.Locate(key+".period", fmt.Errorf(
				"covariate adjustment must use a pre-enrollment period (preenrollment_week or preenrollment_days28), got %q", p))
		}
		if covPeriod == period {
			continue
		}
		name := metric
		if m, ok := adj["metric"].(string); ok && m != "" {
			name = m
		}
		if !slices.Contains(a.Periods[covPeriod], name) || a.Metrics[name] == nil || a.Metrics[name].DataSource == "" {
			continue // no covariate column: unadjusted, as Jetstream
		}
		c := covariate{metric: name, start: -7}
		if covPeriod == configs.PreenrollmentDays28 {
			c.start = -28
		}
		if found != nil && *found != c {
			return covariate{}, false, a.Source.Locate(key, fmt.Errorf(
				"metric %q has linear models with two different covariates; one metric can have one covariate", metric))
		}
		found = &c
	}
	if found == nil {
		return covariate{}, false, nil
	}
	return *found, true, nil
}

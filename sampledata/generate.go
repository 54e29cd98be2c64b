package sampledata

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Writer receives rows in generation order: client by client (index 0, 1, …), first the
// client's events, then its clients_daily rows in date order. Generation streams, so memory
// does not grow with the number of clients. Slices in the rows (MapValues, Experiments) may
// be shared between rows and must not be modified; copy them to keep them.
type Writer interface {
	Event(Event) error
	ClientDay(ClientDay) error
}

// Event is a row of telemetry.events. Empty Method, Object and StringValue stand for NULL.
type Event struct {
	SubmissionDate time.Time
	ClientID       string
	ProfileGroupID string
	SampleID       int32
	Category       string
	Method         string
	Object         string
	StringValue    string
	MapValues      []KeyValue
}

// KeyValue is an element of BigQuery's ARRAY<STRUCT<key STRING, value STRING>> columns.
type KeyValue struct {
	Key   string `json:"key" db:"key"`
	Value string `json:"value" db:"value"`
}

// ClientDay is a row of telemetry.clients_daily.
type ClientDay struct {
	SubmissionDate           time.Time
	ClientID                 string
	ProfileGroupID           string
	SampleID                 int32
	ActiveHoursSum           float64 // active_hours_sum
	SubsessionHoursSum       float64 // subsession_hours_sum
	URICount                 int64   // scalar_parent_browser_engagement_total_uri_count_sum
	URICountNormalAndPrivate int64   // …_total_uri_count_normal_and_private_mode_sum
	SearchCount              int64   // search_count_all
	AdClicks                 int64   // ad_clicks_count_all
	Pings                    int64   // pings_aggregated_by_this_row
	IsDefaultBrowser         bool    // is_default_browser
	// Experiments is the {slug: branch} annotation: [{slug, branch}] on rows after the
	// enrollment day, on the enrollment-day row with probability EnrollmentDayTagRate, never
	// before enrollment. Clients also enrolled in OtherSlug(slug) carry that entry too (after
	// the slug's entry, if any) from their other enrollment date on.
	Experiments []KeyValue
}

// Event vocabulary.
const (
	CategoryNormandy = "normandy"
	CategoryForeign  = "foo" // noise: category that Jetstream's enrollment query must ignore
	MethodEnroll     = "enroll"
	MethodExpose     = "expose"
	ObjectNimbus     = "nimbus_experiment"
)

// Generate streams all rows of opts to w and returns the ground truth. It is pure Go and
// deterministic: client i's rows depend only on (Seed, i, PreDays, Design, Effects), so a run
// with more clients extends a run with fewer.
func Generate(opts Options, w Writer) (Truth, error) {
	return GenerateContext(context.Background(), opts, w)
}

// GenerateContext is Generate with cancellation, checked between clients.
func GenerateContext(ctx context.Context, opts Options, w Writer) (Truth, error) {
	p, err := newPlan(opts)
	if err != nil {
		return Truth{}, err
	}
	prog := newProgress(opts.Progress, p.clients)
	tally, err := newGenerator(p).run(ctx, 0, p.clients, w, prog)
	if err != nil {
		return Truth{}, err
	}
	prog.finish()
	return newTruth(p, tally), nil
}

// tally counts enrolled and exposed clients per branch.
type tally struct{ enrolled, exposed []int64 }

func newTally(branches int) tally {
	return tally{enrolled: make([]int64, branches), exposed: make([]int64, branches)}
}

func (t tally) add(o tally) {
	for i := range t.enrolled {
		t.enrolled[i] += o.enrolled[i]
		t.exposed[i] += o.exposed[i]
	}
}

// run generates clients [from, to) into w.
func (g *generator) run(ctx context.Context, from, to int, w Writer, prog *progress) (tally, error) {
	t := newTally(len(g.cal.design.Branches))
	for i := from; i < to; i++ {
		if (i-from)%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return tally{}, fmt.Errorf("sample data: stopped at client %d of %d: %w", i, g.clients, err)
			}
		}
		c := g.client(i)
		t.enrolled[c.branch]++
		if c.exposed {
			t.exposed[c.branch]++
		}
		if err := g.emit(&c, w); err != nil {
			return tally{}, fmt.Errorf("sample data: client %d (%s): %w", i, c.id, err)
		}
		prog.done(1)
	}
	return t, nil
}

// progress calls Options.Progress every ProgressInterval clients, serialized, from any
// number of generating goroutines.
type progress struct {
	fn    func(done, total int)
	total int
	mu    sync.Mutex
	n     int
}

func newProgress(fn func(done, total int), total int) *progress {
	return &progress{fn: fn, total: total}
}

func (p *progress) done(k int) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	before := p.n / ProgressInterval
	p.n += k
	if p.n/ProgressInterval != before {
		p.fn(p.n, p.total)
	}
}

// finish reports the final count unless it was just reported.
func (p *progress) finish() {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n%ProgressInterval != 0 {
		p.fn(p.n, p.total)
	}
}

// generator holds the per-run constants and the random stream.
type generator struct {
	plan
	rng     rng
	dates   []time.Time  // dates[k] is the date of day k − preDays
	tags    [][]KeyValue // tags[b] = [{slug, b}]
	enroll  [][]KeyValue // enroll event map per branch
	expose  [][]KeyValue // exposure event map per branch
	other   []KeyValue   // OtherSlug's branches, as annotation
	otherEv [][]KeyValue // OtherSlug's enroll event map per other branch
	both    [][]KeyValue // both[b*len(other)+o] = [{slug, b}, {other, o}]
	hoursQ  float64      // grid steps per hour: 3600 / HoursResolution
}

// otherBranches are the branches of OtherSlug.
var otherBranches = []string{"control", "treatment-b"}

func newGenerator(p plan) *generator {
	g := &generator{plan: p, hoursQ: 3600 / p.model.HoursResolution}
	for k := -p.cal.preDays; k <= p.cal.lastDay(); k++ {
		g.dates = append(g.dates, p.cal.start.AddDate(0, 0, k))
	}
	slug := p.cal.design.Slug
	other := OtherSlug(slug)
	for _, ob := range otherBranches {
		g.other = append(g.other, KeyValue{other, ob})
		g.otherEv = append(g.otherEv, []KeyValue{{"branch", ob}, {"experimentType", "nimbus"}})
	}
	for _, b := range p.cal.design.Branches {
		g.tags = append(g.tags, []KeyValue{{slug, b.Name}})
		g.enroll = append(g.enroll, []KeyValue{{"branch", b.Name}, {"experimentType", "nimbus"}})
		g.expose = append(g.expose, []KeyValue{{"branchSlug", b.Name}, {"featureId", p.cal.featureID}})
		for _, o := range g.other {
			g.both = append(g.both, []KeyValue{{slug, b.Name}, o})
		}
	}
	return g
}

// client is one client's per-client draws.
type client struct {
	index          int
	id, group      string
	sampleID       int32
	branch         int
	treated        bool
	enrollDay      int     // day number of the enrollment date (0 … E−1)
	activity       float64 // p
	intensity      float64 // μ
	searchRate     float64 // λ (0 for non-searchers)
	defaultBrowser bool
	exposed        bool
	exposeDay      int
	otherBranch    int // index into otherBranches, or −1
	otherDay       int // day number of the other enrollment
	foreign        bool
	foreignMethod  bool // the foreign event has a method (else NULL)
	churnDay       int  // T: first day after enrollment without the client
}

// client draws the per-client values of client index, in this fixed order: branch,
// enrollment day, p, μ, searcher and λ, default browser, exposure (and its day), other
// experiment (and its day and branch), foreign event, churn day. The daily draws follow in
// emit.
func (g *generator) client(index int) client {
	r := &g.rng
	r.reset(g.seed, index)
	m := g.model
	c := client{index: index, id: ClientID(g.seed, index), group: ProfileGroupID(g.seed, index), otherBranch: -1}
	c.sampleID = SampleID(c.id)
	c.branch = g.cal.branchOf(r.float64())
	c.treated = g.cal.treated[c.branch]
	c.enrollDay = r.intN(g.cal.enrollDays)
	c.activity = r.beta(m.ActivityAlpha, m.ActivityBeta)
	c.intensity = math.Exp(m.HoursLogMean + m.HoursLogSD*r.normal())
	if r.bernoulli(m.SearcherRate) {
		c.searchRate = r.gamma(m.SearchShape, m.SearchScale)
	}
	c.defaultBrowser = r.bernoulli(m.DefaultBrowserRate)
	if r.bernoulli(m.ExposureRate) {
		c.exposed = true
		c.exposeDay = c.enrollDay + r.intN(g.cal.enrollDays-c.enrollDay)
	}
	if r.bernoulli(m.OtherEnrollRate) {
		c.otherDay = r.intN(g.cal.lastDay() + 1)
		c.otherBranch = r.intN(len(otherBranches))
	}
	if r.bernoulli(m.ForeignEventRate) {
		c.foreign = true
		c.foreignMethod = r.bernoulli(0.5)
	}
	c.churnDay = r.geometricDay(g.effects.hazard(c.treated))
	return c
}

// emit writes the client's events and clients_daily rows to w, drawing the daily values.
func (g *generator) emit(c *client, w Writer) error {
	slug := g.cal.design.Slug
	ev := Event{ClientID: c.id, ProfileGroupID: c.group, SampleID: c.sampleID, Category: CategoryNormandy, Object: ObjectNimbus}
	ev.SubmissionDate = g.date(c.enrollDay)
	ev.Method, ev.StringValue, ev.MapValues = MethodEnroll, slug, g.enroll[c.branch]
	if err := w.Event(ev); err != nil {
		return err
	}
	if c.exposed {
		ev.SubmissionDate = g.date(c.exposeDay)
		ev.Method, ev.MapValues = MethodExpose, g.expose[c.branch]
		if err := w.Event(ev); err != nil {
			return err
		}
	}
	if c.otherBranch >= 0 {
		ev.SubmissionDate = g.date(c.otherDay)
		ev.Method, ev.StringValue, ev.MapValues = MethodEnroll, OtherSlug(slug), g.otherEv[c.otherBranch]
		if err := w.Event(ev); err != nil {
			return err
		}
	}
	if c.foreign {
		ev.SubmissionDate = g.date(c.enrollDay)
		ev.Category, ev.Method, ev.StringValue, ev.MapValues = CategoryForeign, "", slug, g.enroll[c.branch]
		if c.foreignMethod {
			ev.Method = MethodEnroll
		}
		if err := w.Event(ev); err != nil {
			return err
		}
	}

	r := &g.rng
	row := ClientDay{ClientID: c.id, ProfileGroupID: c.group, SampleID: c.sampleID, IsDefaultBrowser: c.defaultBrowser}
	// Pre-enrollment days: a row with probability p, no churn, no annotation of the slug.
	for day := -g.cal.preDays; day < c.enrollDay; day++ {
		if !r.bernoulli(c.activity) {
			continue
		}
		if err := g.day(c, &row, day, day-c.enrollDay, false, w); err != nil {
			return err
		}
	}
	// Enrollment day and after: always a row on day 0, then rows with probability p until churn.
	for d := 0; c.enrollDay+d <= g.cal.lastDay(); d++ {
		tagged := true
		if d == 0 {
			tagged = r.bernoulli(g.effects.EnrollmentDayTagRate)
		} else {
			if d >= c.churnDay {
				break
			}
			if !r.bernoulli(c.activity) {
				continue
			}
		}
		if err := g.day(c, &row, c.enrollDay+d, d, tagged, w); err != nil {
			return err
		}
	}
	return nil
}

// date returns the date of day number day.
func (g *generator) date(day int) time.Time { return g.dates[day+g.cal.preDays] }

// day draws and writes the row of an active day (day number day, d days after enrollment).
func (g *generator) day(c *client, row *ClientDay, day, d int, tagged bool, w Writer) error {
	r := &g.rng
	m := g.model
	x := c.intensity * r.gamma(m.DailyShape, m.DailyScale) * g.effects.multiplier(c.treated, d)
	active := g.roundHours(x)
	row.SubmissionDate = g.date(day)
	row.ActiveHoursSum = active
	row.SubsessionHoursSum = g.roundHours(active * (1 + m.SubsessionExtra*r.exponential()))
	uriRate := m.URIsPerHour * x
	row.URICount = r.poisson(uriRate)
	row.URICountNormalAndPrivate = row.URICount + r.poisson(m.PrivateURIShare*uriRate)
	row.SearchCount = r.poisson(c.searchRate)
	row.AdClicks = r.poisson(m.AdClicksPerSearch * float64(row.SearchCount))
	row.Pings = 1 + r.poisson(m.PingsPerHour*row.SubsessionHoursSum)
	row.Experiments = g.annotation(c, day, tagged)
	return w.ClientDay(*row)
}

// annotation returns the experiments column of a row on day number day.
func (g *generator) annotation(c *client, day int, tagged bool) []KeyValue {
	inOther := c.otherBranch >= 0 && day >= c.otherDay
	switch {
	case tagged && inOther:
		return g.both[c.branch*len(g.other)+c.otherBranch]
	case tagged:
		return g.tags[c.branch]
	case inOther:
		return g.other[c.otherBranch : c.otherBranch+1 : c.otherBranch+1]
	}
	return noAnnotation
}

// noAnnotation is the experiments column of rows without annotation (an empty list).
var noAnnotation = []KeyValue{}

// roundHours rounds hours to the HoursResolution grid (5 s by default). Rounding to the
// nearest step is unbiased up to O(step²) for the smooth distribution of x, far below the
// sampling error of any realistic sample (|bias| < 1e-6 h per row).
func (g *generator) roundHours(x float64) float64 {
	return math.Round(x*g.hoursQ) / g.hoursQ
}

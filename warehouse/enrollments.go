package warehouse

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Enrollments describes the enrollments table of one experiment (normandy enrollment
// events, Jetstream's desktop default).
type Enrollments struct {
	Slug        string
	First, Last time.Time // first and last enrollment date (inclusive)
	SampleSize  int       // percentage of clients kept by sample_id; 0 means 100
	EventsTable string    // e.g. mozdata.telemetry.events
	Segments    []Segment // a BOOL column each
	// AnalysisUnit is the id clients are analysed by: client_id (default) or
	// profile_group_id (experiments randomised by group_id).
	AnalysisUnit string
	// Exposure, when set, replaces the default exposure events.
	Exposure *ExposureSignal
}

// unit is the analysis unit, client_id by default.
func unit(u string) string {
	if u == "" {
		return "client_id"
	}
	return u
}

// TableName is Jetstream's name for the experiment's enrollments table.
func (e Enrollments) TableName() string { return "enrollments_" + NormalizeName(e.Slug) }

// Query renders mozanalysis' enrollments query: one row per (analysis_id, branch) with the
// first enrollment date and event count, left-joined with the client's first exposure
// on or after enrollment and within the enrollment period (or by the exposure signal).
func (e Enrollments) Query(d Dialect) (string, error) {
	sample := e.SampleSize
	if sample <= 0 {
		sample = 100
	}
	filter := func(methods string) string {
		return fmt.Sprintf(`e.event_category = 'normandy'
        AND e.event_method IN (%s)
        AND e.submission_date BETWEEN %s AND %s
        AND e.event_string_value = %s
        AND e.sample_id < %d`, methods, d.Date(e.First), d.Date(e.Last), quote(e.Slug), sample)
	}
	exposures := fmt.Sprintf(`SELECT
        e.%[1]s AS analysis_id,
        %[2]s AS branch,
        MIN(e.submission_date) AS exposure_date,
        COUNT(e.submission_date) AS num_exposure_events
    FROM raw_enrollments re
    JOIN %[3]s e
        ON re.analysis_id = e.%[1]s
        AND re.branch = %[2]s
        AND e.submission_date >= re.enrollment_date
    WHERE %[4]s
    GROUP BY 1, 2`, unit(e.AnalysisUnit), d.MapGet("e.event_map_values", "branchSlug"), d.Rewrite(e.EventsTable), filter("'exposure', 'expose'"))
	if x := e.Exposure; x != nil {
		// The day period's first window, [0, 0], as Jetstream builds the table with the day's time limits.
		from, to, err := x.dates(e.First, e.Last, 0, 0)
		if err != nil {
			return "", err
		}
		exposures = x.query(d, "raw_enrollments", from, to, unit(e.AnalysisUnit))
	}
	joins, columns := segmentSubqueries(d, e.Segments, e.First, e.Last, unit(e.AnalysisUnit))
	segmentColumns, segmentJoins := "", ""
	if len(columns) > 0 {
		segmentColumns = ", " + strings.Join(columns, ", ")
		segmentJoins = "\n    " + strings.Join(joins, "\n    ")
	}
	q := fmt.Sprintf(`WITH raw_enrollments AS (
    SELECT
        e.%[7]s AS analysis_id,
        %[1]s AS branch,
        MIN(e.submission_date) AS enrollment_date,
        COUNT(e.submission_date) AS num_enrollment_events
    FROM %[2]s e
    WHERE %[3]s
    GROUP BY 1, 2
),
segmented_enrollments AS (
    SELECT raw_enrollments.*%[5]s FROM raw_enrollments%[6]s
),
exposures AS (
    %[4]s
)
SELECT
    se.*,
    x.exposure_date,
    x.num_exposure_events
FROM segmented_enrollments se
LEFT JOIN exposures x USING (analysis_id, branch)`,
		d.MapGet("e.event_map_values", "branch"),
		d.Rewrite(e.EventsTable),
		filter("'enroll'"),
		exposures,
		segmentColumns, segmentJoins, unit(e.AnalysisUnit),
	)
	return strings.TrimSpace(q), nil
}

// Ensure creates the experiment's enrollments table in dataset unless it exists, as Jetstream
// does (WRITE_EMPTY: enrollments are computed once, and later runs reuse them). created
// reports whether this call wrote it.
func (e Enrollments) Ensure(ctx context.Context, c Client, dataset string) (created bool, err error) {
	exists, err := c.TableExists(ctx, dataset, e.TableName())
	if err != nil || exists {
		return false, err
	}
	d := c.Dialect()
	if err := c.EnsureDataset(ctx, dataset); err != nil {
		return false, err
	}
	q, err := e.Query(d)
	if err != nil {
		return false, err
	}
	if err := c.Exec(ctx, fmt.Sprintf("CREATE TABLE %s AS\n%s", d.Table(dataset, e.TableName()), q)); err != nil {
		return false, err
	}
	return true, nil
}

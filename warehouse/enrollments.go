package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Enrollments describes the enrollments table of one experiment.
type Enrollments struct {
	Slug        string
	First, Last time.Time // first and last enrollment date (inclusive)
	SampleSize  int       // percentage of clients kept by sample_id; 0 means 100
	EventsTable string    // desktop (normandy) events, e.g. mozdata.telemetry.events
	// Type is the enrollments query type (EnrollmentsNormandy when empty); AppDataset the
	// application's dataset (AppDataset of its app_id) that Glean-based types read.
	Type, AppDataset string
	// Custom, when set, is the experiment's own enrollment_query (BigQuery SQL yielding
	// analysis_id or the unit's id column, branch, enrollment_date, num_enrollment_events).
	Custom   string
	Segments []Segment // a BOOL column each
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
	if err := checkEnrollmentsSupported(d, e); err != nil {
		return "", fmt.Errorf("experiment %q: %w", e.Slug, err)
	}
	raw, err := e.rawEnrollments(d)
	if err != nil {
		return "", fmt.Errorf("experiment %q: %w", e.Slug, err)
	}
	exposures := e.defaultExposures(d)
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
    %s
),
segmented_enrollments AS (
    SELECT raw_enrollments.*%s FROM raw_enrollments%s
),
exposures AS (
    %s
)
SELECT
    se.*,
    x.exposure_date,
    x.num_exposure_events
FROM segmented_enrollments se
LEFT JOIN exposures x USING (analysis_id, branch)`, raw, segmentColumns, segmentJoins, exposures)
	return strings.TrimSpace(q), nil
}

// Ensure creates the experiment's enrollments table in dataset unless it exists, as Jetstream
// does (WRITE_EMPTY: enrollments are computed once, and later runs reuse them). created
// reports whether this call wrote it; now is its last_updated label.
func (e Enrollments) Ensure(ctx context.Context, c Client, dataset string, now time.Time) (created bool, err error) {
	q, err := e.Query(c.Dialect())
	if err != nil {
		return false, err
	}
	err = WriteTable(ctx, c, dataset, e.TableName(), q, WriteEmpty, TableInfo{Description: e.Slug, LastUpdated: now})
	if errors.Is(err, ErrTableExists) {
		return false, nil
	}
	return err == nil, err
}

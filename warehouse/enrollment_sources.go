package warehouse

import (
	"fmt"
	"regexp"
	"strings"
)

// Enrollment query types: where an experiment's enrollments come from (Jetstream's
// EnrollmentsQueryType, set by the platform or by [experiment] enrollments_query_type).
const (
	// EnrollmentsNormandy reads desktop telemetry events (category normandy, method enroll).
	EnrollmentsNormandy = "normandy"
	// EnrollmentsGleanEvent reads the app's Glean events_stream (nimbus_events.enrollment).
	EnrollmentsGleanEvent = "glean-event"
	// EnrollmentsFenixFallback reads the experiments map of Fenix baseline pings, for
	// experiments that send no enrollment events.
	EnrollmentsFenixFallback = "fenix-fallback"
	// EnrollmentsCirrus reads Cirrus enrollment events, keyed by the user id they carry.
	EnrollmentsCirrus = "cirrus"
	// EnrollmentsBackgroundUpdate is the desktop background-update task's special query.
	EnrollmentsBackgroundUpdate = "background-update"
)

// defaultProject is where Mozilla's telemetry tables live when the events table names none.
const defaultProject = "moz-fx-data-shared-prod"

// rawEnrollments renders the enrollment source: one row per (analysis_id, branch) with
// enrollment_date and num_enrollment_events, between the first and last enrollment date.
// Glean-based sources identify clients by client_id only, as mozanalysis' do.
func (e Enrollments) rawEnrollments(d Dialect) (string, error) {
	if e.Custom != "" {
		return e.customEnrollments(d)
	}
	switch e.source() {
	case EnrollmentsNormandy:
		return e.normandyEnrollments(d), nil
	case EnrollmentsGleanEvent, EnrollmentsFenixFallback, EnrollmentsCirrus:
		if unit(e.AnalysisUnit) != "client_id" {
			return "", fmt.Errorf("%s enrollments support only the client_id analysis unit, not %s", e.source(), e.AnalysisUnit)
		}
		if e.AppDataset == "" && e.source() != EnrollmentsFenixFallback {
			return "", fmt.Errorf("%s enrollments need the application's dataset (its app_id)", e.source())
		}
	default:
		return "", fmt.Errorf("enrollments query type %q is not supported (supported: normandy, glean-event, fenix-fallback, cirrus, or a custom enrollment_query)", e.source())
	}
	sample := e.sampleSize()
	var q string
	switch e.source() {
	case EnrollmentsGleanEvent:
		q = fmt.Sprintf(`SELECT
        e.client_id AS analysis_id,
        JSON_VALUE(e.event_extra, '$.branch') AS branch,
        DATE(MIN(e.submission_timestamp)) AS enrollment_date,
        COUNT(e.submission_timestamp) AS num_enrollment_events
    FROM %s e
    WHERE e.client_id IS NOT NULL
        AND DATE(e.submission_timestamp) BETWEEN %s AND %s
        AND e.event_category = 'nimbus_events'
        AND e.event_name = 'enrollment'
        AND JSON_VALUE(e.event_extra, '$.experiment') = %s
        AND e.sample_id < %d
    GROUP BY 1, 2`, e.appTable("events_stream"), d.Date(e.First), d.Date(e.Last), quote(e.Slug), sample)
	case EnrollmentsFenixFallback:
		// Clients already in the experiment in the week before it started are ignored: the
		// baseline ping only says a client is enrolled, not since when.
		q = fmt.Sprintf(`SELECT
        b.client_info.client_id AS analysis_id,
        %[6]s.branch AS branch,
        DATE(MIN(b.submission_timestamp)) AS enrollment_date,
        COUNT(b.submission_timestamp) AS num_enrollment_events
    FROM %[2]s b
    WHERE b.client_info.client_id IS NOT NULL
        AND DATE(b.submission_timestamp) BETWEEN DATE_SUB(%[3]s, INTERVAL 7 DAY) AND %[4]s
        AND %[6]s.branch IS NOT NULL
        AND b.sample_id < %[5]d
    GROUP BY 1, 2
    HAVING enrollment_date >= %[3]s`, quote(e.Slug), e.fenixTable("baseline"), d.Date(e.First), d.Date(e.Last), sample,
			d.MapGet("b.ping_info.experiments", e.Slug))
	case EnrollmentsCirrus:
		q = fmt.Sprintf(`SELECT
        %[5]s AS analysis_id,
        %[6]s AS branch,
        DATE(MIN(en.submission_timestamp)) AS enrollment_date,
        COUNT(en.submission_timestamp) AS num_enrollment_events
    FROM %[1]s en, UNNEST(en.events) AS ev
    WHERE %[5]s IS NOT NULL
        AND DATE(en.submission_timestamp) BETWEEN %[2]s AND %[3]s
        AND ev.category = 'cirrus_events'
        AND ev.name = 'enrollment'
        AND %[7]s = %[4]s
        AND en.client_info.app_channel = 'production'
    GROUP BY 1, 2`, e.appTable("enrollment"), d.Date(e.First), d.Date(e.Last), quote(e.Slug),
			d.MapGet("ev.extra", "user_id"), d.MapGet("ev.extra", "branch"), d.MapGet("ev.extra", "experiment"))
	}
	return d.Rewrite(q), nil
}

// defaultExposures renders the source's own exposure events of enrolled clients (those in
// the raw_enrollments relation) between the first and last enrollment date, on or after the
// client's enrollment date and in its branch.
func (e Enrollments) defaultExposures(d Dialect) string {
	var events string
	switch e.source() {
	case EnrollmentsGleanEvent, EnrollmentsFenixFallback, EnrollmentsCirrus:
		id, category, table := "ev.client_id", "nimbus_events", e.appTable("events_stream")
		if e.source() == EnrollmentsFenixFallback {
			table = e.fenixTable("events_stream")
		}
		if e.source() == EnrollmentsCirrus {
			id, category = "JSON_VALUE(ev.event_extra, '$.user_id')", "cirrus_events"
		}
		events = fmt.Sprintf(`SELECT
            %s AS analysis_id,
            JSON_VALUE(ev.event_extra, '$.branch') AS branch,
            DATE(ev.submission_timestamp) AS submission_date
        FROM %s ev
        WHERE DATE(ev.submission_timestamp) BETWEEN %s AND %s
            AND ev.event_category = '%s'
            AND ev.event_name IN ('expose', 'exposure')
            AND JSON_VALUE(ev.event_extra, '$.experiment') = %s`,
			id, table, d.Date(e.First), d.Date(e.Last), category, quote(e.Slug))
	default:
		events = fmt.Sprintf(`SELECT
            ev.%s AS analysis_id,
            %s AS branch,
            ev.submission_date
        FROM %s ev
        WHERE ev.event_category = 'normandy'
            AND ev.event_method IN ('exposure', 'expose')
            AND ev.submission_date BETWEEN %s AND %s
            AND ev.event_string_value = %s`,
			unit(e.AnalysisUnit), d.MapGet("ev.event_map_values", "branchSlug"), e.eventsTable(), d.Date(e.First), d.Date(e.Last), quote(e.Slug))
	}
	return fmt.Sprintf(`SELECT
        re.analysis_id,
        re.branch,
        MIN(x.submission_date) AS exposure_date,
        COUNT(x.submission_date) AS num_exposure_events
    FROM raw_enrollments re
    JOIN (
        %s
    ) x
        ON re.analysis_id = x.analysis_id
        AND re.branch = x.branch
        AND x.submission_date >= re.enrollment_date
    GROUP BY 1, 2`, d.Rewrite(events))
}

func (e Enrollments) normandyEnrollments(d Dialect) string {
	return d.Rewrite(fmt.Sprintf(`SELECT
        e.%s AS analysis_id,
        %s AS branch,
        MIN(e.submission_date) AS enrollment_date,
        COUNT(e.submission_date) AS num_enrollment_events
    FROM %s e
    WHERE e.event_category = 'normandy'
        AND e.event_method = 'enroll'
        AND e.submission_date BETWEEN %s AND %s
        AND e.event_string_value = %s
        AND e.sample_id < %d
    GROUP BY 1, 2`, unit(e.AnalysisUnit), d.MapGet("e.event_map_values", "branch"), e.eventsTable(), d.Date(e.First), d.Date(e.Last), quote(e.Slug), e.sampleSize()))
}

// customEnrollments wraps a configured enrollment_query. Jetstream asks it for analysis_id;
// older configs (and mozanalysis) name the column after the analysis unit, so a query
// that never mentions analysis_id has its unit column renamed. Mentioning the other
// unit's id column is refused, as Jetstream does: it would silently mix units.
func (e Enrollments) customEnrollments(d Dialect) (string, error) {
	other := "profile_group_id"
	if unit(e.AnalysisUnit) == "profile_group_id" {
		other = "client_id"
	}
	if mentions(e.Custom, other) && !mentions(e.Custom, unit(e.AnalysisUnit)) {
		return "", fmt.Errorf("enrollment_query uses %s, but the experiment is analysed by %s", other, unit(e.AnalysisUnit))
	}
	id := "analysis_id"
	if !mentions(e.Custom, "analysis_id") {
		id = unit(e.AnalysisUnit) + " AS analysis_id"
	}
	return fmt.Sprintf(`SELECT %s, branch, enrollment_date, num_enrollment_events
    FROM (
%s
    ) custom_enrollments`, id, d.Rewrite(strings.TrimSpace(e.Custom))), nil
}

// mentions tells whether sql uses the identifier name (as a whole word).
func mentions(sql, name string) bool {
	return regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(name) + `\b`).MatchString(sql)
}

func (e Enrollments) source() string {
	if e.Type == "" {
		return EnrollmentsNormandy
	}
	return e.Type
}

func (e Enrollments) sampleSize() int {
	if e.SampleSize <= 0 || e.SampleSize > 100 {
		return 100
	}
	return e.SampleSize
}

// project is the events table's project (mozdata in mozdata.telemetry.events), where the
// applications' Glean tables are looked up too.
func (e Enrollments) project() string {
	parts := strings.Split(strings.Trim(e.EventsTable, "`"), ".")
	if len(parts) == 3 {
		return parts[0]
	}
	return defaultProject
}

// eventsTable is the desktop events table, quoted for BigQuery (project ids have dashes).
func (e Enrollments) eventsTable() string { return "`" + strings.Trim(e.EventsTable, "`") + "`" }

func (e Enrollments) appTable(table string) string {
	return fmt.Sprintf("`%s.%s.%s`", e.project(), e.AppDataset, table)
}

// fenixTable is a table of Fenix's release dataset: fenix-fallback reads it whatever the app.
func (e Enrollments) fenixTable(table string) string {
	dataset := e.AppDataset
	if dataset == "" {
		dataset = "org_mozilla_firefox"
	}
	return fmt.Sprintf("`%s.%s.%s`", e.project(), dataset, table)
}

// AppDataset is Jetstream's dataset name of an application id: every character that is not
// a letter or digit becomes an underscore, lower-cased (org.mozilla.ios.FirefoxBeta →
// org_mozilla_ios_firefoxbeta).
func AppDataset(appID string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(appID) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

package warehouse

import "time"

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// regularUser is the segment of Jetstream's test_with_segments (fixtures/telemetry).
var regularUser = Segment{
	Name:             "regular_user_v3",
	SelectExpression: "COALESCE(LOGICAL_OR(is_regular_user_v3), FALSE)",
	DataSource: SegmentSource{Name: "clients_last_seen", FromExpression: "`mozdata.telemetry.clients_last_seen`",
		ClientIDColumn: "client_id", SubmissionDateColumn: "submission_date"},
}

// activeHoursMetric is the metric of Jetstream's integration tests on clients_daily.
var activeHoursMetric = Metric{
	Name:             "active_hours",
	SelectExpression: "COALESCE(SUM(active_hours_sum), 0)",
	DataSource: DataSource{Name: "clients_daily", FromExpression: "`mozdata.telemetry.clients_daily`",
		ClientIDColumn: "client_id", SubmissionDateColumn: "submission_date", ExperimentsColumnType: "simple"},
}

// metricCase is a window of Jetstream's integration tests with its per-client active hours:
// 0.8 / 0.3 in week 1 (aaaa's untagged enrollment-day row is dropped), 2.8 / 0.2 in the
// pre-enrollment week with a 12-day enrollment.
type metricCase struct {
	name       string
	last       string // last enrollment date
	start, end int
	first      string
	lastData   string
	basis      string
	want       map[string]float64
}

var metricCases = []metricCase{
	{"week 1, enrollments", "2020-04-06", 0, 6, "2020-03-30", "2020-04-12", BasisEnrollments, map[string]float64{"aaaa": 0.8, "bbbb": 0.3}},
	{"week 1, exposures", "2020-04-06", 0, 6, "2020-03-30", "2020-04-12", BasisExposures, map[string]float64{"aaaa": 0.8, "bbbb": 0.3}},
	{"preenrollment week", "2020-04-11", -7, -1, "2020-03-23", "2020-04-10", BasisEnrollments, map[string]float64{"aaaa": 2.8, "bbbb": 0.2}},
}

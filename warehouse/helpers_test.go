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

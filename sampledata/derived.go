package sampledata

import (
	"fmt"
	"strings"
)

// The firefox_desktop platform defaults of metric-hub read two more tables and an
// annotation column that the model does not draw. They are derived in SQL from the drawn
// rows, without new randomness, so the truth of the drawn metrics stays exact:
//
//   - telemetry.events.experiments: the "native" annotation {slug: {branch}} on the
//     normandy events that name a branch (filled in finalDML; the unenroll metric's
//     first-day rule reads it);
//   - unenroll events: a client whose last active day is before the last date of the data
//     (mostly churn) and whose sample_id is below UnenrollSampleIDs unenrolls on that day,
//     so unenrollments inherit the treatment's lower churn;
//   - telemetry.desktop_active_users: a row per clients_daily row, is_dau when the client
//     was active with a URI loaded that day, days_active_bits the 28-day activity bits
//     (bit k: active k days before);
//   - search.search_clients_engines_sources_daily: a row per clients_daily row with
//     searches, split deterministically: ad_click = ad_clicks_count_all (so ad_clicks
//     keeps its truth), tagged_sap = ⌈0.7·searches⌉, organic = the rest, tagged_follow_on =
//     ⌊searches/3⌋, search_with_ads = min(searches, ad clicks + ⌊searches/4⌋).

// UnenrollSampleIDs is the share (in sample_id units out of 100) of churned clients that
// send an unenroll event.
const UnenrollSampleIDs = 20

// derivedDDL creates the derived tables.
var derivedDDL = []string{
	`CREATE TABLE telemetry.desktop_active_users (
		submission_date DATE,
		client_id VARCHAR,
		profile_group_id VARCHAR,
		sample_id INTEGER,
		is_desktop BOOLEAN,
		is_dau BOOLEAN,
		days_active_bits BIGINT
	)`,
	`CREATE SCHEMA search`,
	`CREATE TABLE search.search_clients_engines_sources_daily (
		submission_date DATE,
		client_id VARCHAR,
		profile_group_id VARCHAR,
		sample_id INTEGER,
		engine VARCHAR,
		source VARCHAR,
		sap BIGINT,
		tagged_sap BIGINT,
		tagged_follow_on BIGINT,
		organic BIGINT,
		search_with_ads BIGINT,
		ad_click BIGINT
	)`,
}

// derivedDML fills the derived tables and columns of the experiment slug.
func derivedDML(slug string) []string {
	s := "'" + strings.ReplaceAll(slug, "'", "''") + "'"
	return append([]string{
		fmt.Sprintf(`INSERT INTO telemetry.events
	SELECT MAX(submission_date), client_id, ANY_VALUE(profile_group_id), ANY_VALUE(sample_id),
		'normandy', 'unenroll', 'nimbus_experiment', %[1]s,
		[{'key': 'branch', 'value': ANY_VALUE(list_filter(experiments, x -> x.key = %[1]s)[1].value)}, {'key': 'reason', 'value': 'studies-opt-out'}],
		[{'key': %[1]s, 'value': {'branch': ANY_VALUE(list_filter(experiments, x -> x.key = %[1]s)[1].value)}}]
	FROM telemetry.clients_daily
	WHERE list_contains(list_transform(experiments, x -> x.key), %[1]s)
		AND sample_id < %[2]d
	GROUP BY client_id
	HAVING MAX(submission_date) < (SELECT MAX(submission_date) FROM telemetry.clients_daily)`, s, UnenrollSampleIDs),
	}, append(activeUsersDML(), `INSERT INTO search.search_clients_engines_sources_daily
	SELECT submission_date, client_id, profile_group_id, sample_id, 'google', 'urlbar',
		search_count_all,
		CAST(ceil(0.7 * search_count_all) AS BIGINT),
		search_count_all // 3,
		search_count_all - CAST(ceil(0.7 * search_count_all) AS BIGINT),
		least(search_count_all, ad_clicks_count_all + search_count_all // 4),
		ad_clicks_count_all
	FROM telemetry.clients_daily
	WHERE search_count_all > 0`)...)
}

// activeUsersBatches is the number of statements desktop_active_users is filled in, by
// ranges of sample_id: the window over each client's 28 days holds a list per row, which
// for 5 million clients in one statement exhausted DuckDB's memory (18.8 GB).
const activeUsersBatches = 10

// activeUsersDML fills telemetry.desktop_active_users, a range of sample_id at a time.
func activeUsersDML() []string {
	var out []string
	for b := range activeUsersBatches {
		lo, hi := b*100/activeUsersBatches, (b+1)*100/activeUsersBatches
		out = append(out, fmt.Sprintf(`INSERT INTO telemetry.desktop_active_users
	SELECT submission_date, client_id, profile_group_id, sample_id, TRUE,
		active_hours_sum > 0 AND scalar_parent_browser_engagement_total_uri_count_sum > 0,
		list_sum(list_transform(days, x -> (1::BIGINT << (submission_date - x)::BIGINT)))
	FROM (SELECT *, list(submission_date) OVER (PARTITION BY client_id ORDER BY submission_date
			RANGE BETWEEN INTERVAL 27 DAYS PRECEDING AND CURRENT ROW) AS days
		FROM telemetry.clients_daily
		WHERE sample_id >= %d AND sample_id < %d)`, lo, hi))
	}
	return out
}

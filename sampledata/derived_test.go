//go:build cgo

package sampledata

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// The derived tables and columns, row by row, against the same derivation done in Go on
// the rows the generator wrote.
func TestDerivedTables(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	opts := Options{Clients: 1500, Seed: 11, Design: sampleDesign()}
	if _, err := WriteDuckDB(dir, opts); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	if _, err := Generate(opts, &rec); err != nil {
		t.Fatal(err)
	}
	db := openSample(t, dir)
	slug := opts.Design.Slug

	// Per client: its days in order, and the branch of its slug annotation.
	byClient := map[string][]ClientDay{}
	var last time.Time
	for _, d := range rec.days {
		byClient[d.ClientID] = append(byClient[d.ClientID], d)
		if d.SubmissionDate.After(last) {
			last = d.SubmissionDate
		}
	}
	branchOf := func(days []ClientDay) string {
		for _, d := range days {
			for _, kv := range d.Experiments {
				if kv.Key == slug {
					return kv.Value
				}
			}
		}
		return ""
	}

	var wantUnenroll, wantActive, wantSearch []string
	for id, days := range byClient {
		end := days[len(days)-1]
		if b := branchOf(days); b != "" && end.SampleID < UnenrollSampleIDs && end.SubmissionDate.Before(last) {
			wantUnenroll = append(wantUnenroll, fmt.Sprintf("%s|%s|%s", end.SubmissionDate.Format(time.DateOnly), id, b))
		}
		for i, d := range days {
			var bits int64
			for _, e := range days[:i+1] {
				if k := int(d.SubmissionDate.Sub(e.SubmissionDate).Hours() / 24); k < 28 {
					bits |= 1 << k
				}
			}
			dau := d.ActiveHoursSum > 0 && d.URICount > 0
			wantActive = append(wantActive, fmt.Sprintf("%s|%s|%t|%d", d.SubmissionDate.Format(time.DateOnly), id, dau, bits))
			if n := d.SearchCount; n > 0 {
				tagged := (7*n + 9) / 10
				wantSearch = append(wantSearch, fmt.Sprintf("%s|%s|%d|%d|%d|%d|%d|%d", d.SubmissionDate.Format(time.DateOnly), id,
					n, tagged, n/3, n-tagged, min(n, d.AdClicks+n/4), d.AdClicks))
			}
		}
	}
	compareRows(t, "unenroll events", queryRows(t, db, `SELECT strftime(submission_date, '%Y-%m-%d') || '|' || client_id || '|' ||
			list_filter(event_map_values, x -> x.key = 'branch')[1].value
		FROM mozdata.telemetry.events WHERE event_method = 'unenroll' AND event_string_value = '`+slug+`'
			AND experiments[1].key = '`+slug+`' AND experiments[1].value.branch = list_filter(event_map_values, x -> x.key = 'branch')[1].value`),
		wantUnenroll)
	compareRows(t, "desktop_active_users", queryRows(t, db, `SELECT strftime(submission_date, '%Y-%m-%d') || '|' || client_id || '|' ||
			is_dau || '|' || days_active_bits FROM mozdata.telemetry.desktop_active_users WHERE is_desktop`), wantActive)
	compareRows(t, "search_clients_engines_sources_daily", queryRows(t, db, `SELECT strftime(submission_date, '%Y-%m-%d') || '|' || client_id || '|' ||
			sap || '|' || tagged_sap || '|' || tagged_follow_on || '|' || organic || '|' || search_with_ads || '|' || ad_click
		FROM mozdata.search.search_clients_engines_sources_daily`), wantSearch)
	if len(wantUnenroll) < 20 {
		t.Errorf("only %d unenroll events: the sample should exercise the unenroll metric", len(wantUnenroll))
	}

	// The native annotation of the normandy events: the slug's enroll and expose events carry
	// {slug: {branch}}, the other slug's its own; unrelated events an empty list.
	var wrong int64
	if err := db.QueryRow(`SELECT count(*) FROM mozdata.telemetry.events
		WHERE NOT (CASE WHEN event_category = 'normandy'
			THEN len(experiments) = 1 AND experiments[1].key = event_string_value
				AND experiments[1].value.branch = COALESCE(list_filter(event_map_values, x -> x.key = 'branch')[1].value,
					list_filter(event_map_values, x -> x.key = 'branchSlug')[1].value)
			ELSE len(experiments) = 0 END)`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d events with a wrong experiments annotation", wrong)
	}
}

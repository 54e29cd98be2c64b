package export

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetstream-beam/jetstream/statistics"
)

// allColumns is the error message's list of a statistics document's columns.
const allColumns = "metric, statistic, parameter, branch, comparison, comparison_to_branch, ci_width, point, lower, upper, segment, analysis_basis, window_index"

// TestStatisticColumns: the columns the guard allows, derived from MarshalRow, are exactly
// the published schemas' — the BigQuery table's fields in order, the view's with window_index,
// and the statistics JSON Schema's row properties.
func TestStatisticColumns(t *testing.T) {
	var bq struct {
		TableFields []SchemaField `json:"table_fields"`
		View        struct {
			ExtraFields []SchemaField `json:"extra_fields"`
		} `json:"view"`
	}
	data, err := os.ReadFile(filepath.Join(schemaDir, "statistics_table.bigquery.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &bq); err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, f := range bq.TableFields {
		table = append(table, f.Name)
	}
	if len(table) != 12 || !slices.Equal(tableColumns.order, table) {
		t.Errorf("table columns = %v, want the BigQuery schema's %v", tableColumns.order, table)
	}
	view := append(slices.Clone(table), bq.View.ExtraFields[0].Name)
	if !slices.Equal(documentColumns.order, view) {
		t.Errorf("document columns = %v, want %v", documentColumns.order, view)
	}

	var js struct {
		Definitions struct {
			StatisticRow struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"StatisticRow"`
		} `json:"definitions"`
	}
	if data, err = os.ReadFile(filepath.Join(schemaDir, "statistics.schema.json")); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &js); err != nil {
		t.Fatal(err)
	}
	props := slices.Sorted(func(yield func(string) bool) {
		for k := range js.Definitions.StatisticRow.Properties {
			if !yield(k) {
				return
			}
		}
	})
	if got := slices.Sorted(slices.Values(documentColumns.order)); !slices.Equal(got, props) {
		t.Errorf("document columns %v, want the JSON Schema's %v", got, props)
	}
	if documentColumns.String() != allColumns {
		t.Errorf("column list = %q", documentColumns.String())
	}
}

func TestIsClientIdentifier(t *testing.T) {
	for key, want := range map[string]bool{
		"client_id": true, "analysis_id": true, "profile_group_id": true,
		"legacy_telemetry_client_id": true, "glean_client_id": true, "group_id": true,
		"search_client_id": true, "Client_ID": true, "ANALYSIS_ID": true,
		"client": false, "clients": false, "client_ids": false, "id": false, "branch": false,
		"client_id_hash": false, "groups": false, "xclient_id": false, "_client_id": true,
	} {
		if got := IsClientIdentifier(key); got != want {
			t.Errorf("IsClientIdentifier(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestCheckAggregate(t *testing.T) {
	example := readExample(t, "statistics_test_experiment_weekly.json")
	errorsExample := readExample(t, "errors_test_experiment.json")
	metadataExample := readExample(t, "metadata_vertical_tabs_sidebar_launch.json")
	nan := math.NaN()
	tableRows := EncodeTable([]statistics.Row{
		{Metric: "identity", Statistic: "count", Branch: "control", CIWidth: nan, Point: 1000, Lower: nan, Upper: nan, Segment: "all", AnalysisBasis: "enrollments"},
		{Metric: "active_hours", Statistic: "deciles", Parameter: "0.5", Branch: "control", CIWidth: 0.95, Point: 2, Lower: 1.5, Upper: 2.5, Segment: "all", AnalysisBasis: "enrollments"},
	})
	logs := EncodeLogTable([]LogRow{{Timestamp: time.Date(2025, 9, 10, 4, 0, 0, 0, time.UTC), Source: "jetstream", Experiment: "x", Message: "m", LogLevel: "ERROR"}})
	const refused = ": only aggregates may be published"

	cases := []struct {
		name, doc, want string // want "": accepted
	}{
		// accepted: what we publish
		{"statistics/statistics_test_experiment_weekly.json", string(example), ""},
		{"errors/errors_test_experiment.json", string(errorsExample), ""},
		{"metadata/metadata_vertical_tabs_sidebar_launch.json", string(metadataExample), ""},
		{"tables/statistics_test_experiment_week_1.ndjson", string(tableRows), ""},
		{"logs/logs.ndjson", string(logs), ""},
		{"tables/statistics_empty_week_1.ndjson", "", ""},
		{"statistics/statistics_empty_weekly.json", "[]\n", ""},
		{"suppressions/suppressions_x.json", `{"min_clients":10,"suppressed":[{"analysis_basis":"enrollments","segment":"all","branch":"b","analysis_period":"week","window_index":1}]}`, ""},
		// a metric called like an identifier is a value, not a column: accepted
		{"statistics/statistics_x_weekly.json", `[{"metric":"client_id","statistic":"count","branch":"a","point":3,"segment":"all","analysis_basis":"enrollments","window_index":"1"}]`, ""},

		// a per-client column in a statistics document: the second row
		{"statistics/statistics_x_weekly.json",
			`[{"metric":"m","statistic":"mean","branch":"a","point":1,"segment":"all","analysis_basis":"enrollments","window_index":"1"},
			  {"metric":"m","statistic":"mean","branch":"a","point":1,"segment":"all","analysis_basis":"enrollments","window_index":"1","client_id":"c0ffee"}]`,
			`publishing guard: refusing statistics/statistics_x_weekly.json: row 2: key "client_id" at .client_id is a client identifier` + refused},
		// a column that is no statistic row column, even if not an identifier
		{"statistics/statistics_x_weekly.json",
			`[{"metric":"m","statistic":"mean","branch":"a","values":[1,2],"segment":"all","analysis_basis":"enrollments","window_index":"1"}]`,
			`publishing guard: refusing statistics/statistics_x_weekly.json: row 1: key "values" at .values is not a column of a statistic row (` + allColumns + `)` + refused},
		// per-client values riding in a column
		{"statistics/statistics_x_weekly.json",
			`[{"metric":"m","statistic":"mean","branch":"a","point":[0.5,1.5,2],"segment":"all","analysis_basis":"enrollments","window_index":"1"}]`,
			`publishing guard: refusing statistics/statistics_x_weekly.json: row 1: key "point" at .point holds an array; a statistic row holds only numbers, strings and nulls` + refused},
		{"statistics/statistics_x_weekly.json", `[{"metric":"m"}, ["c0ffee", 1.5]]`,
			`publishing guard: refusing statistics/statistics_x_weekly.json: row 2: an array, not a statistic row object` + refused},
		// an ndjson table: rows are lines; the third holds analysis_id
		{"tables/statistics_x_week_1.ndjson",
			string(tableRows) + `{"metric":"m","statistic":"mean","branch":"a","analysis_id":"c0ffee","point":1}` + "\n",
			`publishing guard: refusing tables/statistics_x_week_1.ndjson: row 3: key "analysis_id" at .analysis_id is a client identifier` + refused},
		// a table has no window_index (the view adds it)
		{"tables/statistics_x_week_1.ndjson", `{"metric":"m","window_index":"1"}`,
			`publishing guard: refusing tables/statistics_x_week_1.ndjson: row 1: key "window_index" at .window_index is not a column of a statistic row (` + strings.TrimSuffix(allColumns, ", window_index") + `)` + refused},
		// any ndjson document: a per-client key in the second line's nested object
		{"logs/logs.ndjson", string(logs) + `{"message":"m","context":{"Legacy_Telemetry_Client_ID":"c0ffee"}}` + "\n",
			`publishing guard: refusing logs/logs.ndjson: row 2: key "Legacy_Telemetry_Client_ID" at .context.Legacy_Telemetry_Client_ID is a client identifier` + refused},
		// a nested object in a single-object document (the metadata), inside an array
		{"metadata/metadata_x.json",
			`{"analysis_start_time":null,"metrics":{"active_hours":{"friendly_name":"Active Hours","extra":[{"n":1},{"glean_client_id":"c0ffee"}]}}}`,
			`publishing guard: refusing metadata/metadata_x.json: row 1: key "glean_client_id" at .metrics.active_hours.extra[1].glean_client_id is a client identifier` + refused},
		{"metadata/metadata_x.json", `{"metrics":{"active hours":{"search_client_id":"c0ffee"}}}`,
			`publishing guard: refusing metadata/metadata_x.json: row 1: key "search_client_id" at .metrics["active hours"].search_client_id is a client identifier` + refused},
		// an errors document: rows are the array's elements
		{"errors/errors_x.json", `[{"message":"a"},{"message":"b"},{"message":"c","profile_group_id":"c0ffee"}]`,
			`publishing guard: refusing errors/errors_x.json: row 3: key "profile_group_id" at .profile_group_id is a client identifier` + refused},
		// what cannot be read is not published
		{"statistics/statistics_x_weekly.json", `[{"metric":"m"},{"metric":`,
			`publishing guard: refusing statistics/statistics_x_weekly.json: not JSON at row 2: unexpected EOF` + refused},
		{"metadata/metadata_x.json", `client_id=c0ffee`,
			`publishing guard: refusing metadata/metadata_x.json: not JSON: invalid character 'c' looking for beginning of value` + refused},
	}
	for i, tc := range cases {
		err := CheckAggregate(tc.name, []byte(tc.doc))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("case %d %s: refused: %v", i, tc.name, err)
		case tc.want == "":
		case err == nil:
			t.Errorf("case %d %s: accepted, want %s", i, tc.name, tc.want)
		case err.Error() != tc.want:
			t.Errorf("case %d %s:\n got %s\nwant %s", i, tc.name, err, tc.want)
		case !errors.Is(err, ErrNotAggregate):
			t.Errorf("case %d %s: error does not wrap ErrNotAggregate", i, tc.name)
		}
	}
}

func TestCheckColumns(t *testing.T) {
	var logs []string
	for _, f := range LogsTableSchema() {
		logs = append(logs, f.Name)
	}
	table := slices.Clone(tableColumns.order)
	const refused = ": only aggregates may be published"
	cases := []struct {
		table   string
		columns []string
		want    string
	}{
		{"statistics_x_week_1", table, ""},
		{"monitoring.logs", logs, ""},
		{"other", []string{"branch", "groups", "client_ids"}, ""},
		{"monitoring.logs", append(slices.Clone(logs), "client_id"),
			`publishing guard: refusing table monitoring.logs: column 15 "client_id" is a client identifier` + refused},
		{"proj.mozanalysis.statistics_x_week_1", []string{"metric", "Analysis_ID"},
			`publishing guard: refusing table proj.mozanalysis.statistics_x_week_1: column 2 "Analysis_ID" is a client identifier` + refused},
		{"proj.mozanalysis.statistics_x_week_1", append(slices.Clone(table), "window_index"),
			`publishing guard: refusing table proj.mozanalysis.statistics_x_week_1: column 13 "window_index" is not a column of a statistics table (` + strings.TrimSuffix(allColumns, ", window_index") + `)` + refused},
		{"other", []string{"branch", "search_client_id"},
			`publishing guard: refusing table other: column 2 "search_client_id" is a client identifier` + refused},
		{"other", []string{"group_id"},
			`publishing guard: refusing table other: column 1 "group_id" is a client identifier` + refused},
	}
	for i, tc := range cases {
		err := CheckColumns(tc.table, tc.columns)
		got := ""
		if err != nil {
			got = err.Error()
			if !errors.Is(err, ErrNotAggregate) {
				t.Errorf("case %d: error does not wrap ErrNotAggregate", i)
			}
		}
		if got != tc.want {
			t.Errorf("case %d %s:\n got %q\nwant %q", i, tc.table, got, tc.want)
		}
	}
}

// TestGuardedStore: a refused document writes nothing — not a new object, not a replacement
// of an existing one, no temporary file — and the refusal names the store; accepted documents
// go through, and the other methods reach the store.
func TestGuardedStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	local, err := NewLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := GuardedStore(local)
	bad := []byte(`[{"metric":"m","statistic":"mean","branch":"a","segment":"all","analysis_basis":"enrollments","window_index":"1","client_id":"c0ffee"}]`)
	err = s.Put(ctx, "statistics/statistics_x_weekly.json", bad)
	want := dir + `: publishing guard: refusing statistics/statistics_x_weekly.json: row 1: key "client_id" at .client_id is a client identifier: only aggregates may be published`
	if err == nil || err.Error() != want || !errors.Is(err, ErrNotAggregate) {
		t.Fatalf("Put = %v, want %s", err, want)
	}
	if names, err := s.List(ctx, ""); err != nil || len(names) != 0 {
		t.Fatalf("List after a refusal = %v, %v; want nothing", names, err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("folder after a refusal holds %v (%v), want nothing", entries, err)
	}

	good := []byte(`[{"metric":"m","statistic":"mean","branch":"a","point":1.5,"segment":"all","analysis_basis":"enrollments","window_index":"1"}]`)
	if err := s.Put(ctx, "statistics/statistics_x_weekly.json", good); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "statistics/statistics_x_weekly.json", bad); err == nil {
		t.Fatal("replacing with a refused document succeeded")
	}
	if got, err := s.Get(ctx, "statistics/statistics_x_weekly.json"); err != nil || string(got) != string(good) {
		t.Fatalf("Get after a refused replacement = %s, %v; want the accepted document", got, err)
	}
	if names, err := s.List(ctx, "statistics/"); err != nil || !slices.Equal(names, []string{"statistics/statistics_x_weekly.json"}) {
		t.Fatalf("List = %v, %v", names, err)
	}
	if err := s.Delete(ctx, "statistics/statistics_x_weekly.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := local.Get(ctx, "statistics/statistics_x_weekly.json"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Get after Delete = %v, want not found", err)
	}
	if s.String() != dir || s.Close() != nil {
		t.Errorf("String = %s", s)
	}
	if GuardedStore(s) != s {
		t.Error("guarding a guarded store wrapped it again")
	}
	if IsDiscard(s) || !IsDiscard(GuardedStore(Discard{})) {
		t.Error("IsDiscard does not see through GuardedStore")
	}
	if err := GuardedStore(Discard{}).Put(ctx, "statistics/statistics_x_weekly.json", bad); !errors.Is(err, ErrNotAggregate) {
		t.Errorf("Discard guarded: Put = %v, want a refusal", err)
	}
}

// rows of the suppression tests: an identity count, a bootstrap mean and a comparison.
func countRow(basis, segment, branch string, n float64) statistics.Row {
	nan := math.NaN()
	return statistics.Row{Metric: IdentityMetric, Statistic: CountStatistic, Branch: branch, CIWidth: nan, Point: n, Lower: nan, Upper: nan, Segment: segment, AnalysisBasis: basis}
}

func meanRow(basis, segment, branch string, point float64) statistics.Row {
	return statistics.Row{Metric: "active_hours", Statistic: "mean", Branch: branch, CIWidth: 0.95, Point: point, Lower: point - 0.25, Upper: point + 0.25, Segment: segment, AnalysisBasis: basis}
}

func compareRow(basis, segment, branch, to, comparison string, point float64) statistics.Row {
	r := meanRow(basis, segment, branch, point)
	r.Comparison, r.ComparisonToBranch = comparison, to
	return r
}

// identity names a row: metric/statistic/basis/segment/branch/comparison/comparison_to_branch.
func identity(r statistics.Row) string {
	return strings.Join([]string{r.Metric, r.Statistic, r.AnalysisBasis, r.Segment, r.Branch, r.Comparison, r.ComparisonToBranch}, "/")
}

// sameRow compares rows column by column, NaN equal to NaN (NULL is NULL).
func sameRow(a, b statistics.Row) bool {
	f := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return a.Metric == b.Metric && a.Statistic == b.Statistic && a.Parameter == b.Parameter && a.Branch == b.Branch &&
		a.Comparison == b.Comparison && a.ComparisonToBranch == b.ComparisonToBranch && f(a.CIWidth, b.CIWidth) &&
		f(a.Point, b.Point) && f(a.Lower, b.Lower) && f(a.Upper, b.Upper) && a.Segment == b.Segment && a.AnalysisBasis == b.AnalysisBasis
}

// segmentRows are the 8 rows of one segment with two branches: two counts, two means and the
// four comparisons (each branch against the other, difference and relative uplift).
func segmentRows(segment string, control, treatment, meanControl, meanTreatment float64) []statistics.Row {
	const e = "enrollments"
	return []statistics.Row{
		countRow(e, segment, "control", control),
		countRow(e, segment, "treatment", treatment),
		meanRow(e, segment, "control", meanControl),
		meanRow(e, segment, "treatment", meanTreatment),
		compareRow(e, segment, "control", "treatment", statistics.Difference, meanControl-meanTreatment),
		compareRow(e, segment, "control", "treatment", statistics.RelativeUplift, meanControl/meanTreatment-1),
		compareRow(e, segment, "treatment", "control", statistics.Difference, meanTreatment-meanControl),
		compareRow(e, segment, "treatment", "control", statistics.RelativeUplift, meanTreatment/meanControl-1),
	}
}

// TestSuppressSmallGroups: two branches in two segments; in segment new_users the treatment
// branch has 7 clients, under the threshold of 10. Of the 16 rows, its count, its mean and the
// four comparisons of new_users (each involves treatment) go: 10 rows remain, the 8 of segment
// all and new_users' control count and mean, unchanged and in order.
func TestSuppressSmallGroups(t *testing.T) {
	rows := append(segmentRows("all", 1000, 990, 2.5, 2.75), segmentRows("new_users", 12, 7, 1.5, 2)...)
	if len(rows) != 16 {
		t.Fatalf("%d rows", len(rows))
	}
	windows, suppressed := SuppressPeriod("week", []Window{{Index: 1, Rows: rows}}, 10)
	if len(windows) != 1 || windows[0].Index != 1 {
		t.Fatalf("windows = %+v", windows)
	}
	kept := windows[0].Rows
	var got []string
	for _, r := range kept {
		got = append(got, identity(r))
	}
	want := []string{
		"identity/count/enrollments/all/control//",
		"identity/count/enrollments/all/treatment//",
		"active_hours/mean/enrollments/all/control//",
		"active_hours/mean/enrollments/all/treatment//",
		"active_hours/mean/enrollments/all/control/difference/treatment",
		"active_hours/mean/enrollments/all/control/relative_uplift/treatment",
		"active_hours/mean/enrollments/all/treatment/difference/control",
		"active_hours/mean/enrollments/all/treatment/relative_uplift/control",
		"identity/count/enrollments/new_users/control//",
		"active_hours/mean/enrollments/new_users/control//",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("kept %d rows:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
	for i, src := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 10} {
		if !sameRow(kept[i], rows[src]) {
			t.Errorf("kept row %d = %+v, want input row %d %+v", i, kept[i], src, rows[src])
		}
	}
	for _, r := range kept {
		if r.Segment == "new_users" && (r.Branch == "treatment" || r.ComparisonToBranch == "treatment") {
			t.Errorf("a row of the small group remains: %s", identity(r))
		}
	}
	wantSup := []Suppression{{AnalysisBasis: "enrollments", Segment: "new_users", Branch: "treatment", AnalysisPeriod: "week", WindowIndex: 1, Clients: 7}}
	if !reflect.DeepEqual(suppressed, wantSup) {
		t.Errorf("suppressed = %+v, want %+v", suppressed, wantSup)
	}
	if data, _ := json.Marshal(suppressed); string(data) != `[{"analysis_basis":"enrollments","segment":"new_users","branch":"treatment","analysis_period":"week","window_index":1}]` {
		t.Errorf("suppressions JSON = %s", data)
	}
	// the published document of what is kept is valid and passes the guard
	doc := StatisticsJSON(windows)
	if err := validateStatistics(t, statisticsSchema(t), doc); err != nil {
		t.Errorf("schema: %v", err)
	}
	if err := CheckAggregate("statistics/statistics_x_weekly.json", doc); err != nil {
		t.Error(err)
	}
	// the input is untouched
	if len(rows) != 16 || identity(rows[9]) != "identity/count/enrollments/new_users/treatment//" {
		t.Errorf("input changed: %s", identity(rows[9]))
	}

	for _, minClients := range []int{0, -1} {
		all, none := SuppressSmallGroups(rows, minClients)
		if none != nil || len(all) != 16 {
			t.Fatalf("minClients %d: kept %d rows, suppressed %v; want all 16 and none", minClients, len(all), none)
		}
		for i := range rows {
			if !sameRow(all[i], rows[i]) {
				t.Errorf("minClients %d: row %d changed", minClients, i)
			}
		}
	}
}

// TestSuppressSmallGroupsRules: the threshold's boundary, groups per basis, a small reference
// branch among three, empty branches, groups without a count row.
func TestSuppressSmallGroupsRules(t *testing.T) {
	const e, x = "enrollments", "exposures"
	cases := []struct {
		name     string
		rows     []statistics.Row
		min      int
		keep     []int // indices of rows kept, in order
		suppress []Suppression
	}{
		{"a group of exactly min clients is kept, one fewer is not",
			[]statistics.Row{countRow(e, "all", "a", 10), countRow(e, "all", "b", 9), meanRow(e, "all", "a", 1), meanRow(e, "all", "b", 2)},
			10, []int{0, 2},
			[]Suppression{{AnalysisBasis: e, Segment: "all", Branch: "b", Clients: 9}}},
		{"the basis is part of the group: few exposed clients suppress the exposures rows only",
			[]statistics.Row{countRow(e, "all", "b", 50), countRow(x, "all", "b", 4), meanRow(e, "all", "b", 1), meanRow(x, "all", "b", 1)},
			5, []int{0, 2},
			[]Suppression{{AnalysisBasis: x, Segment: "all", Branch: "b", Clients: 4}}},
		{"three branches, c small: comparisons from or to c go, a against b stays",
			[]statistics.Row{
				countRow(e, "all", "a", 100), countRow(e, "all", "b", 100), countRow(e, "all", "c", 3),
				compareRow(e, "all", "a", "b", statistics.Difference, 0.5), compareRow(e, "all", "b", "a", statistics.Difference, -0.5),
				compareRow(e, "all", "a", "c", statistics.Difference, 0.25), compareRow(e, "all", "c", "a", statistics.Difference, -0.25),
				compareRow(e, "all", "b", "c", statistics.RelativeUplift, 0.1), meanRow(e, "all", "c", 4),
			},
			10, []int{0, 1, 3, 4},
			[]Suppression{{AnalysisBasis: e, Segment: "all", Branch: "c", Clients: 3}}},
		{"empty branches (count 0) are groups too; suppressions sorted by basis, segment, branch",
			[]statistics.Row{countRow(x, "s", "b", 0), countRow(e, "s", "b", 0), countRow(e, "all", "b", 2), countRow(e, "all", "a", 20)},
			1, []int{2, 3},
			[]Suppression{{AnalysisBasis: e, Segment: "s", Branch: "b", Clients: 0}, {AnalysisBasis: x, Segment: "s", Branch: "b", Clients: 0}}},
		{"a group without a count row is kept, even beside a small one",
			[]statistics.Row{meanRow(e, "all", "a", 1), meanRow(e, "all", "b", 2), compareRow(e, "all", "a", "b", statistics.Difference, -1), countRow(e, "s", "a", 3), meanRow(e, "s", "a", 1)},
			10, []int{0, 1, 2},
			[]Suppression{{AnalysisBasis: e, Segment: "s", Branch: "a", Clients: 3}}},
		{"two count rows disagreeing: the smaller decides",
			[]statistics.Row{countRow(e, "all", "a", 40), countRow(e, "all", "a", 8), meanRow(e, "all", "a", 1)},
			10, nil,
			[]Suppression{{AnalysisBasis: e, Segment: "all", Branch: "a", Clients: 8}}},
		{"nothing small: everything kept, no suppression",
			[]statistics.Row{countRow(e, "all", "a", 40), meanRow(e, "all", "a", 1)},
			10, []int{0, 1}, nil},
	}
	for _, tc := range cases {
		kept, sup := SuppressSmallGroups(tc.rows, tc.min)
		var want []statistics.Row
		for _, i := range tc.keep {
			want = append(want, tc.rows[i])
		}
		ok := len(kept) == len(want)
		for i := 0; ok && i < len(kept); i++ {
			ok = sameRow(kept[i], want[i])
		}
		if !ok {
			var got, exp []string
			for _, r := range kept {
				got = append(got, identity(r))
			}
			for _, r := range want {
				exp = append(exp, identity(r))
			}
			t.Errorf("%s: kept\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(exp, "\n"))
		}
		if !reflect.DeepEqual(sup, tc.suppress) {
			t.Errorf("%s: suppressed %+v, want %+v", tc.name, sup, tc.suppress)
		}
	}
}

// TestSuppressExample applies the rule to the published example document, which spells the
// client counts as the pipeline does (metric identity, statistic count). Its counts are 1,
// except branch1 in segment regular_user_v3, which has 0 clients on both bases.
func TestSuppressExample(t *testing.T) {
	windows := windowsFromJSON(t, readExample(t, "statistics_test_experiment_weekly.json"))
	if len(windows) != 1 || len(windows[0].Rows) != 22 {
		t.Fatalf("example: %d windows", len(windows))
	}
	kept, sup := SuppressPeriod("week", windows, 1)
	if n := len(kept[0].Rows); n != 20 {
		t.Errorf("min 1: kept %d rows, want 20 (the two zero counts dropped)", n)
	}
	want := []Suppression{
		{AnalysisBasis: "enrollments", Segment: "regular_user_v3", Branch: "branch1", AnalysisPeriod: "week", WindowIndex: 1, Clients: 0},
		{AnalysisBasis: "exposures", Segment: "regular_user_v3", Branch: "branch1", AnalysisPeriod: "week", WindowIndex: 1, Clients: 0},
	}
	if !reflect.DeepEqual(sup, want) {
		t.Errorf("min 1: suppressed %+v, want %+v", sup, want)
	}
	for _, r := range kept[0].Rows {
		if r.Segment == "regular_user_v3" && r.Branch == "branch1" {
			t.Errorf("kept %s", identity(r))
		}
	}
	kept, sup = SuppressPeriod("week", windows, 2)
	if len(kept) != 1 || len(kept[0].Rows) != 0 || len(sup) != 8 {
		t.Errorf("min 2: kept %d rows and %d suppressions, want 0 and 8 (every group has at most 1 client)", len(kept[0].Rows), len(sup))
	}
	if doc := StatisticsJSON(kept); string(doc) != "[]\n" {
		t.Errorf("min 2: document %q", doc)
	}
}

// TestSuppressionsDocument: the suppressions travel with the metadata options; the metadata
// document is unchanged by them (its schema allows no other key) and valid, and the
// suppressions document is exactly the expected one, sorted, and passes the guard.
func TestSuppressionsDocument(t *testing.T) {
	exp := fixtureExperiment(t, "address-bar-actions-placement")
	a := resolve(t, withoutDefaults(), addressBarConfig, exp)
	start := time.Date(2025, 9, 10, 4, 47, 3, 120554000, time.UTC)
	plain, err := NewMetadata(a, exp, withoutDefaults(), MetadataOptions{AnalysisStartTime: start})
	if err != nil {
		t.Fatal(err)
	}
	pub := &Publishing{MinClients: 10, Suppressed: []Suppression{
		{AnalysisBasis: "exposures", Segment: "all", Branch: "actions-left", AnalysisPeriod: "week", WindowIndex: 2, Clients: 3},
		{AnalysisBasis: "enrollments", Segment: "new_users", Branch: "actions-left", AnalysisPeriod: "week", WindowIndex: 2, Clients: 7},
		{AnalysisBasis: "enrollments", Segment: "all", Branch: "actions-left", AnalysisPeriod: "overall", WindowIndex: 1, Clients: 9},
		{AnalysisBasis: "enrollments", Segment: "new_users", Branch: "actions-left", AnalysisPeriod: "week", WindowIndex: 1, Clients: 4},
	}}
	m, err := NewMetadata(a, exp, withoutDefaults(), MetadataOptions{AnalysisStartTime: start, Publishing: pub})
	if err != nil {
		t.Fatal(err)
	}
	pub.Suppressed[0].Clients = 99 // the metadata holds its own copy
	got := MetadataJSON(m)
	if string(got) != string(MetadataJSON(plain)) {
		t.Errorf("metadata with suppressions differs:\n%s\n%s", got, MetadataJSON(plain))
	}
	if err := validateJSON(compileSchema(t, "metadata.schema.json"), got); err != nil {
		t.Errorf("metadata schema: %v", err)
	}

	doc := SuppressionsJSON(m)
	want := `{"min_clients":10,"suppressed":[` +
		`{"analysis_basis":"enrollments","segment":"all","branch":"actions-left","analysis_period":"overall","window_index":1},` +
		`{"analysis_basis":"enrollments","segment":"new_users","branch":"actions-left","analysis_period":"week","window_index":1},` +
		`{"analysis_basis":"enrollments","segment":"new_users","branch":"actions-left","analysis_period":"week","window_index":2},` +
		`{"analysis_basis":"exposures","segment":"all","branch":"actions-left","analysis_period":"week","window_index":2}]}`
	if string(doc) != want {
		t.Errorf("suppressions document:\n got %s\nwant %s", doc, want)
	}
	name := "suppressions/" + SuppressionsFile("address_bar_actions_placement")
	if name != "suppressions/suppressions_address_bar_actions_placement.json" {
		t.Errorf("name = %s", name)
	}
	if err := CheckAggregate(name, doc); err != nil {
		t.Error(err)
	}

	none, err := NewMetadata(a, exp, withoutDefaults(), MetadataOptions{Publishing: &Publishing{MinClients: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(SuppressionsJSON(none)); got != `{"min_clients":10}` {
		t.Errorf("nothing suppressed: %s", got)
	}
	if doc := SuppressionsJSON(plain); doc != nil {
		t.Errorf("no publishing record: %s, want nil", doc)
	}
	if plain.Publishing != nil {
		t.Errorf("Publishing = %+v without the option", plain.Publishing)
	}
}

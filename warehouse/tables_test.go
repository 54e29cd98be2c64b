package warehouse

import (
	"testing"
	"time"
)

func TestCreateTableAs(t *testing.T) {
	info := TableInfo{Description: `test-experiment "x"`, LastUpdated: time.Unix(1700000000, 0)}
	cases := []struct {
		d    Dialect
		disp Disposition
		want string
	}{
		{BigQuery{Project: "moz-fx-data-experiments"}, WriteEmpty, "CREATE TABLE `moz-fx-data-experiments.mozanalysis.t`\n" +
			`OPTIONS (description = "test-experiment \"x\"", labels = [("last_updated", "1700000000")]) AS` + "\nSELECT 1"},
		{BigQuery{}, WriteTruncate, "CREATE OR REPLACE TABLE `mozanalysis.t`\n" +
			`OPTIONS (description = "test-experiment \"x\"", labels = [("last_updated", "1700000000")]) AS` + "\nSELECT 1"},
		{DuckDB{}, WriteTruncate, "CREATE OR REPLACE TABLE \"mozanalysis\".\"t\" AS\nSELECT 1"},
	}
	for _, c := range cases {
		if got := CreateTableAs(c.d, "mozanalysis", "t", "SELECT 1", c.disp, info); got != c.want {
			t.Errorf("%s:\n%s\nwant\n%s", c.d.Name(), got, c.want)
		}
	}
}

// The statistics view is Jetstream's, as fixtures/schemas/statistics_table.bigquery.json
// gives it.
func TestStatisticsViewSQL(t *testing.T) {
	got := StatisticsViewSQL(BigQuery{Project: "moz-fx-data-experiments"}, "mozanalysis", "my_exp", "week", "weekly")
	want := "CREATE OR REPLACE VIEW `moz-fx-data-experiments.mozanalysis.statistics_my_exp_weekly` AS (SELECT *, CAST(REGEXP_EXTRACT(_TABLE_SUFFIX, r'[0-9]+$') AS INT64) AS window_index FROM `moz-fx-data-experiments.mozanalysis.statistics_my_exp_week_*`)"
	if got != want {
		t.Errorf("view SQL\n%s\nwant\n%s", got, want)
	}
}

package warehouse

import "fmt"

// StatisticsTable is Jetstream's statistics table of one period's window:
// statistics_<normalized slug>_<period>_<window>, e.g. statistics_my_exp_week_3.
func StatisticsTable(slug, period string, window int) string {
	return fmt.Sprintf("statistics_%s_%s_%d", NormalizeName(slug), period, window)
}

// MetricsTable is Jetstream's per-client metrics table of one basis and window:
// <normalized slug>_<basis>_<period>_<window>, e.g. my_exp_enrollments_week_3.
func MetricsTable(slug, basis, period string, window int) string {
	return fmt.Sprintf("%s_%s_%s_%d", NormalizeName(slug), basis, period, window)
}

// DataSourceMetricsTable is Jetstream's metrics table of one data source in discrete mode:
// <normalized slug>_<basis>_<data source>_<period>_<window>.
func DataSourceMetricsTable(slug, basis, dataSource, period string, window int) string {
	return fmt.Sprintf("%s_%s_%s_%s_%d", NormalizeName(slug), basis, dataSource, period, window)
}

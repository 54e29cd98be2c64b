package warehouse

import "testing"

// The names of the readiness fixtures (fixtures/readiness/cases.json, upstream-04).
func TestTableNames(t *testing.T) {
	if got := StatisticsTable("normandy-test-slug", "preenrollment_week", 1); got != "statistics_normandy_test_slug_preenrollment_week_1" {
		t.Errorf("StatisticsTable = %s", got)
	}
	if got := MetricsTable("normandy-test-slug", BasisEnrollments, "day", 2); got != "normandy_test_slug_enrollments_day_2" {
		t.Errorf("MetricsTable = %s", got)
	}
	// Jetstream's test_discrete_metrics table names
	if got := DataSourceMetricsTable("test-experiment", BasisExposures, "clients_last_seen", "week", 1); got != "test_experiment_exposures_clients_last_seen_week_1" {
		t.Errorf("DataSourceMetricsTable = %s", got)
	}
}

package configs

import (
	"slices"
	"testing"
)

// TestDefinedMetricsFileOrder: the order is the file's, not the names' (zeta before alpha),
// a metric written only through a sub-table ([metrics.beta.statistics.x]) counts where its
// first table is, and period lists are not metrics.
func TestDefinedMetricsFileOrder(t *testing.T) {
	s, err := Parse("o.toml", []byte(`friendly_name = "O"
description = "d"

[metrics]
weekly = ["alpha"]

[metrics.zeta]
select_expression = "1"
data_source = "main"
statistics = { bootstrap_mean = {} }

[metrics.beta.statistics.bootstrap_mean]

[metrics.alpha]
select_expression = "2"
data_source = "main"
statistics = { binomial = {} }
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.DefinedMetrics(), []string{"zeta", "beta", "alpha"}; !slices.Equal(got, want) {
		t.Errorf("DefinedMetrics = %v, want %v", got, want)
	}
	var none *Spec
	if got := none.DefinedMetrics(); got != nil {
		t.Errorf("nil spec: %v", got)
	}
}

// TestDefinedMetricsSidebarOutcome: the embedded sidebar outcome lists its metrics in the
// order Jetstream's metadata example (metadata_vertical_tabs_sidebar_launch.json) shows.
func TestDefinedMetricsSidebarOutcome(t *testing.T) {
	o, ok := MetricHub().Outcome("firefox_desktop", "sidebar")
	if !ok {
		t.Fatal("no firefox_desktop outcome sidebar in the embedded metric-hub")
	}
	want := []string{"sidebar_engagement", "sidebar_frequency", "chatbot_engagement", "chatbot_frequency", "vertical_tabs", "sidebar_disable"}
	if got := o.DefinedMetrics(); !slices.Equal(got, want) {
		t.Errorf("DefinedMetrics = %v, want %v", got, want)
	}
}

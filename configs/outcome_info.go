package configs

import "slices"

// DefinedMetrics lists the names of the [metrics.<name>] tables of the file in the order
// they are written (ties, and names whose position is unknown, by name).
//
// Spec.Metrics is a map, so its order is lost after parsing; but Jetstream's metadata lists
// an outcome's metrics as Python iterates the outcome's TOML tables, i.e. in file order
// (metadata_<slug>.json, outcomes.<slug>.metrics), and Experimenter shows them in that
// order. The resolver orders outcome metrics the same way (mergeOutcome).
func (s *Spec) DefinedMetrics() []string {
	if s == nil {
		return nil
	}
	names := sortedMapKeys(s.Metrics)
	slices.SortStableFunc(names, func(a, b string) int {
		return s.pos.line("metrics."+a) - s.pos.line("metrics."+b)
	})
	return names
}

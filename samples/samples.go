// Package samples holds the bundled sample experiment that `make run` analyses: its
// Experimenter v8 record and its metric-hub-style Jetstream configuration. The synthetic
// telemetry for it comes from `jetstream sample-data`.
package samples

import _ "embed"

// Slug of the bundled sample experiment.
const Slug = "sample-sidebar-redesign"

// ExperimentJSON is the sample's Experimenter v8 record.
//
//go:embed sample-sidebar-redesign.json
var ExperimentJSON []byte

// ConfigTOML is the sample's Jetstream configuration.
//
//go:embed sample-sidebar-redesign.toml
var ConfigTOML []byte

// ConfigName is the file name the configuration is reported under in messages.
const ConfigName = Slug + ".toml"

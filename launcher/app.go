// Package launcher is the jetstream command line: it loads experiments and configs, plans
// the analysis, prepares the warehouse, runs the Beam pipeline and publishes the results.
package launcher

import (
	"github.com/urfave/cli/v2"
)

// App builds the jetstream command-line application.
func App() *cli.App {
	return &cli.App{
		Name:  "jetstream",
		Usage: "automated experiment analysis (Jetstream) as one Apache Beam pipeline",
		Description: "Analyses A/B experiments from their metric-hub configs: per-client metrics from the\n" +
			"warehouse, statistics per branch, segment and analysis period, every branch compared\n" +
			"with every other, published as Jetstream's statistics tables and JSON files.",
		HideHelpCommand: true,
		Commands: []*cli.Command{
			runCommand(),
			planCommand(),
			sampleDataCommand(),
			statisticsCommand(),
			validateConfigCommand(),
			showConfigCommand(),
		},
	}
}

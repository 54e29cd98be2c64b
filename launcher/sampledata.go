package launcher

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jetstream-beam/jetstream/experimenter"
	"github.com/jetstream-beam/jetstream/sampledata"
	"github.com/jetstream-beam/jetstream/samples"
)

// The default sample `make run` analyses.
const (
	DefaultSampleClients = 20000
	DefaultSampleSeed    = 1
)

func sampleDataCommand() *cli.Command {
	return &cli.Command{
		Name:  "sample-data",
		Usage: "generate synthetic telemetry for the bundled sample experiment into a DuckDB warehouse",
		Description: "Writes OUT/mozdata.duckdb (tables mozdata.telemetry.events and mozdata.telemetry.clients_daily)\n" +
			"and OUT/truth.json (the generated treatment effects). Deterministic for a given --clients and --seed.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "clients", Value: DefaultSampleClients, Usage: "number of enrolled clients"},
			&cli.Uint64Flag{Name: "seed", Value: DefaultSampleSeed, Usage: "random seed"},
			&cli.StringFlag{Name: "out", Value: "sample", Usage: "output folder"},
			&cli.BoolFlag{Name: "overwrite", Usage: "replace an existing sample warehouse"},
		},
		Action: func(c *cli.Context) error {
			if c.Int("clients") < 1 {
				return usageError{fmt.Errorf("--clients must be at least 1, got %d", c.Int("clients"))}
			}
			design, err := sampleDesign()
			if err != nil {
				return err
			}
			start := time.Now()
			truth, err := sampledata.WriteDuckDB(c.String("out"), sampledata.Options{
				Clients:   c.Int("clients"),
				Seed:      c.Uint64("seed"),
				Design:    design,
				Overwrite: c.Bool("overwrite"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wrote %d clients of %s to %s in %s\n", truth.Clients, design.Slug, c.String("out"), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

// sampleDesign is the bundled sample experiment as the generator needs it.
func sampleDesign() (sampledata.Design, error) {
	exps, err := experimenter.Parse(samples.ExperimentJSON, time.Now().UTC())
	if err != nil {
		return sampledata.Design{}, fmt.Errorf("bundled sample experiment: %w", err)
	}
	e := exps[0]
	d := sampledata.Design{
		Slug:          e.Slug,
		Start:         e.StartDate,
		EnrollmentEnd: e.EnrollmentEndDate,
		End:           e.EndDate,
		Reference:     e.ReferenceBranch,
		FeatureID:     "sidebar",
	}
	for _, b := range e.Branches {
		d.Branches = append(d.Branches, sampledata.Branch{Name: b.Slug, Ratio: float64(b.Ratio)})
	}
	return d, nil
}

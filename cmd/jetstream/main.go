// Command jetstream analyses experiments: see `jetstream --help`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"

	"github.com/jetstream-beam/jetstream/launcher"
)

func main() {
	// A Beam worker (Dataflow starts this same binary with --worker) runs the SDK harness
	// from beam.Init and never returns to the CLI.
	if slices.Contains(os.Args[1:], "--worker") || slices.Contains(os.Args[1:], "--worker=true") {
		flag.Parse()
		beam.Init()
		return
	}
	// Prism and the SDK harness log every stage at INFO; the CLI reports what matters itself.
	beamlog.LogLevel = "warn"
	beam.Init()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := launcher.App().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "jetstream:", err)
		os.Exit(1)
	}
}

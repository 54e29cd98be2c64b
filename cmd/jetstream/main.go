// Command jetstream analyses experiments: see `jetstream --help`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"

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
	args := os.Args
	// Dataflow's Flex Template launcher starts FLEX_TEMPLATE_GO_BINARY (this program) with the
	// template parameters and pipeline options as --name=value, without a subcommand.
	if os.Getenv("FLEX_TEMPLATE_GO_BINARY") != "" && len(args) > 1 && strings.HasPrefix(args[1], "--") {
		exe, err := os.Executable()
		if err != nil {
			exe = os.Getenv("FLEX_TEMPLATE_GO_BINARY")
		}
		if args, err = launcher.FlexTemplateArgs(args[1:], exe); err != nil {
			fmt.Fprintln(os.Stderr, "jetstream:", err)
			os.Exit(launcher.ExitUsage)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := launcher.App().RunContext(ctx, args); err != nil {
		fmt.Fprintln(os.Stderr, "jetstream:", err)
		os.Exit(launcher.ExitCode(err)) // 1 failure, 2 bad usage, 3 partial failure
	}
}

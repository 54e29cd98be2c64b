// Package launcher is the jetstream command line: it loads experiments and configs, plans
// the analysis, prepares the warehouse, runs the Beam pipeline and publishes the results.
package launcher

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/urfave/cli/v2"
)

// App builds the jetstream command-line application. Every flag can also be set by the
// environment variable JETSTREAM_<FLAG> (e.g. JETSTREAM_DATASET_ID); shell completion is
// on (`jetstream completion bash`).
func App() *cli.App {
	commands := withEnvironment([]*cli.Command{
		runCommand(),
		rerunCommand(),
		backfillCommand(),
		rerunConfigChangedCommand(),
		ensureEnrollmentsCommand(),
		exportStatisticsCommand(),
		launchCommand(),
		scheduleCommand(),
		planCommand(),
		sampleDataCommand(),
		statisticsCommand(),
		simulateCommand(),
		validateConfigCommand(),
		showConfigCommand(),
	})
	commands = append(commands, completionCommand())
	asUsageErrors(commands)
	return &cli.App{
		Name:  "jetstream",
		Usage: "automated experiment analysis (Jetstream) as one Apache Beam pipeline",
		Description: "Analyses A/B experiments from their metric-hub configs: per-client metrics from the\n" +
			"warehouse, statistics per branch, segment and analysis period, every branch compared\n" +
			"with every other, published as Jetstream's statistics tables and JSON files.\n\n" +
			"Every flag can also be set by an environment variable JETSTREAM_<FLAG>, e.g.\n" +
			"JETSTREAM_DATASET_ID=mozanalysis for --dataset-id.\n\n" +
			exitStatusHelp,
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		OnUsageError:         onUsageError,
		Commands:             commands,
		// Without an Action, urfave/cli answers an unknown command with its help command's
		// cli.Exit(…, 3), which exits at once with the partial-failure status.
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError{fmt.Errorf("no command %q (see jetstream --help)", c.Args().First())}
			}
			return cli.ShowAppHelp(c)
		},
	}
}

// asUsageErrors makes every bad command line of the commands and their subcommands a
// usageError (exit status 2): urfave/cli's complaints about flags (OnUsageError) and its
// missing required flags, which it reports as plain errors (exit status 1) — the flags'
// Required is checked by a Before of the command instead.
func asUsageErrors(cmds []*cli.Command) {
	for _, cmd := range cmds {
		cmd.OnUsageError = onUsageError
		var required []string
		for _, f := range cmd.Flags {
			if r, ok := f.(cli.RequiredFlag); ok && r.IsRequired() {
				required = append(required, f.Names()[0])
				reflect.ValueOf(f).Elem().FieldByName("Required").SetBool(false)
			}
		}
		if len(required) > 0 {
			before := cmd.Before
			cmd.Before = func(c *cli.Context) error {
				var missing []string
				for _, name := range required {
					if !c.IsSet(name) {
						missing = append(missing, "--"+name)
					}
				}
				if len(missing) > 0 {
					return usageError{fmt.Errorf("%s: required flags not set: %s", c.Command.FullName(), strings.Join(missing, ", "))}
				}
				if before != nil {
					return before(c)
				}
				return nil
			}
		}
		asUsageErrors(cmd.Subcommands)
	}
}

// onUsageError marks urfave/cli's own complaints (unknown flags, bad numbers) as usage
// errors, exit status 2.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	return usageError{err}
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash or zsh",
		ArgsUsage: "bash|zsh",
		Description: "Examples:\n" +
			"  source <(jetstream completion bash)          # in ~/.bashrc\n" +
			"  jetstream completion zsh > \"${fpath[1]}/_jetstream\"",
		Action: func(c *cli.Context) error {
			script, ok := completionScripts[c.Args().First()]
			if !ok || c.NArg() != 1 {
				return usageError{fmt.Errorf("completion: want bash or zsh, got %q", c.Args().Slice())}
			}
			_, err := fmt.Fprint(c.App.Writer, script)
			return err
		},
	}
}

// completionScripts ask the program itself for completions (urfave/cli's
// --generate-bash-completion), so they follow its commands and flags.
var completionScripts = map[string]string{
	"bash": `# bash completion for jetstream
_jetstream_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
}
complete -o bashdefault -o default -F _jetstream_complete jetstream
`,
	"zsh": `#compdef jetstream
_jetstream() {
  local -a opts
  local cur="${words[-1]}"
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} "$cur" --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  _describe 'values' opts
}
compdef _jetstream jetstream
`,
}

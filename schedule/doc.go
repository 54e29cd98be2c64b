// Package schedule runs custom jetstream jobs on a schedule, in the spirit of Mozilla's
// telemetry-analysis job scheduler: a job spec (TOML) registers jetstream command lines, each
// with a schedule, a timeout, an output prefix and an owner; RenderDAG turns the spec into
// an Airflow DAG file (one DAG per job), and each DAG's task runs the job through Run, which
// enforces its timeout. It does not import Beam or the launcher: the subcommands a job may
// run are given to Parse.
//
// A spec holds one or more [jobs.NAME] tables (NAME: [a-z0-9-]+):
//
//	[jobs.weekly-search-backfill]
//	description = "Re-analyses the search experiment's January weeks every Monday."
//	command = "jetstream run --experiment-slug search-engine-defaults --from 2026-01-01 --to 2026-01-31"
//	schedule = "weekly"        # daily | weekly | monthly
//	weekday = "monday"         # weekly jobs only
//	# day_of_month = 1         # monthly jobs only, 1 to 28
//	time = "05:30"             # UTC, HH:MM
//	timeout = "2h"             # a Go duration, > 0
//	output_prefix = "gs://bucket/custom/weekly-search-backfill"   # optional
//	owner = "someone@mozilla.com"
//
// command, schedule, time, timeout and owner are required; unknown keys are errors. The
// command is split into words as a POSIX shell would (see Split), must start with
// "jetstream" and name a known subcommand, and may only use that subcommand's flags. The
// output prefix is passed to the command as --bucket when it is gs://BUCKET[/PREFIX] (where
// `jetstream run` publishes its JSON documents; its tables go to the warehouse) and as
// --output when it is a folder (where `jetstream run` writes everything); the command must
// accept that flag and must not set it itself. Every problem is reported, each naming the
// file, the line, the job and the key, e.g.
//
//	jobs.toml:7: job "weekly-search-backfill": timeout: "0s" is not positive: a job needs time to run
//
// From the command line (package launcher):
//
//	jetstream schedule --spec jobs.toml --image IMAGE [--namespace NS] [--spec-in-image PATH] \
//	    [--binary-in-image PATH] [--service-account KSA] [--out jobs_dag.py]
//	jetstream schedule run NAME --spec jobs.toml [--grace-period 30s]
//
// The first renders the DAG file (to standard output, or atomically to --out); the second,
// which the DAGs' tasks run in the image, runs one job: the job's command with this binary,
// interrupted (SIGINT) when its timeout expires and killed if it is still running after the
// grace period. It exits with the command's exit status, or 124 when the job timed out.
// schedule/README.md has the details.
package schedule

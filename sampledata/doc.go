// Package sampledata generates deterministic synthetic Firefox desktop telemetry for one
// experiment, in the shapes of Mozilla's BigQuery tables telemetry.events and
// telemetry.clients_daily, together with the analytic population truth of the treatment
// effects that were built into it.
//
// The generator streams: clients are generated one after another from a random stream that
// depends only on (seed, client index), and every row is handed to a [Writer] as soon as it
// exists, so memory does not grow with the number of clients. [WriteDuckDB] is the Writer
// behind `jetstream sample-data`: it writes OUT/mozdata.duckdb (catalog mozdata, schema
// telemetry) and OUT/truth.json.
//
// The model (see [Model] and [Effects]) is simple enough for its population means to be
// computed exactly: [Truth.Effect] gives, for the metrics active_hours, uri_count,
// days_of_use, search_count, ad_clicks and retained, the per-client means per branch over
// any analysis window, as Jetstream would compute them from the generated rows.
package sampledata

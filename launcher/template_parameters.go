package launcher

import "strings"

// TemplateParameter is one parameter of the Dataflow Flex Template, which runs
// `jetstream run` on Dataflow: the parameter NAME (snake_case, as Dataflow and Airflow
// spell them) is the `run` flag --name with '_' for '-'. templates/metadata.json describes
// exactly these (a test compares them), `jetstream launch` sends them, and the template's
// program turns them back into `run` flags.
type TemplateParameter struct {
	Name     string // e.g. "experiment_slug"
	Label    string // shown by the Dataflow console
	Help     string
	Required bool
	Regexes  []string // Dataflow validates the value with these, when set
	IsList   bool     // a comma-separated list: one --flag per element
	IsBool   bool     // "true" or "false"
}

// Flag is the `run` flag the parameter sets.
func (p TemplateParameter) Flag() string { return strings.ReplaceAll(p.Name, "_", "-") }

// TemplateParameters are the parameters of the Flex Template, in the order the Dataflow
// console shows them.
var TemplateParameters = []TemplateParameter{
	{Name: "date", Label: "Analysis date", Help: "The date to analyse, YYYY-MM-DD: the daily run passes Airflow's {{ ds }}.",
		Required: true, Regexes: []string{`^\d{4}-\d{2}-\d{2}$`}},
	{Name: "experiment_slug", Label: "Experiment slugs", Help: "Only these experiments (comma-separated), without the daily selection; empty: every due experiment.",
		IsList: true},
	{Name: "warehouse", Label: "Warehouse", Help: "Warehouse URL, bigquery:PROJECT (default: bigquery:<the job's project>).",
		Regexes: []string{`^bigquery:[a-z][-a-z0-9.:]*$`}},
	{Name: "dataset_id", Label: "Dataset", Help: "BigQuery dataset of the enrollments, metrics and statistics tables (default: mozanalysis)."},
	{Name: "bucket", Label: "Bucket", Help: "Where the statistics, metadata and errors JSON go: gs://BUCKET[/PREFIX], or none."},
	{Name: "results_staging", Label: "Results staging", Help: "gs://BUCKET/PREFIX where the workers write the statistics tables before they are published.",
		Required: true, Regexes: []string{`^gs://[a-z0-9][-_.a-z0-9]*[a-z0-9](/.*)?$`}},
	{Name: "experimenter_url", Label: "Experimenter", Help: "The Experimenter API the experiments come from (default: Mozilla's)."},
	{Name: "config_repo", Label: "Config repositories", Help: "Metric-hub folders or DIR@REV merged over the bundled metric-hub (comma-separated).",
		IsList: true},
	{Name: "analysis_periods", Label: "Analysis periods", Help: "Only these periods (comma-separated): day, week, days28, overall, preenrollment_week, preenrollment_days28; empty: all.",
		IsList: true},
	{Name: "statistics_only", Label: "Statistics only", Help: "Recompute statistics from the metrics tables already written, without running the metric queries.",
		IsBool: true, Regexes: []string{`^(true|false)$`}},
	{Name: "recreate_enrollments", Label: "Recreate enrollments", Help: "Recompute the enrollments tables before the analysis.",
		IsBool: true, Regexes: []string{`^(true|false)$`}},
	{Name: "min_clients", Label: "Minimum clients", Help: "Statistics computed on fewer clients than this are not published (default: 10).",
		Regexes: []string{`^[0-9]+$`}},
	{Name: "log_to_bigquery", Label: "Log to BigQuery", Help: "Also append the run's log rows to monitoring.logs.",
		IsBool: true, Regexes: []string{`^(true|false)$`}},
	{Name: "parallelism", Label: "Parallelism", Help: "At most this many experiments per pipeline; more are analysed in successive pipelines (0: all at once).",
		Regexes: []string{`^[0-9]+$`}},
	{Name: "retries", Label: "Retries", Help: "Retry a failed pipeline this many times, with exponential backoff.",
		Regexes: []string{`^[0-9]+$`}},
	{Name: "timeout", Label: "Timeout", Help: "Give up (and cancel the pipeline) after this long, e.g. 6h.",
		Regexes: []string{`^[0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h)([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))*$`}},
	{Name: "seed", Label: "Seed", Help: "Base random seed of the statistics.", Regexes: []string{`^[0-9]+$`}},
	{Name: "read_parts", Label: "Read parts", Help: "Read each metrics table in this many parts, by different workers (0 or unset: one per CPU of the launcher).",
		Regexes: []string{`^[0-9]+$`}},
}

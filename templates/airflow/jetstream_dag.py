"""Jetstream's daily analysis on Dataflow (templates/README.md).

Every day at 04:00 UTC, once the upstream tables have the partition of the logical date
({{ ds }}, the last complete day), the `jetstream` Dataflow Flex Template analyses the
experiments due that day (`jetstream run --date {{ ds }}`); once its Dataflow job has ended,
`jetstream run --publish-only` publishes the results; then `jetstream rerun-config-changed`
reruns the experiments whose metric-hub config changed since their statistics were written.
As Mozilla's telemetry-airflow DAG `jetstream` does with `run-argo` and
`rerun-config-changed --argo`.

Why two steps for one run: Dataflow's Flex Template launcher runs the template's program with
--template_location, so Beam's Dataflow runner only writes the job file and returns, and the
launcher submits the job after the program has ended. `jetstream run` inside the template
therefore cannot publish (move the statistics tables out of results_staging, load them to
BigQuery, write the JSON to the bucket): it stops after submitting. jetstream_run waits for
the job to finish (wait_until_finished), and jetstream_publish runs `jetstream run
--publish-only` with the same flags, which plans the same experiments again and publishes
what the job wrote to the same results_staging. That prefix is per date
(<results_staging>/{{ ds }}): neither the template nor --publish-only adds a per-run suffix,
so two dates must not share it.

Configuration: the Airflow Variable `jetstream`, a JSON object whose keys override DEFAULTS
below (e.g. {"project": "my-project", "upstream_tables": ["p.dataset.table", ...]}).

Upstream sensors: BigQueryTablePartitionExistenceSensor, one per table, waiting for the
table's {{ ds_nodash }} partition. The tables are date-partitioned and exist for years, so
a table-existence sensor would pass at once; the partition is the day's data itself, and
waiting for it does not depend on which Airflow instance or DAG writes it (an
ExternalTaskSensor would tie this DAG to the producing DAGs' ids and schedules).

rerun-config-changed runs in a GKE pod (GKEStartPodOperator) from the template's own image,
whose /template/jetstream is the same program: the Flex Template can only run
`jetstream run` (its launcher turns the template parameters into run flags), and
rerun-config-changed drives several pipelines — find the changed configs, delete their
tables, analyse every date since their start — which is a long-running driver, not one
Dataflow job file for a Flex launcher to submit.
"""

import datetime

from airflow import DAG
from airflow.models import Variable
from airflow.providers.google.cloud.operators.dataflow import (
    DataflowStartFlexTemplateOperator,
)
from airflow.providers.google.cloud.operators.kubernetes_engine import (
    GKEStartPodOperator,
)
from airflow.providers.google.cloud.sensors.bigquery import (
    BigQueryTablePartitionExistenceSensor,
)

DEFAULTS = {
    # The Google Cloud project of the Dataflow jobs and the statistics tables.
    "project": "moz-fx-data-experiments",
    "region": "us-central1",
    # The template spec `make flex-template` writes (FLEX_TEMPLATE_PATH).
    "template_path": "gs://moz-fx-data-experiments-jetstream/templates/jetstream.json",
    # The template's image (FLEX_IMAGE), also run by the rerun-config-changed pod.
    "image": "us-docker.pkg.dev/moz-fx-data-experiments/jetstream/jetstream-flex:latest",
    # The daily run's job writes its tables to <results_staging>/{{ ds }}, where
    # jetstream_publish reads them; rerun-config-changed adds its own run-<n> folder.
    "results_staging": "gs://moz-fx-data-experiments-jetstream/results-staging",
    "temp_location": "gs://moz-fx-data-experiments-jetstream/tmp",
    "bucket": "gs://mozanalysis",
    "experimenter_url": "https://experimenter.services.mozilla.com",
    # BigQuery dataset of the enrollments, metrics and statistics tables.
    "dataset_id": "mozanalysis",
    # Statistics of groups with fewer clients are not published.
    "min_clients": 10,
    "service_account": "jetstream@moz-fx-data-experiments.iam.gserviceaccount.com",
    # The GKE cluster of the rerun-config-changed pod, and its Kubernetes service account
    # (bound to service_account by Workload Identity).
    "gke_project": "moz-fx-data-experiments",
    "gke_location": "us-central1",
    "gke_cluster": "jetstream",
    "gke_namespace": "default",
    "gke_service_account": "jetstream",
    # Jetstream's upstream tables (telemetry-airflow's sensors on clients_daily_v6,
    # main_summary_v4, search_clients_daily_v8, bq_main_events, event_events).
    "upstream_tables": [
        "moz-fx-data-shared-prod.telemetry_derived.clients_daily_v6",
        "moz-fx-data-shared-prod.telemetry_derived.main_summary_v4",
        "moz-fx-data-shared-prod.search_derived.search_clients_daily_v8",
        "moz-fx-data-shared-prod.telemetry_derived.main_events_v1",
        "moz-fx-data-shared-prod.telemetry_derived.event_events_v1",
    ],
}

# Where the image holds jetstream (templates/Dockerfile: FLEX_TEMPLATE_GO_BINARY).
JETSTREAM = "/template/jetstream"

config = {**DEFAULTS, **Variable.get("jetstream", default_var={}, deserialize_json=True)}


def run_flags(parameters):
    """The `jetstream run` flags that set these template parameters, in their order: each
    NAME=VALUE as --NAME-WITH-DASHES=VALUE, the flag the template's program turns the
    parameter into (launcher.TemplateParameter.Flag). Lists stay comma-separated (the run's
    list flags split on commas), booleans are --flag=true/false."""
    return ["--%s=%s" % (name.replace("_", "-"), value) for name, value in parameters.items()]


def upstream_table(name):
    """Splits PROJECT.DATASET.TABLE."""
    parts = name.split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError(
            "jetstream DAG: upstream table %r: want PROJECT.DATASET.TABLE" % (name,)
        )
    return parts


default_args = {
    "owner": "data-platform",
    "depends_on_past": False,
    "email_on_failure": True,
    "email_on_retry": False,
    "retries": 2,
    "retry_delay": datetime.timedelta(minutes=30),
}

with DAG(
    dag_id="jetstream",
    description="Jetstream's daily experiment analysis on Dataflow, then the reruns of changed configs",
    schedule="0 4 * * *",
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=datetime.timedelta(hours=23),
    default_args=default_args,
    tags=["jetstream"],
) as dag:
    sensors = []
    for name in config["upstream_tables"]:
        project, dataset, table = upstream_table(name)
        sensors.append(
            BigQueryTablePartitionExistenceSensor(
                task_id="wait_for_" + table,
                project_id=project,
                dataset_id=dataset,
                table_id=table,
                partition_id="{{ ds_nodash }}",
                mode="reschedule",
                poke_interval=10 * 60,
                timeout=6 * 60 * 60,
            )
        )

    # Settings shared by every analysis of the DAG (the daily run, its publish step and
    # rerun-config-changed), as template parameters (strings). The warehouse and the
    # Experimenter are explicit: the template's defaults for them (bigquery:<job project>,
    # Mozilla's Experimenter) are not `jetstream run`'s, which the pods run.
    analysis = {
        "warehouse": "bigquery:" + config["project"],
        "dataset_id": config["dataset_id"],
        "bucket": config["bucket"],
        "experimenter_url": config["experimenter_url"],
        "min_clients": str(config["min_clients"]),
        "log_to_bigquery": "true",
        "retries": "2",
    }
    # The daily run's template parameters. jetstream_publish passes the same ones as run
    # flags (run_flags), so that it plans the same experiments and reads the same staging:
    # change them here, never in one task only.
    run_parameters = {
        "date": "{{ ds }}",
        # Per date: the job writes here and jetstream_publish publishes exactly this prefix.
        "results_staging": config["results_staging"].rstrip("/") + "/{{ ds }}",
        **analysis,
    }

    # Launches the template and waits for its Dataflow job to end (the template's program
    # only submits it). The 8 hours cover the launch and the whole job; when they pass,
    # Airflow kills the task, whose on_kill cancels the job. A failed job fails the task
    # (retried: a new job writes the same tables to the same prefix), and nothing is published.
    jetstream_run = DataflowStartFlexTemplateOperator(
        task_id="jetstream_run",
        project_id=config["project"],
        location=config["region"],
        body={
            "launchParameter": {
                "jobName": "jetstream-{{ ds_nodash }}",
                "containerSpecGcsPath": config["template_path"],
                "parameters": dict(run_parameters),
                "environment": {
                    "tempLocation": config["temp_location"],
                    "serviceAccountEmail": config["service_account"],
                },
            }
        },
        wait_until_finished=True,
        execution_timeout=datetime.timedelta(hours=8),
    )

    # Publishes what the job wrote to the per-date results_staging: moves the statistics
    # tables out of it, loads them to BigQuery, writes the statistics, metadata and errors
    # JSON to the bucket, and records the configs rerun-config-changed compares against.
    # `run --publish-only` runs no pipeline: it plans the day again, deterministically, from
    # the same flags as the template's run, and fails if the staging holds no results for an
    # experiment of that plan. Retries are safe: publishing is idempotent (the same tables
    # replace the same BigQuery tables and the same JSON documents are overwritten), except
    # that with log_to_bigquery a retry appends the run's log rows to monitoring.logs again.
    # A retry starts in a fresh pod, without the first attempt's local --output folder, so
    # this relies on --publish-only leaving in results_staging what it has not published.
    jetstream_publish = GKEStartPodOperator(
        task_id="jetstream_publish",
        project_id=config["gke_project"],
        location=config["gke_location"],
        cluster_name=config["gke_cluster"],
        namespace=config["gke_namespace"],
        service_account_name=config["gke_service_account"],
        name="jetstream-publish",
        image=config["image"],
        cmds=[JETSTREAM],
        arguments=["run", "--publish-only"] + run_flags(run_parameters),
        get_logs=True,
        startup_timeout_seconds=10 * 60,
        execution_timeout=datetime.timedelta(hours=1),
    )

    jetstream_rerun_config_changed = GKEStartPodOperator(
        task_id="jetstream_rerun_config_changed",
        project_id=config["gke_project"],
        location=config["gke_location"],
        cluster_name=config["gke_cluster"],
        namespace=config["gke_namespace"],
        service_account_name=config["gke_service_account"],
        name="jetstream-rerun-config-changed",
        image=config["image"],
        cmds=[JETSTREAM],
        arguments=[
            "rerun-config-changed",
            "--runner=dataflow",
            "--project-id=" + config["project"],
            "--region=" + config["region"],
            "--temp-location=" + config["temp_location"],
            "--worker-binary=" + JETSTREAM,
            # rerun-config-changed runs its pipelines itself and adds a run-<n> folder.
            "--results-staging=" + config["results_staging"],
        ]
        + run_flags(analysis),
        get_logs=True,
        startup_timeout_seconds=10 * 60,
        execution_timeout=datetime.timedelta(hours=8),
    )

    sensors >> jetstream_run >> jetstream_publish >> jetstream_rerun_config_changed

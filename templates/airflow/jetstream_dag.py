"""Jetstream's daily analysis on Dataflow (templates/README.md).

Every day at 04:00 UTC, once the upstream tables have the partition of the logical date
({{ ds }}, the last complete day), the `jetstream` Dataflow Flex Template analyses the
experiments due that day (`jetstream run --date {{ ds }}`); then
`jetstream rerun-config-changed` reruns the experiments whose metric-hub config changed
since their statistics were written. As Mozilla's telemetry-airflow DAG `jetstream` does
with `run-argo` and `rerun-config-changed --argo`.

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
    "results_staging": "gs://moz-fx-data-experiments-jetstream/results-staging",
    "temp_location": "gs://moz-fx-data-experiments-jetstream/tmp",
    "bucket": "gs://mozanalysis",
    "experimenter_url": "https://experimenter.services.mozilla.com",
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

    jetstream_run = DataflowStartFlexTemplateOperator(
        task_id="jetstream_run",
        project_id=config["project"],
        location=config["region"],
        body={
            "launchParameter": {
                "jobName": "jetstream-{{ ds_nodash }}",
                "containerSpecGcsPath": config["template_path"],
                "parameters": {
                    "date": "{{ ds }}",
                    "results_staging": config["results_staging"],
                    "bucket": config["bucket"],
                    "experimenter_url": config["experimenter_url"],
                    "log_to_bigquery": "true",
                    "retries": "2",
                },
                "environment": {
                    "tempLocation": config["temp_location"],
                    "serviceAccountEmail": config["service_account"],
                },
            }
        },
        wait_until_finished=True,
        execution_timeout=datetime.timedelta(hours=8),
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
            "--warehouse=bigquery:" + config["project"],
            "--results-staging=" + config["results_staging"],
            "--bucket=" + config["bucket"],
            "--experimenter-url=" + config["experimenter_url"],
            "--log-to-bigquery",
            "--retries=2",
        ],
        get_logs=True,
        startup_timeout_seconds=10 * 60,
        execution_timeout=datetime.timedelta(hours=8),
    )

    sensors >> jetstream_run >> jetstream_rerun_config_changed

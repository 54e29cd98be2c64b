"""Checks jetstream_dag.py without Airflow: stub `airflow` modules record the DAG, each
task's constructor arguments and the `>>` dependencies; the DAG file is executed against
them and its shape asserted. Run: python3 templates/airflow/test_jetstream_dag.py
(templates/templates_test.go runs it in `go test ./templates/`)."""

import datetime
import json
import os
import re
import runpy
import sys
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DAG_FILE = os.path.join(HERE, "jetstream_dag.py")
METADATA = os.path.join(HERE, "..", "metadata.json")
DOCKERFILE = os.path.join(HERE, "..", "Dockerfile")

# The Airflow Variables the stub Variable.get answers from.
VARIABLES = {}


class DAG:
    """Records its arguments and the tasks created inside `with DAG(...)`."""

    current = None

    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        self.tasks = {}

    def __enter__(self):
        DAG.current = self
        return self

    def __exit__(self, *exc):
        DAG.current = None
        return False


class Task:
    """An operator or sensor: its class name, constructor arguments and neighbours."""

    def __init__(self, task_id, **kwargs):
        if DAG.current is None:
            raise AssertionError("task %s created outside a DAG context" % task_id)
        if task_id in DAG.current.tasks:
            raise AssertionError("task id %s used twice" % task_id)
        self.task_id = task_id
        self.kwargs = kwargs
        self.upstream = set()
        self.downstream = set()
        DAG.current.tasks[task_id] = self

    def _link(self, other):
        for o in other if isinstance(other, (list, tuple)) else [other]:
            if not isinstance(o, Task):
                raise TypeError("%r >> %r" % (self, o))
            self.downstream.add(o.task_id)
            o.upstream.add(self.task_id)

    def __rshift__(self, other):
        self._link(other)
        return other

    def __rrshift__(self, other):  # [tasks] >> task
        for o in other if isinstance(other, (list, tuple)) else [other]:
            o._link(self)
        return self

    def __lshift__(self, other):
        self.__rrshift__(other)
        return other

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.task_id)


class Variable:
    @staticmethod
    def get(key, default_var=None, deserialize_json=False):
        if key not in VARIABLES:
            return default_var
        value = VARIABLES[key]
        return json.loads(value) if deserialize_json else value


OPERATORS = {
    "airflow.providers.google.cloud.operators.dataflow": [
        "DataflowStartFlexTemplateOperator",
        "DataflowTemplatedJobStartOperator",
    ],
    "airflow.providers.google.cloud.operators.kubernetes_engine": ["GKEStartPodOperator"],
    "airflow.providers.cncf.kubernetes.operators.pod": ["KubernetesPodOperator"],
    "airflow.providers.google.cloud.sensors.bigquery": [
        "BigQueryTableExistenceSensor",
        "BigQueryTablePartitionExistenceSensor",
    ],
    "airflow.sensors.external_task": ["ExternalTaskSensor"],
}


def install_stub_airflow():
    """Puts stub airflow modules into sys.modules (only ours: any real Airflow is hidden)."""
    for name in list(sys.modules):
        if name == "airflow" or name.startswith("airflow."):
            del sys.modules[name]

    def module(name):
        if name in sys.modules:
            return sys.modules[name]
        m = types.ModuleType(name)
        sys.modules[name] = m
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(module(parent), child, m)
        return m

    module("airflow").DAG = DAG
    module("airflow.models").DAG = DAG
    module("airflow.models").Variable = Variable
    for mod, classes in OPERATORS.items():
        for cls in classes:
            setattr(module(mod), cls, type(cls, (Task,), {}))


def load_dag(variables=None):
    """Executes the DAG file with these Airflow Variables and returns its DAG."""
    VARIABLES.clear()
    VARIABLES.update(variables or {})
    install_stub_airflow()
    namespace = runpy.run_path(DAG_FILE, run_name="jetstream_dag")
    dags = [v for v in namespace.values() if isinstance(v, DAG)]
    if len(dags) != 1:
        raise AssertionError("the DAG file defines %d DAGs, want 1" % len(dags))
    return dags[0]


DEFAULT_SENSORS = {
    "wait_for_clients_daily_v6": ("moz-fx-data-shared-prod", "telemetry_derived", "clients_daily_v6"),
    "wait_for_main_summary_v4": ("moz-fx-data-shared-prod", "telemetry_derived", "main_summary_v4"),
    "wait_for_search_clients_daily_v8": ("moz-fx-data-shared-prod", "search_derived", "search_clients_daily_v8"),
    "wait_for_main_events_v1": ("moz-fx-data-shared-prod", "telemetry_derived", "main_events_v1"),
    "wait_for_event_events_v1": ("moz-fx-data-shared-prod", "telemetry_derived", "event_events_v1"),
}

# The daily run's template parameters with the default configuration.
DEFAULT_RUN_PARAMETERS = {
    "date": "{{ ds }}",
    "results_staging": "gs://moz-fx-data-experiments-jetstream/results-staging/{{ ds }}",
    "warehouse": "bigquery:moz-fx-data-experiments",
    "dataset_id": "mozanalysis",
    "bucket": "gs://mozanalysis",
    "experimenter_url": "https://experimenter.services.mozilla.com",
    "min_clients": "10",
    "log_to_bigquery": "true",
    "retries": "2",
}


def read_metadata_parameters():
    with open(METADATA) as f:
        return json.load(f)["parameters"]


def image_binary():
    """The image's jetstream: the program the Dockerfile installs."""
    with open(DOCKERFILE) as f:
        return re.search(r"^ENV FLEX_TEMPLATE_GO_BINARY=(\S+)", f.read(), re.M).group(1)


def launch_parameters(dag):
    return dag.tasks["jetstream_run"].kwargs["body"]["launchParameter"]["parameters"]


def publish_arguments(parameters):
    """`jetstream run --publish-only` with each template parameter NAME=VALUE as
    --NAME-WITH-DASHES=VALUE, in the parameters' order."""
    return ["run", "--publish-only"] + [
        "--" + name.replace("_", "-") + "=" + value for name, value in parameters.items()
    ]


class JetstreamDAGTest(unittest.TestCase):
    def setUp(self):
        self.dag = load_dag()
        self.tasks = self.dag.tasks

    def test_schedule_and_defaults(self):
        self.assertEqual(self.dag.dag_id, "jetstream")
        kw = self.dag.kwargs
        self.assertEqual(kw["schedule"], "0 4 * * *")
        self.assertIs(kw["catchup"], False)
        self.assertEqual(kw["max_active_runs"], 1)
        self.assertEqual(kw["dagrun_timeout"], datetime.timedelta(hours=23))
        self.assertIsNotNone(kw["start_date"].tzinfo, "start_date must be timezone-aware (UTC)")
        self.assertEqual(kw["default_args"]["retries"], 2)
        self.assertEqual(kw["default_args"]["retry_delay"], datetime.timedelta(minutes=30))

    def test_tasks_and_dependencies(self):
        # sensors >> run >> publish >> rerun_config_changed
        run, publish, rerun = "jetstream_run", "jetstream_publish", "jetstream_rerun_config_changed"
        self.assertEqual(set(self.tasks), set(DEFAULT_SENSORS) | {run, publish, rerun})
        for sensor in DEFAULT_SENSORS:
            self.assertEqual(self.tasks[sensor].upstream, set(), sensor)
            self.assertEqual(self.tasks[sensor].downstream, {run}, sensor)
        self.assertEqual(self.tasks[run].upstream, set(DEFAULT_SENSORS))
        self.assertEqual(self.tasks[run].downstream, {publish})
        self.assertEqual(self.tasks[publish].upstream, {run})
        self.assertEqual(self.tasks[publish].downstream, {rerun})
        self.assertEqual(self.tasks[rerun].upstream, {publish})
        self.assertEqual(self.tasks[rerun].downstream, set())

    def test_sensors_wait_for_the_days_partition(self):
        for task_id, (project, dataset, table) in DEFAULT_SENSORS.items():
            s = self.tasks[task_id]
            self.assertEqual(type(s).__name__, "BigQueryTablePartitionExistenceSensor", task_id)
            self.assertEqual(
                (s.kwargs["project_id"], s.kwargs["dataset_id"], s.kwargs["table_id"]),
                (project, dataset, table),
            )
            self.assertEqual(s.kwargs["partition_id"], "{{ ds_nodash }}", task_id)
            self.assertEqual(s.kwargs["mode"], "reschedule", task_id)
            self.assertEqual(s.kwargs["timeout"], 6 * 60 * 60, task_id)

    def test_run_launches_the_flex_template(self):
        run = self.tasks["jetstream_run"]
        self.assertEqual(type(run).__name__, "DataflowStartFlexTemplateOperator")
        self.assertEqual(run.kwargs["project_id"], "moz-fx-data-experiments")
        self.assertEqual(run.kwargs["location"], "us-central1")
        self.assertIs(run.kwargs["wait_until_finished"], True)
        self.assertEqual(run.kwargs["execution_timeout"], datetime.timedelta(hours=8))
        launch = run.kwargs["body"]["launchParameter"]
        self.assertEqual(
            launch["containerSpecGcsPath"],
            "gs://moz-fx-data-experiments-jetstream/templates/jetstream.json",
        )
        self.assertEqual(launch["jobName"], "jetstream-{{ ds_nodash }}")
        self.assertEqual(launch["parameters"], DEFAULT_RUN_PARAMETERS)
        self.assertEqual(launch["environment"]["tempLocation"], "gs://moz-fx-data-experiments-jetstream/tmp")
        # Every parameter is one the template declares, and every required one is given.
        declared = read_metadata_parameters()
        names = {p["name"] for p in declared}
        self.assertLessEqual(set(launch["parameters"]), names)
        required = {p["name"] for p in declared if not p.get("isOptional", False)}
        self.assertLessEqual(required, set(launch["parameters"]))
        # Rendered for a date, every value passes the template's regexes (as Dataflow checks
        # them at launch): the per-date results_staging is still gs://BUCKET/PREFIX.
        regexes = {p["name"]: p.get("regexes", []) for p in declared}
        for name, value in launch["parameters"].items():
            rendered = value.replace("{{ ds }}", "2026-10-07")
            for regex in regexes[name]:
                self.assertRegex(rendered, regex, name)

    def test_results_staging_is_per_date(self):
        # Neither the template's submit nor --publish-only adds a per-run suffix: two dates
        # sharing the prefix would publish each other's tables.
        staging = launch_parameters(self.dag)["results_staging"]
        self.assertEqual(staging, "gs://moz-fx-data-experiments-jetstream/results-staging/{{ ds }}")
        self.assertTrue(staging.endswith("/{{ ds }}"), staging)
        self.assertIn("--results-staging=" + staging, self.tasks["jetstream_publish"].kwargs["arguments"])
        # A trailing slash in the Variable gives no empty path segment.
        dag = load_dag({"jetstream": json.dumps({"results_staging": "gs://b/staging/"})})
        self.assertEqual(launch_parameters(dag)["results_staging"], "gs://b/staging/{{ ds }}")
        self.assertIn("--results-staging=gs://b/staging/{{ ds }}", dag.tasks["jetstream_publish"].kwargs["arguments"])

    def test_publish_runs_publish_only_with_the_runs_flags(self):
        publish = self.tasks["jetstream_publish"]
        self.assertEqual(type(publish).__name__, "GKEStartPodOperator")
        # In the template's own image, like the rerun-config-changed pod.
        self.assertEqual(publish.kwargs["image"], "us-docker.pkg.dev/moz-fx-data-experiments/jetstream/jetstream-flex:latest")
        self.assertEqual(publish.kwargs["image"], self.tasks["jetstream_rerun_config_changed"].kwargs["image"])
        self.assertEqual(publish.kwargs["cluster_name"], "jetstream")
        self.assertEqual(publish.kwargs["project_id"], "moz-fx-data-experiments")
        self.assertEqual(publish.kwargs["location"], "us-central1")
        self.assertEqual(publish.kwargs["namespace"], "default")
        self.assertEqual(publish.kwargs["service_account_name"], "jetstream")
        self.assertEqual(publish.kwargs["name"], "jetstream-publish")
        self.assertEqual(publish.kwargs["cmds"], [image_binary()])
        self.assertEqual(publish.kwargs["execution_timeout"], datetime.timedelta(hours=1))
        # Retried like every task (publishing is idempotent): not turned off.
        self.assertNotIn("retries", publish.kwargs)
        self.assertEqual(self.dag.kwargs["default_args"]["retries"], 2)
        # Spelled out, then derived: each run parameter NAME as --name-with-dashes.
        self.assertEqual(
            publish.kwargs["arguments"],
            [
                "run",
                "--publish-only",
                "--date={{ ds }}",
                "--results-staging=gs://moz-fx-data-experiments-jetstream/results-staging/{{ ds }}",
                "--warehouse=bigquery:moz-fx-data-experiments",
                "--dataset-id=mozanalysis",
                "--bucket=gs://mozanalysis",
                "--experimenter-url=https://experimenter.services.mozilla.com",
                "--min-clients=10",
                "--log-to-bigquery=true",
                "--retries=2",
            ],
        )
        self.assertEqual(publish.kwargs["arguments"], publish_arguments(launch_parameters(self.dag)))
        # Only flags the template's program would give `run` for its parameters, and none of
        # the pipeline's runner flags: --publish-only runs no pipeline.
        names = {p["name"].replace("_", "-") for p in read_metadata_parameters()}
        for arg in publish.kwargs["arguments"][2:]:
            flag = arg[2:].split("=", 1)[0]
            self.assertIn(flag, names, arg)

    def test_run_waits_for_the_job(self):
        # The template's program only submits the job (--template_location): the publish
        # step may only start once the job has ended, so the run task waits for it.
        run = self.tasks["jetstream_run"]
        self.assertIs(run.kwargs["wait_until_finished"], True)
        self.assertNotIn("deferrable", run.kwargs)
        self.assertGreaterEqual(run.kwargs["execution_timeout"], datetime.timedelta(hours=6))

    def test_rerun_config_changed_pod(self):
        rerun = self.tasks["jetstream_rerun_config_changed"]
        self.assertEqual(type(rerun).__name__, "GKEStartPodOperator")
        self.assertEqual(rerun.kwargs["image"], "us-docker.pkg.dev/moz-fx-data-experiments/jetstream/jetstream-flex:latest")
        self.assertEqual(rerun.kwargs["cluster_name"], "jetstream")
        self.assertEqual(rerun.kwargs["execution_timeout"], datetime.timedelta(hours=8))
        # The image's jetstream is the program the Dockerfile installs.
        binary = image_binary()
        self.assertEqual(rerun.kwargs["cmds"], [binary])
        self.assertEqual(
            rerun.kwargs["arguments"],
            [
                "rerun-config-changed",
                "--runner=dataflow",
                "--project-id=moz-fx-data-experiments",
                "--region=us-central1",
                "--temp-location=gs://moz-fx-data-experiments-jetstream/tmp",
                "--worker-binary=" + binary,
                # Not per date: rerun-config-changed adds a run-<n> folder itself.
                "--results-staging=gs://moz-fx-data-experiments-jetstream/results-staging",
                "--warehouse=bigquery:moz-fx-data-experiments",
                "--dataset-id=mozanalysis",
                "--bucket=gs://mozanalysis",
                "--experimenter-url=https://experimenter.services.mozilla.com",
                "--min-clients=10",
                "--log-to-bigquery=true",
                "--retries=2",
            ],
        )
        # The analysis settings are the daily run's.
        publish = self.tasks["jetstream_publish"].kwargs["arguments"]
        for arg in rerun.kwargs["arguments"]:
            if not arg.startswith(("--results-staging=", "--runner=", "--project-id=", "--region=", "--temp-location=", "--worker-binary=")) and arg.startswith("--"):
                self.assertIn(arg, publish)

    def test_timeouts_fit_the_dag_run(self):
        # Sensors, then the run, the publish step and the rerun: their longest path fits in
        # dagrun_timeout.
        sensor = max(self.tasks[s].kwargs["timeout"] for s in DEFAULT_SENSORS)
        path = (
            datetime.timedelta(seconds=sensor)
            + self.tasks["jetstream_run"].kwargs["execution_timeout"]
            + self.tasks["jetstream_publish"].kwargs["execution_timeout"]
            + self.tasks["jetstream_rerun_config_changed"].kwargs["execution_timeout"]
        )
        self.assertEqual(path, datetime.timedelta(hours=23))
        self.assertLessEqual(path, self.dag.kwargs["dagrun_timeout"])


class JetstreamDAGVariableTest(unittest.TestCase):
    def test_variable_overrides(self):
        dag = load_dag(
            {
                "jetstream": json.dumps(
                    {
                        "project": "my-project",
                        "region": "europe-west1",
                        "template_path": "gs://my-bucket/templates/jetstream.json",
                        "upstream_tables": ["p1.d1.t1", "p2.d2.t2"],
                        "results_staging": "gs://my-bucket/staging",
                        "dataset_id": "my_dataset",
                        "min_clients": 50,
                        "image": "example.com/jetstream:v2",
                    }
                )
            }
        )
        tasks = dag.tasks
        self.assertEqual(
            set(tasks),
            {"wait_for_t1", "wait_for_t2", "jetstream_run", "jetstream_publish", "jetstream_rerun_config_changed"},
        )
        self.assertEqual(
            (tasks["wait_for_t2"].kwargs["project_id"], tasks["wait_for_t2"].kwargs["dataset_id"]),
            ("p2", "d2"),
        )
        self.assertEqual(tasks["jetstream_run"].upstream, {"wait_for_t1", "wait_for_t2"})
        run = tasks["jetstream_run"].kwargs
        self.assertEqual(run["project_id"], "my-project")
        self.assertEqual(run["location"], "europe-west1")
        self.assertEqual(run["body"]["launchParameter"]["containerSpecGcsPath"], "gs://my-bucket/templates/jetstream.json")
        self.assertIn("--warehouse=bigquery:my-project", tasks["jetstream_rerun_config_changed"].kwargs["arguments"])
        # The overrides reach the run's parameters and, the same, the publish step's flags.
        params = run["body"]["launchParameter"]["parameters"]
        self.assertEqual(
            params,
            {
                "date": "{{ ds }}",
                "results_staging": "gs://my-bucket/staging/{{ ds }}",
                "warehouse": "bigquery:my-project",
                "dataset_id": "my_dataset",
                "bucket": "gs://mozanalysis",
                "experimenter_url": "https://experimenter.services.mozilla.com",
                "min_clients": "50",
                "log_to_bigquery": "true",
                "retries": "2",
            },
        )
        publish = tasks["jetstream_publish"].kwargs
        self.assertEqual(publish["arguments"], publish_arguments(params))
        self.assertIn("--results-staging=gs://my-bucket/staging/{{ ds }}", publish["arguments"])
        self.assertIn("--dataset-id=my_dataset", publish["arguments"])
        self.assertIn("--min-clients=50", publish["arguments"])
        self.assertEqual(publish["image"], "example.com/jetstream:v2")
        self.assertEqual(tasks["jetstream_publish"].upstream, {"jetstream_run"})
        self.assertEqual(tasks["jetstream_publish"].downstream, {"jetstream_rerun_config_changed"})

    def test_bad_upstream_table(self):
        with self.assertRaisesRegex(ValueError, "clients_daily_v6.*PROJECT.DATASET.TABLE"):
            load_dag({"jetstream": json.dumps({"upstream_tables": ["clients_daily_v6"]})})


if __name__ == "__main__":
    unittest.main(verbosity=2)

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
        run, rerun = "jetstream_run", "jetstream_rerun_config_changed"
        self.assertEqual(set(self.tasks), set(DEFAULT_SENSORS) | {run, rerun})
        for sensor in DEFAULT_SENSORS:
            self.assertEqual(self.tasks[sensor].upstream, set(), sensor)
            self.assertEqual(self.tasks[sensor].downstream, {run}, sensor)
        self.assertEqual(self.tasks[run].upstream, set(DEFAULT_SENSORS))
        self.assertEqual(self.tasks[run].downstream, {rerun})
        self.assertEqual(self.tasks[rerun].upstream, {run})
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
        self.assertEqual(
            launch["parameters"],
            {
                "date": "{{ ds }}",
                "results_staging": "gs://moz-fx-data-experiments-jetstream/results-staging",
                "bucket": "gs://mozanalysis",
                "experimenter_url": "https://experimenter.services.mozilla.com",
                "log_to_bigquery": "true",
                "retries": "2",
            },
        )
        self.assertEqual(launch["environment"]["tempLocation"], "gs://moz-fx-data-experiments-jetstream/tmp")
        # Every parameter is one the template declares, and every required one is given.
        with open(METADATA) as f:
            declared = json.load(f)["parameters"]
        names = {p["name"] for p in declared}
        self.assertLessEqual(set(launch["parameters"]), names)
        required = {p["name"] for p in declared if not p.get("isOptional", False)}
        self.assertLessEqual(required, set(launch["parameters"]))

    def test_rerun_config_changed_pod(self):
        rerun = self.tasks["jetstream_rerun_config_changed"]
        self.assertEqual(type(rerun).__name__, "GKEStartPodOperator")
        self.assertEqual(rerun.kwargs["image"], "us-docker.pkg.dev/moz-fx-data-experiments/jetstream/jetstream-flex:latest")
        self.assertEqual(rerun.kwargs["cluster_name"], "jetstream")
        self.assertEqual(rerun.kwargs["execution_timeout"], datetime.timedelta(hours=8))
        # The image's jetstream is the program the Dockerfile installs.
        with open(DOCKERFILE) as f:
            binary = re.search(r"^ENV FLEX_TEMPLATE_GO_BINARY=(\S+)", f.read(), re.M).group(1)
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
                "--warehouse=bigquery:moz-fx-data-experiments",
                "--results-staging=gs://moz-fx-data-experiments-jetstream/results-staging",
                "--bucket=gs://mozanalysis",
                "--experimenter-url=https://experimenter.services.mozilla.com",
                "--log-to-bigquery",
                "--retries=2",
            ],
        )

    def test_timeouts_fit_the_dag_run(self):
        # Sensors, then the run, then the rerun: their longest path fits in dagrun_timeout.
        sensor = max(self.tasks[s].kwargs["timeout"] for s in DEFAULT_SENSORS)
        path = (
            datetime.timedelta(seconds=sensor)
            + self.tasks["jetstream_run"].kwargs["execution_timeout"]
            + self.tasks["jetstream_rerun_config_changed"].kwargs["execution_timeout"]
        )
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
                    }
                )
            }
        )
        tasks = dag.tasks
        self.assertEqual(
            set(tasks),
            {"wait_for_t1", "wait_for_t2", "jetstream_run", "jetstream_rerun_config_changed"},
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

    def test_bad_upstream_table(self):
        with self.assertRaisesRegex(ValueError, "clients_daily_v6.*PROJECT.DATASET.TABLE"):
            load_dag({"jetstream": json.dumps({"upstream_tables": ["clients_daily_v6"]})})


if __name__ == "__main__":
    unittest.main(verbosity=2)

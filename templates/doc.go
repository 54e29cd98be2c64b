// Package templates holds jetstream's deployment artefacts — the Dataflow Flex Template
// (metadata.json, Dockerfile) and the Airflow DAG (airflow/jetstream_dag.py) — and the tests
// that keep them in step with the program: the template's parameters with
// launcher.TemplateParameters and the run command's flags, the Dockerfile with the Makefile,
// the DAG with its expected shape. See README.md.
package templates

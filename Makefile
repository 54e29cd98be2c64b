# jetstream — see README.md.
GO      ?= go
BIN     := bin/jetstream
SAMPLE  ?= sample
CLIENTS ?= 20000
SEED    ?= 1
OUTPUT  ?= out

.PHONY: run test test-integration build worker dataflow-dryrun bench bench-micro sample clean

## run: analyse the bundled sample experiment (generates the sample warehouse first if absent)
run: build
	@test -f $(SAMPLE)/mozdata.duckdb || $(BIN) sample-data --clients $(CLIENTS) --seed $(SEED) --out $(SAMPLE)
	$(BIN) run --warehouse duckdb:$(SAMPLE)/mozdata.duckdb --output $(OUTPUT)

## test: vet, every test, and the pure-Go worker build
test:
	$(GO) vet ./...
	$(GO) test ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/jetstream

# The BigQuery emulator (goccy/bigquery-emulator, ZetaSQL) is built once per machine: its
# cold build takes 8–15 minutes on 2 cores and needs clang (gcc 12 fails on go-zetasql).
BQEMU_VERSION := v0.6.6
BQEMU ?= $(HOME)/.cache/jetstream/bigquery-emulator-$(BQEMU_VERSION)

$(BQEMU):
	mkdir -p $(dir $@)
	cd tools/bqemulator && CGO_ENABLED=1 CC=clang CXX=clang++ $(GO) build -o $@ github.com/goccy/bigquery-emulator/cmd/bigquery-emulator

## test-integration: the generated BigQuery SQL on the BigQuery emulator, compared with DuckDB
test-integration: $(BQEMU)
	BIGQUERY_EMULATOR_BIN=$(BQEMU) $(GO) test -tags integration -run Integration -count=1 -v ./warehouse/ ./launcher/

## build: the jetstream binary (with DuckDB, cgo)
build:
	$(GO) build -o $(BIN) ./cmd/jetstream

## worker: the static, pure-Go binary Dataflow workers run (no DuckDB)
worker:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -o bin/jetstream-worker ./cmd/jetstream

# The Dataflow dry run needs no Google project, bucket or credentials: these names only appear
# in the printed job. GOOGLE_APPLICATION_CREDENTIALS=/dev/null hides any credentials the
# machine has, so that Beam's soft-delete check of the buckets does not call Cloud Storage
# (without a network it would retry forever); it warns twice that it has no GCS client.
DATAFLOW_PROJECT ?= jetstream-ci
DATAFLOW_REGION  ?= us-central1
DATAFLOW_TEMP    ?= gs://jetstream-ci/tmp

## dataflow-dryrun: translate the sample's week-1 pipeline into a Dataflow job run by bin/jetstream-worker, and print it (offline)
dataflow-dryrun: build worker
	@test -f $(SAMPLE)/mozdata.duckdb || $(BIN) sample-data --clients $(CLIENTS) --seed $(SEED) --out $(SAMPLE)
	GOOGLE_APPLICATION_CREDENTIALS=/dev/null $(BIN) run --runner dataflow --dry-run \
		--project-id $(DATAFLOW_PROJECT) --region $(DATAFLOW_REGION) --temp-location $(DATAFLOW_TEMP) \
		--worker-binary bin/jetstream-worker --warehouse duckdb:$(SAMPLE)/mozdata.duckdb \
		--date 2026-09-14 --period week --output bin/dataflow-dryrun

# The Dataflow Flex Template (templates/README.md). Its image (templates/Dockerfile) runs the same
# static linux/amd64 program as `make worker`: it launches `jetstream run --runner dataflow` and is
# the workers' binary. `make flex-template` needs docker and gcloud, and is not run by CI:
#   make flex-template FLEX_IMAGE=us-central1-docker.pkg.dev/P/jetstream/jetstream-flex:TAG \
#       FLEX_TEMPLATE_PATH=gs://BUCKET/templates/jetstream.json
FLEX_BINARY        := bin/flex/jetstream
FLEX_BASE_IMAGE    ?= gcr.io/dataflow-templates-base/go-template-launcher-base:latest
FLEX_IMAGE         ?=
FLEX_TEMPLATE_PATH ?=

.PHONY: flex-template-binary flex-template

## flex-template-binary: the program of the Flex Template image (static, linux/amd64, no DuckDB)
flex-template-binary:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -o $(FLEX_BINARY) ./cmd/jetstream

## flex-template: build and push the Flex Template image, then write the template spec to FLEX_TEMPLATE_PATH
flex-template: flex-template-binary
	@test -n "$(FLEX_IMAGE)" || { echo "make flex-template: set FLEX_IMAGE=LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG" >&2; exit 1; }
	@test -n "$(FLEX_TEMPLATE_PATH)" || { echo "make flex-template: set FLEX_TEMPLATE_PATH=gs://BUCKET/PATH.json" >&2; exit 1; }
	docker build -f templates/Dockerfile --build-arg BASE_IMAGE=$(FLEX_BASE_IMAGE) -t $(FLEX_IMAGE) .
	docker push $(FLEX_IMAGE)
	gcloud dataflow flex-template build $(FLEX_TEMPLATE_PATH) --image $(FLEX_IMAGE) \
		--sdk-language GO --metadata-file templates/metadata.json

## sample: regenerate the sample warehouse
sample: build
	rm -rf $(SAMPLE)
	$(BIN) sample-data --clients $(CLIENTS) --seed $(SEED) --out $(SAMPLE)

# The end-to-end benchmark (launcher/bench_e2e_test.go): the local analysis (DuckDB + Prism)
# of week 1 and overall on sample warehouses of BENCH_CLIENTS clients (each generated once
# into BENCH_CACHE/bench-<clients>-seed<seed>/), each followed by the plain-Go reference of
# its statistics; prints one table of every size's stages (needs cgo, for DuckDB).
BENCH_CLIENTS ?= 1000000 5000000
BENCH_CACHE   ?= $(HOME)/.cache/jetstream

## bench: the end-to-end benchmark at BENCH_CLIENTS clients (default 1M and 5M): stage times, rows/s, peak RSS, plain-Go ratio (figures printed, nothing asserted)
bench:
	CGO_ENABLED=1 JETSTREAM_BENCH_E2E=1 JETSTREAM_BENCH_CLIENTS="$(BENCH_CLIENTS)" JETSTREAM_BENCH_SEED=$(SEED) \
		JETSTREAM_BENCH_CACHE="$(BENCH_CACHE)" $(GO) test -run '^$$' -bench EndToEnd -benchtime 1x -timeout 0 ./launcher/

## bench-micro: every package's micro-benchmarks, once each (the end-to-end one skips itself)
bench-micro:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

clean:
	rm -rf bin $(OUTPUT)

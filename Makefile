# jetstream — see README.md.
GO      ?= go
BIN     := bin/jetstream
SAMPLE  ?= sample
CLIENTS ?= 20000
SEED    ?= 1
OUTPUT  ?= out

.PHONY: run test test-integration build worker dataflow-dryrun bench sample clean

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

## sample: regenerate the sample warehouse
sample: build
	rm -rf $(SAMPLE)
	$(BIN) sample-data --clients $(CLIENTS) --seed $(SEED) --out $(SAMPLE)

## bench: benchmarks (figures printed, nothing asserted)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

clean:
	rm -rf bin $(OUTPUT)

# jetstream — see README.md.
GO      ?= go
BIN     := bin/jetstream
SAMPLE  ?= sample
CLIENTS ?= 20000
SEED    ?= 1
OUTPUT  ?= output

.PHONY: run test build worker bench sample clean

## run: analyse the bundled sample experiment (generates the sample warehouse first if absent)
run: build
	@test -f $(SAMPLE)/mozdata.duckdb || $(BIN) sample-data --clients $(CLIENTS) --seed $(SEED) --out $(SAMPLE)
	$(BIN) run --warehouse duckdb:$(SAMPLE)/mozdata.duckdb --output $(OUTPUT)

## test: vet, every test, and the pure-Go worker build
test:
	$(GO) vet ./...
	$(GO) test ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/jetstream

## build: the jetstream binary (with DuckDB, cgo)
build:
	$(GO) build -o $(BIN) ./cmd/jetstream

## worker: the static, pure-Go binary Dataflow workers run (no DuckDB)
worker:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -o bin/jetstream-worker ./cmd/jetstream

## sample: regenerate the sample warehouse
sample: build
	rm -rf $(SAMPLE)
	$(BIN) sample-data --clients $(CLIENTS) --seed $(SEED) --out $(SAMPLE)

## bench: benchmarks (figures printed, nothing asserted)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

clean:
	rm -rf bin $(OUTPUT)

# Inspector Gadget. `make run` and `make test` are the two commands a newcomer needs.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := bin/gadget

.PHONY: run demo bench build test test-short faults clients generate check-generated migrations lint fuzz clean

## run: build and start `gadget serve` on the embedded default (SQLite under ./data/)
run: build
	./$(BIN) serve

## demo: the fake intel server plus gadget pointed at it (offline, real-looking answers); the same build as run
demo: build
	./scripts/demo.sh

## bench: enrichment and River benchmarks against the fake intel server (PostgreSQL and Redis for River); prints the figures
bench:
	$(GO) test -run '^$$' -bench 'BenchmarkFanOut|BenchmarkCachedThroughput|BenchmarkColdCoalescing' -benchtime 1x -count 1 ./cmd/gadget
	$(GO) test -run '^$$' -bench 'BenchmarkBatch1000' -benchtime 1x -count 1 ./cmd/gadget
	$(GO) test -run '^$$' -bench 'BenchmarkCachedLookupAllocs' -benchtime 3000x -count 3 ./cmd/gadget
	$(GO) test -run '^$$' -bench 'BenchmarkWriteUsageSQLite' -benchtime 20x -count 1 ./internal/store
	$(GO) test -run '^$$' -bench 'BenchmarkRiverOverhead' -benchtime 1x -count 1 ./cmd/gadget
	$(GO) test -run '^$$' -bench 'BenchmarkRoundTrip' -benchtime 1x -count 1 ./internal/jobs

## build: bin/gadget and bin/fakeintel in one go build (shared packages compiled once; the Go build cache makes a second make run or make demo only relink)
build:
	@mkdir -p bin
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ ./cmd/gadget ./cmd/fakeintel

## test: the whole suite, including PostgreSQL and Redis integration tests (starts the installed servers when they are stopped)
test:
	./scripts/test-services.sh
	./scripts/test-deps.sh
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

## faults: the fault suite (build tag faults): gadget processes on a private PostgreSQL cluster and redis-server (initdb/pg_ctl and redis-server must be installed); kills Redis, restarts PostgreSQL, SIGKILLs a worker and an API process, makes the provider fail; then checks ledger and audit rows
faults:
	$(GO) test -tags faults -count=1 -timeout 4m -run '^TestFaults$$' -v ./cmd/gadget

## clients: TestOfficialClients: the official cortex4py and taxii2-client drive a live server through scripts/clients; GADGET_CLIENTS_DIR names where the clients are (docs/integrations.md)
clients:
	@test -n "$(GADGET_CLIENTS_DIR)" || { echo "clients: set GADGET_CLIENTS_DIR to the directory holding cortex4py and taxii2-client (docs/integrations.md)" >&2; exit 2; }
	@command -v python3 >/dev/null || { echo "clients: python3 not found" >&2; exit 2; }
	GADGET_CLIENTS_DIR="$(GADGET_CLIENTS_DIR)" $(GO) test -count=1 -v -run '^TestOfficialClients$$' ./cmd/gadget

## generate: regenerate ent, gqlgen (and new migrations if the ent schema changed), docs/providers.md and docs/policy.md's TLP table
generate:
	$(GO) generate ./ent/...
	$(GO) run ./graph/gen
	$(GO) tool gqlgen generate
	$(GO) run ./internal/store/migrategen -name change
	gofmt -w graph ent
	$(GO) run ./cmd/gadget docs providers
	$(GO) run ./cmd/gadget docs policy

## check-generated: fail if `make generate` changes any committed file
check-generated: generate
	@git status --porcelain -- ent graph internal/store/migrations docs/providers.md docs/policy.md | tee /dev/stderr | (! grep -q .) || (echo "generated code is stale: run make generate and commit" >&2; exit 1)

## migrations: write a new migration named NAME after changing ent/schema
migrations:
	$(GO) run ./internal/store/migrategen -name $(or $(NAME),change)

## lint: gofmt, go vet, staticcheck (pinned in go.mod's tool block) and the layering test
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^ent/'))" || (gofmt -l $$(git ls-files '*.go' | grep -v '^ent/'); exit 1)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) test -count=1 -run '^TestLayering' .

## fuzz: fuzz the indicator parser and the extractor for a while each
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(or $(FUZZTIME),60s) ./internal/indicator/
	$(GO) test -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime $(or $(FUZZTIME),60s) ./internal/indicator/

clean:
	rm -rf bin

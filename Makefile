# The front door. `make certify` runs the main job; `make test` runs the tests.
SHELL := /bin/bash
GO ?= go
BIN := bin
# MEMORY_BENCH is how long make bench runs the in-memory runtime at 800 req/s (its RSS target).
MEMORY_BENCH ?= 10m
TOOLS := $(CURDIR)/bin/tools
export TESTCONTAINERS_RYUK_DISABLED ?= true
export TESTCONTAINERS_HOST_OVERRIDE ?= 127.0.0.1

PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GOLANGCI_LINT_VERSION := v2.6.2
# FUZZTIME bounds each fuzz target in `make test`; raise it for a longer local hunt.
# FUZZMINIMIZETIME bounds minimising a new input: Go's default of 60 s would outlast FUZZTIME
# whenever a large seed (the dev configuration) yields an interesting mutation.
FUZZTIME ?= 5s
FUZZMINIMIZETIME ?= 1s

.PHONY: all build test unit fuzz lint run bench generate tools clean check-config certify certify-negative gpu-check images test-images k8s-manifests

all: build

build:
	$(GO) build -o $(BIN)/arcert ./cmd/arcert
	$(GO) build -o $(BIN)/aruntime ./cmd/aruntime

## test: every package with the race detector, the negative controls' bookkeeping, then each fuzz
## target briefly. The negative controls' certifications are `make certify-negative`.
test: test-images unit fuzz

## images: the container images of the containerized reference runtime (deploy/images), FROM
## scratch around static binaries; quick when nothing changed.
images:
	$(GO) run ./deploy/images/build

# test-images builds the images before the race-enabled packages run, so the build does not
# compete with their timing; without Docker (and without CI) it says so and the container tests skip.
test-images:
	$(GO) run ./deploy/images/build --optional

# The negative package's certifications (every variant, the reference on
# the same requirements, the Extended and Resilience profiles, the game day, the held connections)
# take about 25 minutes, so they are `make certify-negative`, which CI runs after make test; make
# test runs the rest of the package: every MUST has a control, the README lists each, Lookup, and
# certify's refusal of a bad connection bound.
NEGATIVE := ./fixtures/negative
NEGATIVE_BOOKKEEPING := ^(TestEveryMustHasANegativeControl|TestReadmeListsEveryNegativeControl|TestConformantVariantsAreWellFormed|TestLookup|TestCertifyRefusesANonPositiveConnectionBound)$$
unit:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m $$($(GO) list ./... | grep -v '/fixtures/negative$$')
	$(GO) test -count=1 -timeout 5m -run '$(NEGATIVE_BOOKKEEPING)' $(NEGATIVE)

## certify-negative: the negative controls. Every variant of the embedded reference with one
## realistic bug is certified focused on the requirement it breaks, which must FAIL; the reference
## must PASS the same requirements, the Extended and Resilience profiles (embedded and in
## containers), and the evidence-outage game day must be caught. They certify real runtimes under
## load, so they run alone, one at a time, without the race detector (two cores shared with -race
## would blur their timing); -v shows each as it starts and ends.
certify-negative: test-images
	$(GO) test -count=1 -timeout 40m -v $(NEGATIVE)

# A run that ends in a bare "context deadline exceeded" with no failing input written is Go 1.26's
# fuzz coordinator racing its own -fuzztime deadline (golang/go#75804, fixed in Go 1.27), not a
# finding: that target runs once more, and fails if it fails again. A real finding always writes
# its input under testdata/fuzz and says so.
fuzz:
	@set -e -o pipefail; for target in $$($(GO) run ./internal/tools/fuzztargets .); do \
		pkg=$${target%%:*}; name=$${target##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		log=$$(mktemp); \
		if ! $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZETIME) $$pkg 2>&1 | tee $$log; then \
			if grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
				echo "fuzz $$name: Go's -fuzztime deadline race (golang/go#75804), no input written: once more"; \
				$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZETIME) $$pkg; \
			else rm -f $$log; exit 1; fi; \
		fi; \
		rm -f $$log; \
	done

lint: $(TOOLS)/golangci-lint
	$(TOOLS)/golangci-lint run ./...

## certify: the main job. Start the embedded reference runtime and certify it against every
## implemented profile; the report lands in $(REPORT). Exits non-zero if a MUST does not pass.
REPORT ?= arcert-report
certify: build
	$(BIN)/arcert certify --embedded --out $(REPORT)

## run: the embedded reference runtime on 127.0.0.1:8080 (HTTP) and :8081 (gRPC).
run: build
	$(BIN)/aruntime up

## bench: router overhead measured from a separate load-generator process (open loop, 1k/5k/10k/s,
##        interleaved, 3 repeats) against a worker called directly and nginx (grpc_pass to the worker,
##        proxy_pass to a trivial Go backend) where installed and the floors (Go relays with no logic,
##        what a router built from their parts cannot beat), with p99 ratios to nginx; then
##        20k/s offered to the router (served or shed, nothing unanswered),
##        then region failover under load (detection, first rerouted success, served share, recovery),
##        then the noisy neighbour (a quiet tenant's served share and p99 TTFT, another tenant idle and flooding),
##        then the in-memory runtime's peak RSS/heap at 800 req/s for MEMORY_BENCH (default 10m;
##        `make bench MEMORY_BENCH=30s` for a quick check).
bench:
	$(GO) run ./cmd/arbench
	$(GO) test -run '^$$' -bench RegionFailover -benchtime 1x ./cmd/arcert
	$(GO) test -run '^$$' -bench NoisyNeighbour -benchtime 1x ./cmd/arcert
	$(GO) test -run '^$$' -bench GamedayMemory -benchtime 1x ./cmd/arcert
	$(GO) test -run '^$$' -bench OpenLoopLedger -benchtime 1x ./conformance/driver
	$(GO) run ./cmd/arbench -memory $(MEMORY_BENCH)

## gpu-check: on a machine with an NVIDIA GPU (and its driver), list the devices through NVML and
## serve requests with a worker on device 0 through the NVML backend. Not part of CI.
gpu-check:
	CGO_ENABLED=1 $(GO) test -tags gpu -count=1 -v -run '^TestGPUCheck$$' ./reference/worker/

## k8s-manifests: check and print a Kubernetes overlay of deploy/kubernetes (OVERLAY=dev or
## production; default dev) as `kubectl kustomize` would, through the kustomize Go API.
OVERLAY ?= dev
k8s-manifests:
	@$(GO) run ./deploy/kubernetes/cmd/build deploy/kubernetes/overlays/$(OVERLAY)

## check-config: validate the dev configuration (or CONFIG=path).
check-config: build
	$(BIN)/aruntime check $(CONFIG)

## generate: regenerate api/gen from api/proto (protoc comes from Debian's protobuf-compiler).
generate: $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc
	@command -v protoc >/dev/null || { echo "protoc is missing: apt-get install -y protobuf-compiler" >&2; exit 1; }
	PATH=$(TOOLS):$$PATH protoc -I api/proto \
		--go_out=api/gen --go_opt=paths=source_relative \
		--go-grpc_out=api/gen --go-grpc_opt=paths=source_relative \
		api/proto/arcert/v1/*.proto

tools: $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc $(TOOLS)/golangci-lint

$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

$(TOOLS)/golangci-lint:
	GOBIN=$(TOOLS) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

clean:
	rm -rf $(BIN)

## deploy: the reference deployment (deploy/compose): a three-node JetStream cluster, two routers,
## the evidence service, the registry, the L2 cache, workers in two regions and the stand-in
## provider, toxiproxy on every link, built FROM scratch here. Waits until every service is
## healthy (ARCERT_DEPLOY_TIMEOUT seconds, default 240); on failure names the unhealthy services
## and removes everything. Certify it with `bin/arcert certify --target deploy/compose/target.yaml`.
## deploy-down: remove it with its volumes.
.PHONY: deploy deploy-down
deploy: images
	deploy/compose/deploy.sh up

deploy-down:
	deploy/compose/deploy.sh down

## certify-deploy: bring the reference deployment up, certify it (Core and Resilience, with node
## loss, partitions and the rolling restart) and take it down whatever the verdict, checking that
## nothing is left. The report lands in $(DEPLOY_REPORT).
DEPLOY_REPORT ?= arcert-deploy-report
.PHONY: certify-deploy
certify-deploy: build images
	deploy/compose/certify.sh $(DEPLOY_REPORT)

## certify-deploy-negative: the deployment's own negative controls. The reference deployment
## with one setting of its configuration broken on purpose (router.drain_notice 0s with
## drain_timeout 20ms, durable.replicas 1, router.health_interval 10s, router-2's policy_version
## left stale), each certified focused on what it breaks (FLT-4, DUR-4, FBK-4, VER-1), which must FAIL (deploy/compose/negative-expect.yaml). Reports land in
## $(DEPLOY_NEGATIVE_REPORT)/<control>.
DEPLOY_NEGATIVE_REPORT ?= arcert-deploy-negative-report
.PHONY: certify-deploy-negative
certify-deploy-negative: build images
	deploy/compose/negative.sh $(DEPLOY_NEGATIVE_REPORT)

## certify-ollama: certify a real third-party runtime. Build Ollama v0.17.4 from its Go module
## (cached under ARCERT_CACHE), generate the tiny seeded model, certify Ollama behind the key
## gateway (multi-slot and one-slot prompt cache) and directly, then check the verdicts a correct
## harness must reach (deploy/ollama/expect.yaml). Reports land in $(OLLAMA_REPORT).
OLLAMA_REPORT ?= arcert-ollama-report
.PHONY: certify-ollama
certify-ollama: build
	deploy/ollama/certify.sh $(OLLAMA_REPORT)

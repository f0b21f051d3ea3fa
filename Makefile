# predictlab — see README.md. Every target works from a fresh clone.
GO      ?= go
BIN     := bin
PROFILE ?= full
LAB_ARGS ?=
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The three programs print these with --version (package internal/cli).
LDFLAGS := -s -w -X predictlab/internal/cli.Version=$(VERSION) -X predictlab/internal/cli.Commit=$(COMMIT)

# Fuzz targets of every parser of outside input (request bodies, the store's frames, loadgen's
# inputs, and the Python formats and files it writes), run by make test: NAME@PACKAGE@TIME,
# TIME defaulting to FUZZTIME.
FUZZTIME ?= 3s
FUZZ := \
	FuzzParseBody@./targets/internal/predict@10s FuzzReadFrame@./targets/internal/featurestore@5s \
	FuzzParseDelayRange@./internal/targetsapi@5s \
	FuzzReadResponse@./loadgen/internal/httpclient FuzzParseTarget@./loadgen/internal/httpclient \
	FuzzRedirectLocation@./loadgen/internal/httpclient FuzzConfigFile@./loadgen/internal/config \
	FuzzParseTimespan@./loadgen/internal/config FuzzParse@./loadgen/internal/scenario \
	FuzzParse@./loadgen/internal/wait FuzzParseSwarm@./loadgen/internal/webui \
	FuzzErrorText@./loadgen/internal/report FuzzDecode@./internal/loadgenjson \
	FuzzReadStats@./internal/locustcsv FuzzReadHistory@./internal/locustcsv \
	FuzzReadFailures@./internal/locustcsv FuzzReadExceptions@./internal/locustcsv \
	FuzzFloat@./internal/pyfmt FuzzRepr@./internal/pyfmt \
	FuzzDecode@./loadgen/internal/locustproto FuzzDecodeSelfCheck@./loadgen/internal/locuststats

.PHONY: all build test fuzz lab sweep targets bench fmt vet clean up down docker-build docker-lab docker-test

all: build

## build: compile bin/targets, bin/loadgen and bin/lab
build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./targets ./loadgen ./lab

## test: gofmt check, go vet, race-enabled tests (what CI runs)
test:
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...
	@$(MAKE) --no-print-directory fuzz

## fuzz: every fuzz target for its time (FUZZTIME=3s unless the list says otherwise)
fuzz:
	@# Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a failure, "context
	@# deadline exceeded" with no failing input, on a busy machine (go.dev/issue/75804, fixed
	@# in Go 1.27): such a run is repeated once. A real finding writes a failing input and fails.
	@for t in $(FUZZ); do \
		name=$${t%%@*}; rest=$${t#*@}; pkg=$${rest%%@*}; time=$${rest#*@}; \
		[ "$$time" = "$$rest" ] && time=$(FUZZTIME); \
		for try in 1 2; do \
			echo "$(GO) test -run '^$$' -fuzz '^$$name$$' -fuzztime $$time $$pkg"; \
			out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$time $$pkg 2>&1); rc=$$?; \
			if [ $$rc -eq 0 ]; then echo "$$out" | tail -n 1; break; fi; \
			echo "$$out"; \
			if [ $$try -eq 1 ] && echo "$$out" | grep -q 'context deadline exceeded' && \
				! echo "$$out" | grep -q 'Failing input written'; then \
				echo "(the fuzz coordinator's own deadline, not a finding: once more)"; continue; fi; \
			exit 1; \
		done; \
	done

## lab: run all four experiments against both targets (PROFILE=full|quick|smoke|seed|cpu)
lab: build
	$(BIN)/lab run --profile $(PROFILE) $(LAB_ARGS)

## sweep: one knob over several values, measured capacity beside the predicted (SWEEP='--knob workers --values 4,8,16,32')
SWEEP ?= --knob workers --values 4,8,16,32
sweep: build
	$(BIN)/lab sweep $(SWEEP)

## targets: run the feature store and the four services in the foreground
targets: build
	$(BIN)/targets all

## bench: Go benchmarks, loadgen/bench.sh (loadgen vs wrk, pacing latency, 20k users; ~3 min) and
## loadgen/bench-distributed.sh (one process vs master + 2 workers, master CPU, worker RSS; ~1.5 min)
bench: build
	TARGETS_BIN=$(CURDIR)/$(BIN)/targets $(GO) test -run '^$$' -bench . -benchtime 1x ./...
	./loadgen/bench.sh
	./loadgen/bench-distributed.sh

## Docker (see README "With Docker"; docker-compose 1.29 or docker compose v2, any builder)
COMPOSE ?= $(shell command -v docker-compose >/dev/null 2>&1 && echo docker-compose || echo 'docker compose')
DOCKER_ENV = PREDICTLAB_VERSION=$(VERSION) PREDICTLAB_COMMIT=$(COMMIT)

## up: build the image, start redis and the four services (ports 5000 5001 8000 8001) in the foreground
up: docker-build
	$(DOCKER_ENV) $(COMPOSE) up

## down: stop and remove the compose containers (the lab's, the web UI's and the distributed profile's too)
down:
	$(COMPOSE) --profile lab --profile ui --profile distributed down --remove-orphans

## docker-build: build the one image (predictlab:local) from docker/Dockerfile, through the compose file
docker-build:
	$(DOCKER_ENV) $(COMPOSE) build sync-model

## docker-lab: the experiments in a container against the compose services (PROFILE=...); results in output/docker-<UTC time>
docker-lab: docker-build
	@mkdir -p output
	$(DOCKER_ENV) PREDICTLAB_UID=$$(id -u) PREDICTLAB_GID=$$(id -g) PREDICTLAB_PROFILE=$(PROFILE) \
	PREDICTLAB_RUN=docker-$$(date -u +%Y%m%d-%H%M%S) $(COMPOSE) --profile lab run --rm lab

## docker-test: the tests against a real Docker engine (image build, compose up, docker-lab, faults; a few minutes)
docker-test:
	PREDICTLAB_DOCKER_TEST=1 $(GO) test -count=1 -timeout 40m -run '^TestEngine$$' -v ./docker/

fmt:
	gofmt -w $$(find . -name '*.go' -not -path './.git/*')

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)

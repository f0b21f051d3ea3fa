# predictlab — see README.md. Every target works from a fresh clone.
GO      ?= go
BIN     := bin
PROFILE ?= full
LAB_ARGS ?=
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build test lab targets bench fmt vet clean

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

## lab: run all four experiments against both targets (PROFILE=full|quick|smoke|seed)
lab: build
	$(BIN)/lab run --profile $(PROFILE) $(LAB_ARGS)

## targets: run the feature store and the four services in the foreground
targets: build
	$(BIN)/targets all

## bench: Go benchmarks (performance figures live here, never in tests)
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

fmt:
	gofmt -w $$(find . -name '*.go' -not -path './.git/*')

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)

# etch — see README.md. `make run` and `make test` do all set-up on a fresh machine.
SHELL   := /bin/bash
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Downloads and tools are cached here (ignored by git).
CACHE   ?= $(CURDIR)/.cache

.PHONY: all build run test test-short bench lint fmt vet clean onnxruntime slurm-up slurm-down FORCE

# ONNX Runtime: onnxruntime_go v1.27.0 needs the C API of ONNX Runtime 1.24.1, taken from the npm
# package onnxruntime-node (no install scripts run). ETCH_ONNXRUNTIME_LIB points etch at it.
ORT_VERSION := 1.24.1
ORT_LIB     := $(CACHE)/onnxruntime/libonnxruntime.so.1
export ETCH_ONNXRUNTIME_LIB ?= $(ORT_LIB)

all: build

build: bin/etch

bin/etch: FORCE
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/etch ./harness/cmd/etch

# The main job: the default experiment on the embedded default dataset.
run: build $(ORT_LIB)
	./bin/etch run experiments/default.yaml

onnxruntime: $(ORT_LIB)
$(ORT_LIB):
	mkdir -p $(CACHE)/onnxruntime/tmp
	cd $(CACHE)/onnxruntime/tmp && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null
	tar xzf $(CACHE)/onnxruntime/tmp/onnxruntime-node-$(ORT_VERSION).tgz -C $(CACHE)/onnxruntime/tmp \
	  package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	mv $(CACHE)/onnxruntime/tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1 $@.tmp && mv $@.tmp $@
	rm -rf $(CACHE)/onnxruntime/tmp

test: $(ORT_LIB)
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags purego ./kernels/...

test-short:
	$(GO) test -short -count=1 ./...

# Benchmarks; BENCH selects (a go test -bench regexp), PKG the packages.
BENCH ?= .
PKG   ?= ./...
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKG)

STATICCHECK := $(CACHE)/bin/staticcheck
$(STATICCHECK):
	GOBIN=$(CACHE)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: $(STATICCHECK)
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(STATICCHECK) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

# A real single-node Slurm cluster for the Slurm executor's tests (idempotent; needs root).
slurm-up:
	harness/slurm/cluster.sh up
slurm-down:
	harness/slurm/cluster.sh down

# kernels: CPU SGEMM and kernel benchmarks (GFLOP/s); bench-blas compares SGEMM with OpenBLAS
# (Debian libopenblas-dev, through cgo behind the `openblas` tag), interleaved in one run.
# Debian's DYNAMIC_ARCH OpenBLAS does not recognise every virtualised CPU (it then falls back to
# its SSE3 "Prescott" kernels); OPENBLAS_CORETYPE pins the AVX-512 (SkylakeX) or AVX2 (Haswell)
# kernels so the yardstick is OpenBLAS at its best on this CPU. OPENBLAS_THREAD_TIMEOUT=17 makes its
# idle threads spin about as long as etch's workers (2^17 cycles ≈ 50 µs) instead of ~0.1 s, which
# in an interleaved run would otherwise occupy the cores while etch's SGEMM runs.
.PHONY: bench-kernels bench-blas
bench-kernels:
	$(GO) test -run '^$$' -bench 'Sgemm|MicroKernel|Cells|FastMath' -benchmem ./kernels/...

bench-blas:
	@ldconfig -p | grep -q 'libopenblas\.so ' || { echo 'bench-blas needs OpenBLAS: apt-get install -y --no-install-recommends libopenblas-dev' >&2; exit 1; }
	set -o pipefail; OPENBLAS_THREAD_TIMEOUT=$${OPENBLAS_THREAD_TIMEOUT:-17} OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-$$(grep -qw avx512f /proc/cpuinfo && echo SkylakeX || echo Haswell)} \
	  CGO_ENABLED=1 $(GO) test -tags openblas -run '^$$' -bench VsOpenBLAS -benchtime 3s -v ./kernels/cpu | grep -Ev '^(=== RUN|goos|goarch|pkg|cpu:)'

# The CI smoke experiment: embedded sample dataset, CPU, RF + small CNN-LSTM + soft vote (< 60 s).
.PHONY: smoke
smoke: build
	./bin/etch run experiments/smoke.yaml --progress lines

# Random forest against scikit-learn on the GCseq-shaped yardstick (benchmark only; needs
# python3-sklearn: apt-get install -y --no-install-recommends python3-sklearn).
.PHONY: forest-yardstick
forest-yardstick:
	mkdir -p $(CACHE)
	ETCH_FOREST_CSV=$(CACHE)/forest-gcseq.csv $(GO) test -count=1 -run TestYardstickCSV ./harness/model/forest
	$(GO) test -run '^$$' -bench Forest -benchtime 3x ./harness/model/forest
	/usr/bin/python3 harness/model/forest/testdata/sklearn_yardstick.py $(CACHE)/forest-gcseq.csv

# nn: cnn_lstm training-epoch and inference benchmarks, then the PyTorch 1.13 yardstick on the same
# shape (18k flows × 100 sizes, 25 classes, batch 128, 2 threads), back to back under the same load.
# Needs python3-torch (apt-get install -y --no-install-recommends python3-torch).
.PHONY: bench-nn
bench-nn:
	$(GO) test -run '^$$' -bench CNNLSTM -benchtime 1x ./harness/model/nn/
	/usr/bin/python3 harness/model/nn/testdata/torch_yardstick.py --threads 2

# Flow extraction benchmarks (data/flow). The synthetic capture (1M packets of interleaved TLS
# connections with real crypto/tls hellos, ~590 MB) is generated once into the cache.
BENCH_PCAP ?= $(CACHE)/bench/bench-1m.pcap
$(BENCH_PCAP):
	mkdir -p $(dir $@)
	ETCH_BENCH_PCAP=$@ ETCH_BENCH_WRITE=1 $(GO) test -count=1 -run TestWriteBenchCapture ./data/flow

.PHONY: bench-flow bench-tshark
bench-flow: $(BENCH_PCAP)
	ETCH_BENCH_PCAP=$(BENCH_PCAP) $(GO) test -run '^$$' -bench 'Extract' -benchtime 3x -count 3 -cpu 1 ./data/flow

# etch extract vs Debian's tshark (SNI + JA3 fields) on the same capture.
bench-tshark: build $(BENCH_PCAP)
	command -v tshark >/dev/null || apt-get install -y --no-install-recommends tshark
	data/flow/bench_tshark.sh $(BENCH_PCAP) bin/etch

# The embedded default dataset: the traffic lab's 30 services, 20k flows, seed 1 (etch data synth).
# Regenerate it after changing data/synth, data/flow or data/tlsfp, and commit the result.
.PHONY: data
DEFAULT_DATASET := data/samples/default.parquet
data: build
	mkdir -p $(dir $(DEFAULT_DATASET))
	./bin/etch data synth -o $(DEFAULT_DATASET) --classes 30 --flows 20000 --seed 1

# Fuzz the TLS/QUIC/DTLS hello parsers and the handshake tracker, FUZZTIME each (data/tlsfp).
FUZZTIME ?= 60s
.PHONY: fuzz-tlsfp
fuzz-tlsfp:
	for f in FuzzParseClientHello FuzzParseServerHello FuzzQUICInitial FuzzTracker; do \
	  $(GO) test ./data/tlsfp/ -run '^$$' -fuzz "^$$f\$$" -fuzztime=$(FUZZTIME) || exit 1; done

# datasets: the loading benchmark (1M flows, seq_size + 40 statistics, one core); set
# ETCH_BENCH_DIR to keep the generated file between runs and ETCH_BENCH_ROWS to change its size.
.PHONY: bench-load
bench-load:
	$(GO) test -run '^$$' -bench '^BenchmarkLoad$$' -benchtime 3x -cpu 1 ./data

# Fuzz the capture reader and the fast decoder (data/flow), FUZZTIME each.
.PHONY: fuzz-flow
fuzz-flow:
	for f in FuzzReader FuzzDecode; do \
	  $(GO) test ./data/flow/ -run '^$$' -fuzz "^$$f\$$" -fuzztime=$(FUZZTIME) || exit 1; done

# Slurm executor: its integration tests on a real single-node cluster (slurm-up installs slurm-wlm
# and munge when missing and starts the cluster; needs root). ETCH_SLURM=1 makes the cluster tests
# fail instead of skipping when sinfo does not answer. The cluster stays up (make slurm-down).
ETCH_SLURM_DIR ?= /tmp/etch-slurm
.PHONY: slurm-test
slurm-test: slurm-up
	SLURM_CONF=$(ETCH_SLURM_DIR)/slurm.conf ETCH_SLURM=1 $(GO) test -count=1 -run 'Slurm' ./harness/cmd/etch

# Real-time classification benchmarks (harness/realtime): packets/s and p99 decision latency with
# a forest, decisions/s with cnn_lstm, and their yardsticks; single core.
.PHONY: bench-realtime
bench-realtime:
	$(GO) test -run '^$$' -bench . -benchtime 20x -cpu 1 ./harness/realtime

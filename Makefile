# gatehouse: every target installs what it needs first, so a fresh clone works with only Node and npm.
SHELL := /bin/bash
NODE ?= node
TESTS := $(shell find test -name '*.test.ts' | sort)
BENCH_PARTS := $(shell find bench -name '*.bench.ts' ! -name workers.bench.ts | sort)

.PHONY: install system-packages build start test fuzz fresh-check check format lint deps typecheck audit bench bench-parts bench-quick bench-readme soak profile docker demo example-python clean

# The Debian packages the suite runs for real, as check:package, the check a binary on PATH or a path that must exist
# (nginx and caddy: the forward-auth proofs). The Python ones are for examples/fastapi, run by /usr/bin/python3.
PYTHON_PACKAGES := /usr/lib/python3/dist-packages/grpc:python3-grpcio \
  /usr/lib/python3/dist-packages/google/protobuf:python3-protobuf \
  /usr/lib/python3/dist-packages/fastapi:python3-fastapi \
  /usr/lib/python3/dist-packages/uvicorn:python3-uvicorn \
  protoc:protobuf-compiler /usr/include/google/protobuf/struct.proto:libprotobuf-dev \
  grpc_python_plugin:protobuf-compiler-grpc
SYSTEM_PACKAGES := prometheus:prometheus promtool:prometheus nginx:nginx caddy:caddy $(PYTHON_PACKAGES)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

## the Debian packages the tests run, installed through apt-get when missing (or one line saying how)
system-packages:
	@scripts/system-packages.sh $(SYSTEM_PACKAGES)

build: install
	npx tsc -p tsconfig.build.json

## start gatehouse on its built-in defaults: a local dev issuer, an example config, no Azure tenant needed
start: install
	$(NODE) --import tsx src/cli/gatehouse.ts dev

## run the whole test suite (what CI runs)
test: install system-packages
	$(NODE) --import tsx --test --test-concurrency=2 --test-timeout=120000 $(TESTS)

## the property tests (test/security/properties-*.test.ts) at FUZZ_RUNS cases in all, from a fresh seed each run; the
## seed is in every test name, and a failure prints seed and path: replay with GATEHOUSE_FUZZ_SEED=… GATEHOUSE_FUZZ_PATH=…
FUZZ_RUNS ?= 100000
FUZZ_TESTS := $(shell find test/security -name 'properties-*.test.ts' | sort)
fuzz: install
	GATEHOUSE_FUZZ_RUNS=$(FUZZ_RUNS) GATEHOUSE_FUZZ_SEED=$${GATEHOUSE_FUZZ_SEED:-$$((RANDOM * 32768 + RANDOM))} \
	  $(NODE) --import tsx --test --test-concurrency=3 --test-timeout=900000 $(FUZZ_TESTS)

## clone HEAD into an empty temporary folder (nothing beside it) and run the suite there, as a newcomer would
fresh-check:
	@scripts/fresh-check.sh

format: install
	npx prettier --write .

lint: install
	npx eslint .

## no import cycle anywhere (dependency-cruiser, rules in .dependency-cruiser.mjs)
deps: install
	npx depcruise src test bench examples --config .dependency-cruiser.mjs

typecheck: install
	npx tsc -p tsconfig.json --noEmit

## the lockfile pins every dependency, and npm audit --omit=dev finds no high or critical advisory (an unreachable
## audit service is reported, not failed)
audit: install
	@scripts/audit.sh

## format check + lint + import cycles + typecheck + supply chain + tests: the one gate
check: install
	npx prettier --check .
	npx eslint .
	npx depcruise src test bench examples --config .dependency-cruiser.mjs
	npx tsc -p tsconfig.json --noEmit
	@scripts/audit.sh
	$(MAKE) test

## every scenario beside its same-run baseline (A/B/A/B), then 1 against 2 workers: under 5 minutes here, against the
## built gatehouse (dist/, as it ships; BENCH_RUNTIME=tsx for the sources): bench/results/latest.md and latest.json
bench: build
	$(NODE) --import tsx bench/run.ts
	$(NODE) --import tsx bench/workers.bench.ts

## the in-process benches of single parts (CEL, revocation lists, cache memory, the hot path's pieces), each its
## own results file in bench/results/, about a minute
bench-parts: install
	@failed=0; for b in $(BENCH_PARTS); do $(NODE) --expose-gc --import tsx $$b || failed=1; done; exit $$failed

## a ~30-second subset of bench/run.ts: bench/results/latest-quick.md and .json (gitignored)
bench-quick: build
	$(NODE) --import tsx bench/run.ts --quick

## the README's performance table, regenerated from bench/results/latest.md
bench-readme: install
	$(NODE) --import tsx bench/readme-table.ts
	npx prettier --write README.md

## 60 s at 80 % of measured capacity over every door against one gatehouse serve: bench/results/soak.json, exit 1 on a miss
soak: build
	$(NODE) --import tsx bench/soak.ts

## a V8 CPU profile of gatehouse serve under load, in bench/profiles/ (gitignored)
profile: build
	$(NODE) --import tsx bench/profile.ts

## the example microservices and a scripted story: allowed, denied (missing role), expired, gatehouse down (fail closed)
demo: install
	$(NODE) --import tsx examples/demo.ts

## the Python example's gRPC stubs, generated from proto/gatehouse/v1 into examples/fastapi/build (see its README)
example-python: system-packages
	@examples/fastapi/generate-stubs.sh

docker:
	docker build -t gatehouse:$$(node -p 'require("./package.json").version') .

clean:
	rm -rf dist node_modules

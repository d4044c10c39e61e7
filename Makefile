# The two commands: `make run` (the whole platform, no Docker) and `make test`.
# Every target bootstraps its own tools, so a fresh clone needs only python3 and make.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
PYTHON_VERSION ?= 3.11
UV := .tools/bin/uv
UV_RUN := $(UV) run --frozen --no-sync

# Python caches compiled modules (__pycache__, pytest's rewritten tests) unless told not
# to; machines that set PYTHONDONTWRITEBYTECODE (this one and its CI do) had every test
# worker, service and CLI process compile everything it imports from source, every
# time: a third of a test worker's collection. The caches are ignored by git.
unexport PYTHONDONTWRITEBYTECODE

# Extra arguments, e.g. `make test PYTEST_ARGS="services/billing-adapter -x"`
# or `make run RUN_ARGS=--until-ready`.
PYTEST_ARGS ?=
RUN_ARGS ?=
# Tests mostly wait (on servers, timeouts, the broker): user CPU is a quarter of wall
# time, so more workers than cores pays. Each worker starts its own PostgreSQL and
# broker; the tests needing the four services share one worker (`xdist_group`).
PYTEST_WORKERS ?= 4
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

# The broker `make run` and `make test` start: tansu (embedded, default) or kafka
# (Apache Kafka from .tools/kafka, fetched by `make kafka`). The fixtures and the dev
# stack read it from the environment.
BROKER ?= tansu
export BROKER

# Apache Kafka, pinned in deploy/kafka/pom.xml, copied with its runtime dependencies
# out of Maven Central (which checks their checksums) once; the stamp says which pom.
KAFKA_HOME := $(CURDIR)/.tools/kafka
KAFKA_STAMP := $(KAFKA_HOME)/.stamp
export KAFKA_HOME

# The platform's relay, consumer, healing and DLQ suites and the whole-system stories
# and faults-under-load, on Apache Kafka (`make test-kafka`; CI runs it).
KAFKA_SUITES := shared/tests/test_relay.py shared/tests/test_relay_partitioner.py \
	shared/tests/test_consumer.py shared/tests/test_consumer_offsets.py \
	shared/tests/test_consumer_status.py shared/tests/test_pipeline_faults.py \
	shared/tests/test_kafka_healing.py shared/tests/test_kafka_topic_settings.py \
	tests/integration/test_first_slice.py tests/integration/test_collections_story.py \
	tests/integration/test_story_dispute.py tests/integration/test_story_promise_to_pay.py \
	tests/integration/test_story_broken_promise_autopay.py \
	tests/integration/test_story_stripe_month.py tests/integration/test_case_corrections.py \
	tests/integration/test_faults_under_load.py
.PHONY: help sync kafka stripe-mock run test test-unit test-fuzz test-faults test-kafka \
	test-browser screenshots lint bench clean-data console-messages console-assets hooks docs \
	sbom image-size
# stripe-mock (Stripe's mock API server) for the pay link tests, built once from its Go
# module into a folder named by its version; the fixtures find it through STRIPE_MOCK.
STRIPE_MOCK_VERSION := v0.203.0
STRIPE_MOCK := $(CURDIR)/.tools/stripe-mock-$(STRIPE_MOCK_VERSION)/stripe-mock
export STRIPE_MOCK

help:
	@echo "make run         start PostgreSQL, the broker and all four services (Ctrl-C stops)"
	@echo "make test        every test but the fuzz suites and the fault runs (PYTEST_ARGS=...)"
	@echo "make stripe-mock build Stripe's mock API server for the tests (needs Go; once)"
	@echo "make test-unit   the tests that need no server: domain, contracts, pure logic"
	@echo "make test-fuzz   the generated-input suites over real servers"
	@echo "make test-faults the long fault-under-load runs (tests marked faults)"
	@echo "make test-kafka  the broker-facing suites on Apache Kafka (fetched by make kafka)"
	@echo "                 make run BROKER=kafka runs the stack on Apache Kafka"
	@echo "make lint        ruff check, ruff format --check, mypy and the import contracts"
	@echo "make bench       run the benchmarks in bench/"
	@echo "make sbom        a CycloneDX SBOM per service image in build/sbom/ (CI keeps them)"
	@echo "make image-size  installed size of each image's runtime dependencies"
	@echo "make clean-data  delete the dev stack's data (.data/)"
	@echo "make hooks       install the pre-commit and commit-msg hooks (.pre-commit-config.yaml)"
	@echo "make docs        regenerate the configuration and enum references from the code"

# uv itself, pinned, in a private venv: nothing installed globally.
$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The workspace venv (.venv) exactly as uv.lock says, every member and the dev tools.
sync: $(UV)
	$(UV) sync --all-packages --frozen --python $(PYTHON_VERSION)

# The configuration reference, generated from the settings classes (a test checks it).
docs: sync
	$(UV_RUN) python tools/config_reference.py
	$(UV_RUN) python tools/enum_reference.py

# The same checks as make lint before each commit, and the commit-message rule.
hooks: sync
	$(UV_RUN) pre-commit install

kafka: $(KAFKA_STAMP)

$(KAFKA_STAMP): deploy/kafka/pom.xml
	@command -v java >/dev/null || { echo "Apache Kafka needs Java 17 (java not on PATH)" >&2; exit 1; }
	@command -v mvn >/dev/null || { echo "fetching Apache Kafka needs Maven (mvn not on PATH)" >&2; exit 1; }
	rm -rf $(KAFKA_HOME)/libs
	mvn --batch-mode --quiet --strict-checksums -f deploy/kafka/pom.xml \
		dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=$(KAFKA_HOME)/libs
	cp deploy/kafka/pom.xml $@

stripe-mock: $(STRIPE_MOCK)

$(STRIPE_MOCK):
	@command -v go >/dev/null || { echo "stripe-mock is built with Go (go not on PATH)" >&2; exit 1; }
	GOBIN=$(dir $@) go install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

run: sync $(if $(filter kafka,$(BROKER)),kafka)
	$(UV_RUN) receivables-stack run $(RUN_ARGS)

# pytest exits 5 when it collected nothing (e.g. a narrowed run over an empty folder):
# that is not a failure of the code under test.
# The markers come from each test's fixtures (conftest.py at the root).
test: sync stripe-mock $(if $(filter kafka,$(BROKER)),kafka)
	@$(MAKE) --no-print-directory _pytest MARKS="not faults and not fuzz and not apache_kafka and not browser" OPTS="$(XDIST)"

test-unit: sync
	@$(MAKE) --no-print-directory _pytest MARKS="unit and not fuzz and not apache_kafka and not browser" OPTS=""

# Minutes: schemathesis and hypothesis against the running services. CI runs it.
test-fuzz: sync stripe-mock
	@$(MAKE) --no-print-directory _pytest MARKS="fuzz and not faults and not apache_kafka and not browser" OPTS="$(XDIST)"

_pytest:
	@rc=0; $(UV_RUN) pytest -m "$(MARKS)" $(OPTS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi; \
	exit $$rc

# Minutes, not seconds: the whole system under load while processes, the broker and
# PostgreSQL are killed, frozen and restarted. CI runs it after `make test`.
test-faults: sync stripe-mock
	$(UV_RUN) pytest -m "faults and not apache_kafka" -s $(PYTEST_ARGS) \
		tests/integration shared/tests/test_pipeline_faults.py

# All of the named suites, slow ones included, each test on its own Apache Kafka where it
# restarts or loses the broker and on one session broker otherwise; the tests marked
# apache_kafka (retention, leader changes, the three-node cluster faults) only here.
test-kafka: sync stripe-mock kafka
	BROKER=kafka $(UV_RUN) pytest $(PYTEST_ARGS) $(KAFKA_SUITES)

# The console driven by Debian's chromium through Playwright (its own browser download is
# not used); screenshots of failing pages land in .artifacts/console/.
test-browser: sync stripe-mock
	@test -x /usr/bin/chromium || { echo "needs /usr/bin/chromium (apt-get install -y chromium)" >&2; exit 1; }
	$(UV_RUN) pytest -m "browser and not screenshots" $(PYTEST_ARGS) tests/integration

# Every console screen in both languages, from a real run of the stack, into
# docs/console/<screen>-<lang>.png (commit them: the docs show the console without a run).
screenshots: sync
	@test -x /usr/bin/chromium || { echo "needs /usr/bin/chromium (apt-get install -y chromium)" >&2; exit 1; }
	$(UV_RUN) pytest -m screenshots -q -n 0 tests/integration/test_console_screenshots.py

# The console's messages: extract from code and templates, merge into each language's
# catalog, compile the .mo files the console loads (commit all three).
CONSOLE := services/console
console-messages: sync
	$(UV_RUN) pybabel extract -F $(CONSOLE)/babel.cfg -k N_ -k _ --no-location --sort-output \
		-o $(CONSOLE)/messages.pot $(CONSOLE)
	$(UV_RUN) pybabel update -i $(CONSOLE)/messages.pot -d $(CONSOLE)/src/console_service/locale \
		-D messages --ignore-obsolete --no-fuzzy-matching
	$(UV_RUN) pybabel compile -d $(CONSOLE)/src/console_service/locale -D messages --statistics

# htmx and axe-core from their npm packages: `console-assets` checks the committed files
# against a fresh `npm pack` (integrity and SRI); VENDOR_ARGS= rewrites them after a bump.
VENDOR_ARGS ?= --check
console-assets: sync
	$(UV_RUN) python $(CONSOLE)/scripts/vendor_assets.py $(VENDOR_ARGS)

# Every check runs even when an earlier one fails, so one pass shows everything to fix.
lint: sync
	@rc=0; \
	echo "ruff check ."; $(UV_RUN) ruff check . || rc=1; \
	echo "ruff format --check ."; $(UV_RUN) ruff format --check . || rc=1; \
	echo "mypy shared/src devkit/src services/*/src"; $(UV_RUN) mypy shared/src devkit/src services/*/src || rc=1; \
	echo "lint-imports (.importlinter)"; $(UV_RUN) lint-imports --no-cache || rc=1; \
	exit $$rc

# What each service image installs (deploy/Dockerfile's `uv sync`, exported from uv.lock):
# a CycloneDX SBOM per image, and the size those packages take installed.
SBOM_DIR ?= build/sbom
sbom: sync
	$(UV_RUN) python deploy/image_contents.py sbom $(SBOM_DIR)

image-size: sync
	$(UV_RUN) python deploy/image_contents.py size

bench: sync
	@found=0; for script in bench/bench_*.py; do \
		[ -e "$$script" ] || continue; found=1; \
		echo "== $$script"; $(UV_RUN) python "$$script"; \
	done; \
	if [ $$found -eq 0 ]; then echo "no benchmarks (bench/bench_*.py) yet"; fi

# Refuses while a stack holds the data folder, whose PostgreSQL would lose files under it.
clean-data:
	@python3 -c 'import fcntl, pathlib, sys; p = pathlib.Path(".data/stack.lock"); \
	f = p.open("a") if p.parent.exists() else None; \
	f and fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)' 2>/dev/null \
		|| { echo "a receivables-stack is running on .data; stop it first" >&2; exit 1; }
	rm -rf .data
	@echo "removed .data"

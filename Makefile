# The two commands: `make run` (the whole platform, no Docker) and `make test`.
# Every target bootstraps its own tools, so a fresh clone needs only python3 and make.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
PYTHON_VERSION ?= 3.11
UV := .tools/bin/uv
UV_RUN := $(UV) run --frozen --no-sync

# Extra arguments, e.g. `make test PYTEST_ARGS="services/billing-adapter -x"`
# or `make run RUN_ARGS=--until-ready`.
PYTEST_ARGS ?=
RUN_ARGS ?=
# Tests mostly wait (on servers, timeouts, the broker): user CPU is a quarter of wall
# time, so more workers than cores pays. Each worker starts its own PostgreSQL and
# broker; the tests needing the four services share one worker (`xdist_group`).
PYTEST_WORKERS ?= 4
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

.PHONY: help sync run test test-unit test-fuzz test-faults lint bench clean-data

help:
	@echo "make run         start PostgreSQL, the broker and all four services (Ctrl-C stops)"
	@echo "make test        every test but the fuzz suites and the fault runs (PYTEST_ARGS=...)"
	@echo "make test-unit   the tests that need no server: domain, contracts, pure logic"
	@echo "make test-fuzz   the generated-input suites over real servers"
	@echo "make test-faults the long fault-under-load runs (tests marked faults)"
	@echo "make lint        ruff check and mypy"
	@echo "make bench       run the benchmarks in bench/"
	@echo "make clean-data  delete the dev stack's data (.data/)"

# uv itself, pinned, in a private venv: nothing installed globally.
$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The workspace venv (.venv) exactly as uv.lock says, every member and the dev tools.
sync: $(UV)
	$(UV) sync --all-packages --frozen --python $(PYTHON_VERSION)

run: sync
	$(UV_RUN) receivables-stack run $(RUN_ARGS)

# pytest exits 5 when it collected nothing (e.g. a narrowed run over an empty folder):
# that is not a failure of the code under test.
# The markers come from each test's fixtures (conftest.py at the root).
test: sync
	@$(MAKE) --no-print-directory _pytest MARKS="not faults and not fuzz" OPTS="$(XDIST)"

test-unit: sync
	@$(MAKE) --no-print-directory _pytest MARKS="unit and not fuzz" OPTS=""

# Minutes: schemathesis and hypothesis against the running services. CI runs it.
test-fuzz: sync
	@$(MAKE) --no-print-directory _pytest MARKS="fuzz and not faults" OPTS="$(XDIST)"

_pytest:
	@rc=0; $(UV_RUN) pytest -m "$(MARKS)" $(OPTS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi; \
	exit $$rc

# Minutes, not seconds: the whole system under load while processes, the broker and
# PostgreSQL are killed, frozen and restarted. CI runs it after `make test`.
test-faults: sync
	$(UV_RUN) pytest -m faults -s $(PYTEST_ARGS) tests/integration

# Both checks run even when the first fails, so one pass shows everything to fix.
lint: sync
	@rc=0; \
	echo "ruff check ."; $(UV_RUN) ruff check . || rc=1; \
	echo "mypy shared/src services/*/src"; $(UV_RUN) mypy shared/src services/*/src || rc=1; \
	exit $$rc

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

# calmly: `make run` and `make test` set up everything they need on a fresh machine.
# The editable install (hatchling) is a plain path entry, not an import hook, so `calmly` starts as
# quickly from a checkout as from an installed wheel.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench soak clean venv compiled

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## compiled: the incident runtime compiled with mypyc (engine/_compiled.py), rebuilt when its source or the
## language's changes. Where there is no C compiler the Python runtime runs and everything still works; where there
## is one, a build that fails (code mypyc cannot compile) fails make, so CI never loses the compiled runtime unseen.
RUNTIME := engine/incident/_runtime.stamp
compiled: $(RUNTIME)

$(RUNTIME): $(STAMP) engine/_compiled.py $(wildcard engine/incident/*.py) $(shell find engine/playbook -name '*.py')
	@if command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1; then \
		echo "$(BIN)/calmly runtime build"; $(BIN)/calmly runtime build; \
	else \
		echo "make: no C compiler (gcc or cc) here: the runtime is not compiled, and the Python one runs" >&2; \
	fi

## The runtime's own tests, run again on its Python source (CI runs everything else on the compiled one)
RUNTIME_TESTS := tests/unit/test_incident_*.py tests/unit/test_mention_*.py tests/unit/test_promise_ledger.py \
	tests/unit/test_runtime_shortcuts.py

## run: check the shipped playbooks, then run the daemon on them with the example roster (data in ./data)
run: $(STAMP) $(RUNTIME)
	$(BIN)/calmly validate --strict playbooks/
	$(BIN)/calmly serve --data data --playbooks playbooks --roster examples/roster.yaml

## test: lint, type-check and run every test
test: lint typecheck $(RUNTIME)
	$(BIN)/calmly runtime status
	$(BIN)/python -m pytest -q --durations=15
	CALMLY_PURE_PYTHON=1 $(BIN)/python -m pytest -q -p no:cacheprovider $(RUNTIME_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check engine tests bench
	$(BIN)/ruff format --check engine tests bench

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy bench

## bench: performance figures, each beside a baseline measured in the same run (ONLY="section ...": just those)
bench: $(STAMP) $(RUNTIME)
	$(BIN)/python bench/run.py $(if $(ONLY),--only $(ONLY))

## soak: the crash tests at length: the daemon killed with SIGKILL under load and restarted 200 times; then, where
## CALMLY_TEST_POSTGRES_URL names a database, three daemons on it, one of them killed 50 times (minutes)
SOAK_CYCLES ?= 200
POSTGRES_SOAK_CYCLES ?= 50
soak: $(STAMP) $(RUNTIME)
	CALMLY_SOAK_CYCLES=$(SOAK_CYCLES) $(BIN)/python -m pytest -q -s tests/integration/test_crash_recovery.py
	CALMLY_SOAK_CYCLES=$(POSTGRES_SOAK_CYCLES) $(BIN)/python -m pytest -q -s -rs \
		tests/integration/test_crash_recovery_on_postgresql.py tests/integration/test_database_restart.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info engine/incident/*.so $(RUNTIME)

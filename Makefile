# Two commands set everything up on a fresh machine with Python 3.11+: `make grade` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUBMISSION ?= exercise
ARGS ?=

SUBMISSIONS ?=

.PHONY: help venv grade grade-all similarity test test-fast lint format typecheck openapi schema kit validate bench compare clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

## list the targets with what each does
help:
	@awk '/^## /{text = text substr($$0, 4) " "; next} /^[a-z-]+:/{if (text) printf "  %-10s %s\n", substr($$1, 1, length($$1) - 1), text; text = ""; next} {text = ""}' $(MAKEFILE_LIST)

## create .venv from pyproject.toml (pinned versions); every other target does it on first use
venv: $(STAMP)

## grade a submission (default: the exercise): make grade SUBMISSION=path/to/app ARGS="--seed 1"
grade: $(STAMP)
	@$(BIN)/python -m grader grade $(SUBMISSION) $(ARGS)

## grade a cohort in turn, then compare it: make grade-all SUBMISSIONS="cohort/*" ARGS="--out reports/cohort"
## (directories, tarballs, git repositories or a file listing them; resumes an interrupted batch; grade
## options after `--`: ARGS="--out DIR -- --quick")
grade-all: $(STAMP)
	@$(BIN)/python -m grader.batch $(SUBMISSIONS) $(ARGS)

## similarity across graded submissions, the starter code discounted: make similarity REPORTS="reports/*"
similarity: $(STAMP)
	@set -f; $(BIN)/python -m grader.similarity $(REPORTS) $(ARGS)

## lint, type-check, then every test (real PostgreSQL, real apps, real sockets)
test: $(STAMP) lint typecheck
	$(BIN)/pytest

## the tests not marked slow: no end-to-end grade, no load run (about 2 minutes)
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

## ruff's lint rules and its formatter's check over the tree (`make format` applies the formatter)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## ruff's formatter over the tree (settings in pyproject.toml)
format: $(STAMP)
	$(BIN)/ruff format .

## mypy, strict, over grader/
typecheck: $(STAMP)
	$(BIN)/mypy

## regenerate contract/openapi.json from the reference solution
openapi: $(STAMP)
	$(BIN)/python -m grader.contract.openapi solution contract/openapi.json

## regenerate grader/report/report.schema.json from the report's model (a test fails when it is out of date)
schema: $(STAMP)
	$(BIN)/python -m grader.report.model

## build the candidate kit: dist/candidate-kit/ and dist/candidate-kit.tar.gz, leak-checked (ARGS=--git: also a git repository)
kit: $(STAMP)
	$(BIN)/python -m grader.kit build $(ARGS)

## prove the grader: grade the exercise, the solution, one mutant per bug, the alternatives and the traps; print the detection
## matrix; then grade four of them 3 more times with load and check the verdicts repeat (ARGS="--only n-plus-one,solution
## --repeat 0 --budget SECONDS --out DIR"); exits 1 on any miss, false alarm or changed verdict
validate: $(STAMP)
	$(BIN)/python -m grader.validate $(ARGS)

## benchmark: the solution against the stack's floors and the exercise, the grader against wrk, grade wall
## times; prints a table and the targets, writes bench.json (ARGS="--skip-grade --skip-wrk --check")
bench: $(STAMP)
	$(BIN)/python -m grader.bench $(ARGS)

## compare grades side by side: make compare REPORTS="reports/alice-* reports/bob-*" (globs allowed, ARGS="--out DIR");
## writes compare.html and compare.md, ranked by scorecard and by normalised latency (load index p95, lower is better)
compare: $(STAMP)
	@set -f; $(BIN)/python -m grader.compare $(REPORTS) $(ARGS)  # set -f: the globs reach Python, which passes over non-reports

## remove the venv, reports, the built kit and every cache
clean:
	rm -rf $(VENV) reports dist .cache .mypy_cache .ruff_cache .pytest_cache

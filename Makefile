# The two commands a new user runs: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers: "auto" is one per CPU, capped at 4 (each starts its own PostgreSQL and
# SeaweedFS when its tests need them); TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= auto

.PHONY: run test lint format schema bench clean migration

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kartoteka serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --maxprocesses=4

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(STAMP)
	$(BIN)/python -c "from schema.schema import SCHEMA_FILE, schema_sdl; SCHEMA_FILE.write_text(schema_sdl())"

# Every script in bench/, then one table of ours vs raw, also written to bench/results.json.
# `make bench BENCH_ARGS=--quick` checks that they all work, in a few minutes (figures not saved).
bench: $(STAMP)
	$(BIN)/python bench/report.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# A new migration from what changed in the models: `make migration MESSAGE="what changes"`. It is
# numbered after the last one; read it before committing (Alembic cannot see every change, and
# SQLite changes that rebuild a table may need the care 0003 takes).
MESSAGE ?= schema change
migration: $(STAMP)
	rm -f /tmp/kartoteka-migration.sqlite3
	$(BIN)/python -c "import sys; from alembic import command; from alembic.script import ScriptDirectory; from dms.migrate import alembic_config, upgrade_sync; url = 'sqlite+aiosqlite:////tmp/kartoteka-migration.sqlite3'; upgrade_sync(url); config = alembic_config(url); head = ScriptDirectory.from_config(config).get_current_head(); command.revision(config, message=sys.argv[1], autogenerate=True, rev_id=f'{int(head) + 1:04d}')" "$(MESSAGE)"
	$(BIN)/ruff format -q dms/migrations/versions

# kameng: `make run` serves the shop with demo data; `make test` runs every test on SQLite and PostgreSQL.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/kameng
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-sqlite test-postgres lint bench bench-scale install migrate demo clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.lock
	@# Put src/ on the venv's path, so lint-imports, manage.py and scripts all find `kameng`.
	$(BIN)/python -c "import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()['purelib'], 'kameng-src.pth').write_text(str(pathlib.Path('src').resolve()) + chr(10))"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput -v 0

demo: migrate
	$(BIN)/python manage.py load_demo --if-empty

# The sandbox gateway and supplier are on for `make run` (and its demo data, paid through them); they
# are off by default anywhere else, and `check --deploy` fails while they are on.
run demo: export KAMENG_SANDBOX ?= 1

run: demo
	$(BIN)/python manage.py serve

test: install
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	$(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: install
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		KAMENG_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL not reachable at $(PG_URL): PostgreSQL run skipped (CI requires it)"; \
		if [ -n "$$CI" ]; then exit 1; fi; \
	fi

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

bench: migrate
	$(BIN)/python bench/run.py
	$(BIN)/python bench/wait_replay.py
	$(BIN)/python bench/scam_eval.py

# Operations that grow with the data, at 1k/10k/100k refund cases on a scratch PostgreSQL database
# (BENCH_SCALE_PG_URL, recreated; BENCH_SCALE_SIZES to choose sizes). Not part of `make test`.
bench-scale: install
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) var

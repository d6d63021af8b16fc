# Lotse — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
STAMP  := $(VENV)/.installed-stamp
PACKAGES := lotse mangel buchung
PO_FILES := $(wildcard lotse/translations/*/LC_MESSAGES/messages.po mangel/translations/*/LC_MESSAGES/messages.po buchung/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test install lock translations messages lint format worker e2e bench clean

LOCK   := requirements.lock
PIP    := $(BIN)/python -m pip --disable-pip-version-check
HOST   ?= 127.0.0.1
PORT   ?= 5000

# Exact versions with hashes from the lock; then Lotse itself, without looking for anything else.
$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) translations

%.mo: %.po $(STAMP)
	$(BIN)/pybabel -q compile --use-fuzzy -i $< -o $@

translations: $(MO_FILES)

## Re-pin every dependency of pyproject.toml (with the dev extra and the build backend) for
## Python 3.11 into the lock, with the hashes of all their files; run after editing pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	  | $(BIN)/uv pip compile --quiet pyproject.toml - --extra dev --generate-hashes \
	      --python-version 3.11 --custom-compile-command "make lock" $(UV_FLAGS) -o $(LOCK)

## Serve the embedded default (SQLite, jobs and the sweep in-process) with demo data on
## http://$(HOST):$(PORT) (e.g. make run PORT=5055); mailed links point there.
run: export FLASK_RUN_HOST = $(HOST)
run: export FLASK_RUN_PORT = $(PORT)
run: install
	$(FLASK) db upgrade
	$(FLASK) lotse seed-demo --if-empty
	$(FLASK) run

## The whole suite: SQLite always, PostgreSQL/Redis/Chromium where reachable.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Re-extract UI strings into each package's catalogue (German msgids, English translations).
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o lotse/messages.pot lotse templates/*.html templates/auth templates/errors templates/admin
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o mangel/messages.pot mangel templates/mangel
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o buchung/messages.pot buchung templates/buchung
	for pkg in $(PACKAGES); do \
	  if [ -f $$pkg/translations/en/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel -q update --no-fuzzy-matching -i $$pkg/messages.pot -d $$pkg/translations -l en; \
	  else \
	    $(BIN)/pybabel -q init -i $$pkg/messages.pot -d $$pkg/translations -l en; \
	  fi; \
	  rm -f $$pkg/messages.pot; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Production: one RQ worker with scheduler (needs REDIS_URL).
worker: install
	$(FLASK) lotse worker

bench: install
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache test-output

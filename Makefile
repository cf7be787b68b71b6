# Two entry points: `make run` serves the dashboard on the bundled demo data,
# `make test` runs the whole suite (unit, calibration, app and browser tests);
# `make test-fast` leaves out the slow and the browser tests (under two minutes).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast lint bench demo-data chromium java clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or pass PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements-spark.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address localhost --server.headless true

# Debian's chromium (browser tests, figure images) and poppler's pdftoppm (the pack's PDF
# pages are rendered to PNG and looked at)
chromium:
	@{ command -v chromium && command -v pdftoppm; } >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium and poppler-utils for the tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium poppler-utils >/dev/null; }

# Debian's OpenJDK for the Spark engine's tests (PySpark runs its queries in a JVM);
# Spark 4 needs Java 17 or 21
java:
	@java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])' || { \
	  echo "Installing Debian's OpenJDK for the Spark engine's tests"; \
	  $(SUDO) apt-get update -qq && { \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1 || \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-21-jre-headless >/dev/null; }; }

test: $(VENV)/.dev chromium java
	$(BIN)/python -m pytest

test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy analytics
	$(BIN)/lint-imports --no-cache

bench: $(VENV)/.dev
	$(BIN)/python bench/run.py

# Regenerates the synthetic demo cohort (needs ../shared for the calibration targets).
demo-data: $(VENV)/.dev
	$(BIN)/python -m data.generate_demo --targets ../shared/reference/promise2_published.json --out data/demo

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
# Two installs: `make run` needs mailproc and what it imports, nothing else; `make test` (and
# lint, bench) add the test tools (pytest, ruff, mypy, aiosmtpd...). The test one covers both.
RUN_STAMP := $(VENV)/.installed-run-$(SUM)
STAMP := $(VENV)/.installed-test-$(SUM)
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check

.PHONY: run test lint pytest check dovecot chromium bench clean bytecode

run: $(RUN_STAMP)
	@$(BIN)/python -m compileall -q mailproc
	$(BIN)/mailproc check
	$(BIN)/mailproc run --demo

test: $(STAMP) dovecot chromium lint pytest

pytest: bytecode
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check mailproc tests bench
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/mailproc check

bench: bytecode dovecot
	$(BIN)/python bench/ingest.py

# The venv itself. Debian's python3 needs python3-venv for `-m venv`: installed here when we
# are root and it is missing.
$(BIN)/python:
	@if ! $(PY) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else echo "python3-venv is missing: sudo apt-get install python3-venv"; exit 1; fi; fi
	rm -rf $(VENV) && $(PY) -m venv $(VENV)

# mailproc alone, editable, pinned to the versions the container image uses
# (deploy/constraints.txt), for `make run`.
$(RUN_STAMP): pyproject.toml deploy/constraints.txt | $(BIN)/python
	$(PIP) -c deploy/constraints.txt -e .
	rm -f $(VENV)/.installed-run-*
	touch $@

# mailproc and its test tools (this install serves `make run` as well).
$(STAMP): pyproject.toml deploy/constraints.txt | $(BIN)/python
	$(PIP) -c deploy/constraints.txt -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@ $(RUN_STAMP)

# mailproc is installed editable, so pip compiled none of its modules; where
# PYTHONDONTWRITEBYTECODE is set (many container images) Python would then compile all of them
# at every start (~0.15 s of a `run --once`). Up-to-date files are skipped.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q mailproc

# Integration tests need a real Dovecot. As root we install it; otherwise those tests are
# skipped locally with the reason shown (and fail when CI=true).
dovecot:
	@if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing dovecot-imapd for the integration tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd; \
	  else echo "dovecot is not installed (not root): IMAP tests will be skipped"; fi; fi

# The transparency report's HTML is checked in a real browser (tests/test_transparency.py takes
# a screenshot with headless Chromium). As root we install it; otherwise that test is skipped
# locally with the reason shown (and fails when CI=true).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium for the HTML report test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is not installed (not root): the HTML report test will be skipped"; fi; fi

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

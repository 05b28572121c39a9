# Stagecoach: the two commands for users are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
SPACY_MODEL := build/spacy-nl
MODEL := models/coach.tar.gz
VENDOR_JS := bot/portal/static/vendor/socket.io.min.js
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: setup train run test test-fast lint nlu-compare nlu-heldout nlu-dev validate clean bench

setup: $(VENV)/.installed $(SPACY_MODEL)/config.cfg $(VENDOR_JS)

$(VENV)/.installed: requirements.txt constraints.txt scripts/setup_venv.sh
	scripts/setup_venv.sh

$(SPACY_MODEL)/config.cfg: scripts/build_spacy_model.py $(VENV)/.installed
	$(PY) scripts/build_spacy_model.py $(SPACY_MODEL)

# The chat page's socket.io client, from the npm registry at build time (no CDN).
$(VENDOR_JS): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --ignore-scripts --silent
	mkdir -p $(dir $(VENDOR_JS))
	cp frontend/node_modules/socket.io-client/dist/socket.io.min.js $(VENDOR_JS)

# Rasa skips training itself when the fingerprint of config, domain and data is unchanged.
train: setup
	$(RASA) train --fixed-model-name coach --out models

validate: setup
	$(RASA) data validate --fail-on-warnings

run: train
	$(PY) -m bot.stack

test: train
	scripts/ensure_chromium.sh
	$(RASA) data validate --fail-on-warnings
	$(PY) -m pytest
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out results/core
	$(PY) scripts/nlu_heldout.py --model $(MODEL)

test-fast: setup
	$(PY) -m pytest -m "not stack and not browser"

lint: setup
	$(PY) -m compileall -q bot actions scripts tests

nlu-heldout: train
	$(PY) scripts/nlu_heldout.py --model $(MODEL)

# The development set (tests/nlu/dev): for error analysis while improving the data.
nlu-dev: train
	$(PY) scripts/nlu_heldout.py --model $(MODEL) --set dev

# NLU_COMPARE_ARGS="--pipelines a,b --folds N" narrows the comparison (scripts/compare_pipelines.py --help).
nlu-compare: setup
	$(PY) scripts/compare_pipelines.py $(NLU_COMPARE_ARGS)

# Measured speed of the real stack (and a trivial Rasa baseline) on free ports:
# var/bench/latest.json + latest.md. BENCH_SKIP_NLU=1 skips the slow cross-validation.
bench: setup
	$(PY) -m scripts.bench

# Known vulnerabilities in the pinned set (constraints.txt) with pip-audit, from its own
# venv under build/ (not .venv). Reviewed exceptions: security/pip-audit-known.txt.
.PHONY: audit
audit:
	scripts/audit_dependencies.sh

# Load, fault and scale-out tests on whole stacks of real processes (tests/slow; the
# PostgreSQL/Redis parts skip when those servers are absent). Kept out of `make test`
# (pytest.ini deselects the `slow` marker) because they add ~10-20 minutes.
.PHONY: test-slow
test-slow: train
	$(PY) -m pytest tests/slow -m slow --durations=0 -rP

clean:
	rm -rf $(VENV) build models results .rasa var

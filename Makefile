# dispatch: the two commands are `make run` and `make test`; everything else is for developers and CI.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
STAMP := $(VENV)/.installed
PORT ?= 5000

.PHONY: run test bench install db demo clean vendor debian-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Reinstall only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt requirements-clients.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-clients.txt
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the pinned dependencies

db: install  ## build or upgrade the database schema
	$(BIN)/flask db upgrade

demo: db  ## load the Shinan demo data when the database is empty
	$(BIN)/flask seed-demo --if-empty

run: demo  ## everything, then serve on http://127.0.0.1:$(PORT) (PORT=5000 unless given) with the scheduler beside it
	export PORT=$(PORT); $(BIN)/flask scheduler run & SCHEDULER=$$!; trap 'kill $$SCHEDULER 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# What features need from Debian: said before serving, never fatal (the page says it too, on a voice ticket).
run: debian-check
debian-check:
	@command -v ffmpeg >/dev/null 2>&1 || echo "note: ffmpeg is not installed, so residents' WeChat voices (AMR) cannot be played in the ticket page (staff can still download them); install it with: sudo apt-get install -y ffmpeg"

test: install  ## the whole suite (SQLite unless TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -q

bench: install  ## ticket creation, WeChat callback and list latency against baselines, the SLA sweep at 200k and 2M tickets, dispatch suggestions among 500 volunteers, notification delivery (10,000 through the WeChat stub, one and two drain processes), and the street and district overviews over 2,000,000 tickets with timelines (page medians, the fast path against the timeline), the first WeChat note after a fresh start beside the warm median, and what 50 open console queues polling for changes cost the server beside /healthz (BENCH_ARGS=--skip-poll leaves it out), on PostgreSQL
	$(BIN)/python -m bench.run $(BENCH_ARGS)

vendor:  ## refresh dispatch/static/vendor/ from package-lock.json (needs Node and npm; `make run` does not)
	npm ci --no-audit --no-fund
	mkdir -p dispatch/static/vendor/echarts
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE node_modules/echarts/NOTICE \
	   dispatch/static/vendor/echarts/
	cp node_modules/echarts/licenses/LICENSE-d3 dispatch/static/vendor/echarts/LICENSE-d3
	cp node_modules/zrender/LICENSE dispatch/static/vendor/echarts/LICENSE-zrender
	@node -p '"echarts " + require("./node_modules/echarts/package.json").version + " copied; update the version in dispatch/static/vendor/README.md if it changed"'

clean:  ## remove the virtualenv and the local database
	rm -rf $(VENV) instance/dispatch.sqlite

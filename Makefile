# Two commands matter: `make demo` and `make test`. Both build a local .venv first.
# `make lint` checks style (ruff) and types (mypy) as CI does.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-resilience lint install clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,lint]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m subnet.demo

# Two tiers, both always run, both must pass: the fast one first (-m "not slow"), then the
# slow one (replica processes, long end-to-end runs); each prints its time (tests/README.md).
test: install
	@status=0; total=0; \
	for tier in fast slow; do \
	  if [ $$tier = fast ]; then select="not slow"; else select="slow and not resilience"; fi; \
	  echo "== $$tier tier: pytest -q -n 2 -m '$$select'"; \
	  start=$$(date +%s); \
	  $(PY) -m pytest -q -n 2 -m "$$select" || status=1; \
	  took=$$(( $$(date +%s) - start )); total=$$(( total + took )); \
	  echo "== $$tier tier: $$took s"; \
	done; \
	echo "== both tiers: $$total s$$( [ $$status = 0 ] || echo ', FAILED' )"; \
	exit $$status

# The resilience tier: issue #17's probes (hostile load, memory, connections, taken ports,
# damaged disk, bounded disk) on replica processes; CI runs it after `make test`. One test
# at a time: its probes measure block gaps and latencies, which a second subnet beside
# them would disturb; -rP prints what each probe measured.
test-resilience: install
	$(PY) -m pytest -q -rP -m resilience

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .subnet build *.egg-info

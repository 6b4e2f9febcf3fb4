# One place for set-up: every target creates the virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= ../shared/data
WEIGHTS ?= ../shared/models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5
# where `make demo` downloads EMNIST Letters when $(DATA) does not exist (a fresh clone)
DEMO_DATA ?= data
ORT_WEB := src/hcr/serving/static/ort/ort.wasm.min.js

.PHONY: setup demo test test-fast lint bench clean postgres browser fonts web

$(BIN)/hcr: pyproject.toml | $(ORT_WEB)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[train,serve,postgres,dev]'
	touch $@

setup: $(BIN)/hcr

web: $(ORT_WEB)                       ## ONNX Runtime Web for the page's in-browser model (npm; pinned, checked)

$(ORT_WEB): .ci/vendor-onnxruntime-web.sh
	.ci/vendor-onnxruntime-web.sh

demo: $(BIN)/hcr                      ## the main job: on $(DATA), else on EMNIST Letters downloaded into $(DEMO_DATA)
	HCR='$(BIN)/hcr' DATA='$(DATA)' WEIGHTS='$(WEIGHTS)' DEMO_DATA='$(DEMO_DATA)' OUT=out/compare sh scripts/demo.sh

test: $(BIN)/hcr postgres browser fonts  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 --dist worksteal  # two workers: most tests wait on a subprocess or a file, not a core

test-fast: $(BIN)/hcr                 ## the inner loop: lint, then every test that neither trains nor drives a browser
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 -m "not slow and not browser" -q

postgres:                             ## PostgreSQL server binaries for the shared-study tests (once; root)
	.ci/debian-package.sh postgresql '/usr/lib/postgresql/*/bin/pg_ctl'

browser:                              ## Debian's chromium for the browser tests of `hcr serve` (once; root)
	.ci/debian-package.sh chromium /usr/bin/chromium

fonts:                                ## Debian's fonts: printed training letters, bench/realworld.py (once; root)
	for p in fonts-dejavu-core fonts-liberation fonts-freefont-ttf fonts-dkg-handwriting fonts-breip \
	         fonts-femkeklaver fonts-bwht fonts-dancingscript fonts-comic-neue; do \
	    .ci/debian-package.sh $$p "/usr/share/doc/$$p"; done

bench: $(BIN)/hcr
	$(BIN)/python bench/data_load.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache $(dir $(ORT_WEB))

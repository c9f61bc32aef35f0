# skuflow — two commands for a newcomer: `make run` and `make test`. Both build .venv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.skuflow-installed
EXTRAS ?= dev,s3,postgres,flows,batch,image,text,dashboard

# no telemetry, no hub downloads, no analytics: the platform never phones home
export MLFLOW_DISABLE_TELEMETRY := true
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export HF_HUB_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: image push up-stack down-stack deploy undeploy venv sysdeps run test test-quality test-fast test-airflow lint bench-quality bench-images bench-serving bench-compiled-trees bench-experiments bench-batch bench-drift bench-drift-evidently bench-estimation bench-estimation-nannyml bench-explain bench-category-paths bench-scale bench-cluster-training bench-fuzz bench-prediction-log bench-faults docs lock clean

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel setuptools
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	touch $(STAMP)

venv: $(STAMP)

run: venv  ## set up, train a champion if none exists, serve on http://127.0.0.1:8000
	$(BIN)/skuflow up

# servers and tools the tests start on 127.0.0.1; installed from Debian's packages where apt and root exist
# (a command or a path it installs : the Debian package)
SYSDEPS := prometheus:prometheus wrk:wrk docker-compose:docker-compose pg_lsclusters:postgresql \
  /usr/share/datasets/fashion-mnist:dataset-fashion-mnist chromium:chromium chromedriver:chromium-driver
sysdeps:
	@missing=""; for pair in $(SYSDEPS); do bin=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$bin >/dev/null || test -e $$bin || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "not installed:$$missing (tests that need them are skipped)"; fi; fi

test: venv sysdeps  ## set up and run the suite (all but the whole-dataset quality checks: make test-quality)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not quality"

test-quality: venv  ## the shipped recipes on whole real datasets against their quality bars
	$(BIN)/python -m pytest -q -p no:cacheprovider -m quality

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow"

test-airflow:  ## optional: load the Airflow DAG with Airflow itself, in its own environment
	test -d .venv-airflow || $(PYTHON) -m venv .venv-airflow
	.venv-airflow/bin/python -m pip install --quiet "apache-airflow>=2.10,<3" pytest
	export AIRFLOW_HOME=$$(mktemp -d) AIRFLOW__CORE__LOAD_EXAMPLES=false; \
	  .venv-airflow/bin/airflow db migrate >/dev/null 2>&1 && \
	  .venv-airflow/bin/python -m pytest -q -p no:cacheprovider -o addopts="" deploy/airflow/test_dag.py

docs: venv  ## build the documentation site into site/ (warnings fail the build)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[docs]'
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

lint: venv  ## ruff, mypy and the import contracts between the package's floors (pyproject.toml)
	$(BIN)/ruff check src tests benchmarks docs/hooks
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench-quality: venv  ## category on PriceRunner and creative on the reviews (the creative blend takes ~20 min)
	$(BIN)/python benchmarks/quality.py

bench-images: venv sysdeps  ## Fashion-MNIST and clothing photos training, then image batch throughput (~30 min)
	$(BIN)/python benchmarks/images.py

bench-serving: venv sysdeps
	$(BIN)/python benchmarks/serving.py --workers 1
	$(BIN)/python benchmarks/serving.py --workers 2

bench-compiled-trees: venv  ## LightGBM's predictor against treelite, tl2cgen and lleaves on the served champion
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[compiled-trees]'
	$(BIN)/python benchmarks/compiled_trees.py

bench-experiments: venv sysdeps  ## the sequential test simulated (1,000 experiments) and the shadow's cost over HTTP
	$(BIN)/python benchmarks/experiments.py
	$(BIN)/python benchmarks/shadow.py

bench-batch: venv
	$(BIN)/python benchmarks/batch.py

bench-prediction-log: venv
	$(BIN)/python benchmarks/prediction_log.py

bench-faults: venv sysdeps  ## wrk against serve --workers 2 (log on Postgres, registry on MLflow) while faults are injected (~10 min, root for the tmpfs)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[postgres]'
	$(BIN)/python benchmarks/faults.py

bench-drift: venv
	$(BIN)/python benchmarks/drift.py

bench-estimation: venv  ## accuracy before labels and outliers on PriceRunner windows (~10 min)
	$(BIN)/python benchmarks/estimation.py

bench-estimation-nannyml: venv  ## NannyML's CBPE on the same windows; NannyML pins its own stack: own environment
	test -d .venv-nannyml || $(PYTHON) -m venv .venv-nannyml
	.venv-nannyml/bin/python -m pip install --quiet "nannyml==0.13.1" statsmodels pyarrow
	$(BIN)/python benchmarks/estimation.py --windows 50 --save-windows .skuflow/estimation-windows
	.venv-nannyml/bin/python benchmarks/estimation_nannyml.py .skuflow/estimation-windows

bench-explain: venv sysdeps  ## /explain against /predict on one worker, concurrency 8 (wrk)
	$(BIN)/python benchmarks/explain.py

bench-category-paths: venv  ## the fashion catalogue's category tree: n-grams, + sentence embedding, + attributes (~15 min)
	$(BIN)/python benchmarks/category_paths.py

bench-scale: venv sysdeps  ## category at 10^4-10^6 rows x 20-3,000 leaves: time, memory, accuracy against fastText, serving (~2 h)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[scale-bench]'
	$(BIN)/python benchmarks/scale.py

bench-cluster-training: venv  ## 5,000,000 products x 3,000 leaves partitioned on 2 local workers of 3 GB, against in process (~45 min)
	$(BIN)/python benchmarks/cluster_training.py

bench-fuzz: venv  ## the API against its OpenAPI document: at least 20,000 schemathesis cases (~20 min)
	SKUFLOW_FUZZ_EXAMPLES=1500 SKUFLOW_FUZZ_MIN_CASES=20000 $(BIN)/python -m pytest -q -rP -p no:cacheprovider tests/integration/test_openapi_fuzz.py

bench-drift-evidently: venv  ## Evidently 0.7 needs pandas < 3: it gets its own environment
	test -d .venv-evidently || $(PYTHON) -m venv .venv-evidently
	.venv-evidently/bin/python -m pip install --quiet "evidently==0.7.23" "pandas<3" pyarrow
	$(BIN)/python benchmarks/drift.py --windows 50 --save-windows .skuflow/drift-windows
	.venv-evidently/bin/python benchmarks/drift_evidently.py .skuflow/drift-windows

# --- containers and clusters (need a Docker engine / kubectl; not used by the tests) -------------------
IMAGE ?= skuflow
TAG ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo latest)
REGISTRY ?=
OVERLAY ?= local

image:  ## build the serve and train images
	docker build -f deploy/docker/Dockerfile --target serve -t $(IMAGE):serve -t $(IMAGE):serve-$(TAG) .
	docker build -f deploy/docker/Dockerfile --target train -t $(IMAGE):train -t $(IMAGE):train-$(TAG) .

push: image  ## push both images to $(REGISTRY)
	test -n "$(REGISTRY)" || (echo "set REGISTRY=registry.example.com/team" && exit 1)
	for t in serve train; do docker tag $(IMAGE):$$t-$(TAG) $(REGISTRY)/$(IMAGE):$$t-$(TAG) && \
	  docker push $(REGISTRY)/$(IMAGE):$$t-$(TAG); done

up-stack:  ## the full local stack (MLflow, Postgres, MinIO, API, Prefect, Prometheus, Grafana)
	test -f deploy/.env || cp deploy/.env.example deploy/.env
	docker compose -f deploy/compose.yaml --env-file deploy/.env up -d --build

down-stack:
	docker compose -f deploy/compose.yaml --env-file deploy/.env down

deploy:  ## kubectl apply -k deploy/k8s/overlays/$(OVERLAY)
	kubectl apply -k deploy/k8s/overlays/$(OVERLAY)

undeploy:
	kubectl delete -k deploy/k8s/overlays/$(OVERLAY)

lock: venv  ## record the resolved versions (commit constraints.txt)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^skuflow' > constraints.txt

clean:
	rm -rf $(VENV) .venv-airflow .venv-evidently .skuflow

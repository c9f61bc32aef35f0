"""The only module that talks to MLflow: tracking runs, the model registry, aliases and the audit log.

Works unchanged against the embedded SQLite store or an MLflow tracking server; only the URI differs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from skuflow.errors import ModelNotFoundError
from skuflow.settings import Settings

CHAMPION = "champion"
PROFILE_ARTIFACT = "reference_profile.json"
AUDIT_PREFIX = "skuflow.audit."
EXPERIMENT_TAG = "skuflow.experiment"


def _quiet_mlflow() -> None:
    # MLflow phones home and prints progress bars unless told not to; entry points call this once.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


_ALIAS_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def seed_sqlite(uri: str) -> None:
    """Start a new SQLite store as a copy of an empty, fully migrated one. Creating the schema runs MLflow's
    migrations on every new home, which takes far longer than copying the result. The template is made once
    per MLflow version (in the user's cache folder) with no experiments, so MLflow creates its default one
    with this store's own artifact root when it opens the copy. Any failure leaves MLflow to migrate."""
    import shutil
    import sqlite3

    path = uri.removeprefix("sqlite:///")
    if path == uri or not path or path.startswith(":memory:") or os.path.exists(path):
        return
    try:
        import mlflow
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "skuflow"
        template = cache / f"mlflow-{mlflow.__version__}-empty.db"
        if not template.exists():
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cache / f".{template.name}.{os.getpid()}.tmp"
            with tempfile.TemporaryDirectory() as artifacts:
                SqlAlchemyStore(f"sqlite:///{tmp}", artifacts).engine.dispose()
            with sqlite3.connect(tmp) as con:
                con.execute("DELETE FROM experiments")
            con.close()
            os.replace(tmp, template)  # atomic: another process sees a whole template or none
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        partial = f"{path}.{os.getpid()}.tmp"
        shutil.copyfile(template, partial)
        try:
            os.link(partial, path)  # never over a store another process has just opened: fails if it exists
        finally:
            os.unlink(partial)
    except (OSError, sqlite3.Error):
        return


@dataclass(frozen=True)
class VersionInfo:
    """A registered model version as skuflow reports it."""

    name: str
    version: int
    run_id: str | None
    source: str
    created_at: float
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def metric(self, key: str) -> float | None:
        value = self.tags.get(f"metric.{key}")
        return float(value) if value is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "run_id": self.run_id,
                "aliases": list(self.aliases), "created_at": self.created_at,
                "metrics": {k.removeprefix("metric."): float(v) for k, v in self.tags.items()
                            if k.startswith("metric.")},
                "dataset_digest": self.tags.get("dataset_digest")}


class RunLogger:
    """Logs one training run's parameters, metrics, artifacts, dataset and model."""

    def __init__(self, mlflow_mod: Any, run_id: str) -> None:
        self._mlflow = mlflow_mod
        self.run_id = run_id

    def log_params(self, params: dict[str, Any]) -> None:
        flat = {k: (json.dumps(v) if isinstance(v, dict | list | tuple) else v) for k, v in params.items()}
        self._mlflow.log_params({k: str(v)[:6000] for k, v in flat.items()})

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        # MLflow metric names allow only [\w.\- /]; per-class names come from labels
        clean = {"".join(ch if ch.isalnum() or ch in "_.-/ " else "_" for ch in k): float(v)
                 for k, v in metrics.items()}
        self._mlflow.log_metrics(clean, step=step)

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def log_artifacts(self, artifacts: dict[str, Any]) -> None:
        """Figures become PNGs, tables (data frames) CSV files, dicts JSON files."""
        for name, obj in artifacts.items():
            if hasattr(obj, "to_csv"):
                self._mlflow.log_text(obj.to_csv(index=False), name)
            elif hasattr(obj, "savefig"):
                self._mlflow.log_figure(obj, name)
                import matplotlib.pyplot as plt

                plt.close(obj)
            else:
                self._mlflow.log_dict(obj, name)

    def log_file(self, path: str) -> None:
        self._mlflow.log_artifact(path)

    def log_bytes(self, name: str, blob: bytes) -> None:
        with tempfile.TemporaryDirectory(prefix="skuflow-art-") as folder:
            path = Path(folder) / name
            path.write_bytes(blob)
            self._mlflow.log_artifact(str(path))

    def log_dataset(self, frame: Any, digest: str, source: str | None, name: str, label: str | None,
                    context: str) -> None:
        import mlflow.data  # noqa: F401  (registers mlflow.data.from_pandas)

        sample = frame.head(1000)
        # only real locations are dataset sources to MLflow; generated frames are recorded by name
        if source is not None and "://" not in source and not Path(source).exists():
            source = None
        with warnings.catch_warnings():  # MLflow warns when a local path matches two source types
            warnings.simplefilter("ignore", UserWarning)
            ds = mlflow.data.from_pandas(  # type: ignore[attr-defined]
                sample, source=source, name=name, targets=label, digest=digest)
            self._mlflow.log_input(ds, context=context)

    def log_sklearn_model(self, model: Any, registered_name: str, input_example: Any,
                          pip_requirements: list[str]) -> int:
        """Log the full pipeline (preprocessing included) and register it; returns the version."""
        import mlflow.sklearn
        from mlflow.models import infer_signature

        # a classifier's signature holds its class probabilities, anything else its predictions
        output_example = (model.predict_proba(input_example) if hasattr(model, "predict_proba")
                          else model.predict(input_example))
        signature = infer_signature(input_example, output_example)
        logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)  # the pickle caution, every time
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            registered_model_name=registered_name,
            await_registration_for=60,
        )
        return int(info.registered_model_version)


class RegistryStore:
    """Tracking and registry for skuflow's tasks."""

    def __init__(self, settings: Settings) -> None:
        _quiet_mlflow()
        import mlflow
        from mlflow import MlflowClient

        _quiet_mlflow()  # again: importing mlflow installs its own log level
        self.settings = settings
        if settings.mlflow_uri and settings.mlflow_uri.startswith("sqlite:"):
            settings.ensure_home()
        uri = str(settings.mlflow_uri)  # filled in by Settings' validator
        seed_sqlite(uri)
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        self._mlflow = mlflow
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    # -- tracking ---------------------------------------------------------------------------------
    def experiment_id(self, task: str) -> str:
        name = f"{self.settings.experiment_prefix}-{task}"
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            return exp.experiment_id
        artifact_location = None
        if self.settings.artifact_root:
            artifact_location = f"{self.settings.artifact_root.rstrip('/')}/{name}"
        return self.client.create_experiment(name, artifact_location=artifact_location)

    @contextmanager
    def run(self, task: str, run_name: str | None = None) -> Iterator[RunLogger]:
        """A tracking run; an exception inside marks it FAILED and propagates."""
        exp_id = self.experiment_id(task)
        with self._mlflow.start_run(experiment_id=exp_id, run_name=run_name) as active:
            yield RunLogger(self._mlflow, active.info.run_id)

    @contextmanager
    def resumed_run(self, task: str, run_id: str | None, run_name: str) -> Iterator[RunLogger]:
        """The run ``run_id`` reopened (a resumed study keeps one parent run), or a new one."""
        if run_id is None:
            with self.run(task, run_name) as logger:
                yield logger
            return
        with self._mlflow.start_run(run_id=run_id) as active:
            yield RunLogger(self._mlflow, active.info.run_id)

    def log_child_run(self, task: str, parent_run_id: str, run_name: str, params: dict[str, Any],
                      metrics: dict[str, float], series: dict[str, list[float]], tags: dict[str, Any],
                      status: str, start_s: float, end_s: float) -> str:
        """A finished nested run under ``parent_run_id`` (one tuning trial), written in one batch;
        ``series`` become stepped metrics (fold 0, 1, ...); ``status`` is FINISHED, FAILED or KILLED."""
        from mlflow.entities import Metric, Param, RunTag

        run = self.client.create_run(self.experiment_id(task), start_time=int(start_s * 1000), run_name=run_name,
                                     tags={"mlflow.parentRunId": parent_run_id,
                                           **{k: str(v) for k, v in tags.items()}})
        stamp = int(end_s * 1000)
        rows = [Metric(k, float(v), stamp, 0) for k, v in metrics.items()]
        rows += [Metric(k, float(v), stamp, i) for k, values in series.items() for i, v in enumerate(values)]
        self.client.log_batch(run.info.run_id, metrics=rows,
                              params=[Param(k, str(v)[:6000]) for k, v in params.items()],
                              tags=[RunTag("skuflow.parent", parent_run_id)])
        self.client.set_terminated(run.info.run_id, status=status, end_time=stamp)
        return run.info.run_id

    def recent_runs(self, task: str, kind: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The task's latest tracking runs (newest first), optionally only those tagged ``skuflow.kind``."""
        exp = self.client.get_experiment_by_name(f"{self.settings.experiment_prefix}-{task}")
        if exp is None:
            return []
        query = f"tags.`skuflow.kind` = '{kind}'" if kind else ""
        runs = self.client.search_runs([exp.experiment_id], filter_string=query, max_results=limit,
                                       order_by=["attributes.start_time DESC"])
        return [{"run_id": r.info.run_id, "name": r.info.run_name, "status": r.info.status,
                 "start_time": r.info.start_time / 1000.0, "tags": dict(r.data.tags), "metrics": dict(r.data.metrics),
                 "params": dict(r.data.params)} for r in runs]

    def artifact_bytes(self, run_id: str, path: str) -> bytes | None:
        """One artifact of a run (a PNG, a JSON), or None if the run has no such file."""
        try:
            local = self._mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path,
                                                              dst_path=tempfile.mkdtemp(prefix="skuflow-art-"))
        except Exception:  # missing artifact or unreachable store: the caller shows nothing
            return None
        return Path(local).read_bytes()

    def set_run_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        for k, v in tags.items():
            self.client.set_tag(run_id, k, str(v))

    # -- registry -------------------------------------------------------------------------------
    def model_name(self, name: str) -> str:
        """A task's name resolves to the registered model that serves it (``SKUFLOW_MODEL_NAMES``); any other
        name is a registered model's own. Serving, batch, the dashboard and the CLI all look up here."""
        return self.settings.model_name(name)

    def _info(self, mv: Any) -> VersionInfo:
        return VersionInfo(name=mv.name, version=int(mv.version), run_id=mv.run_id, source=mv.source,
                           created_at=mv.creation_timestamp / 1000.0, tags=dict(mv.tags or {}),
                           aliases=tuple(getattr(mv, "aliases", ()) or ()))

    def versions(self, name: str) -> list[VersionInfo]:
        name = self.model_name(name)
        found = [self._info(mv) for mv in self.client.search_model_versions(f"name = '{name}'")]
        # search results do not carry aliases on every backend; ask for the champion directly
        champ = self.champion(name)
        marked = [replace(v, aliases=(CHAMPION,)) if champ and v.version == champ.version else v for v in found]
        return sorted(marked, key=lambda v: v.version)

    def version(self, name: str, version: int) -> VersionInfo:
        name = self.model_name(name)
        from mlflow.exceptions import MlflowException

        try:
            return self._info(self.client.get_model_version(name, str(version)))
        except MlflowException as exc:
            raise ModelNotFoundError(f"Model '{name}' version {version} not found") from exc

    def champion(self, name: str) -> VersionInfo | None:
        name = self.model_name(name)
        from mlflow.exceptions import MlflowException

        try:
            return self._info(self.client.get_model_version_by_alias(name, CHAMPION))
        except MlflowException:
            return None

    def set_version_tags(self, name: str, version: int, tags: dict[str, Any]) -> None:
        name = self.model_name(name)
        for k, v in tags.items():
            self.client.set_model_version_tag(name, str(version), k, str(v))

    @contextmanager
    def alias_lock(self, name: str) -> Iterator[None]:
        """One alias move at a time, with its audit entry: a lock per model in this process and, for a store
        on this machine (SQLite), a file lock beside it across processes. Two promotions at once then leave
        the alias and the audit's last entry agreeing. (A shared MLflow server has no lock to take: route
        promotions of one model through one place, the gate or one admin.)"""
        name = self.model_name(name)
        with _LOCKS_GUARD:
            thread_lock = _ALIAS_LOCKS.setdefault(name, threading.Lock())
        with thread_lock:
            uri = str(self.settings.mlflow_uri)
            if not uri.startswith("sqlite:"):
                yield
                return
            import fcntl

            folder = self.settings.ensure_home() / "locks"
            folder.mkdir(exist_ok=True)
            with open(folder / f"{name}.alias.lock", "w") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def set_champion(self, name: str, version: int) -> None:
        name = self.model_name(name)
        self.version(name, version)  # raises a clear 404 first
        self.client.set_registered_model_alias(name, CHAMPION, str(version))

    def load_model(self, name: str, version: int) -> Any:
        """The logged sklearn pipeline of a version (preprocessing included)."""
        name = self.model_name(name)
        import mlflow.sklearn

        return mlflow.sklearn.load_model(f"models:/{name}/{version}")

    def load_profile(self, name: str, version: int) -> dict[str, Any] | None:
        """The reference profile logged with a version's training run (None for models without one)."""
        name = self.model_name(name)
        run_id = self.version(name, version).run_id
        if not run_id:
            return None
        try:
            return self._mlflow.artifacts.load_dict(f"runs:/{run_id}/{PROFILE_ARTIFACT}")
        except Exception:  # older runs, or an artifact store that lost the file: drift is then unavailable
            return None

    def version_artifact(self, name: str, version: int, path: str) -> bytes | None:
        """A file logged with a version's training run; None when the run never logged it (older versions).
        Unlike :meth:`artifact_bytes`, a store that cannot be read raises instead of answering None."""
        name = self.model_name(name)
        run_id = self.version(name, version).run_id
        if not run_id:
            return None
        if path not in {a.path for a in self.client.list_artifacts(run_id)}:
            return None
        folder = tempfile.mkdtemp(prefix="skuflow-art-")
        return Path(self._mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path,
                                                              dst_path=folder)).read_bytes()

    def local_model_path(self, name: str, version: int) -> str:
        """Download a version's model folder (for ``mlflow models serve`` and inspection)."""
        name = self.model_name(name)
        dst = tempfile.mkdtemp(prefix=f"skuflow-{name}-v{version}-")
        return self._mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=dst)

    # -- the live online experiment (skuflow.experiments.record) ----------------------------------
    def set_experiment(self, name: str, record: dict[str, Any]) -> None:
        name = self.model_name(name)
        self.client.set_registered_model_tag(name, EXPERIMENT_TAG, json.dumps(record, sort_keys=True))

    def experiment(self, name: str) -> dict[str, Any] | None:
        name = self.model_name(name)
        from mlflow.exceptions import MlflowException

        try:
            raw = (self.client.get_registered_model(name).tags or {}).get(EXPERIMENT_TAG)
        except MlflowException:
            return None
        return json.loads(raw) if raw else None

    # -- audit log of alias moves -----------------------------------------------------------------
    def append_audit(self, name: str, entry: dict[str, Any]) -> None:
        """Record an alias decision as a registered-model tag (works on any MLflow backend)."""
        name = self.model_name(name)
        key = f"{AUDIT_PREFIX}{time.time_ns()}"
        self.client.set_registered_model_tag(name, key, json.dumps(entry, sort_keys=True))

    def audit(self, name: str) -> list[dict[str, Any]]:
        name = self.model_name(name)
        from mlflow.exceptions import MlflowException

        try:
            tags = self.client.get_registered_model(name).tags or {}
        except MlflowException:
            return []
        rows = [(int(k.removeprefix(AUDIT_PREFIX)), json.loads(v)) for k, v in tags.items()
                if k.startswith(AUDIT_PREFIX)]
        return [entry for _, entry in sorted(rows, key=lambda r: r[0])]

"""The models a server holds: each task's champion, loaded once and swapped atomically."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skuflow.errors import NotReadyError
from skuflow.estimators.pipeline import compile_trees
from skuflow.monitoring.drift_report import references
from skuflow.monitoring.novelty import NoveltyDetector
from skuflow.monitoring.profile import Profile
from skuflow.registry.store import RegistryStore, VersionInfo
from skuflow.tasks.base import Task, get_task, task_names

log = logging.getLogger("skuflow.serving")


@dataclass(frozen=True)
class LoadedModel:
    task: Task
    name: str
    version: int
    run_id: str | None
    dataset_digest: str | None
    model: Any
    loaded_at: float
    profile: Profile | None = None
    novelty: NoveltyDetector | None = None  # scores a window's inputs for outliers
    record: Any = None  # the request model: the task's record with the version's declared inputs

    @property
    def record_model(self) -> Any:
        return self.record if self.record is not None else self.task.record_model

    def info(self) -> dict[str, Any]:
        return {"task": self.task.name, "model": self.name, "version": self.version, "alias": "champion",
                "run_id": self.run_id, "dataset_digest": self.dataset_digest,
                "model_uri": f"models:/{self.name}@champion", "loaded_at": self.loaded_at}


def load_version(store: RegistryStore, task: Task, info: VersionInfo, warmup: bool = True) -> LoadedModel:
    """One registered version, warmed up and ready to answer (a champion or an experiment's challenger)."""
    model = store.load_model(info.name, info.version)
    if store.settings.compiled_trees and compile_trees(model):
        log.info("%s v%s: trees compiled flat for online prediction", info.name, info.version)
    if warmup:  # the first call pays for lazy imports and allocation; clients should not
        task.predict(model, task.example_records(1))
    profile, novelty = references(store, info.name, info.version)
    loaded = LoadedModel(task, info.name, info.version, info.run_id, info.tags.get("dataset_digest"),
                         model, time.time(), profile, novelty, task.record_model_for(model))
    # A model is hundreds of thousands of long-lived objects (vocabularies, trees): left in the young
    # generations, every full collection walks them all and stalls requests. Frozen, the
    # collector skips them; reference counting still frees a replaced model.
    gc.collect()
    gc.freeze()
    return loaded


class ModelHolder:
    """Task name -> loaded champion. Readers take a reference; a reload replaces the entry whole, so a
    request that already holds the old model finishes on it."""

    def __init__(self) -> None:
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        self.ready = False
        self.load_error: str | None = None

    def get(self, task: str) -> LoadedModel:
        loaded = self._models.get(task)
        if loaded is None:
            raise NotReadyError(f"No champion loaded for task '{task}'", task=task)
        return loaded

    def loaded(self) -> dict[str, LoadedModel]:
        return dict(self._models)

    def load_champion(self, store: RegistryStore, task: Task, warmup: bool = True) -> LoadedModel | None:
        champ = store.champion(task.name)
        if champ is None:
            return None
        current = self._models.get(task.name)
        if current is not None and current.version == champ.version:
            return current
        loaded = load_version(store, task, champ, warmup)
        with self._lock:
            self._models[task.name] = loaded  # one assignment: readers see the old or the new model
        log.info("serving %s v%s", champ.name, champ.version)
        return loaded

    def poll(self, store: RegistryStore, interval: float, stop: threading.Event,
             refresh: Callable[[RegistryStore, str], None] | None = None) -> None:
        """Hot reload: every ``interval`` seconds, load any task whose champion alias has moved.
        ``refresh`` runs first for each task (the experiment router: a concluded experiment may just have
        moved the alias, and this same tick then loads the new champion)."""
        while not stop.wait(interval):
            for name in task_names():
                if refresh is not None:
                    try:
                        refresh(store, name)
                    except Exception:  # an experiment that cannot be read must not stop the reload
                        log.exception("refreshing the experiment of %s failed", name)
                try:
                    before = self._models.get(name)
                    after = self.load_champion(store, get_task(name), warmup=True)
                    if after is not None and (before is None or before.version != after.version):
                        self.ready = True
                        log.info("hot reload %s: v%s -> v%s", name, before.version if before else None,
                                 after.version)
                except Exception:  # keep serving the old champion if the new one cannot load
                    log.exception("reloading the champion of %s failed", name)

    def load_all(self, store: RegistryStore, tasks: list[str] | None = None, warmup: bool = True) -> None:
        """Load every task's champion; ready once at least one model answered its warm-up."""
        try:
            for name in tasks or task_names():
                self.load_champion(store, get_task(name), warmup=warmup)
            if self._models:
                self.ready = True
            else:
                self.load_error = "no champion registered for any task"
        except Exception as exc:  # reported by /ready; the process stays alive for a retry
            self.load_error = f"{exc.__class__.__name__}: {exc}"
            log.exception("loading champions failed")

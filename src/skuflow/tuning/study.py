"""``skuflow tune``: an Optuna study over a model family's search space, each trial scored by K-fold
cross-validation on the training rows only, its folds run on Dask; then the best recipe is refit on all
training rows, evaluated once on the test split, registered and sent through the champion gate.

The client process alone talks to the study's storage (ask and tell): workers only fit and score one fold,
so a remote Dask cluster needs no access to the database. With a pruner each trial runs its folds one after
another, so the pruner sees fold 1's score before fold 2 is paid for, while as many trials run at once as
the cluster has worker threads; without one, every fold is a task of its own. The study persists (SQLite
under ``SKUFLOW_HOME`` by default): the same command run again resumes it, and trials a killed run left
running are marked failed and run again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from skuflow.errors import ConfigError
from skuflow.registry.store import RegistryStore
from skuflow.settings import Settings
from skuflow.tasks.base import Task, get_task
from skuflow.training.config import TrainConfig
from skuflow.training.cv import Fold, cv_folds, fit_and_score
from skuflow.training.train import PreparedData, check_and_promote, fit_and_register, prepare, split_frame
from skuflow.tuning.space import Dimension, build_space, with_values

log = logging.getLogger("skuflow.tuning")
Progress = Callable[[int, int, float | None], None]  # finished trials, target, best value so far
INTERRUPTED = "interrupted"  # user attribute of trials a killed run left behind


@dataclass
class TuneResult:
    study: str
    storage: str
    metric: str
    trials: dict[str, int]
    best_trial: int
    best_params: dict[str, Any]
    cv_mean: float
    cv_sd: float
    test_metrics: dict[str, float]
    model_name: str
    version: int
    promoted: bool
    decision: dict[str, Any]
    best_config: str
    parent_run_id: str
    seconds: float
    search_seconds: float
    workers: int
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def study_name(task: Task, config: TrainConfig, digest: str, folds: int, dims: list[Dimension]) -> str:
    """Same task, recipe, data, folds and space -> same study: rerunning a command resumes its study."""
    key = json.dumps({"config": config.model_dump(exclude={"tune"}), "data": digest, "folds": folds,
                      "space": [asdict(d) for d in dims]}, sort_keys=True, default=str)
    kind = config.model.kind or task.default_kind
    return f"{config.model_name or task.name}-{kind}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_study(name: str, storage: str, seed: int, prune: bool = True, maximize: bool = True):
    """The persisted study (created on first use): seeded multivariate TPE, trials in flight told to it as
    pessimistic 'liars' so parallel trials spread out; a median pruner on the running fold mean."""
    optuna = _optuna()
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=8)
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0) if prune
              else optuna.pruners.NopPruner())
    return optuna.create_study(study_name=name, storage=storage, load_if_exists=True,
                               direction="maximize" if maximize else "minimize",
                               sampler=sampler, pruner=pruner)


def _counted(study: Any) -> list[Any]:
    """Trials that count toward the target: finished, pruned, or failed by an error of their own."""
    states = _optuna().trial.TrialState
    return [t for t in study.get_trials(deepcopy=False)
            if t.state in (states.COMPLETE, states.PRUNED)
            or (t.state == states.FAIL and not t.user_attrs.get(INTERRUPTED))]


def _fail_interrupted(study: Any) -> int:
    """Trials still RUNNING belong to a run that died (one process tunes a study at a time): fail them."""
    states = _optuna().trial.TrialState
    stale = [t for t in study.get_trials(deepcopy=False, states=(states.RUNNING,))]
    for t in stale:
        study._storage.set_trial_user_attr(t._trial_id, INTERRUPTED, True)
        study.tell(t.number, state=states.FAIL)
    return len(stale)


@dataclass
class _Running:
    trial: Any
    config: TrainConfig
    started: float
    scores: dict[int, dict[str, float]] = field(default_factory=dict)  # fold index -> its scores
    submitted: int = 0
    finished: bool = False


class _Search:
    """Keeps the cluster's worker threads busy. With a pruner, each trial runs its folds one after another
    (the pruner reads fold 1 before fold 2 is paid for) and ``width`` trials run at once; without one, a
    trial submits all its folds at once, so the last trials' folds spread over every worker instead of
    leaving one worker to finish a trial alone."""

    def __init__(self, client: Any, study: Any, task: Task, base: TrainConfig, dims: list[Dimension],
                 trial_settings: dict[str, Any], frame: pd.DataFrame, folds: list[Fold], store: RegistryStore,
                 parent_run_id: str, prune: bool = True) -> None:
        self.client, self.study, self.task, self.base, self.dims = client, study, task, base, dims
        self.trial_settings, self.folds, self.prune = trial_settings, folds, prune
        self.frame_ref = client.scatter(frame, broadcast=True, hash=False)  # once per worker, not per fold
        self.store, self.parent_run_id = store, parent_run_id
        self.metric = task.primary_metric

    def _submit(self, run: _Running, count: int) -> list[tuple[Any, _Running, int]]:
        out = []
        for i in range(run.submitted, min(len(self.folds), run.submitted + count)):
            fut = self.client.submit(fit_and_score, self.task.name, run.config, self.frame_ref, self.folds[i],
                                     pure=False)
            out.append((fut, run, i))
        run.submitted += len(out)
        return out

    def _start(self) -> list[tuple[Any, _Running, int]]:
        trial = self.study.ask()
        values = {d.path: d.suggest(trial) for d in self.dims}
        config = with_values(self.base, {**values, **self.trial_settings})
        return self._submit(_Running(trial, config, time.time()), 1 if self.prune else len(self.folds))

    def run(self, target: int, deadline: float | None, on_trial: Callable[[], None]) -> int:
        """Run ``target`` trials (fewer if ``deadline`` passes first); returns how many folds ran at once."""
        from distributed import wait

        states = _optuna().trial.TrialState
        workers = self.client.scheduler_info()["workers"].values()
        width = max(1, sum(w.get("nthreads", 1) for w in workers))
        on_trial()
        pending: dict[Any, tuple[_Running, int]] = {}
        started = 0
        while True:
            while (len(pending) < width and started < target
                   and (deadline is None or time.monotonic() < deadline)):
                pending.update({fut: (run, i) for fut, run, i in self._start()})
                started += 1
            if not pending:
                return width
            done = wait(list(pending), return_when="FIRST_COMPLETED").done
            for fut in done:
                run, i = pending.pop(fut)
                if run.finished:  # another fold of this trial failed
                    continue
                try:
                    run.scores[i] = fut.result()
                except Exception as exc:  # a recipe that cannot fit fails its trial, not the study
                    self._finish(run, states.FAIL, error=f"{exc.__class__.__name__}: {exc}")
                    on_trial()
                    continue
                if len(run.scores) < len(self.folds) and not self.prune:
                    continue
                scores = [run.scores[k][self.metric] for k in sorted(run.scores)]
                self._report(run, scores)
                if len(scores) == len(self.folds):
                    self._finish(run, states.COMPLETE, value=float(np.mean(scores)))
                elif run.trial.should_prune():
                    self._finish(run, states.PRUNED)
                else:
                    pending.update({f: (r, k) for f, r, k in self._submit(run, 1)})
                    continue
                on_trial()

    def _report(self, run: _Running, scores: list[float]) -> None:
        """The running fold mean at each fold not yet reported (all of them, when folds ran at once)."""
        first = 0 if not self.prune else len(scores) - 1
        for step in range(first, len(scores)):
            run.trial.report(float(np.mean(scores[:step + 1])), step=step)

    def _finish(self, run: _Running, state: Any, value: float | None = None, error: str | None = None) -> None:
        run.finished = True
        fold_scores = [run.scores[k][self.metric] for k in sorted(run.scores)]
        sd = float(np.std(fold_scores, ddof=1)) if len(fold_scores) > 1 else 0.0
        run.trial.set_user_attr("fold_scores", fold_scores)
        run.trial.set_user_attr("cv_sd", sd)
        if error:
            run.trial.set_user_attr("error", error[:2000])
        self.study.tell(run.trial, value if state.name == "COMPLETE" else None, state=state)
        metrics: dict[str, float] = {"duration_s": time.time() - run.started, "folds_scored": len(fold_scores)}
        if fold_scores:
            metrics.update({f"cv.{self.metric}.mean": float(np.mean(fold_scores)), f"cv.{self.metric}.sd": sd})
        status = {"COMPLETE": "FINISHED", "PRUNED": "KILLED"}.get(state.name, "FAILED")
        self.store.log_child_run(
            self.task.name, self.parent_run_id, f"trial-{run.trial.number}", run.trial.params, metrics,
            {f"fold.{self.metric}": fold_scores}, {"skuflow.kind": "trial", "state": state.name,
                                                   **({"error": error[:500]} if error else {})},
            status, run.started, time.time())


def _plots(study: Any) -> dict[str, Any]:
    """Optimisation history and parameter importances as figures (skipped while too few trials)."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from optuna.visualization import matplotlib as ovm

    figures: dict[str, Any] = {}
    with warnings.catch_warnings():  # Optuna marks its matplotlib plots experimental, every call
        warnings.simplefilter("ignore")
        for name, plot in (("optimization_history.png", ovm.plot_optimization_history),
                           ("param_importances.png", ovm.plot_param_importances)):
            try:
                ax = plot(study)
            except (ValueError, RuntimeError) as exc:  # importances need two finished trials, varied params
                log.info("no %s: %s", name, exc)
                continue
            fig = ax.figure
            assert isinstance(fig, Figure)  # the plot's own figure, never a subfigure
            fig.set_size_inches(8, 5)
            fig.tight_layout()
            figures[name] = fig
    return figures


def default_storage(settings: Settings) -> str:
    return settings.tuning_url or f"sqlite:///{settings.ensure_home() / 'tuning.db'}"


def _resume(task: Task, name: str, storage: str, seed: int, prune: bool) -> Any:
    """The study by that name (a new one, or the one a killed run left, its running trials marked failed)."""
    study = open_study(name, storage, seed, prune, maximize=task.output.higher_is_better(task.primary_metric))
    lost = _fail_interrupted(study)
    if lost:
        log.warning("%d trials of an interrupted run were marked failed and will be run again", lost)
    return study


def tune(task_name: str, data: str | pd.DataFrame, config: TrainConfig | None, settings: Settings, *,
         trials: int, folds: int = 5, timeout: float | None = None, scheduler: str | None = None,
         n_workers: int | None = None, storage: str | None = None, name: str | None = None,
         register: bool = True, prune: bool = True, on_progress: Progress | None = None,
         on_step: Callable[[str], None] | None = None) -> TuneResult:
    """Search, refit the best recipe on all training rows, evaluate it once on the test split, register it
    and let the gate decide. ``trials`` is the study's target size: a resumed study runs only the rest."""
    from skuflow.cluster import BackgroundCluster

    if trials < 1:
        raise ConfigError("--trials must be at least 1")
    step = on_step or (lambda _m: None)
    started = time.perf_counter()
    config = config or TrainConfig()
    task = get_task(config.task or task_name)
    kind = config.model.kind or task.default_kind
    model_cfg = config.model.model_dump() | {"kind": kind}
    dims = build_space(task.search_space(model_cfg), config.tune.space, config.tune.replace)
    cluster = BackgroundCluster(scheduler or settings.dask_scheduler, n_workers, [type(task).__module__])
    try:
        step("ingest + validate")
        prepared = prepare(task, data, config)
        train_df, _ = split_frame(prepared.frame, task.label, config.split, task.strata(prepared.frame))
        fold_index = cv_folds(task, train_df, config, folds)
        storage = storage or default_storage(settings)
        name = name or study_name(task, config, prepared.digest, folds, dims)
        study = _resume(task, name, storage, config.split.seed, prune)
        store = RegistryStore(settings)
        with store.resumed_run(task.name, study.user_attrs.get("mlflow_run_id"), f"tune-{name}") as parent:
            study.set_user_attr("mlflow_run_id", parent.run_id)
            parent.set_tags({"skuflow.kind": "tune", "skuflow.task": task.name, "study": name,
                             "dataset_digest": prepared.digest})
            parent.log_params({"family": kind, "folds": folds, "storage": storage.split("?")[0],
                               "space": {d.path: asdict(d) for d in dims}, "rows.train": len(train_df)})
            remaining = max(0, trials - len(_counted(study)))
            t_search = time.perf_counter()
            width = 1
            if remaining:
                step(f"search: {remaining} trials x {folds} folds")
                search = _Search(cluster.client(), study, task, config, dims, task.trial_settings(model_cfg),
                                 train_df, fold_index, store, parent.run_id, prune)
                width = search.run(remaining, time.monotonic() + timeout if timeout else None,
                                   lambda: on_progress(len(_counted(study)), trials, _best_value(study))
                                   if on_progress else None)
            search_s = time.perf_counter() - t_search
            best, values, best_config, best_path = _record_best(parent, study, dims, config, settings, name,
                                                                task.primary_metric, search_s)
            counts = _state_counts(study)
            result = TuneResult(name, storage.split("?")[0], task.primary_metric, counts, best.number, values,
                                float(best.value), float(best.user_attrs.get("cv_sd", 0.0)), {}, "", 0, False,
                                {}, str(best_path), parent.run_id, 0.0, search_s, width, _history(study))
        if register:
            _refit(task, prepared, best_config, settings, result, step)
    finally:
        cluster.close()
    result.seconds = time.perf_counter() - started
    return result


def _record_best(parent: Any, study: Any, dims: list[Dimension], config: TrainConfig, settings: Settings,
                 name: str, metric: str, search_s: float) -> tuple[Any, dict[str, Any], TrainConfig, Path]:
    """The best trial as a training config, written beside the study and logged with the plots."""
    best = _best_trial(study)
    values = {d.path: d.decode(best.params[d.path]) for d in dims if d.path in best.params}
    best_config = with_values(config, values)
    out_dir = settings.ensure_home() / "tuning" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    best_path = out_dir / "best_config.yaml"
    sd = best.user_attrs.get("cv_sd", 0.0)
    best_path.write_text(_config_yaml(best_config, name, best.value, sd))
    parent.log_file(str(best_path))
    # tags and a file, not params: a resumed study with more trials may find another best
    parent.set_tags({f"best.{k}": v for k, v in values.items()} | {"best.trial": best.number})
    parent.log_artifacts({"best_params.json": values})
    parent.log_metrics({f"best.cv.{metric}.mean": best.value, f"best.cv.{metric}.sd": sd,
                        "search_seconds": search_s, "trials": len(_counted(study))})
    parent.log_artifacts(_plots(study))
    return best, values, best_config, best_path


def _refit(task: Task, prepared: PreparedData, best_config: TrainConfig, settings: Settings,
           result: TuneResult, step: Callable[[str], None]) -> None:
    """The best recipe on all training rows, evaluated once on the test split, registered, gated."""
    metric = task.primary_metric
    cv = {f"cv.{metric}.mean": result.cv_mean, f"cv.{metric}.sd": result.cv_sd}
    candidate = fit_and_register(task, prepared, best_config, settings, on_step=step, extra_metrics=cv,
                                 tags={"skuflow.tune.study": result.study,
                                       "skuflow.tune.parent": result.parent_run_id})
    result.model_name, result.version = candidate.model_name, candidate.version
    result.test_metrics = {k: round(v, 6) for k, v in candidate.metrics.items() if not k.startswith("f1.")}
    step("promote if better")
    decision = check_and_promote(task, candidate, prepared, best_config, settings)
    result.promoted, result.decision = decision.promoted, decision.to_dict()
    RegistryStore(settings).set_run_tags(result.parent_run_id, {
        "best_version": candidate.version, "promoted": str(decision.promoted).lower(),
        f"test.{metric}": round(candidate.metrics[metric], 6)})


def _best_trial(study: Any) -> Any:
    try:
        return study.best_trial
    except ValueError:  # no trial completed: say why the first failure failed
        errors = [t.user_attrs["error"] for t in study.get_trials(deepcopy=False) if "error" in t.user_attrs]
        raise ConfigError("no trial completed" + (f"; the first failure: {errors[0]}" if errors else "")) from None


def _best_value(study: Any) -> float | None:
    try:
        return float(study.best_value)
    except ValueError:
        return None


def _state_counts(study: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        key = t.state.name.lower() if not t.user_attrs.get(INTERRUPTED) else INTERRUPTED
        counts[key] = counts.get(key, 0) + 1
    return counts


def _history(study: Any) -> list[dict[str, Any]]:
    return [{"number": t.number, "state": t.state.name, "value": t.value,
             "folds": t.user_attrs.get("fold_scores"), "params": t.params}
            for t in study.get_trials(deepcopy=False)]


def _config_yaml(config: TrainConfig, name: str, mean: float, sd: float) -> str:
    """The best recipe as a training config that ``skuflow train --config`` reads unchanged."""
    body = yaml.safe_dump(json.loads(config.model_dump_json(exclude={"tune"})), sort_keys=False)
    return f"# best trial of study {name}: CV mean {mean:.4f} +- {sd:.4f}\n{body}"

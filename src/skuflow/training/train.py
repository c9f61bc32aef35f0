"""Train one task end to end: ingest -> validate -> version -> split -> fit -> evaluate -> register ->
promote if better. CLI, flows and the API call :func:`train`; nothing else trains."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from skuflow.data.ingest import apply_mapping, read_table
from skuflow.data.schema import ValidationReport
from skuflow.data.versioning import dataset_digest
from skuflow.errors import ChampionUnavailableError, ConfigError, DataError, MissingColumnError
from skuflow.estimators.pipeline import final_estimator
from skuflow.monitoring.novelty import NOVELTY_ARTIFACT, NoveltyDetector
from skuflow.monitoring.profile import Profile, build_profile, monitored_frame
from skuflow.registry.aliases import Decision
from skuflow.registry.store import PROFILE_ARTIFACT, RegistryStore
from skuflow.settings import Settings
from skuflow.tasks.base import Task, get_task
from skuflow.tasks.outputs import Predictions
from skuflow.training.config import ModelConfig, SplitConfig, TrainConfig
from skuflow.training.cv import cross_validate, cv_summary
from skuflow.training.duplicates import duplicate_report
from skuflow.training.partitioned import choose_path
from skuflow.training.promote import promote_if_better, seen_rows_of
from skuflow.training.seen_rows import SEEN_ROWS_ARTIFACT

Step = Callable[[str], None]


@dataclass
class TrainResult:
    run_id: str
    model_name: str
    version: int
    metrics: dict[str, float]
    promoted: bool
    champion_version: int | None
    decision: dict[str, Any]
    dataset_digest: str
    validation: dict[str, Any]
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "model_name": self.model_name, "version": self.version,
                "metrics": self.metrics, "promoted": self.promoted, "champion_version": self.champion_version,
                "decision": self.decision, "dataset_digest": self.dataset_digest,
                "validation": self.validation, "rows": self.rows, "seconds": round(self.seconds, 2)}


def split_frame(frame: pd.DataFrame, label: str, cfg: SplitConfig,
                strata: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The data's own test split, a random stratified split (on ``strata``, the label by default), or
    grouped so no group sits on both sides.

    With a predefined split, every row not marked ``test`` trains (``validation`` rows travel with the
    training rows; models that use a validation set pick them out by the ``split`` column)."""
    has_test = "split" in frame.columns and bool((frame["split"] == "test").any())
    if cfg.strategy == "predefined" or (cfg.strategy == "auto" and has_test):
        if not has_test:
            raise ConfigError("split.strategy 'predefined' needs a 'split' column with 'test' rows")
        test = (frame["split"] == "test").to_numpy()
        return frame[~test].reset_index(drop=True), frame[test].reset_index(drop=True)
    if cfg.strategy == "group":
        if not cfg.group_key:
            raise ConfigError("split.strategy 'group' needs split.group_key")
        if cfg.group_key not in frame.columns:
            raise MissingColumnError(cfg.group_key, "data (split.group_key)")
        splitter = GroupShuffleSplit(n_splits=1, test_size=cfg.test_size, random_state=cfg.seed)
        tr, te = next(splitter.split(frame, groups=frame[cfg.group_key].astype(str)))
        return frame.iloc[tr].reset_index(drop=True), frame.iloc[te].reset_index(drop=True)
    strata = frame[label] if strata is None else strata
    counts = strata.value_counts()
    stratify = strata if len(counts) > 1 and counts.min() >= 2 else None
    tr_df, te_df = train_test_split(frame, test_size=cfg.test_size, random_state=cfg.seed, stratify=stratify)
    return tr_df.reset_index(drop=True), te_df.reset_index(drop=True)


@dataclass
class PreparedData:
    """Validated canonical rows, their validation report, where they came from and their digest."""

    frame: pd.DataFrame
    report: ValidationReport
    source: str
    digest: str


@dataclass
class Candidate:
    """A trained, evaluated and registered model version that has not yet faced the champion gate."""

    run_id: str
    model_name: str
    version: int
    metrics: dict[str, float]
    rows: dict[str, int]
    model: Any = None  # the fitted model while still in this process (the gate then skips reloading it)


def group_key_of(config: TrainConfig) -> str | None:
    """The column that keeps related rows on one side of every split (grouped splits only)."""
    return config.split.group_key if config.split.strategy == "group" else None


def prepare_frame(task: Task, data: str | pd.DataFrame, config: TrainConfig) -> tuple[pd.DataFrame, Any, str]:
    """Read, map, validate and dedupe; returns the clean frame, its validation report and source name."""
    source = data if isinstance(data, str) else "dataframe"
    raw = task.read(data) if isinstance(data, str) else data
    unknown = sorted(set(config.data.options()) - set(task.data_options))
    if unknown:
        raise ConfigError(f"data: unknown keys {unknown} for task '{task.name}' (it reads "
                          f"{sorted(task.data_options) or 'no options'} besides columns and dedupe)")
    mapped = apply_mapping(raw, config.data.columns)
    clean, report = task.validate(mapped, where=str(source), config=config.data, features=config.features)
    if config.data.dedupe:
        before = len(clean)
        clean = clean.drop_duplicates(subset=config.data.dedupe).reset_index(drop=True)
        report.reasons["duplicate " + "+".join(config.data.dedupe)] = before - len(clean)
    if len(clean) < 10:
        raise DataError(f"Only {len(clean)} valid rows in {source}; need at least 10 to train "
                        f"(rejected: {report.reasons})")
    return clean, report, str(source)


def prepare(task: Task, data: str | pd.DataFrame, config: TrainConfig) -> PreparedData:
    """Ingest + validate + version: the data half of training."""
    frame, report, source = prepare_frame(task, data, config)
    return PreparedData(frame, report, source, dataset_digest(frame))


def save_dataset(task: Task, prepared: PreparedData, settings: Settings) -> str:
    """Keep the validated rows under their digest (``$SKUFLOW_HOME/datasets/TASK/DIGEST.parquet``),
    so any run can be retrained or re-evaluated on exactly the rows it saw."""
    folder = settings.ensure_home() / "datasets" / task.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prepared.digest}.parquet"
    if not path.exists():
        tmp = folder / f".{prepared.digest}.{os.getpid()}.tmp"
        prepared.frame.to_parquet(tmp, index=False)
        tmp.replace(path)  # atomic: a crash never leaves a half-written version behind
    return str(path)


def load_dataset(path: str) -> PreparedData:
    """A dataset written by :func:`save_dataset` (already canonical and validated)."""
    frame = read_table(path)
    report = ValidationReport(rows_in=len(frame), rows_valid=len(frame))
    return PreparedData(frame, report, path, dataset_digest(frame))


def _requirements(task: Task) -> list[str]:
    reqs = []
    for dist in ("mlflow", "scikit-learn", "lightgbm", "imbalanced-learn", "pandas", "numpy", "scipy",
                 "cloudpickle", *task.pip_requirements):
        try:
            reqs.append(f"{dist}=={version(dist)}")
        except PackageNotFoundError:
            continue
    return reqs


def reference_profile(task: Task, frame: pd.DataFrame, preds: Predictions, model: Any = None) -> Profile:
    """What the model saw and said on held-out rows (``preds``: its predictions there, from evaluation),
    and how its confidence relates to being right there (performance estimation without labels)."""
    numeric, categorical = task.monitored_columns(model)
    profile = build_profile(task.name, monitored_frame(task, frame), numeric, categorical)
    preds.add_to_profile(profile)
    if task.label in frame.columns:
        profile.performance = task.output.performance_reference(preds, frame[task.label].tolist())
    return profile


def fit_and_register(task: Task, prepared: PreparedData, config: TrainConfig, settings: Settings,
                     on_step: Step | None = None, cv_folds: int = 0,
                     extra_metrics: dict[str, float] | None = None, tags: dict[str, str] | None = None) -> Candidate:
    """Split, fit, evaluate, log the run and register a new model version (no promotion).

    ``cv_folds`` >= 2 first cross-validates the same recipe on the training rows (never the test rows) and
    logs the fold mean and standard deviation of each metric beside the test figures."""
    step = on_step or (lambda _name: None)
    model_name = config.model_name or settings.model_name(task.name)  # SKUFLOW_MODEL_NAMES, else the task
    digest, source, report = prepared.digest, prepared.source, prepared.report
    train_df, test_df = split_frame(prepared.frame, task.label, config.split, task.strata(prepared.frame))
    cv_metrics: dict[str, float] = dict(extra_metrics or {})
    if cv_folds >= 2:
        step(f"{cv_folds}-fold cross-validation on {len(train_df):,} training rows")
        cv_metrics.update(cv_summary(cross_validate(task, config, train_df, cv_folds), task.primary_metric))

    seen = seen_rows_of(task, train_df, group_key_of(config))  # logged for the gate, read for duplicates
    duplicates = duplicate_report(prepared.frame, seen, test_df, task.input_columns())
    report.duplicates = duplicates
    for note in [*report.notes, duplicates.get("hint")]:
        if note:
            step(f"warning: {note}")
    store = RegistryStore(settings)
    with store.run(task.name, run_name=f"{model_name}-{digest[:8]}") as run:
        run.set_tags({"skuflow.task": task.name, "dataset_digest": digest, "source": source})
        if config.model.kind:
            kind, why = config.model.kind, "named by the config"
        else:  # the task chooses from the data: a config that names no family should not get the wrong one
            kind, params, why = task.default_model(train_df)
            config = config.model_copy(update={"model": ModelConfig(kind=kind, params={**params,
                                                                                      **config.model.params})})
            step(f"model: {kind}, chosen because {why}")
        run.set_tags({"skuflow.model_choice": why})
        run.log_params({"model.kind": kind, "model.params": config.model.params,
                        "features": config.features, "split": config.split.model_dump(),
                        "rows.train": len(train_df), "rows.test": len(test_df),
                        "validation.rejected": report.rows_rejected})
        run.log_dataset(train_df, digest, source, f"{task.name}-train", task.label, "training")
        run.log_dataset(test_df, dataset_digest(test_df), source, f"{task.name}-eval", task.label, "evaluation")
        run.log_artifacts({"validation_report.json": report.to_dict() | {"examples": report.rejected_examples,
                                                                         "folded_labels": report.relabelled}})
        run.log_metrics({"duplicates.exact_rows": duplicates["exact_rows"],
                         "duplicates.test_rows_seen_in_training": duplicates["test_rows_seen_in_training"]})

        step(f"fit {kind} on {len(train_df):,} rows")
        model = task.build_model(config.model.model_dump(), config.features)
        t_fit = time.perf_counter()
        model.fit(train_df, task.target(train_df))
        fit_seconds = time.perf_counter() - t_fit

        step(f"evaluate on {len(test_df):,} rows")
        metrics, artifacts, held_out = task.evaluate(model, test_df)
        metrics["fit_seconds"] = fit_seconds
        metrics.update(cv_metrics)
        step("register")
        version_no = record_version(run, store, task, model, model_name, config, digest, metrics, artifacts,
                                    reference_profile(task, test_df, held_out, model),
                                    NoveltyDetector.for_model(task, model, train_df, test_df), seen, tags)
    return Candidate(run.run_id, model_name, version_no, metrics, {"train": len(train_df), "test": len(test_df)},
                     model)


def record_version(run: Any, store: RegistryStore, task: Task, model: Any, model_name: str, config: TrainConfig,
                   digest: str, metrics: dict[str, float], artifacts: dict[str, Any], profile: Profile,
                   novelty: NoveltyDetector | None, seen: Any, tags: dict[str, str] | None = None) -> int:
    """Log what every version carries, whichever path trained it, and register it: metrics (and a network's
    per-epoch curves), the evaluation artifacts, the reference profile drift is measured against, the novelty
    threshold, the training rows' digests for a later gate, and the model itself."""
    run.log_metrics(metrics)
    for row in getattr(final_estimator(model), "history_", []):  # per-epoch curves, as MLflow steps
        run.log_metrics({f"epoch.{k}": v for k, v in row.items() if k != "epoch"}, step=int(row["epoch"]))
    run.log_artifacts(artifacts)
    run.log_artifacts({PROFILE_ARTIFACT: profile.to_dict()})
    if novelty is not None:
        run.log_bytes(NOVELTY_ARTIFACT, novelty.to_bytes())
    run.log_bytes(SEEN_ROWS_ARTIFACT, seen.to_bytes())
    example = pd.DataFrame(task.example_records(2))
    version_no = run.log_sklearn_model(model, model_name, example, _requirements(task))
    store.set_version_tags(model_name, version_no, {
        "dataset_digest": digest, "skuflow.task": task.name, "skuflow.config": config.model_dump_json(),
        **{f"metric.{k}": v for k, v in metrics.items() if not k.startswith("f1.")}, **(tags or {}),
    })
    return version_no


def check_and_promote(task: Task, candidate: Candidate, prepared: PreparedData, config: TrainConfig,
                      settings: Settings) -> Decision:
    """The champion gate on the candidate's evaluation rows (the split is deterministic), less every row
    the champion trained on."""
    train_df, test_df = split_frame(prepared.frame, task.label, config.split, task.strata(prepared.frame))
    return check_and_promote_rows(task, candidate, test_df, seen_rows_of(task, train_df, group_key_of(config)),
                                  settings)


def check_and_promote_rows(task: Task, candidate: Candidate, rows: pd.DataFrame, seen: Any,
                           settings: Settings) -> Decision:
    """The gate on ``rows`` (held-out rows) given what the candidate trained on (``seen``); the decision is
    tagged on the candidate's run."""
    store = RegistryStore(settings)
    model = candidate.model if candidate.model is not None else store.load_model(candidate.model_name,
                                                                                 candidate.version)
    try:
        decision = promote_if_better(store, task, candidate.model_name, candidate.version, model, rows, seen,
                                     settings)
    except ChampionUnavailableError as exc:
        store.set_run_tags(candidate.run_id, {"skuflow.promoted": "false",
                                              "skuflow.decision": f"gate failed: {exc.message}"[:4000]})
        raise
    store.set_run_tags(candidate.run_id, {"skuflow.promoted": str(decision.promoted).lower(),
                                          "skuflow.verdict": decision.verdict,
                                          "skuflow.decision": decision.reason[:4000]})
    return decision


def train(task_name: str, data: str | pd.DataFrame, config: TrainConfig | None, settings: Settings,
          on_step: Step | None = None, cv_folds: int = 0) -> TrainResult:
    """Train, register and (if better than the champion) promote a model for ``task_name``."""
    step = on_step or (lambda _name: None)
    started = time.perf_counter()
    config = config or TrainConfig()
    task = get_task(config.task or task_name)

    partitioned, why = choose_path(data, config.cluster.mode)
    if partitioned:
        from skuflow.training.partitioned import train_partitioned

        step(f"path: partitioned on a Dask cluster ({why})")
        return train_partitioned(task, str(data), config, settings, step)
    step("ingest + validate")
    prepared = prepare(task, data, config)
    candidate = fit_and_register(task, prepared, config, settings, on_step=step, cv_folds=cv_folds)
    step("promote if better")
    decision = check_and_promote(task, candidate, prepared, config, settings)
    return result_of(candidate, decision, prepared, settings, time.perf_counter() - started)


def result_of(candidate: Candidate, decision: Decision, prepared: PreparedData, settings: Settings,
              seconds: float) -> TrainResult:
    champion = RegistryStore(settings).champion(candidate.model_name)
    return TrainResult(
        run_id=candidate.run_id, model_name=candidate.model_name, version=candidate.version,
        metrics={k: round(v, 6) for k, v in candidate.metrics.items()}, promoted=decision.promoted,
        champion_version=champion.version if champion else None, decision=decision.to_dict(),
        dataset_digest=prepared.digest, validation=prepared.report.to_dict(), rows=candidate.rows,
        seconds=seconds,
    )

"""Where an experiment stands, read from the prediction log, and what follows from it.

Every figure is counted from the log (attempts, errors, latency, feedback), never from a server's memory,
so a restarted server and every replica read the same experiment. ``conclude`` applies the rules in order:
harm on a guardrail stops it; a win on the sequential test promotes the challenger through the audited
registry path; a loss stops it; ``max_requests`` without a decision ends it as inconclusive.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from skuflow.experiments import record
from skuflow.experiments.assignment import CHALLENGER, CHAMPION, SHADOW
from skuflow.experiments.record import Experiment
from skuflow.experiments.sequential import replay
from skuflow.monitoring.prediction_log import PredictionLog, experiment_feedback, experiment_rows
from skuflow.registry.aliases import promote
from skuflow.registry.store import RegistryStore
from skuflow.tasks.base import get_task

log = logging.getLogger("skuflow.experiments")

MIN_GUARDRAIL_ATTEMPTS = 20  # a rate from fewer attempts says little
MIN_LATENCY_ROWS = 100  # a p99 needs at least a hundred answers


def _variant_stats(rows: pd.DataFrame) -> dict[str, Any]:
    ok = rows[rows["error"].isna()]
    latency = ok["latency_ms"].dropna().to_numpy(float)
    mix = ok["prediction"].value_counts(normalize=True).head(10)
    return {"attempts": len(rows), "errors": int(rows["error"].notna().sum()),
            "error_rate": float(rows["error"].notna().mean()) if len(rows) else 0.0,
            "mean_confidence": float(ok["confidence"].mean()) if len(ok) else None,
            "p50_ms": float(np.percentile(latency, 50)) if len(latency) else None,
            "p99_ms": float(np.percentile(latency, 99)) if len(latency) else None,
            "class_mix": {str(k): round(float(v), 4) for k, v in mix.items()}}


def _agreement(rows: pd.DataFrame, agree: Any) -> float | None:
    """Share of requests where the shadow said what the champion said (``agree``: the task output's)."""
    ok = rows[rows["error"].isna()]
    champ = ok[ok["variant"] == CHAMPION].set_index("request_id")["prediction"]
    shadow = ok[ok["variant"] == SHADOW].set_index("request_id")["prediction"]
    both = champ.index.intersection(shadow.index)
    if not len(both):
        return None
    return float(np.mean([agree(a, b) for a, b in zip(champ.loc[both], shadow.loc[both], strict=True)]))


def analyse(plog: PredictionLog, exp: Experiment) -> dict[str, Any]:
    """The status of an experiment: per-variant counts and figures, the test, guardrail checks."""
    rows = experiment_rows(plog, exp.id)
    arm_b = SHADOW if exp.mode == "shadow" else CHALLENGER
    variants = {v: _variant_stats(rows[rows["variant"] == v]) for v in (CHAMPION, arm_b)}
    fb = experiment_feedback(plog, exp.id, get_task(exp.task).output.agree)
    fb = fb[fb["variant"].isin([CHAMPION, arm_b])]
    test = replay((fb["variant"] == arm_b).to_numpy(), fb["correct"].to_numpy(bool), alpha=exp.alpha,
                  min_rows=exp.min_rows)
    for v, n, rate in ((CHAMPION, test.n_a, test.rate_a), (arm_b, test.n_b, test.rate_b)):
        variants[v].update({"feedback": int((fb["variant"] == v).sum()), "decision_rows": n, exp.metric: rate})
    out = {**exp.to_dict(), "variants": variants, "test": test.to_dict(),
           "requests": int(rows["request_id"].nunique()) if len(rows) else 0,
           "harm": _harm(exp, variants[arm_b])}
    if exp.mode == "shadow":
        out["agreement"] = _agreement(rows, get_task(exp.task).output.agree)
    return out


def _harm(exp: Experiment, challenger: dict[str, Any]) -> str | None:
    """The first guardrail the challenger breaks, as a sentence, or None."""
    limit = exp.guardrails.get("error_rate")
    if limit is not None and challenger["attempts"] >= MIN_GUARDRAIL_ATTEMPTS and challenger["error_rate"] > limit:
        return (f"error rate {challenger['error_rate']:.2%} over {challenger['attempts']} attempts exceeds "
                f"the guardrail {limit:.2%}")
    limit = exp.guardrails.get("p99_ms")
    if limit is not None and challenger["attempts"] - challenger["errors"] >= MIN_LATENCY_ROWS \
            and (challenger["p99_ms"] or 0.0) > limit:
        return f"p99 latency {challenger['p99_ms']:.1f} ms exceeds the guardrail {limit:g} ms"
    return None


def conclude(store: RegistryStore, plog: PredictionLog, exp: Experiment) -> tuple[Experiment, dict[str, Any]]:
    """Apply the rules to a running experiment; returns it (ended or not) and its status."""
    status = analyse(plog, exp)
    if not exp.running:
        return exp, status
    champ = store.champion(exp.task)
    test = status["test"]
    evidence = {"experiment": exp.id, "n_champion": test["n_a"], "n_challenger": test["n_b"],
                "effect": test["effect"], "interval": test["interval"], "p_value": test["p_value"],
                "metric": exp.metric}
    summary = (f"{exp.metric} {test['rate_b']:.4f} (n={test['n_b']}) vs {test['rate_a']:.4f} (n={test['n_a']}), "
               f"effect {test['effect']:+.4f} [{test['interval'][0]:+.4f}, {test['interval'][1]:+.4f}], "
               f"always-valid p {test['p_value']:.4f}")
    if champ is None or champ.version != exp.champion:
        state, outcome = "stopped", (f"the champion moved to v{champ.version if champ else None} during the "
                                     f"experiment; its evidence is about v{exp.champion}")
    elif status["harm"]:
        state, outcome = "harmed", f"v{exp.challenger} stopped on a guardrail: {status['harm']}"
    elif test["decision"] == "challenger better":
        state, outcome = "promoted", f"experiment {exp.id} ({exp.mode}): v{exp.challenger} better, {summary}"
    elif test["decision"] == "challenger worse":
        state, outcome = "lost", f"v{exp.challenger} worse than v{exp.champion}: {summary}"
    elif exp.max_requests is not None and status["requests"] >= exp.max_requests:
        state, outcome = "inconclusive", f"{status['requests']} requests reached max_requests without a " \
                                         f"decision: {summary}"
    else:
        return exp, status
    # ended first: of two replicas concluding at once, only the one that ends it goes on to promote
    ended = record.end(store, exp.task, state, outcome, evidence, experiment_id=exp.id)
    if state == "promoted":
        promote(store, exp.task, exp.challenger, outcome, evidence=evidence)
    log.info("experiment %s %s: %s", exp.id, state, outcome)
    return ended, {**status, **ended.to_dict()}

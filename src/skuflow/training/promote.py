"""The champion gate: a challenger takes the ``champion`` alias only when it beats the champion on the
same evaluation rows by at least the margin. Every alias move is written to the audit log."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from skuflow.errors import ModelNotFoundError
from skuflow.registry.store import RegistryStore
from skuflow.tasks.base import Task


@dataclass
class Decision:
    promoted: bool
    reason: str
    metric: str
    challenger_version: int
    challenger_score: float
    champion_version: int | None
    champion_score: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gate(challenger: float, champion: float | None, margin: float) -> tuple[bool, str]:
    """Pure decision rule. A tie never promotes: churn without gain only adds risk."""
    if champion is None:
        return True, "no champion yet"
    gain = challenger - champion
    if gain > margin or (margin > 0 and gain >= margin):
        return True, f"challenger better by {gain:+.4f} (margin {margin})"
    return False, f"challenger not better by more than margin: {challenger:.4f} vs {champion:.4f} " \
                  f"(gain {gain:+.4f}, margin {margin})"


def _record(store: RegistryStore, name: str, action: str, from_v: int | None, to_v: int,
            reason: str, metrics: dict[str, Any]) -> dict[str, Any]:
    entry = {"action": action, "from": from_v, "to": to_v, "reason": reason, "metrics": metrics,
             "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    store.append_audit(name, entry)
    return entry


def promote_if_better(store: RegistryStore, task: Task, model_name: str, version: int,
                      challenger_score: float, eval_frame: pd.DataFrame, margin: float) -> Decision:
    """Score the current champion on the challenger's evaluation rows and move the alias if warranted."""
    metric = task.primary_metric
    current = store.champion(model_name)
    champion_score: float | None = None
    reason_extra = ""
    if current is not None and current.version != version:
        try:
            champ_model = store.load_model(model_name, current.version)
            champ_metrics, artifacts, _ = task.evaluate(champ_model, eval_frame)
            _close_figures(artifacts)
            champion_score = float(champ_metrics[metric])
        except Exception as exc:  # a champion that cannot score the rows is no bar to clear
            champion_score = float("-inf")
            reason_extra = f"; champion v{current.version} could not be scored: {exc.__class__.__name__}: {exc}"
    promoted, reason = gate(challenger_score, champion_score, margin)
    reason += reason_extra
    decision = Decision(promoted, reason, metric, version, challenger_score,
                        current.version if current else None,
                        champion_score if champion_score not in (None, float("-inf")) else None)
    metrics = {f"challenger_{metric}": challenger_score, f"champion_{metric}": decision.champion_score}
    if promoted:
        store.set_champion(model_name, version)
        _record(store, model_name, "promote", decision.champion_version, version, reason, metrics)
    store.set_version_tags(model_name, version, {"skuflow.decision": reason[:4000],
                                                  "skuflow.promoted": str(promoted).lower()})
    return decision


def promote(store: RegistryStore, model_name: str, version: int, reason: str = "manual promotion") -> dict:
    """Move the alias to ``version`` by hand (audited)."""
    target = store.version(model_name, version)
    current = store.champion(model_name)
    store.set_champion(model_name, target.version)
    return _record(store, model_name, "promote", current.version if current else None, target.version,
                   reason, {})


def rollback(store: RegistryStore, model_name: str, reason: str = "rollback") -> dict:
    """Give the alias back to the champion that preceded the current one."""
    current = store.champion(model_name)
    if current is None:
        raise ModelNotFoundError(f"Model '{model_name}' has no champion to roll back")
    # the promotion that made the current champion names its predecessor; rollbacks are skipped so
    # that two rollbacks in a row walk further back instead of swapping two versions forever
    for entry in reversed(store.audit(model_name)):
        if entry.get("action") == "promote" and entry.get("to") == current.version and entry.get("from"):
            store.set_champion(model_name, int(entry["from"]))
            return _record(store, model_name, "rollback", current.version, int(entry["from"]), reason, {})
    raise ModelNotFoundError(f"Model '{model_name}' v{current.version} has no earlier champion to roll back to")


def _close_figures(artifacts: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    for obj in artifacts.values():
        if hasattr(obj, "savefig"):
            plt.close(obj)

"""Every move of the ``champion`` alias, each written to the audit log: the gate's verdict applied, a
promotion by hand or on an experiment's result, a rollback. The registry layer owns them because it owns
the alias; the gate that decides (``skuflow.training.promote``) and the experiment judge only call them."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from skuflow.errors import ConfigError, ModelNotFoundError
from skuflow.registry.store import RegistryStore

# what a decision is called in summaries, the history and the dashboard
PROMOTED, NO_CHAMPION, NOT_SIGNIFICANT, WORSE, NO_DECISION = (
    "promoted", "no champion yet", "no significant difference", "challenger worse", "no decision")


@dataclass
class Decision:
    promoted: bool
    verdict: str
    reason: str
    metric: str
    challenger_version: int
    challenger_score: float | None  # both scores on the compared rows
    champion_version: int | None
    champion_score: float | None
    rows_compared: int | None = None
    gain: float | None = None
    interval: tuple[float, float] | None = None  # central 2*confidence-1 interval; its lower end is the bound
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["interval"] = list(self.interval) if self.interval else None
        return out

    def evidence(self) -> dict[str, Any]:
        """The figures the audit log, the history and the flow summary show."""
        return {k: v for k, v in self.to_dict().items() if k in (
            "verdict", "metric", "challenger_score", "champion_score", "rows_compared", "gain", "interval",
            "confidence")}


def evidence_columns(metrics: dict[str, Any]) -> dict[str, Any]:
    """The gate's figures as display strings (empty for manual moves, which carry none)."""
    interval = metrics.get("interval")
    gain = metrics.get("gain")
    return {"verdict": metrics.get("verdict") or "",
            "gain": f"{gain:+.4f}" if isinstance(gain, int | float) else "",
            "interval": f"[{interval[0]:+.4f}, {interval[1]:+.4f}]" if interval else "",
            "rows": metrics.get("rows_compared") or ""}


def record_audit(store: RegistryStore, name: str, action: str, from_v: int | None, to_v: int,
                 reason: str, metrics: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One audit entry (alias moves, experiments): what happened, from and to which version, and why."""
    entry = {"action": action, "from": from_v, "to": to_v, "reason": reason, "metrics": metrics, **extra,
             "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    store.append_audit(name, entry)
    return entry


def apply_decision(store: RegistryStore, model_name: str, version: int, decision: Decision) -> Decision:
    """Move the alias if the decision promotes, and tag the version with the decision either way."""
    if decision.promoted:
        with store.alias_lock(model_name):
            store.set_champion(model_name, version)
            record_audit(store, model_name, "promote", decision.champion_version, version, decision.reason,
                         decision.evidence())
    store.set_version_tags(model_name, version, {"skuflow.decision": decision.reason[:4000],
                                                  "skuflow.verdict": decision.verdict,
                                                  "skuflow.evidence": json.dumps(decision.evidence()),
                                                  "skuflow.promoted": str(decision.promoted).lower()})
    return decision


def promote(store: RegistryStore, model_name: str, version: int, reason: str,
            evidence: dict[str, Any] | None = None) -> dict:
    """Move the alias to ``version`` by hand or on an experiment's result (audited; the reason is required)."""
    if not reason or not reason.strip():
        raise ConfigError("a manual promotion needs a reason (--reason): it goes into the audit log")
    target = store.version(model_name, version)
    with store.alias_lock(model_name):  # the champion it replaces, the move and its entry: one at a time
        current = store.champion(model_name)
        store.set_champion(model_name, target.version)
        return record_audit(store, model_name, "promote", current.version if current else None, target.version,
                            reason, evidence or {})


def rollback(store: RegistryStore, model_name: str, reason: str = "rollback") -> dict:
    """Give the alias back to the champion that preceded the current one."""
    with store.alias_lock(model_name):
        current = store.champion(model_name)
        if current is None:
            raise ModelNotFoundError(f"Model '{model_name}' has no champion to roll back")
        # the promotion that made the current champion names its predecessor; rollbacks are skipped so
        # that two rollbacks in a row walk further back instead of swapping two versions forever
        for entry in reversed(store.audit(model_name)):
            if entry.get("action") == "promote" and entry.get("to") == current.version and entry.get("from"):
                store.set_champion(model_name, int(entry["from"]))
                return record_audit(store, model_name, "rollback", current.version, int(entry["from"]), reason, {})
    raise ModelNotFoundError(f"Model '{model_name}' v{current.version} has no earlier champion to roll back to")

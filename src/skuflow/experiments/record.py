"""An online experiment as registry state: one record per model, beside the champion alias and its audit,
so every replica, a restarted server and the batch scorer read the same experiment.

Starting and ending an experiment are audited like alias moves; only the latest experiment is live, the
audit keeps the rest.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from skuflow.errors import ConfigError, ConflictError, ModelNotFoundError, NotFoundError
from skuflow.registry.aliases import record_audit
from skuflow.registry.store import RegistryStore

MODES = ("shadow", "ab")
METRICS = ("accuracy",)  # a feedback row is a success or a failure: what the sequential test weighs
GUARDRAILS = ("error_rate", "p99_ms")
RUNNING = "running"
ENDED = ("promoted", "stopped", "lost", "harmed", "inconclusive")


@dataclass
class Experiment:
    id: str
    task: str
    model: str
    mode: str
    champion: int
    challenger: int
    traffic: float
    key: str | None = None
    metric: str = "accuracy"
    max_requests: int | None = None
    guardrails: dict[str, float] = field(default_factory=dict)
    alpha: float = 0.05
    min_rows: int = 100
    state: str = RUNNING
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    outcome: str = ""
    started_by: str = ""

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def salt(self) -> str:
        # the id salts the assignment hash: the same caller may land elsewhere in the next experiment
        return self.id

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Experiment:
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)


def parse_guardrails(text: str | None) -> dict[str, float]:
    """``"error_rate=0.01,p99_ms=50"`` -> ``{"error_rate": 0.01, "p99_ms": 50.0}``."""
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        name = name.strip()  # the names are checked where every caller passes: start()
        try:
            out[name] = float(value)
        except ValueError as exc:
            raise ConfigError(f"Guardrail '{name}' needs a number, got '{value}'") from exc
    return out


def start(store: RegistryStore, task: str, challenger: int, mode: str, traffic: float = 0.1,
          key: str | None = None, metric: str = "accuracy", max_requests: int | None = None,
          guardrails: dict[str, float] | None = None, alpha: float = 0.05, min_rows: int = 100,
          who: str = "") -> Experiment:
    """Open an experiment of ``challenger`` against the current champion (audited)."""
    if mode not in MODES:
        raise ConfigError(f"Unknown experiment mode '{mode}' (choose {', '.join(MODES)})")
    if metric not in METRICS:
        raise ConfigError(f"Unknown experiment metric '{metric}' (choose {', '.join(METRICS)})")
    if not 0.0 < traffic <= 1.0:
        raise ConfigError(f"traffic must be in (0, 1], got {traffic}")
    if not 0.0 < alpha < 0.5:
        raise ConfigError(f"alpha must be in (0, 0.5), got {alpha}")
    if max_requests is not None and max_requests < 1:
        raise ConfigError("max_requests must be at least 1")
    for name in guardrails or {}:
        if name not in GUARDRAILS:
            raise ConfigError(f"Unknown guardrail '{name}' (choose {', '.join(GUARDRAILS)})")
    champ = store.champion(task)
    if champ is None:
        raise ModelNotFoundError(f"Task '{task}' has no champion to experiment against")
    target = store.version(task, challenger)  # raises when the version does not exist
    if target.version == champ.version:
        raise ConflictError(f"v{challenger} is already the champion of {task}")
    current = load(store, task)
    if current is not None and current.running:
        raise ConflictError(f"Experiment {current.id} is already running on {task}; stop it first")
    exp = Experiment(id=f"{task}-v{champ.version}-v{target.version}-{time.strftime('%Y%m%dT%H%M%S')}",
                     task=task, model=champ.name, mode=mode, champion=champ.version, challenger=target.version,
                     traffic=float(traffic), key=key or None, metric=metric, max_requests=max_requests,
                     guardrails=dict(guardrails or {}), alpha=alpha, min_rows=min_rows, started_by=who)
    store.set_experiment(task, exp.to_dict())
    reason = f"{mode} at {traffic:.0%}" + (f" by {who}" if who else "")
    record_audit(store, task, "experiment start", champ.version, target.version, reason, {}, experiment=exp.id)
    return exp


def load(store: RegistryStore, task: str) -> Experiment | None:
    raw = store.experiment(task)
    return Experiment.from_dict(raw) if raw else None


def end(store: RegistryStore, task: str, state: str, outcome: str, evidence: dict[str, Any] | None = None,
        experiment_id: str | None = None) -> Experiment:
    """Close the running experiment with ``state`` and a sentence saying why (audited).

    ``experiment_id`` guards against two replicas concluding the same experiment twice: only the one
    that still sees it running ends it."""
    if state not in ENDED:
        raise ConfigError(f"Unknown end state '{state}'")
    exp = load(store, task)
    if exp is None or not exp.running or (experiment_id and exp.id != experiment_id):
        raise NotFoundError(f"No running experiment on {task}")
    exp.state, exp.outcome, exp.ended_at = state, outcome, time.time()
    store.set_experiment(task, exp.to_dict())
    record_audit(store, task, f"experiment {state}", exp.champion, exp.challenger, outcome, evidence or {},
                 experiment=exp.id)
    return exp

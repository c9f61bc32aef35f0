"""The champion gate: whether a challenger takes the ``champion`` alias (moved and audited by
``skuflow.registry.aliases``).

A challenger takes the alias only on evidence:
1. *fair rows*: both models are scored on the challenger's evaluation rows minus every row, and every
   group, the champion trained on (a champion that has seen half of them would otherwise win by memory);
2. *enough rows*: fewer than ``promotion_min_rows`` of them is "no decision", never a promotion;
3. *a real gain*: a paired bootstrap gives a one-sided interval for the gain, and the alias moves only
   when its lower bound at ``promotion_confidence`` clears ``promotion_margin``.
A champion that cannot be loaded (store unreachable, a load error) stops the gate with an error instead
of losing to the challenger: an outage never promotes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from skuflow.errors import ChampionUnavailableError
from skuflow.evidence import Gain
from skuflow.registry.aliases import (
    NO_CHAMPION,
    NO_DECISION,
    NOT_SIGNIFICANT,
    PROMOTED,
    WORSE,
    Decision,
    apply_decision,
)
from skuflow.registry.store import RegistryStore
from skuflow.settings import Settings
from skuflow.tasks.base import Task
from skuflow.training.seen_rows import SEEN_ROWS_ARTIFACT, SeenRows


def _too_few_rows(rows: int, min_rows: int) -> str:
    return f"no decision: only {rows:,} rows neither model trained on (need {min_rows:,})"


def decide(gain: Gain, margin: float, min_rows: int) -> tuple[str, str]:
    """Pure decision rule on a measured gain: the verdict and a sentence saying why.

    With ``confidence`` 0 the point estimate decides (a tie never promotes); otherwise the one-sided
    lower bound must exceed the margin."""
    where = f"on {gain.rows:,} rows neither model trained on"
    if gain.rows < min_rows:
        return NO_DECISION, _too_few_rows(gain.rows, min_rows)
    text = f"{gain.metric} {gain.challenger:.4f} vs {gain.champion:.4f}, gain {gain.gain:+.4f}"
    if gain.confidence <= 0:
        if gain.gain > margin or (margin > 0 and gain.gain >= margin):
            return PROMOTED, f"challenger better: {text} {where} (margin {margin})"
        return NOT_SIGNIFICANT, f"challenger not better by more than margin: {text} {where} (margin {margin})"
    level = f"{gain.confidence:.0%} lower bound {gain.lower:+.4f}"
    span = f"interval [{gain.lower:+.4f}, {gain.upper:+.4f}]"
    if gain.lower > margin:
        return PROMOTED, f"challenger better: {text}, {level} > margin {margin} {where}"
    if gain.upper < -margin:
        return WORSE, f"challenger worse: {text}, {span} {where}"
    return NOT_SIGNIFICANT, f"no significant difference: {text}, {span} {where} (margin {margin})"


def seen_rows_of(task: Task, train_frame: pd.DataFrame, group_key: str | None) -> SeenRows:
    """What a version trains on, in the form the gate compares (logged with every version)."""
    return SeenRows.of(train_frame, task.input_columns(), group_key)


def _champion_parts(store: RegistryStore, name: str, version: int) -> tuple[Any, SeenRows | None]:
    """The champion's model and training rows, or a clear error naming why they cannot be had."""
    try:
        model = store.load_model(name, version)
        blob = store.version_artifact(name, version, SEEN_ROWS_ARTIFACT)
    except Exception as exc:  # unreachable store, missing or unreadable files: an outage, not a loss
        raise ChampionUnavailableError(
            f"the champion {name} v{version} could not be loaded ({exc.__class__.__name__}: {exc}); "
            "no decision was taken") from exc
    return model, (SeenRows.from_bytes(blob) if blob is not None else None)


def promote_if_better(store: RegistryStore, task: Task, model_name: str, version: int, challenger: Any,
                      eval_frame: pd.DataFrame, challenger_seen: SeenRows, settings: Settings) -> Decision:
    """Compare the challenger (a fitted model) with the champion on fair rows and move the alias if the
    evidence says so. Raises :class:`ChampionUnavailableError` when the champion cannot be had."""
    metric = task.primary_metric
    current = store.champion(model_name)
    if current is None or current.version == version:
        decision = Decision(True, NO_CHAMPION, "no champion yet", metric, version, None, None, None)
        return apply_decision(store, model_name, version, decision)
    try:
        champ_model, champ_seen = _champion_parts(store, model_name, current.version)
    except ChampionUnavailableError as exc:
        store.set_version_tags(model_name, version, {"skuflow.decision": f"gate failed: {exc.message}"[:4000],
                                                      "skuflow.promoted": "false"})
        raise ChampionUnavailableError(f"{exc.message}; v{version} stays registered and unpromoted, and the "
                                       "next run tries again") from exc
    columns = task.input_columns()
    keep = challenger_seen.unseen(eval_frame, columns)
    legacy = ""
    if champ_seen is not None:
        keep &= champ_seen.unseen(eval_frame, columns)
    else:
        legacy = f"; v{current.version} predates training-row records, so its trained rows could not be removed"
    rows = eval_frame[keep].reset_index(drop=True)
    base = Decision(False, NO_DECISION, "", metric, version, None, current.version, None, rows_compared=len(rows))
    if len(rows) < settings.promotion_min_rows:
        base.reason = _too_few_rows(len(rows), settings.promotion_min_rows) + legacy
        return apply_decision(store, model_name, version, base)
    try:
        gain = task.output.gain(task, metric, champ_model, challenger, rows,
                                confidence=settings.promotion_confidence, resamples=settings.promotion_resamples,
                                seed=version)  # a rerun of the same gate gives the same interval
    except (OSError, MemoryError) as exc:
        raise ChampionUnavailableError(f"the champion {model_name} v{current.version} failed while scoring "
                                       f"({exc.__class__.__name__}: {exc})") from exc
    except Exception as exc:  # the inputs changed under it (a new feature set): a person decides
        base.reason = (f"no decision: the champion v{current.version} cannot score the challenger's rows "
                       f"({exc.__class__.__name__}: {exc}); if the inputs changed on purpose, promote by hand: "
                       f"skuflow models promote {model_name} {version} --reason '...'")
        return apply_decision(store, model_name, version, base)
    verdict, reason = decide(gain, settings.promotion_margin, settings.promotion_min_rows)
    decision = Decision(verdict == PROMOTED, verdict, reason + legacy, metric, version, gain.challenger,
                        current.version, gain.champion, rows_compared=gain.rows, gain=gain.gain,
                        interval=(gain.lower, gain.upper), confidence=gain.confidence)
    return apply_decision(store, model_name, version, decision)



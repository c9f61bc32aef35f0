"""A mixture sequential probability ratio test (mSPRT; Johari, Pekelis & Walsh 2017, "Always valid
inference") for the difference of two proportions, such as per-variant accuracy from feedback.

The difference of the two arms' means is treated as one normal observation with its estimated variance
``s2 = pA(1-pA)/nA + pB(1-pB)/nB``; with a normal prior N(0, tau^2) on the true difference, the mixture
likelihood ratio against "no difference" is

    L = sqrt(s2 / (s2 + tau^2)) * exp(d^2 tau^2 / (2 s2 (s2 + tau^2)))

and the always-valid p-value is the running minimum of 1/L. Under no difference, the chance that the
p-value *ever* falls below alpha is at most alpha, so it can be read after every row: peeking is free,
unlike a fixed-horizon z-test (``z_test``), whose false wins grow with every look.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DEFAULT_TAU = 0.05  # the spread of effects we expect to see: a few points of accuracy


def _rates(successes: np.ndarray, n: np.ndarray) -> np.ndarray:
    # half a success and half a failure per arm keep the variance positive on the first rows
    return (successes + 0.5) / (n + 1.0)


def msprt_lr(success_a: Any, n_a: Any, success_b: Any, n_b: Any, tau: float = DEFAULT_TAU) -> np.ndarray:
    """The mixture likelihood ratio (vectorised over any matching shapes) for B against A."""
    sa, na, sb, nb = (np.asarray(v, dtype=float) for v in (success_a, n_a, success_b, n_b))
    pa, pb = _rates(sa, na), _rates(sb, nb)
    s2 = pa * (1 - pa) / np.maximum(na, 1) + pb * (1 - pb) / np.maximum(nb, 1)
    d = sb / np.maximum(nb, 1) - sa / np.maximum(na, 1)
    t2 = tau * tau
    log_lr = 0.5 * np.log(s2 / (s2 + t2)) + d * d * t2 / (2 * s2 * (s2 + t2))
    return np.exp(np.minimum(log_lr, 700.0))


def z_test(success_a: Any, n_a: Any, success_b: Any, n_b: Any) -> np.ndarray:
    """Two-sided p-value of the pooled two-proportion z-test (valid at one fixed horizon only)."""
    sa, na, sb, nb = (np.asarray(v, dtype=float) for v in (success_a, n_a, success_b, n_b))
    pooled = (sa + sb) / np.maximum(na + nb, 1)
    se = np.sqrt(np.maximum(pooled * (1 - pooled) * (1 / np.maximum(na, 1) + 1 / np.maximum(nb, 1)), 1e-12))
    z = np.abs(sb / np.maximum(nb, 1) - sa / np.maximum(na, 1)) / se
    return np.asarray([math.erfc(v / math.sqrt(2)) for v in np.ravel(z)]).reshape(z.shape)


@dataclass
class SequentialResult:
    """Where an experiment stands: per-arm counts and rates, the effect with its interval, the p-value."""

    n_a: int
    n_b: int
    rate_a: float
    rate_b: float
    effect: float
    interval: tuple[float, float]
    p_value: float
    decision: str  # "challenger better", "challenger worse" or "continue"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["interval"] = list(self.interval)
        return out


def replay(is_b: Any, success: Any, alpha: float = 0.05, tau: float = DEFAULT_TAU,
           min_rows: int = 100) -> SequentialResult:
    """The test read after every row of one experiment, in arrival order (``is_b``: the row is the
    challenger's; ``success``: the feedback says it was right). The decision is taken at the first row where
    both arms have ``min_rows`` and the always-valid p-value reaches ``alpha``; rows after it do not undo it."""
    arm_b = np.asarray(is_b, dtype=bool)
    ok = np.asarray(success, dtype=bool)
    n_b = np.cumsum(arm_b)
    n_a = np.arange(1, len(arm_b) + 1) - n_b
    s_b, s_a = np.cumsum(ok & arm_b), np.cumsum(ok & ~arm_b)
    lr = msprt_lr(s_a, n_a, s_b, n_b, tau)
    lr = np.where(np.minimum(n_a, n_b) >= 2, lr, 0.0)
    p_running = np.minimum.accumulate(np.minimum(1.0, 1.0 / np.maximum(lr, 1e-300))) if len(lr) else np.ones(0)
    stop = (np.minimum(n_a, n_b) >= min_rows) & (p_running <= alpha)
    at = int(stop.argmax()) if stop.any() else len(arm_b) - 1
    if at < 0:  # no rows yet
        return SequentialResult(0, 0, 0.0, 0.0, 0.0, (-1.0, 1.0), 1.0, "continue")
    na, nb, sa, sb = int(n_a[at]), int(n_b[at]), int(s_a[at]), int(s_b[at])
    ra, rb = sa / max(na, 1), sb / max(nb, 1)
    decision = ("challenger better" if rb > ra else "challenger worse") if stop.any() else "continue"
    return SequentialResult(na, nb, ra, rb, rb - ra, confidence_sequence(sa, na, sb, nb, alpha, tau),
                            float(p_running[at]), decision)


def confidence_sequence(s_a: int, n_a: int, s_b: int, n_b: int, alpha: float = 0.05,
                        tau: float = DEFAULT_TAU) -> tuple[float, float]:
    """The effect's always-valid interval: every difference the mSPRT would not reject at ``alpha``."""
    pa, pb = _rates(np.asarray(s_a, float), np.asarray(n_a, float)), _rates(np.asarray(s_b, float),
                                                                             np.asarray(n_b, float))
    s2 = float(pa * (1 - pa) / max(n_a, 1) + pb * (1 - pb) / max(n_b, 1))
    t2 = tau * tau
    d = s_b / max(n_b, 1) - s_a / max(n_a, 1)
    # L(theta) >= 1/alpha  <=>  (d - theta)^2 >= radius^2
    radius2 = 2 * s2 * (s2 + t2) / t2 * (math.log(1 / alpha) - 0.5 * math.log(s2 / (s2 + t2)))
    r = math.sqrt(max(radius2, 0.0))
    return d - r, d + r


def simulate(p_a: float, p_b: float, experiments: int, max_rows: int, alpha: float = 0.05,
             tau: float = DEFAULT_TAU, min_rows: int = 100, peek_every: int = 100, seed: int = 0) -> dict[str, Any]:
    """Seeded experiments with a 50/50 split, checked after every feedback row (mSPRT) and, for contrast,
    a fixed-horizon z-test peeked every ``peek_every`` rows. A 'promotion' is a win for B (the challenger)."""
    rng = np.random.default_rng(seed)
    arm_b = rng.random((experiments, max_rows)) < 0.5
    ok = np.where(arm_b, rng.random((experiments, max_rows)) < p_b, rng.random((experiments, max_rows)) < p_a)
    n_b = np.cumsum(arm_b, axis=1)
    n_a = np.arange(1, max_rows + 1)[None, :] - n_b
    s_b = np.cumsum(ok & arm_b, axis=1)
    s_a = np.cumsum(ok & ~arm_b, axis=1)
    ready = np.minimum(n_a, n_b) >= min_rows
    lr = msprt_lr(s_a, n_a, s_b, n_b, tau)
    better = s_b / np.maximum(n_b, 1) > s_a / np.maximum(n_a, 1)
    stop = ready & (lr >= 1 / alpha)  # p-value (running min of 1/L) <= alpha first happens here
    first = np.where(stop.any(axis=1), stop.argmax(axis=1), -1)
    won = np.array([first[i] >= 0 and better[i, first[i]] for i in range(experiments)])
    peeks = np.arange(peek_every - 1, max_rows, peek_every)
    zp = z_test(s_a[:, peeks], n_a[:, peeks], s_b[:, peeks], n_b[:, peeks])
    zstop = (zp <= alpha) & ready[:, peeks]
    zfirst = np.where(zstop.any(axis=1), zstop.argmax(axis=1), -1)
    zwon = np.array([zfirst[i] >= 0 and better[i, peeks[zfirst[i]]] for i in range(experiments)])
    rows_to_decision = first[first >= 0] + 1
    return {"experiments": experiments, "max_rows": max_rows, "p_a": p_a, "p_b": p_b,
            "msprt_promoted": float(won.mean()), "msprt_decided": float((first >= 0).mean()),
            "msprt_median_rows": float(np.median(rows_to_decision)) if len(rows_to_decision) else None,
            "ztest_peeking_promoted": float(zwon.mean()),
            "ztest_peeking_median_rows": float(np.median(peeks[zfirst[zfirst >= 0]] + 1)) if (zfirst >= 0).any()
            else None}

"""Outliers: inputs unlike anything the model trained on, measured in the model's own feature space.

A row's novelty is its cosine distance to the nearest of a sample of training rows, in the features the
model's last step reads (TF-IDF n-grams, hashed ids, scaled numbers): a title from another catalogue shares
few of the n-grams that carry weight and lands far from every product the model saw, whatever its length
or price. The threshold is the 99th percentile of held-out rows' scores, so on traffic like the held-out
rows 1% of rows are outliers by construction; a window holds too many when a one-sided binomial test
against that 1% says so.

Nearest neighbours instead of centroids: a centroid of sparse n-gram vectors is dense over the whole
vocabulary (hundreds of thousands of columns), while a sample of training rows stays as sparse as the rows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy import stats
from sklearn.preprocessing import normalize

NOVELTY_ARTIFACT = "novelty.npz"  # logged with a version's training run, beside its reference profile
SAMPLE_ROWS = 4000  # training rows kept; scoring a 1,000-row window is one sparse product with them
HELD_OUT_ROWS = 4000  # held-out rows scored to set the threshold
QUANTILE = 0.99  # share of held-out rows under the threshold
ALERT_P = 0.001  # a window is flagged when P(this many outliers | 1% rate) falls below this
CHUNK = 2048  # rows scored per sparse product, so memory stays bounded on a large batch


@dataclass
class NoveltyDetector:
    sample: sp.csr_matrix  # unit-length training rows
    threshold: float
    quantile: float = QUANTILE

    @staticmethod
    def _unit(X: Any) -> sp.csr_matrix:
        m = sp.csr_matrix(X, dtype=np.float32)
        return normalize(m, norm="l2", axis=1, copy=False)

    @classmethod
    def fit(cls, train_features: Any, held_out_features: Any, sample_rows: int = SAMPLE_ROWS,
            quantile: float = QUANTILE, seed: int = 0) -> NoveltyDetector:
        X = cls._unit(train_features)
        if X.shape[0] > sample_rows:
            X = X[np.sort(np.random.default_rng(seed).choice(X.shape[0], sample_rows, replace=False))]
        detector = cls(X, threshold=1.0, quantile=quantile)
        held = detector.scores(held_out_features)
        detector.threshold = float(np.quantile(held, quantile)) if len(held) else 1.0
        return detector

    def scores(self, features: Any) -> np.ndarray:
        """Cosine distance to the nearest kept training row: 0 = a training row's twin, 1 = nothing shared."""
        X = self._unit(features)
        out = np.empty(X.shape[0], dtype=float)
        for start in range(0, X.shape[0], CHUNK):
            sims = (X[start:start + CHUNK] @ self.sample.T).toarray()
            out[start:start + CHUNK] = 1.0 - (sims.max(axis=1) if sims.shape[1] else 0.0)
        return out

    def window(self, features: Any) -> dict[str, Any]:
        """The outlier share of a window and whether it is more than chance at the 1% rate allows."""
        return self.judge(self.scores(features))

    def judge(self, scores: np.ndarray) -> dict[str, Any]:
        """``window`` from the rows' scores already computed (the drift summaries keep them)."""
        n = len(scores)
        count = int((scores > self.threshold).sum())
        expected = 1.0 - self.quantile
        p_value = float(stats.binom.sf(count - 1, n, expected)) if n else 1.0
        return {"n": n, "outliers": count, "share": count / n if n else 0.0, "expected_share": expected,
                "threshold": self.threshold, "p_value": p_value, "flagged": bool(n and p_value < ALERT_P)}

    @classmethod
    def for_model(cls, task: Any, model: Any, train_rows: Any, held_out_rows: Any) -> NoveltyDetector | None:
        """Fitted in ``task``'s novelty space for ``model`` (None when the task has none). Only the rows
        kept are featurized."""
        if len(train_rows) > SAMPLE_ROWS:
            train_rows = train_rows.sample(n=SAMPLE_ROWS, random_state=0)
        if len(held_out_rows) > HELD_OUT_ROWS:  # the 99th percentile of 4,000 scores is within ~0.2 points
            held_out_rows = held_out_rows.sample(n=HELD_OUT_ROWS, random_state=0)
        train = task.novelty_features(model, train_rows)
        if train is None or train.shape[0] == 0:
            return None
        return cls.fit(train, task.novelty_features(model, held_out_rows))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        s = self.sample
        np.savez_compressed(buf, data=s.data, indices=s.indices, indptr=s.indptr, shape=np.array(s.shape),
                            threshold=np.array([self.threshold, self.quantile]))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, raw: bytes) -> NoveltyDetector:
        z = np.load(io.BytesIO(raw))
        sample = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        threshold, quantile = z["threshold"].tolist()
        return cls(sample, threshold, quantile)

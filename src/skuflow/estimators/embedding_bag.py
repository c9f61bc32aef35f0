"""EmbeddingBagClassifier: a fastText-style softmax classifier over sparse features, in numpy.

Each feature column owns a small dense vector; a row is the weighted sum of its columns' vectors (the
row's TF-IDF weights), and one softmax layer maps that sum to the classes. Memory is
``n_features x dim + dim x n_classes`` whatever the number of rows, and a pass costs
``rows x (nonzeros x dim + dim x classes)``: linear in rows, linear in classes through one matrix product
per mini-batch (BLAS on every core), where one-vs-rest linear models store a weight per feature per class
(gigabytes for a hashed table and thousands of classes) and fit a model per class.

Training is mini-batch Adam; the embedding rows are updated lazily (only the rows a batch touches, with
their own moment estimates), as sparse Adam does, so a batch costs what its rows hold, not the table.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from skuflow.estimators.inputs import labels_for

log = logging.getLogger(__name__)


def _softmax(z: np.ndarray) -> np.ndarray:
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


class _Adam:
    """Adam over one parameter array; ``rows`` limits a step to those rows (lazy, for embeddings)."""

    def __init__(self, shape: tuple[int, ...], beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.m = np.zeros(shape, dtype=np.float32)
        self.v = np.zeros(shape, dtype=np.float32)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0

    def step(self, param: np.ndarray, grad: np.ndarray, lr: float, rows: np.ndarray | None = None) -> None:
        self.t += 1
        m = self.m if rows is None else self.m[rows]
        v = self.v if rows is None else self.v[rows]
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad * grad
        scale = lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        update = scale * m / (np.sqrt(v) + self.eps)
        if rows is None:
            param -= update
        else:
            self.m[rows], self.v[rows] = m, v
            param[rows] -= update


class EmbeddingBagClassifier(ClassifierMixin, BaseEstimator):
    """Softmax over summed feature embeddings (see the module's docstring).

    ``epochs`` passes over the rows in shuffled mini-batches of ``batch_size``; the learning rate falls
    linearly to a tenth over training; progress is logged (``skuflow.estimators``), which the CLI shows.
    """

    def __init__(self, dim: int = 64, epochs: int = 5, batch_size: int = 512, learning_rate: float = 0.01,
                 l2: float = 0.0, random_state: int = 0) -> None:
        self.dim = dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.l2 = l2
        self.random_state = random_state

    def fit(self, X: sp.spmatrix, y) -> EmbeddingBagClassifier:
        X = sp.csr_matrix(X, dtype=np.float32)
        classes, codes = np.unique(labels_for(self, X, y).astype(str), return_inverse=True)
        trainer = self.trainer(X.shape[1], classes, np.bincount(codes, minlength=len(classes)))
        for _ in range(self.epochs):
            trainer.train(X, codes)
            trainer.end_epoch()
        trainer.finish()
        return self

    def trainer(self, n_features: int, classes: np.ndarray, class_counts: np.ndarray) -> Trainer:
        """A fresh model over ``classes`` (sorted, as ``classes_``) whose rows arrive in chunks: ``fit`` feeds it
        all rows per epoch, the partitioned path one partition at a time (``skuflow.training.partitioned``)."""
        return Trainer(self, n_features, np.asarray(classes), np.asarray(class_counts))

    def _step(self, Xb: sp.csr_matrix, yb: np.ndarray, lr: float, opt_e: _Adam, opt_w: _Adam,
              opt_b: _Adam) -> tuple[float, int]:
        """One Adam step on a mini-batch; (summed loss, rows right)."""
        cols, local = np.unique(Xb.indices, return_inverse=True)
        Xs = sp.csr_matrix((Xb.data, local.astype(np.int32), Xb.indptr), shape=(Xb.shape[0], len(cols)))
        rows = self.embeddings_[cols]
        hidden = Xs @ rows
        proba = _softmax(hidden @ self.weights_ + self.bias_)
        m = len(yb)
        picked = proba[np.arange(m), yb]
        loss = float(-np.log(np.clip(picked, 1e-12, None)).sum())
        hits = int((proba.argmax(axis=1) == yb).sum())
        proba[np.arange(m), yb] -= 1.0  # d(loss)/d(logits), summed over the batch: scaled to the mean below,
        grad_hidden = (proba @ self.weights_.T) / m  # on the small products, not the rows x classes matrix
        grad_w = (hidden.T @ proba) / m
        if self.l2:
            grad_w += self.l2 * self.weights_
        opt_w.step(self.weights_, grad_w, lr)
        opt_b.step(self.bias_, proba.sum(axis=0) / m, lr)
        opt_e.step(self.embeddings_, np.asarray(Xs.T @ grad_hidden, dtype=np.float32), lr, rows=cols)
        return loss, hits

    def decision_function(self, X: sp.spmatrix) -> np.ndarray:
        if "weights_" not in self.__dict__:
            check_is_fitted(self, "weights_")
        if X.shape[0] == 1:  # one row (serving): its columns' vectors weighted directly, no sparse product
            hidden = (np.asarray(X.data, dtype=np.float32) @ self.embeddings_[X.indices])[None, :]
        else:
            hidden = sp.csr_matrix(X, dtype=np.float32) @ self.embeddings_
        return hidden @ self.weights_ + self.bias_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # made for sparse text features
        return tags

    def predict_proba(self, X: sp.spmatrix) -> np.ndarray:
        return _softmax(self.decision_function(X))

    def predict(self, X: sp.spmatrix) -> np.ndarray:
        best = self.decision_function(X).argmax(axis=1)  # first: it says "not fitted" if so
        return self.classes_[best]


class Trainer:
    """Mini-batch Adam over chunks of rows, for ``epochs`` passes of ``rows_per_epoch`` rows (the class
    counts' sum): the learning rate falls linearly to a tenth over that many batches, wherever the rows
    come from. Optimizer state lives here and is dropped by ``finish``, so the fitted model pickles small."""

    def __init__(self, model: EmbeddingBagClassifier, n_features: int, classes: np.ndarray,
                 class_counts: np.ndarray) -> None:
        self.model, self.rng = model, np.random.default_rng(model.random_state)
        n_classes, rows = len(classes), int(class_counts.sum())
        model.classes_ = classes
        model.n_features_in_ = n_features
        model.embeddings_ = ((self.rng.random((n_features, model.dim), dtype=np.float32) - 0.5) /
                             model.dim).astype(np.float32)
        model.weights_ = np.zeros((model.dim, n_classes), dtype=np.float32)
        # the bias starts at the class log-priors: rare classes are not pushed up while the rest is learned
        model.bias_ = np.log(np.clip(class_counts / max(rows, 1), 1e-9, None)).astype(np.float32)
        model.history_ = []
        self.opt: tuple[_Adam, ...] = (_Adam(model.embeddings_.shape), _Adam(model.weights_.shape),
                                       _Adam(model.bias_.shape))
        self.total = max(1, -(-rows // model.batch_size)) * model.epochs
        self.done, self.epoch = 0, 1
        self._reset_epoch()

    def _reset_epoch(self) -> None:
        self.started, self.loss_sum, self.right, self.seen = time.perf_counter(), 0.0, 0, 0

    def train(self, X: sp.csr_matrix, codes: np.ndarray) -> None:
        """One shuffled pass over these rows in mini-batches."""
        model = self.model
        X = sp.csr_matrix(X, dtype=np.float32)
        order = self.rng.permutation(X.shape[0])
        for b in range(0, X.shape[0], model.batch_size):
            idx = np.sort(order[b:b + model.batch_size])
            lr = model.learning_rate * (1.0 - 0.9 * min(self.done, self.total) / self.total)
            loss, hits = model._step(X[idx], codes[idx], lr, *self.opt)
            self.loss_sum, self.right, self.seen, self.done = (self.loss_sum + loss, self.right + hits,
                                                               self.seen + len(idx), self.done + 1)
            if self.done % 200 == 0:  # the CLI shows the latest line (skuflow.cli.output.steps)
                log.info("epoch %d/%d, loss %.3f: batch %d/%d", self.epoch, model.epochs,
                         self.loss_sum / max(1, self.seen), self.done, self.total)

    def end_epoch(self) -> dict[str, float]:
        row = {"epoch": self.epoch, "loss": self.loss_sum / max(1, self.seen),
               "train_accuracy": self.right / max(1, self.seen), "seconds": time.perf_counter() - self.started}
        self.model.history_.append(row)
        self.epoch += 1
        self._reset_epoch()
        return row

    def finish(self) -> EmbeddingBagClassifier:
        self.opt = ()
        return self.model

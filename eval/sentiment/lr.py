"""L2-regularised logistic regression over sparse binary features, numpy only.

Training-time code (``eval/sentiment/train.py``); the bot scores with the
pure-Python dict look-ups of :mod:`bot.core.sentiment_model`. Several binary
heads are trained at once: their losses are independent, so one L-BFGS run
over all their weights is the same as one run per head, with a quarter of the
passes over the data. Deterministic: fixed iteration budget, no randomness,
and sums taken in a fixed order (``np.bincount``) on one BLAS thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


def vocabulary(docs: Iterable[set[str]], min_count: int = 2) -> dict[str, int]:
    """Feature name -> column, for features in at least ``min_count`` docs
    (a feature seen once is a fact about one post, not about a writer).
    Sorted, so the same docs always give the same columns."""
    counts: Counter[str] = Counter()
    for doc in docs:
        counts.update(doc)
    kept = sorted(name for name, n in counts.items() if n >= min_count or name == "bias")
    return {name: i for i, name in enumerate(kept)}


@dataclass(frozen=True)
class Sparse:
    """A binary documents x features matrix in coordinate form."""

    rows: np.ndarray
    cols: np.ndarray
    n_rows: int
    n_cols: int

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """X @ W for W of shape (n_cols, heads)."""
        out = np.empty((self.n_rows, weights.shape[1]))
        for k in range(weights.shape[1]):
            out[:, k] = np.bincount(self.rows, weights=weights[self.cols, k], minlength=self.n_rows)
        return out

    def tdot(self, grads: np.ndarray) -> np.ndarray:
        """X.T @ G for G of shape (n_rows, heads)."""
        out = np.empty((self.n_cols, grads.shape[1]))
        for k in range(grads.shape[1]):
            out[:, k] = np.bincount(self.cols, weights=grads[self.rows, k], minlength=self.n_cols)
        return out


def design(docs: Sequence[set[str]], vocab: dict[str, int]) -> Sparse:
    rows: list[int] = []
    cols: list[int] = []
    for i, doc in enumerate(docs):
        for col in sorted(vocab[name] for name in doc if name in vocab):
            rows.append(i)
            cols.append(col)
    return Sparse(
        np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), len(docs), len(vocab)
    )


def _loss_and_grad(
    x: Sparse, y: np.ndarray, w: np.ndarray, l2: float, penalised: np.ndarray, cost: np.ndarray
) -> tuple[float, np.ndarray]:
    z = x.dot(w)
    sign = 2.0 * y - 1.0
    margin = sign * z
    # log(1 + exp(-m)), stable for large |m|.
    loss = float(np.sum(cost * np.logaddexp(0.0, -margin)))
    d = -cost * sign / (1.0 + np.exp(margin))
    grad = x.tdot(d)
    wp = w * penalised[:, None]
    loss += 0.5 * l2 * float(np.sum(wp * wp))
    grad += l2 * wp
    return loss, grad


def fit(
    x: Sparse,
    y: np.ndarray,
    l2: float,
    bias_col: int,
    cost: np.ndarray | None = None,
    iterations: int = 200,
    memory: int = 10,
) -> np.ndarray:
    """Weights (n_cols, heads) minimising the summed log loss of each head
    (each item's loss times its ``cost``, shape of ``y``, default 1) plus
    ``l2``/2 times the squared weights (the bias is not penalised).
    ``y`` is (n_rows, heads) of 0/1."""
    if cost is None:
        cost = np.ones_like(y)
    penalised = np.ones(x.n_cols)
    penalised[bias_col] = 0.0
    w = np.zeros((x.n_cols, y.shape[1]))
    loss, grad = _loss_and_grad(x, y, w, l2, penalised, cost)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []
    for _ in range(iterations):
        g = grad.ravel()
        if float(np.max(np.abs(g))) < 1e-5:
            break
        # Two-loop recursion: the L-BFGS direction from the last steps.
        q = g.copy()
        alphas = []
        for s, t, rho in reversed(steps):
            a = rho * float(s @ q)
            alphas.append(a)
            q -= a * t
        if steps:
            s, t, _ = steps[-1]
            q *= float(s @ t) / float(t @ t)
        else:
            q /= max(1.0, float(np.linalg.norm(g)))
        for (s, t, rho), a in zip(steps, reversed(alphas), strict=True):
            b = rho * float(t @ q)
            q += (a - b) * s
        direction = -q.reshape(w.shape)
        slope = float(g @ direction.ravel())
        if slope >= 0:  # not a descent direction: restart from the gradient
            steps.clear()
            direction = -grad / max(1.0, float(np.linalg.norm(g)))
            slope = float(g @ direction.ravel())
        step = 1.0
        for _ in range(30):  # backtracking (Armijo)
            new_w = w + step * direction
            new_loss, new_grad = _loss_and_grad(x, y, new_w, l2, penalised, cost)
            if new_loss <= loss + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            break
        s_vec = (new_w - w).ravel()
        t_vec = (new_grad - grad).ravel()
        st = float(s_vec @ t_vec)
        if st > 1e-12:
            steps.append((s_vec, t_vec, 1.0 / st))
            if len(steps) > memory:
                steps.pop(0)
        converged = loss - new_loss < 1e-9 * max(1.0, abs(loss))
        w, loss, grad = new_w, new_loss, new_grad
        if converged:
            break
    return w

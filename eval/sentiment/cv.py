"""Leave-one-writer-out cross-validation for the trained sentiment model.

Each writer group is scored by a model trained on the other groups only
(its vocabulary too), and the out-of-fold scores are pooled. The decision
(thresholds, and whether the rules' complaint and urgent flags take part) is
chosen on the pooled out-of-fold scores, in the order of the brief's
priorities: (a) no complaint shown positive; (c) complaint F1, urgent F1 and
polarity accuracy at least those of the rules in the same pool; (b) among
those, the most praise shown positive minus praise shown negative.

Used by ``train.py`` (to choose) and ``bench/sentiment_eval.py --cv`` (to
print the table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.sentiment_model import HEADS, Decision

LABELS = ("negative", "neutral", "positive")
#: Thresholds tried: every 0.05, finer toward both ends (a positive card
#: may need a very confident positive head and a very calm complaint head).
GRID = (0.01, 0.02, 0.03, 0.04) + tuple(round(0.05 * i, 2) for i in range(1, 20))
GRID += (0.96, 0.97, 0.98, 0.99, 0.995, 0.999)


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


@dataclass
class Scores:
    """Per item: the gold labels, the rules' answer and the model's logits."""

    gold_label: np.ndarray  # index into LABELS
    gold_complaint: np.ndarray
    gold_urgent: np.ndarray
    rules_label: np.ndarray
    rules_complaint: np.ndarray
    rules_urgent: np.ndarray
    logits: np.ndarray  # (n, len(HEADS))

    def take(self, mask: np.ndarray) -> Scores:
        return Scores(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


@dataclass
class Metrics:
    n: int = 0
    confusion: list[list[int]] = field(default_factory=lambda: [[0] * 3 for _ in range(3)])
    complaint: tuple[int, int, int] = (0, 0, 0)  # tp, fp, fn
    urgent: tuple[int, int, int] = (0, 0, 0)
    complaints: int = 0
    complaints_positive: int = 0
    praise: int = 0
    praise_positive: int = 0
    praise_negative: int = 0

    @property
    def accuracy(self) -> float:
        return sum(self.confusion[i][i] for i in range(3)) / self.n if self.n else 0.0

    @staticmethod
    def f1(tp_fp_fn: tuple[int, int, int]) -> float:
        tp, fp, fn = tp_fp_fn
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    @staticmethod
    def pr(tp_fp_fn: tuple[int, int, int]) -> str:
        tp, fp, fn = tp_fp_fn
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return f"{100 * p:.1f}/{100 * r:.1f}"


def _counts(gold: np.ndarray, got: np.ndarray) -> tuple[int, int, int]:
    return (
        int(np.sum(gold & got)),
        int(np.sum(~gold & got)),
        int(np.sum(gold & ~got)),
    )


def measure(s: Scores, label: np.ndarray, complaint: np.ndarray, urgent: np.ndarray) -> Metrics:
    m = Metrics(n=len(label))
    for g in range(3):
        for p in range(3):
            m.confusion[g][p] = int(np.sum((s.gold_label == g) & (label == p)))
    m.complaint = _counts(s.gold_complaint, complaint)
    m.urgent = _counts(s.gold_urgent, urgent)
    m.complaints = int(np.sum(s.gold_complaint))
    m.complaints_positive = int(np.sum(s.gold_complaint & (label == 2)))
    praise = s.gold_label == 2
    m.praise = int(np.sum(praise))
    m.praise_positive = int(np.sum(praise & (label == 2)))
    m.praise_negative = int(np.sum(praise & (label == 0)))
    return m


def rules_metrics(s: Scores) -> Metrics:
    return measure(s, s.rules_label, s.rules_complaint, s.rules_urgent)


def apply(s: Scores, d: Decision) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:meth:`bot.core.sentiment_model.LinearSentiment.decide`, vectorised."""
    c, p, n, u = (s.logits[:, HEADS.index(h)] for h in HEADS)
    complaint = c >= logit(d.complaint)
    if d.complaint_or_rules:
        complaint = complaint | s.rules_complaint
    urgent = u >= logit(d.urgent)
    if d.urgent_or_rules:
        urgent = urgent | s.rules_urgent
    positive = ~complaint & (p >= logit(d.positive)) & (c < logit(d.guard))
    negative = complaint | (~positive & (n >= logit(d.negative)))
    label = np.where(negative, 0, np.where(positive, 2, 1))
    return label, complaint, urgent


def choose(s: Scores, bound: np.ndarray | None = None) -> Decision | None:
    """The decision over the grid, by the priorities in the module docstring.

    (a) is checked on every item. (c) is checked on the ``bound`` items
    only: the rules were written while reading some groups, and on those
    their figures are in-sample, a bar no out-of-fold model is meant to
    clear. When no setting meets (c) the best compromise is taken: the sum
    of the praise score (b), the polarity items right and the complaint F1
    (as items: F1 times the complaints), each as a share of the rules'.
    None when no setting keeps every complaint off positive.
    """
    if bound is None:
        bound = np.ones(len(s.gold_label), dtype=bool)
    base = rules_metrics(s.take(bound))
    c_raw, p_raw, n_raw, u_raw = (s.logits[:, i] for i in range(4))
    # Urgent is independent of the rest: the best F1.
    best_u: tuple[float, float, bool] = (-1.0, 0.5, False)
    for flag in (False, True):
        for t in GRID:
            got = u_raw >= logit(t)
            if flag:
                got = got | s.rules_urgent
            f1 = Metrics.f1(_counts(s.gold_urgent, got))
            if f1 > best_u[0] + 1e-12:
                best_u = (f1, t, flag)
    gold_praise = s.gold_label == 2
    n_logits = np.array([logit(t) for t in GRID])
    negative_at = n_raw[:, None] >= n_logits[None, :]  # (items, thresholds)
    base_f1 = Metrics.f1(base.complaint)
    base_right = base.accuracy * int(np.sum(bound))
    best: tuple[tuple[float, ...], Decision] | None = None
    for flag in (False, True):
        for tc in GRID:
            complaint = c_raw >= logit(tc)
            if flag:
                complaint = complaint | s.rules_complaint
            c_f1 = Metrics.f1(_counts(s.gold_complaint[bound], complaint[bound]))
            for tg in (g for g in GRID if g <= tc):
                calm = ~complaint & (c_raw < logit(tg))
                for tp in GRID:
                    positive = calm & (p_raw >= logit(tp))
                    if np.any(positive & s.gold_complaint):
                        continue
                    negative = complaint[:, None] | (~positive[:, None] & negative_at)
                    label = np.where(negative, 0, np.where(positive[:, None], 2, 1))
                    right = np.sum((label == s.gold_label[:, None]) & bound[:, None], axis=0)
                    praise = np.sum(gold_praise & positive) - np.sum(
                        gold_praise[:, None] & negative, axis=0
                    )
                    meets = (right >= base_right - 1e-9) & (c_f1 >= base_f1)
                    blend = praise / max(1, base.praise) + right / max(1.0, base_right)
                    blend = blend + c_f1 / max(1e-9, base_f1)
                    for k, tn in enumerate(GRID):
                        key = (float(meets[k]), float(praise[k]) if meets[k] else float(blend[k]),
                               float(right[k]), c_f1)
                        if best is None or key > best[0]:
                            best = (key, Decision(tc, tg, tp, tn, best_u[1], flag, best_u[2]))
    return None if best is None else best[1]


def table(rows: Sequence[tuple[str, Metrics, Metrics]]) -> str:
    """A markdown table, one line per (group, before, after)."""
    head = (
        "| group | n | engine | polarity acc | complaint P/R (F1) | urgent P/R (F1) "
        "| complaints shown positive | praise shown positive | praise shown negative |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for name, before, after in rows:
        for engine, m in (("rules", before), ("model", after)):
            lines.append(
                f"| {name} | {m.n} | {engine} | {100 * m.accuracy:.1f}% "
                f"| {Metrics.pr(m.complaint)} ({100 * Metrics.f1(m.complaint):.1f}) "
                f"| {Metrics.pr(m.urgent)} ({100 * Metrics.f1(m.urgent):.1f}) "
                f"| {m.complaints_positive} of {m.complaints} "
                f"| {m.praise_positive} of {m.praise} | {m.praise_negative} of {m.praise} |"
            )
    return head + "\n".join(lines)


def confusion_lines(name: str, m: Metrics) -> str:
    rows = [f"{name} confusion (rows gold, columns shown: neg neu pos)"]
    for g, label in enumerate(LABELS):
        rows.append(f"  {label:<8} " + " ".join(f"{v:4d}" for v in m.confusion[g]))
    return "\n".join(rows)

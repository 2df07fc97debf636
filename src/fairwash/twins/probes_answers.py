"""A model known only by its answers: how a decision is read from what a model returns.

An ONNX file, a Python callable and an HTTP endpoint return, for each row, an *answer*:
a decision 0/1 (a label; ``True``/``False`` count as 1/0) or an approval probability
P(ŷ = 1) in [0, 1]; a pair of class probabilities ``(P(ŷ = 0), P(ŷ = 1))`` per row (an
array of shape (n, 2), or scikit-learn's / skl2onnx's ``{0: p0, 1: p1}`` per row) gives
its second one.  One rule reads every answer:

.. math:: \\hat y = \\mathbb 1\\{a \\ge t\\}, \\qquad t = 0.5 \\text{ unless a threshold is given},

which for a label is the label itself (any ``t`` in (0, 1]).  Anything else (a 7, a
negative number, a string, a missing value, the wrong number of answers) is refused
with a :class:`~fairwash.data.base.DataError` naming the model and the offending value:
the audit never guesses what a non-binary answer means.

:class:`AnswerModel` turns an answer function into the ``predict`` / ``predict_proba``
pair :class:`~fairwash.twins.probe.ModelProbe` needs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import DataError
from fairwash.text import shown

__all__ = ["AnswerModel", "read_answers"]


def _from_maps(values: Sequence[Any], where: str) -> list[Any]:
    """P(ŷ = 1) from per-row class-probability maps ``{0: p0, 1: p1}`` (ZipMap)."""
    out = []
    for i, m in enumerate(values):
        for key in (1, "1", True, 1.0):
            if key in m:
                out.append(m[key])
                break
        else:
            raise DataError(f"{where}: row {i} answered class probabilities {shown(repr(dict(m)))} "
                            "without class 1 (the favourable decision)")
    return out


def read_answers(values: Any, n: int, where: str) -> np.ndarray:
    """A model's answers to ``n`` rows as P(ŷ = 1), float64 in [0, 1] (labels are 0.0 / 1.0).

    Parameters
    ----------
    values : array-like
        Shape (n,) decisions or probabilities, (n, 1), (n, 2) class probabilities
        (the second column is P(ŷ = 1)), or a sequence of ``{class: probability}`` maps.
    n : int
        The number of rows asked.
    where : str
        The model, for the error messages (``"endpoint http://..."``).

    Raises
    ------
    DataError
        The wrong number of answers, or an answer that is neither a decision 0/1 nor a
        probability in [0, 1].
    """
    if isinstance(values, pd.DataFrame | pd.Series):
        values = values.to_numpy()
    if isinstance(values, Sequence) and values and all(isinstance(v, Mapping) for v in values):
        values = _from_maps(values, where)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        sample = list(np.asarray(values, dtype=object).reshape(-1)[:3])
        raise DataError(f"{where}: answers are not numbers (first: {shown(repr(sample))}); expected "
                        "decisions 0/1 or probabilities in [0, 1]") from None
    if arr.ndim == 2 and arr.shape[1] in (1, 2):
        arr = arr[:, -1]
    if arr.ndim != 1:
        raise DataError(f"{where}: answers of shape {arr.shape} for {n} rows; expected ({n},) decisions or "
                        f"probabilities, or ({n}, 2) class probabilities")
    if arr.size != n:
        raise DataError(f"{where}: {arr.size} answer(s) for {n} row(s) asked")
    bad = ~(np.isfinite(arr) & (arr >= 0) & (arr <= 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{where}: answer {arr[i]:g} (row {i} of {n}; {int(bad.sum())} such) is neither a "
                        "decision 0/1 nor a probability in [0, 1]")
    return arr


class AnswerModel:
    """``predict`` / ``predict_proba`` of a model known by an answer function.

    Parameters
    ----------
    answer : callable
        DataFrame of the model's inputs (float64 columns ``feature_columns``, in that
        order) to answers (see :func:`read_answers`).
    feature_columns : sequence of str
        The model's inputs, in its order.
    where : str
        The model, for the error messages.
    threshold : float, default 0.5
        The decision is ``answer >= threshold``.
    ledger : object, optional
        The queries spent (an HTTP endpoint's :class:`~fairwash.twins.probes_http.QueryLedger`).

    Notes
    -----
    The last frame's answers are kept: the audit asks for the decisions and then the
    probabilities of the same twins, which costs one evaluation (one query), not two.
    """

    def __init__(self, answer: Callable[[pd.DataFrame], Any], feature_columns: Sequence[str], where: str,
                 threshold: float = 0.5, ledger: Any = None) -> None:
        self.answer = answer
        self.feature_names_in_ = np.asarray(list(feature_columns), dtype=object)
        self.where = where
        self.threshold = float(threshold)
        self.ledger = ledger
        self._last: tuple[str, np.ndarray] | None = None

    def _answers(self, X: pd.DataFrame) -> np.ndarray:
        frame = pd.DataFrame(np.asarray(X, dtype=np.float64), columns=list(self.feature_names_in_))
        key = hashlib.sha256(np.ascontiguousarray(frame.to_numpy()).tobytes()).hexdigest()
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        p = read_answers(self.answer(frame), len(frame), self.where)
        self._last = (key, p)
        return p

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Decisions ``answer >= threshold`` (int8 0/1), shape (n,)."""
        return (self._answers(X) >= self.threshold).astype(np.int8)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The answers as P(ŷ = 1), shape (n,) (a label-only model gives its labels 0.0 / 1.0)."""
        return self._answers(X)

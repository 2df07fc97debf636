"""The explicit rules that turn the sensitive column into S and the outcome into Ŷ."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import DataError
from fairwash.inputs.columns import _distinct, _fmt, _kind
from fairwash.text import quoted, shown

__all__ = ["SRule", "OutcomeRule", "_s_rule", "_outcome_rule"]


def _equals(series: pd.Series, value: Any, column: str, where: str, flag: str) -> np.ndarray:
    """Boolean mask ``series == value`` where ``value`` may be a command-line string."""
    kind = _kind(series)
    if kind == "numeric":
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise DataError(
                f"{where}: {flag} {quoted(value)} is not a number, but column {quoted(column)} is "
                f"numeric with values "
                f"{_distinct(series)}"
            ) from None
        return series.to_numpy(dtype=np.float64) == v
    if kind == "bool":
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0"):
            raise DataError(f"{where}: {flag} {quoted(value)}: column {quoted(column)} is True/False")
        return series.to_numpy(dtype=bool) == (text in ("true", "1"))
    return series.astype(str).to_numpy() == str(value)


@dataclass(frozen=True)
class SRule:
    """How the sensitive column becomes S (0 = disadvantaged group).

    ``kind`` is ``"value"`` (S = 0 iff the column equals ``value``) or ``"threshold"``
    (S = 1 iff the column is greater than ``threshold``).
    """

    column: str
    kind: str
    value: Any = None
    threshold: float | None = None
    others: tuple[str, ...] = ()

    def apply(self, series: pd.Series, where: str) -> np.ndarray:
        if self.kind == "threshold":
            if _kind(series) != "numeric":
                raise DataError(
                    f"{where}: --s-threshold needs a numeric sensitive column, but "
                    f"{quoted(self.column)} holds "
                    f"text values {_distinct(series)}; use --s0 VALUE instead"
                )
            return (series.to_numpy(dtype=np.float64) > float(self.threshold)).astype(np.int8)
        return (~_equals(series, self.value, self.column, where, "--s0")).astype(np.int8)

    def describe(self) -> str:
        if self.kind == "threshold":
            t = _fmt(self.threshold)
            c = shown(self.column, 80)
            return f"S = 1 where {c} > {t}; S = 0 (the disadvantaged group) where {c} <= {t}"
        rest = ", ".join(self.others[:6]) + (", ..." if len(self.others) > 6 else "")
        return (f"S = 0 (the disadvantaged group) where {shown(self.column, 80)} == {_fmt(self.value)}; "
                f"S = 1 otherwise ({rest})")

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "value": self.value,
                "threshold": self.threshold, "rule": self.describe()}


@dataclass(frozen=True)
class OutcomeRule:
    """How the outcome column becomes Ŷ (1 = favourable decision)."""

    column: str
    positive: Any
    explicit: bool
    negatives: tuple[str, ...] = ()

    def apply(self, series: pd.Series, where: str) -> np.ndarray:
        return _equals(series, self.positive, self.column, where, "--positive").astype(np.int8)

    def describe(self) -> str:
        how = "" if self.explicit else " (the column is 0/1)"
        return f"Ŷ = 1 (favourable) where {shown(self.column, 80)} == {_fmt(self.positive)}, 0 otherwise{how}"

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "positive": self.positive, "rule": self.describe()}


def _s_rule(series: pd.Series, column: str, where: str, s0: Any, s_threshold: Any) -> SRule:
    if s0 is not None and s_threshold is not None:
        raise DataError("give either --s0 VALUE or --s-threshold T for the sensitive attribute, not both")
    values = series.dropna()
    n_values = values.nunique()
    if n_values < 2:
        raise DataError(
            f"{where}: the sensitive column {quoted(column)} takes only the value(s) {_distinct(series)}; "
            "both groups are needed to audit Disparate Impact"
        )
    if s_threshold is not None:
        try:
            t = float(s_threshold)
        except (TypeError, ValueError):
            raise DataError(f"--s-threshold {quoted(s_threshold)} is not a number") from None
        rule = SRule(column, "threshold", threshold=t)
        s = rule.apply(values, where)
        if s.min() == s.max():
            raise DataError(
                f"{where}: --s-threshold {shown(s_threshold)} puts every row of {quoted(column)} in "
                f"one group "
                f"(S = {int(s[0])}); the column ranges from {_fmt(values.min())} to {_fmt(values.max())}"
            )
        return rule
    if s0 is not None:
        mask = _equals(values, s0, column, where, "--s0")
        if not mask.any():
            near = difflib.get_close_matches(str(s0), [str(v) for v in pd.unique(values)], n=3)
            hint = f" (did you mean {' or '.join(map(quoted, near))}?)" if near else ""
            raise DataError(
                f"{where}: --s0 {quoted(s0)} does not occur in the sensitive column {quoted(column)}{hint}; "
                f"its values are {_distinct(series)}"
            )
        value: Any = s0
        kind = _kind(values)
        if kind == "numeric":
            value = float(s0)
            value = int(value) if value.is_integer() else value
        others = tuple(_fmt(v) for v in pd.unique(values[~mask]))
        return SRule(column, "value", value=value, others=others)
    # no rule: never guess which group is disadvantaged
    if n_values == 2:
        a, b = (_fmt(v) for v in sorted(pd.unique(values), key=str))
        raise DataError(
            f"{where}: the sensitive column {quoted(column)} has two values, {a} and {b}. Say which "
            f"one is the "
            f"disadvantaged group (S = 0) with --s0: e.g. --s0 {a.strip(chr(39))} or "
            f"--s0 {b.strip(chr(39))}. "
            "fairwash does not guess: Disparate Impact is P(Ŷ=1 | S=0) / P(Ŷ=1 | S=1) and the choice "
            "decides what is audited."
        )
    hint = (" or --s-threshold T (S = 1 where the value is greater than T, e.g. an age limit)"
            if _kind(values) == "numeric" else "")
    raise DataError(
        f"{where}: the sensitive column {quoted(column)} has {n_values} distinct values {_distinct(series)}; "
        f"binarise it explicitly with --s0 VALUE (S = 0 for that value, S = 1 for all others){hint}"
    )


def _outcome_rule(series: pd.Series, column: str, where: str, positive: Any) -> OutcomeRule:
    values = series.dropna()
    if positive is not None:
        mask = _equals(values, positive, column, where, "--positive")
        if not mask.any():
            raise DataError(
                f"{where}: --positive {quoted(positive)} does not occur in the outcome column "
                f"{quoted(column)}; "
                f"its values are {_distinct(series)}"
            )
        if mask.all():
            raise DataError(f"{where}: every row of {quoted(column)} equals --positive {quoted(positive)}; "
                            "Disparate Impact needs both decisions")
        value: Any = positive
        if _kind(values) == "numeric":
            value = float(positive)
            value = int(value) if value.is_integer() else value
        negatives = tuple(_fmt(v) for v in pd.unique(values[~mask]))
        return OutcomeRule(column, value, True, negatives)
    kind = _kind(values)
    uniq = pd.unique(values)
    zero_one = kind == "numeric" and set(np.asarray(uniq, dtype=np.float64).tolist()) <= {0.0, 1.0}
    if kind == "bool" or zero_one:
        if len(uniq) < 2:
            raise DataError(f"{where}: the outcome column {quoted(column)} takes the single value "
                            f"{_distinct(series)}; Disparate Impact needs both decisions")
        return OutcomeRule(column, True if kind == "bool" else 1, False, ("0",))
    if len(uniq) == 2:
        a, b = (_fmt(v) for v in sorted(uniq, key=str))
        raise DataError(
            f"{where}: the outcome column {quoted(column)} has the values {a} and {b}, not 0/1; name the "
            f"favourable decision with --positive (e.g. --positive {b.strip(chr(39))})"
        )
    raise DataError(
        f"{where}: the outcome column {quoted(column)} must be the model's binary decision; it has "
        f"{len(uniq)} "
        f"distinct values {_distinct(series)}. Use --positive VALUE (Ŷ = 1 for that value, 0 otherwise) "
        "or give the decision column"
    )


# ----------------------------------------------------------------------------- encoding

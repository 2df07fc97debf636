"""One-hot encoding and standardisation fitted on the full data, applied to both files."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import DataError
from fairwash.inputs.columns import _kind
from fairwash.protocol.limits import DEFAULT_READ_LIMITS, fmt_bytes
from fairwash.text import quoted, shown, shown_list

__all__ = ["MAX_LEVELS", "Encoding", "_fit_encoding"]

#: A text column with more distinct values than this is refused as a feature (an identifier?).
MAX_LEVELS = 50
#: Float64 copies of the encoded feature matrix held at once while it is built and standardised
#: (the raw one-hot matrix, the standardised one, and a temporary of the same size).
ENCODED_COPIES = 3


@dataclass(frozen=True)
class Encoding:
    """The feature encoding fitted on the full data and applied to both files.

    Attributes
    ----------
    features : tuple of str
        Original feature columns, in order.
    categorical : dict[str, tuple[str, ...]]
        Text columns and their levels (sorted, fitted on the full data); each becomes
        one 0/1 column ``"{column}={level}"`` per level.
    columns : tuple of str
        The encoded columns.
    mean, scale : ndarray, shape (len(columns),)
        Standardisation fitted on the full data (population std; 1 for a constant column).
    """

    features: tuple[str, ...]
    categorical: dict[str, tuple[str, ...]]
    columns: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray

    def encode(self, frame: pd.DataFrame, where: str) -> np.ndarray:
        """Raw feature columns of ``frame`` -> standardised encoded matrix, shape (n, len(columns))."""
        blocks = []
        for col in self.features:
            if col in self.categorical:
                levels = self.categorical[col]
                text = frame[col].astype(str).to_numpy()
                known = np.isin(text, levels)
                if not known.all():
                    bad = pd.unique(text[~known])
                    raise DataError(
                        f"{where}: column {quoted(col)} has value(s) {shown_list(bad, 5)} that the full "
                        f"data never takes ({int((~known).sum())} row(s)); its levels there are "
                        f"{shown_list(levels, 20)}"
                    )
                blocks.append((text[:, None] == np.asarray(levels)[None, :]).astype(np.float64))
            else:
                blocks.append(frame[col].to_numpy(dtype=np.float64)[:, None])
        raw = np.hstack(blocks) if blocks else np.empty((len(frame), 0))
        return (raw - self.mean) / self.scale

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the names and levels (from the files) :func:`~fairwash.text.shown`."""
        return {
            "features": [shown(c) for c in self.features],
            "categorical": {shown(k): [shown(v) for v in lv] for k, lv in self.categorical.items()},
            "columns": [shown(c) for c in self.columns],
        }


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([,.' ]\d{3})+([.,]\d+)?$")


def _numbers_as_text(series: pd.Series, col: str, where: str) -> None:
    """Explain a text column of numbers: a placeholder such as ``?`` or thousands separators.

    Raises
    ------
    DataError
        Most values parse as numbers but some do not (the placeholders are named with their
        row counts), or the values are numbers written with thousands separators.
    """
    text = series.dropna().astype(str).str.strip()
    if text.empty:
        return
    numeric = pd.to_numeric(text, errors="coerce").notna()
    grouped = text.str.match(_THOUSANDS)
    if grouped.mean() > 0.5 and (numeric | grouped).all():
        example = text[grouped].iloc[0]
        raise DataError(
            f"{where}: column {quoted(col)} holds numbers written with thousands separators (e.g. "
            f"{quoted(example)}, {int(grouped.sum())} row(s)), so it reads as text; write the numbers "
            "without separators (a spreadsheet's plain number format), or leave the column out with "
            f"--exclude {shown(col)}"
        )
    if numeric.mean() > 0.5:
        others = text[~numeric].value_counts()
        listed = ", ".join(f"{quoted(v, 40)} ({int(k)} row(s))" for v, k in others.head(5).items())
        raise DataError(
            f"{where}: column {quoted(col)} holds numbers except for {listed}, so it reads as text; "
            "a placeholder for a missing value? Leave such cells empty (then --drop-missing drops "
            f"those rows), fix the file, or leave the column out with --exclude {shown(col)}"
        )


def _check_width(n_rows: int, names: Sequence[str], cats: dict[str, tuple[str, ...]], where: str,
                 max_bytes: int) -> None:
    """Refuse an encoded feature matrix (``n_rows`` x one column per level) above ``max_bytes``."""
    need = int(n_rows) * len(names) * ENCODED_COPIES * 8
    if need > max_bytes:
        widest = max(cats, key=lambda c: len(cats[c])) if cats else None
        why = (f"; the widest is {quoted(widest)} with {len(cats[widest]):,} levels" if widest else "")
        raise DataError(
            f"{where}: {n_rows:,} rows x {len(names):,} encoded feature columns (one per text level{why}) "
            f"would take about {fmt_bytes(need)} in memory, more than the limit of {fmt_bytes(max_bytes)} "
            "(--max-bytes); leave wide text columns out with --exclude, or raise the limit"
        )


def _fit_encoding(frame: pd.DataFrame, features: Sequence[str], categorical: Sequence[str],
                  where: str, max_levels: int, max_bytes: int = DEFAULT_READ_LIMITS.max_bytes) -> Encoding:
    cats: dict[str, tuple[str, ...]] = {}
    names: list[str] = []
    for col in features:
        kind = _kind(frame[col])
        if kind == "text" or col in categorical:
            levels = tuple(sorted(pd.unique(frame[col].astype(str))))
            if len(levels) > max_levels:
                if col not in categorical:
                    _numbers_as_text(frame[col], col, where)
                raise DataError(
                    f"{where}: the text column {quoted(col)} has {len(levels)} distinct values (e.g. "
                    f"{shown_list(levels[:3])}); it looks like an identifier or free text, not a "
                    f"feature. Leave it "
                    f"out with --exclude {shown(col)}, or allow more levels with --max-levels"
                )
            cats[col] = levels
            names.extend(f"{col}={lv}" for lv in levels)
        else:
            names.append(col)
    _check_width(len(frame), names, cats, where, max_bytes)
    enc = Encoding(tuple(features), cats, tuple(names), np.zeros(len(names)), np.ones(len(names)))
    raw = enc.encode(frame, where)
    mean = raw.mean(axis=0) if len(raw) else np.zeros(len(names))
    scale = raw.std(axis=0) if len(raw) else np.ones(len(names))
    scale[~(scale > 0)] = 1.0
    return Encoding(enc.features, cats, enc.columns, mean, scale)


# ----------------------------------------------------------------------------- report

"""One-hot encoding and standardisation fitted on the full data, applied to both files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import DataError
from fairwash.inputs.columns import _kind

__all__ = ["MAX_LEVELS", "Encoding", "_fit_encoding"]

#: A text column with more distinct values than this is refused as a feature (an identifier?).
MAX_LEVELS = 50


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
                        f"{where}: column {col!r} has value(s) {[str(b) for b in bad[:5]]} that the full "
                        f"data never takes ({int((~known).sum())} row(s)); its levels there are "
                        f"{list(levels)[:20]}"
                    )
                blocks.append((text[:, None] == np.asarray(levels)[None, :]).astype(np.float64))
            else:
                blocks.append(frame[col].to_numpy(dtype=np.float64)[:, None])
        raw = np.hstack(blocks) if blocks else np.empty((len(frame), 0))
        return (raw - self.mean) / self.scale

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "categorical": {k: list(v) for k, v in self.categorical.items()},
            "columns": list(self.columns),
        }


def _fit_encoding(frame: pd.DataFrame, features: Sequence[str], categorical: Sequence[str],
                  where: str, max_levels: int) -> Encoding:
    cats: dict[str, tuple[str, ...]] = {}
    names: list[str] = []
    for col in features:
        kind = _kind(frame[col])
        if kind == "text" or col in categorical:
            levels = tuple(sorted(pd.unique(frame[col].astype(str))))
            if len(levels) > max_levels:
                raise DataError(
                    f"{where}: the text column {col!r} has {len(levels)} distinct values (e.g. "
                    f"{list(levels[:3])}); it looks like an identifier or free text, not a feature. Leave it "
                    f"out with --exclude {col}, or allow more levels with --max-levels"
                )
            cats[col] = levels
            names.extend(f"{col}={lv}" for lv in levels)
        else:
            names.append(col)
    enc = Encoding(tuple(features), cats, tuple(names), np.zeros(len(names)), np.ones(len(names)))
    raw = enc.encode(frame, where)
    mean = raw.mean(axis=0) if len(raw) else np.zeros(len(names))
    scale = raw.std(axis=0) if len(raw) else np.ones(len(names))
    scale[~(scale > 0)] = 1.0
    return Encoding(enc.features, cats, enc.columns, mean, scale)


# ----------------------------------------------------------------------------- report

"""Column checks and value formatting shared by the input rules: errors that name the file,
the column and the value, with close matches for a misspelt column."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import DataError
from fairwash.text import quoted, shown

__all__ = ["check_columns"]


def _label(frame: pd.DataFrame, default: str) -> str:
    return shown(frame.attrs.get("path", default), 300)


def _close(name: str, choices: Sequence[str]) -> list[str]:
    near = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    lower = {c.lower(): c for c in choices}
    if name.lower() in lower and lower[name.lower()] not in near:
        near.insert(0, lower[name.lower()])
    return near


def _show_columns(columns: Sequence[str], limit: int = 40) -> str:
    cols = list(columns)
    text = ", ".join(shown(c, 80) for c in cols[:limit])
    return text + (f", ... ({len(cols) - limit} more)" if len(cols) > limit else "")


def check_columns(frame: pd.DataFrame, names: Sequence[str], role: str, where: str) -> None:
    """Raise a :class:`DataError` if a column of ``names`` is not in ``frame``.

    The message names each missing column, its role (``role``), the closest existing
    names (difflib) and every available column.
    """
    cols = list(frame.columns)
    missing = [c for c in names if c not in cols]
    if not missing:
        return
    parts = []
    for c in missing:
        near = _close(c, cols)
        parts.append(quoted(c) + (f" (did you mean {' or '.join(map(quoted, near))}?)" if near else ""))
    raise DataError(
        f"{where}: no {role + ' ' if role else ''}column {', '.join(parts)}. "
        f"Available columns: {_show_columns(cols)}"
    )


# ----------------------------------------------------------------------------- rules
def _kind(series: pd.Series) -> str:
    """``numeric``, ``bool`` or ``text`` (anything else: strings, categories, mixed)."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    return "text"


def _fmt(v: Any) -> str:
    """A value of a user's column for a message: numbers as numbers, text :func:`quoted`."""
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return repr(int(v))
    if isinstance(v, np.generic):
        v = v.item()
    return quoted(v, 80) if isinstance(v, str) else shown(repr(v), 80)


def _distinct(series: pd.Series, limit: int = 12) -> str:
    vals = pd.unique(series.dropna())
    try:
        vals = sorted(vals)
    except TypeError:
        vals = sorted(vals, key=str)
    text = ", ".join(_fmt(v) for v in vals[:limit])
    return "[" + text + (f", ... ({len(vals) - limit} more)" if len(vals) > limit else "") + "]"

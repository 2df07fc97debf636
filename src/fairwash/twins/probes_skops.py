"""The probe of a scikit-learn estimator or pipeline saved with skops, never with pickle.

A model file from an auditee is untrusted: :func:`skops_probe` first lists the types the
file would instantiate that skops does not trust by default
(:func:`skops.io.get_untrusted_types`), refuses the file if any of them is not in
``trust`` (naming every one), and only then loads it with ``skops.io.load(trusted=...)``,
which executes no pickled code.  A pickle or joblib file is refused outright.

The estimator's classes must be 0 and 1 (1 the favourable decision).  Its decision is
its own ``predict`` unless a threshold is given (then ``predict_proba[:, 1] >= threshold``);
its inputs are its ``feature_names_in_`` (fitted on a DataFrame) or the ``feature_columns``
given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairwash.data.base import DataError
from fairwash.text import shown
from fairwash.twins.probe import ModelProbe
from fairwash.twins.probes_answers import AnswerModel

__all__ = ["PICKLE_SUFFIXES", "skops_probe", "untrusted_types"]

#: File suffixes of pickled models, which fairwash never loads.
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav")


def untrusted_types(path: str | Path) -> list[str]:
    """The types in the skops file ``path`` that skops does not trust by default."""
    import skops.io as sio  # optional at import time: only a skops model needs it

    try:
        return sorted(sio.get_untrusted_types(file=str(path)))
    except Exception as exc:  # a damaged or foreign file: zipfile, json and skops errors alike
        raise DataError(f"skops model {path}: not a readable skops file "
                        f"({type(exc).__name__}: {shown(exc, 200)})") from None


def _check_classes(est: Any, where: str) -> None:
    classes = getattr(est, "classes_", None)
    if classes is None:
        return
    labels = [c.item() if isinstance(c, np.generic) else c for c in classes]
    if not set(labels) <= {0, 1} or isinstance(labels[0], str):
        raise DataError(f"{where}: the classifier's classes are {shown(labels)}; the twin audit needs "
                        "decisions 0/1, 1 the favourable one (re-fit it on a 0/1 target)")


def skops_probe(
    path: str | Path,
    feature_columns: Sequence[str] | None = None,
    *,
    trust: Iterable[str] = (),
    threshold: float | None = None,
) -> ModelProbe:
    """The probe of the skops file ``path``, after its trusted-types check.

    Parameters
    ----------
    path : str or Path
        A ``.skops`` file (``skops.io.dump``).
    feature_columns : sequence of str, optional
        The estimator's inputs in its order; required when it was fitted on an array
        (no ``feature_names_in_``), else a check.
    trust : iterable of str
        Types (``module.Name``, as the refusal names them) to trust beyond skops' defaults.
    threshold : float, optional
        Approve when ``predict_proba[:, 1] >= threshold`` (default: the estimator's ``predict``).

    Raises
    ------
    DataError
        A pickle file, an untrusted type not in ``trust`` (named), classes other than
        0/1, or inputs that disagree with ``feature_columns``.
    """
    import skops.io as sio  # optional at import time: only a skops model needs it

    where = f"skops model {path}"
    if Path(path).suffix.lower() in PICKLE_SUFFIXES:
        raise DataError(f"{where}: a pickle file can run arbitrary code when loaded and is never read; "
                        "save the estimator with skops.io.dump, or export it to ONNX")
    if not Path(path).is_file():
        raise DataError(f"{where}: no such file")
    untrusted = untrusted_types(path)
    refused = [t for t in untrusted if t not in set(trust)]
    if refused:
        more = f" and {len(refused) - 10} more" if len(refused) > 10 else ""
        names = ", ".join(shown(t, 80) for t in refused[:10]) + more
        plain = not more and all(re.fullmatch(r"[\w.]+", t) for t in refused)
        hint = (f"pass --trust {','.join(refused)} (trust=[...] in the library)" if plain
                else "list them with --trust (trust=[...] in the library)")
        raise DataError(f"{where}: untrusted type(s) {names}; loading would run their code. If you trust "
                        f"them, {hint}")
    est = sio.load(str(path), trusted=untrusted)
    _check_classes(est, where)
    names = getattr(est, "feature_names_in_", None)
    cols = [str(c) for c in names] if names is not None else None
    if cols and feature_columns and list(feature_columns) != cols:
        raise DataError(f"{where}: the estimator was fitted on columns {shown(cols)}, but "
                        f"{list(feature_columns)} were named")
    cols = cols or (list(feature_columns) if feature_columns else None)
    if not cols:
        raise DataError(f"{where}: the estimator was fitted on an array and records no column names; "
                        "give --feature-columns in the order it was fitted on")
    if not callable(getattr(est, "predict_proba", None)):
        if not callable(getattr(est, "predict", None)):
            raise DataError(f"{where}: a {type(est).__name__} has neither predict nor predict_proba")
        if threshold is not None:
            raise DataError(f"{where}: a {type(est).__name__} has no predict_proba; --threshold needs one")
        est = AnswerModel(est.predict, cols, where)  # labels only: read by the one rule
    return ModelProbe.of(est, cols, threshold=threshold, kind="skops", source=str(path))

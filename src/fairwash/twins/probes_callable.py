"""The probe of a Python callable: ``module:function`` or ``path/to/file.py:function``.

For code the user controls (its own model wrapper, a scoring function): loading it
imports and runs that code, so never point it at a file from an auditee.  The function
takes a DataFrame of the model's inputs (float64 columns, in ``feature_columns`` order)
and returns, per row, a decision 0/1 or P(ŷ = 1), or (n, 2) class probabilities; the
decision is ``answer >= threshold`` (default 0.5,
:func:`~fairwash.twins.probes_answers.read_answers`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fairwash.data.base import DataError
from fairwash.twins.probe import ModelProbe
from fairwash.twins.probes_answers import AnswerModel

__all__ = ["callable_probe", "is_callable_spec", "load_callable"]


def is_callable_spec(spec: str) -> bool:
    """Whether ``spec`` reads as ``module:function`` or ``file.py:function``."""
    target, sep, name = str(spec).rpartition(":")
    if not sep or not name.isidentifier() or not target:
        return False
    return target.endswith(".py") or all(part.isidentifier() for part in target.split("."))


def load_callable(spec: str) -> Callable[..., Any]:
    """The function ``spec`` names (``module:function`` on the import path, or ``file.py:function``).

    Raises
    ------
    DataError
        The module cannot be found or imported, or has no callable ``function``.
    """
    if not is_callable_spec(spec):
        raise DataError(f"callable {spec}: expected module:function or path/to/file.py:function")
    target, _, name = str(spec).rpartition(":")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise DataError(f"callable {spec}: no such file {path}")
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        module_spec = importlib.util.spec_from_file_location(f"fairwash_user_{digest}", path)
        if module_spec is None or module_spec.loader is None:
            raise DataError(f"callable {spec}: {path} cannot be imported")
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:  # the user's own code failed on import: report it, not a fairwash bug
            raise DataError(f"callable {spec}: importing {path} failed "
                            f"({type(exc).__name__}: {exc})") from exc
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise DataError(f"callable {spec}: cannot import {target!r} ({exc}); is it on the import path "
                            "(PYTHONPATH)? Or give path/to/file.py:function") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise DataError(f"callable {spec}: {target} has no function {name!r}")
    return fn


def callable_probe(
    fn: str | Callable[..., Any],
    feature_columns: Sequence[str],
    *,
    threshold: float | None = None,
) -> ModelProbe:
    """The probe of a function of a DataFrame (or of the ``module:function`` it is named by).

    Parameters
    ----------
    fn : str or callable
        The function, or its ``module:function`` / ``file.py:function`` name.
    feature_columns : sequence of str
        The columns the function receives, in order.
    threshold : float, optional
        Approve when the answer is ``>= threshold`` (default 0.5).
    """
    source = fn if isinstance(fn, str) else getattr(fn, "__qualname__", repr(fn))
    func = load_callable(fn) if isinstance(fn, str) else fn
    if not feature_columns:
        raise DataError(f"callable {source}: the columns it takes are needed (--feature-columns)")

    def answer(frame: Any) -> Any:
        try:
            return func(frame)
        except Exception as exc:  # the user's own code failed: report it, not a fairwash bug
            raise DataError(f"callable {source} failed on {len(frame)} rows ({type(exc).__name__}: {exc})") \
                from exc

    t = 0.5 if threshold is None else threshold
    model = AnswerModel(answer, list(feature_columns), f"callable {source}", t)
    return ModelProbe.of(model, list(feature_columns), kind="callable", source=str(source))

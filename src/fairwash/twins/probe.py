"""The model probe: the one interface through which the twin audit sees any model.

Every measure of the audit (flips, boundaries, curves) asks a :class:`ModelProbe` for
decisions and approval probabilities of frames in raw units; the probe selects the
model's inputs in the model's order and applies its transform (the pipeline MLP's
standardiser).  :func:`probe_for` builds the probe of a model saved by the pipeline
(``model.safetensors`` + ``model.json``); the other kinds of model (an ONNX file, a skops
file, a Python callable, an HTTP endpoint) get theirs from the ``probes_*`` modules, and
:func:`fairwash.twins.load.load_probe` picks the kind.

How a decision is read, for every kind: a model's own ``predict`` (a label 0/1) is its
decision, unless the probe has a ``threshold``; then the decision is
``P(ŷ = 1) >= threshold``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from fairwash.data.base import DataError

__all__ = ["Classifier", "ModelProbe", "probe_for"]

class Classifier(Protocol):
    """What the audit needs from a model: decisions and approval probabilities."""

    def predict(self, X: Any) -> np.ndarray: ...

    def predict_proba(self, X: Any) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelProbe:
    """A model seen as a function of raw feature columns.

    Parameters
    ----------
    model : Classifier
        ``predict(X)`` returns decisions 0/1; ``predict_proba(X)`` returns
        P(ŷ = 1) as shape (n,) (:class:`fairwash.model.AuditedModel`) or the
        class probabilities as shape (n, 2) (scikit-learn).
    feature_columns : sequence of str
        Model inputs, in the model's order, as columns of the frames to audit.
        Defaults to the model's ``feature_names_in_`` when it has one.
    transform : callable, optional
        Raw features (ndarray, shape (n, d), in ``feature_columns`` order) to
        model input, e.g. ``Standardizer.transform``; bisection and plots then
        work on raw units (income in currency units).
    threshold : float, optional
        If given, the decision is ``proba >= threshold`` instead of the model's
        ``predict``.
    kind, source : str
        What the model is (``"fairwash"``, ``"onnx"``, ``"skops"``, ``"callable"``,
        ``"http"``, ``"model"`` for an object) and where it came from (a path, a
        ``module:function``, a URL), for the report.
    """

    model: Any
    feature_columns: tuple[str, ...]
    transform: Callable[[np.ndarray], Any] | None = None
    threshold: float | None = None
    kind: str = "model"
    source: str | None = None

    @classmethod
    def of(
        cls,
        model: Any,
        feature_columns: Sequence[str] | None = None,
        transform: Callable[[np.ndarray], Any] | None = None,
        *,
        threshold: float | None = None,
        kind: str = "model",
        source: str | None = None,
    ) -> ModelProbe:
        """The probe of a fitted model object (a scikit-learn estimator, an AuditedModel, a tree).

        Raises
        ------
        TypeError
            If ``model`` lacks ``predict`` or ``predict_proba``.
        ValueError
            An AuditedModel without ``transform``, a model without ``feature_names_in_``
            and no ``feature_columns``, or a threshold outside (0, 1].
        """
        if isinstance(model, ModelProbe):
            return model
        for method in ("predict", "predict_proba"):
            if not callable(getattr(model, method, None)):
                raise TypeError(f"model must have a {method}() method, got {type(model).__name__}")
        if transform is None and _is_audited_model(model):
            raise ValueError(
                "an AuditedModel takes standardised features: pass transform=standardizer.transform "
                "and profiles in raw units (or use probe_for(model_dir)).  Without it the twins are fed "
                "raw values (income ~ 50 000 where the network expects ~ +-2): the output saturates and "
                "no pair ever flips.  Pass transform=numpy.asarray only if the model was trained on raw "
                "features."
            )
        if feature_columns is None:
            names = getattr(model, "feature_names_in_", None)
            if names is None:
                raise ValueError("feature_columns is required for a model without feature_names_in_")
            feature_columns = [str(c) for c in names]
        if threshold is not None and not 0 < float(threshold) <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        return cls(model=model, feature_columns=tuple(feature_columns), transform=transform,
                   threshold=None if threshold is None else float(threshold), kind=kind, source=source)

    @property
    def decision_rule(self) -> str:
        """How a decision is read from the model, in words (for the report)."""
        if self.threshold is not None:
            return f"approved when P(approved) >= {self.threshold:g}"
        where = getattr(self.model, "where", None)
        t = getattr(self.model, "threshold", None)
        if where is not None and isinstance(t, float):  # an AnswerModel: the one answer rule
            return f"approved when the answer of the {where} is >= {t:g} (a label 0/1 is its own decision)"
        return f"the {type(self.model).__name__}'s own predict()"

    @property
    def queries(self) -> dict[str, Any] | None:
        """The queries spent on the model (an HTTP endpoint's ledger), or None for a local model."""
        ledger = getattr(self.model, "ledger", None)
        return None if ledger is None else ledger.to_dict()

    def _input(self, frame: pd.DataFrame) -> Any:
        missing = [c for c in self.feature_columns if c not in frame.columns]
        if missing:
            raise ValueError(f"model input columns {missing} are missing (columns: {list(frame.columns)})")
        raw = frame[list(self.feature_columns)].to_numpy(np.float64)
        if self.transform is not None:
            return self.transform(raw)
        if getattr(self.model, "feature_names_in_", None) is not None:
            return pd.DataFrame(raw, columns=list(self.feature_columns))
        return raw

    def decide(self, frame: pd.DataFrame) -> np.ndarray:
        """Decisions ŷ (int8 0/1), shape (n,): ``predict``, or ``proba >= threshold``."""
        if self.threshold is not None:
            return (self.proba(frame) >= self.threshold).astype(np.int8)
        out = np.asarray(self.model.predict(self._input(frame))).reshape(-1)
        return out.astype(np.int8)

    def proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Approval probabilities P(ŷ = 1), shape (n,)."""
        p = np.asarray(self.model.predict_proba(self._input(frame)), dtype=np.float64)
        if p.ndim == 2:
            classes = list(getattr(self.model, "classes_", range(p.shape[1])))
            if 1 not in classes:  # a model trained on one class only
                return np.zeros(p.shape[0])
            p = p[:, classes.index(1)]
        return p.reshape(-1)


def _is_audited_model(model: Any) -> bool:
    """Whether ``model`` is a :class:`fairwash.model.AuditedModel` (without importing torch)."""
    module = sys.modules.get("fairwash.model")
    return module is not None and isinstance(model, module.AuditedModel)


def probe_for(model_dir: str | Path) -> ModelProbe:
    """The probe of a pipeline model: weights, threshold, standardiser and column order from disk.

    Reads ``model.safetensors`` and ``model.json`` (:func:`fairwash.models.load_trained`);
    the probe takes frames in raw units, selects the model's ``feature_names`` in the
    model's order and standardises them with the saved :class:`~fairwash.model.Standardizer`
    before the network sees them, so twins are built (S set to 0 / 1, income moved) in
    raw units.

    Raises
    ------
    DataError
        If ``model.json`` has no feature names or no standardiser.
    """
    from fairwash.models import load_trained  # torch only when a saved model is probed: import cost

    trained = load_trained(model_dir)
    meta = Path(model_dir) / "model.json"
    names = trained.feature_names
    if not names:
        raise DataError(f"{meta} has no feature_names; the model's inputs are unknown")
    if trained.standardizer is None:
        raise DataError(
            f"{meta}: no standardiser; the pipeline's MLP takes standardised features, so a probe "
            "without it would feed raw values to the network"
        )
    return ModelProbe(model=trained.model, feature_columns=names, transform=trained.standardizer.transform,
                      kind="fairwash", source=str(model_dir))

"""Any model to a probe: which kind a ``--model`` names, and the one function that loads it.

============  ===========================================  =================================
kind          ``model`` (detected from)                    read by (``fairwash.twins.``)
============  ===========================================  =================================
``fairwash``  a directory (``model.safetensors`` +         :func:`.probe.probe_for`
              ``model.json``, the pipeline's MLP)
``onnx``      ``*.onnx``                                   :func:`.probes_onnx.onnx_probe`
``skops``     ``*.skops`` (never a pickle)                 :func:`.probes_skops.skops_probe`
``callable``  ``module:function``, ``file.py:function``    :func:`.probes_callable.callable_probe`
``http``      ``http://...``, ``https://...``              :func:`.probes_http.http_probe`
============  ===========================================  =================================

A fitted model object (the demo's decision tree, a scikit-learn pipeline, an
:class:`~fairwash.model.AuditedModel` with its standardiser) goes through the same
:class:`~fairwash.twins.probe.ModelProbe` (:meth:`ModelProbe.of`); a plain function of a
DataFrame is a ``callable``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from fairwash.data.base import DataError
from fairwash.twins.probe import ModelProbe, probe_for
from fairwash.twins.probes_callable import callable_probe, is_callable_spec
from fairwash.twins.probes_http import EndpointOptions, http_probe
from fairwash.twins.probes_onnx import onnx_probe
from fairwash.twins.probes_skops import PICKLE_SUFFIXES, skops_probe

__all__ = ["MODEL_KINDS", "load_probe", "model_kind"]

#: The kinds of model ``fairwash twins --model-kind`` takes.
MODEL_KINDS = ("fairwash", "onnx", "skops", "callable", "http")


def model_kind(model: str | Path) -> str:
    """The kind of model ``model`` names (see the module's table).

    Raises
    ------
    DataError
        When it names none of them (a pickle file is refused by name).
    """
    text = str(model)
    if text.startswith(("http://", "https://")):
        return "http"
    path = Path(text)
    if path.suffix.lower() == ".onnx":
        return "onnx"
    if path.suffix.lower() == ".skops":
        return "skops"
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise DataError(f"model {text}: a pickle file can run arbitrary code when loaded and is never read; "
                        "save it with skops.io.dump (.skops) or export it to ONNX")
    if path.is_dir():
        return "fairwash"
    if is_callable_spec(text):
        return "callable"
    raise DataError(f"model {text}: not a directory, a .onnx or .skops file, a module:function or an "
                    "http(s):// URL; name its kind with --model-kind")


def load_probe(
    model: Any,
    kind: str | None = None,
    *,
    feature_columns: Sequence[str] | None = None,
    threshold: float | None = None,
    trust: Iterable[str] = (),
    onnx_output: str | None = None,
    endpoint: EndpointOptions | None = None,
) -> ModelProbe:
    """The probe of ``model``, whatever it is.

    Parameters
    ----------
    model : str, Path, ModelProbe, fitted model or callable
        A path, ``module:function`` or URL (its ``kind`` detected by :func:`model_kind`
        unless given), a probe (returned, with ``threshold`` if given), a fitted model
        with ``predict`` and ``predict_proba`` (:meth:`ModelProbe.of`), or a function
        of a DataFrame (a ``callable``).
    kind : {"fairwash", "onnx", "skops", "callable", "http"}, optional
    feature_columns : sequence of str, optional
        The model's inputs in order: required for a callable and an endpoint, and for
        an ONNX tensor input or a skops estimator that record none; else a check.
    threshold : float in (0, 1], optional
        Approve when P(ŷ = 1) >= threshold (default: a model's own decision; 0.5 for
        the answers of an ONNX file, a callable or an endpoint).
    trust : iterable of str
        skops types to trust beyond skops' defaults.
    onnx_output : str, optional
        The ONNX output read (default: its probability output, else its first).
    endpoint : EndpointOptions, optional
        How to query an endpoint (batches, timeout, retries, rate, answer path, cache).
    """
    if not isinstance(model, str | Path):
        return _probe_of_object(model, feature_columns, threshold)
    kind = kind or model_kind(model)
    if kind not in MODEL_KINDS:
        raise DataError(f"model kind {kind!r}: expected one of {', '.join(MODEL_KINDS)}")
    loaders: dict[str, Callable[[], ModelProbe]] = {
        "fairwash": lambda: _fairwash_probe(model, feature_columns, threshold),
        "onnx": lambda: onnx_probe(model, feature_columns, output=onnx_output, threshold=threshold),
        "skops": lambda: skops_probe(model, feature_columns, trust=trust, threshold=threshold),
        "callable": lambda: callable_probe(str(model), feature_columns or (), threshold=threshold),
        "http": lambda: http_probe(str(model), feature_columns or (), endpoint, threshold=threshold),
    }
    return loaders[kind]()


def _fairwash_probe(model_dir: str | Path, feature_columns: Sequence[str] | None,
                    threshold: float | None) -> ModelProbe:
    probe = probe_for(model_dir)
    if feature_columns and list(feature_columns) != list(probe.feature_columns):
        raise DataError(f"model {model_dir}: its inputs are {list(probe.feature_columns)}, but "
                        f"{list(feature_columns)} were named")
    return dataclasses.replace(probe, threshold=threshold) if threshold is not None else probe


def _probe_of_object(model: Any, feature_columns: Sequence[str] | None,
                     threshold: float | None) -> ModelProbe:
    if isinstance(model, ModelProbe):
        return dataclasses.replace(model, threshold=threshold) if threshold is not None else model
    if callable(getattr(model, "predict", None)):
        return ModelProbe.of(model, feature_columns, threshold=threshold)
    if callable(model):
        return callable_probe(model, feature_columns or (), threshold=threshold)
    raise TypeError(f"cannot audit a {type(model).__name__}: give a path, a URL, a fitted model or a "
                    "function")

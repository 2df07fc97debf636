"""The probe of an ONNX model (onnxruntime): its inputs' names and order read from the file.

Two layouts of inputs are understood:

* **one input per column** (skl2onnx's export of a DataFrame): each input, of shape
  ``(n, 1)`` or ``(n,)``, is the data column of the same name; the file gives the
  columns and their order, and ``feature_columns``, if given, must name the same set;
* **one tensor input** of shape ``(n, d)``: its ``d`` columns are, in order, the
  ``feature_columns`` the caller names (``--feature-columns``) or, failing that, those
  the file records in its metadata under the key ``feature_names`` (a JSON list or a
  comma-separated string; ``onnx.helper.set_model_props(model, {"feature_names": ...})``).
  When both are present and differ, the probe refuses: a wrong column order would give a
  wrong audit without any error.

The values are cast to the input's element type (float, double, int64).  The answer is
the output named ``output``, by default the model's probability output if it has one (a
float tensor of shape (n, 2) or a sequence of ``{class: probability}`` maps, as skl2onnx
writes ``output_probability``), else its first output; a decision is read from it by
:func:`~fairwash.twins.probes_answers.read_answers` (``P(ŷ = 1) >= threshold``, default
0.5; a label output is its own decision).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import DataError
from fairwash.text import shown
from fairwash.twins.probe import ModelProbe
from fairwash.twins.probes_answers import AnswerModel

__all__ = ["METADATA_KEY", "onnx_probe"]

#: The metadata key of an ONNX file that names the columns of a single tensor input.
METADATA_KEY = "feature_names"

_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
           "tensor(int32)": np.int32, "tensor(bool)": np.bool_}


def _metadata_columns(session: Any, where: str) -> list[str] | None:
    """The columns the file's metadata records under :data:`METADATA_KEY` (None if it records none)."""
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if not raw:
        return None
    try:
        names = json.loads(raw)
    except json.JSONDecodeError:
        names = [c.strip() for c in raw.split(",") if c.strip()]
    if not isinstance(names, list) or not all(isinstance(c, str) for c in names):
        raise DataError(f"{where}: metadata {METADATA_KEY!r} is {shown(repr(raw))}; expected a JSON "
                        "list of column names or a comma-separated string")
    return names


def _width(shape: Sequence[Any]) -> int | None:
    """The second dimension of an input's shape (None when symbolic or absent)."""
    return shape[1] if len(shape) >= 2 and isinstance(shape[1], int) else None


def _columns(session: Any, feature_columns: Sequence[str] | None, where: str) -> tuple[list[str], bool]:
    """The model's input columns in order, and whether they go into one tensor."""
    inputs = session.get_inputs()
    one = inputs[0]
    if len(inputs) == 1 and (_width(one.shape) is None or _width(one.shape) != 1):
        recorded = _metadata_columns(session, where)
        named = list(feature_columns) if feature_columns else None
        if named and recorded and named != recorded:
            raise DataError(f"{where}: the file records the columns of its input {one.name!r} as "
                            f"{shown(recorded)}, but {named} were named; name them in the file's order "
                            "or not at all")
        cols = named or recorded
        if not cols:
            raise DataError(f"{where}: one tensor input {one.name!r} of shape {one.shape} and no column "
                            f"names: give --feature-columns in the model's order (or record them in the "
                            f"file's metadata under {METADATA_KEY!r})")
        if _width(one.shape) is not None and _width(one.shape) != len(cols):
            raise DataError(f"{where}: input {one.name!r} takes {_width(one.shape)} columns, "
                            f"{len(cols)} named ({cols})")
        return cols, True
    wide = [i.name for i in inputs if _width(i.shape) not in (None, 1) or len(i.shape) > 2]
    if wide:
        raise DataError(f"{where}: inputs {wide} take several columns each; only one tensor input of "
                        "shape (n, d) or one input per column is understood")
    cols = [i.name for i in inputs]
    if feature_columns and sorted(feature_columns) != sorted(cols):
        raise DataError(f"{where}: the model's inputs are {shown(cols)}, but {list(feature_columns)} "
                        "were named")
    return cols, False


def _output(session: Any, output: str | None, where: str) -> str:
    """The output read as the answer: ``output``, else the probability output, else the first."""
    outs = session.get_outputs()
    names = [o.name for o in outs]
    if output is not None:
        if output not in names:
            raise DataError(f"{where}: no output {output!r}; its outputs are {shown(names)}")
        return output
    for o in outs:
        if o.type.startswith("seq(map(") or (o.type in ("tensor(float)", "tensor(double)")
                                             and _width(o.shape) == 2):
            return str(o.name)
    return str(names[0])


def onnx_probe(
    path: str | Path,
    feature_columns: Sequence[str] | None = None,
    *,
    output: str | None = None,
    threshold: float | None = None,
) -> ModelProbe:
    """The probe of the ONNX model in ``path``.

    Parameters
    ----------
    path : str or Path
        The ``.onnx`` file.
    feature_columns : sequence of str, optional
        The columns of a single tensor input, in the model's order (see the module's
        docstring); for a model with one input per column, a check.
    output : str, optional
        The output read as the answer (default: the probability output, else the first).
    threshold : float, optional
        Approve when the answer is ``>= threshold`` (default 0.5).

    Raises
    ------
    DataError
        The file is not a valid ONNX model, or its inputs and the columns disagree.
    """
    import onnxruntime as ort  # optional at import time: only an ONNX model needs it

    where = f"ONNX model {path}"
    if not Path(path).is_file():
        raise DataError(f"{where}: no such file")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise DataError(f"{where}: onnxruntime cannot load it "
                        f"({type(exc).__name__}: {shown(exc, 200)})") from None
    cols, one_tensor = _columns(session, feature_columns, where)
    out_name = _output(session, output, where)
    inputs = {i.name: i for i in session.get_inputs()}

    def answer(frame: pd.DataFrame) -> Any:
        if one_tensor:
            spec = next(iter(inputs.values()))
            feeds = {spec.name: frame[cols].to_numpy().astype(_DTYPES.get(spec.type, np.float32))}
        else:
            feeds = {}
            for c in cols:
                x = frame[c].to_numpy().astype(_DTYPES.get(inputs[c].type, np.float32))
                feeds[c] = x.reshape(-1, 1) if len(inputs[c].shape) == 2 else x
        return session.run([out_name], feeds)[0]

    t = 0.5 if threshold is None else threshold
    model = AnswerModel(answer, cols, f"{where} (output {out_name!r})", t)
    return ModelProbe.of(model, cols, kind="onnx", source=str(path))

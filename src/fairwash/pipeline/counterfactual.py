"""Stages of the counterfactual-twin audit: every trained model, the article's demo, the table.

Each stage is file I/O around one library call of :mod:`fairwash.twins`:

* :func:`counterfactual_stage`: :func:`~fairwash.twins.audit_trained_model` of a trained
  pipeline model (raw data + ``model.safetensors`` / ``model.json`` + its predictions);
* :func:`counterfactual_demo_stage`: :func:`~fairwash.twins.run_demo`, the article's demo
  (Mimesis customers, poisoned tree, gender-neutral base profiles) and its unbiased control;
* :func:`counterfactual_table_stage`: :func:`~fairwash.twins.counterfactual_table`, one row
  per JSON written by the two stages above.

Every output is written atomically.  See ``docs/counterfactual.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from fairwash.data.base import AuditData
from fairwash.io import atomic_write_json
from fairwash.tables import write_table
from fairwash.twins import (
    NOT_AN_INPUT,
    audit_trained_model,
    counterfactual_table,
    demo_payload,
    model_payload,
    plot_demo_audit,
    plot_model_audit,
    probe_for,
    run_demo,
)

__all__ = [
    "NOT_AN_INPUT",
    "counterfactual_stage",
    "counterfactual_demo_stage",
    "counterfactual_table_stage",
]


def counterfactual_stage(
    *,
    name: str,
    data_parquet: str | Path,
    model_dir: str | Path,
    predictions_parquet: str | Path,
    spec: Mapping[str, Any] | None,
    out: Mapping[str, str | Path],
    tol: float = 1.0,
) -> dict[str, Any]:
    """Counterfactual twins of every audited individual of a trained pipeline model.

    Parameters
    ----------
    name : str
        The data set's name (for messages and the JSON).
    data_parquet : path
        The raw data (``results/data/{ds}.parquet``): twins are built in raw units.
    model_dir : path
        Folder with ``model.safetensors`` and ``model.json`` (:func:`~fairwash.twins.probe_for`
        standardises the twins before the network sees them).
    predictions_parquet : path
        ``predictions.parquet`` of the model: its ``audited`` rows are the twinned
        individuals, and its ``Y_hat`` must be reproduced by the probe on them.
    spec : mapping or None
        The data set's ``counterfactual`` config block (see
        :func:`~fairwash.twins.audit_trained_model`).
    out : mapping
        ``json`` and ``png`` paths (the PDF is written next to the PNG).
    tol : float
        Bisection tolerance of the boundaries, in the numeric feature's units.

    Returns
    -------
    dict
        The JSON payload.
    """
    data = AuditData.load(data_parquet)
    probe = probe_for(model_dir)
    preds = pd.read_parquet(predictions_parquet, columns=["row", "audited", "Y_hat", "S"])
    files = {"data": data_parquet, "predictions": predictions_parquet, "model": model_dir}
    result = audit_trained_model(probe, data, preds, spec, name=name, tol=tol, files=files)
    payload = model_payload(result, model_dir)
    plot_model_audit(result, out["png"])
    atomic_write_json(payload, out["json"])
    return payload


def counterfactual_demo_stage(
    *,
    random_state: int,
    out: Mapping[str, str | Path],
    n_customers: int = 1000,
    n_profiles: int = 1000,
) -> dict[str, dict[str, Any]]:
    """The article's demo (poisoned tree) and its unbiased control, with their figures.

    ``out`` maps ``json``, ``png``, ``control_json`` and ``control_png`` to paths (PDFs
    next to the PNGs).  Returns ``{"demo": payload, "demo_control": payload}``.
    """
    written: dict[str, dict[str, Any]] = {}
    for unbiased, jkey, pkey in ((False, "json", "png"), (True, "control_json", "control_png")):
        run = run_demo(random_state=int(random_state), n_customers=n_customers, n_profiles=n_profiles,
                       unbiased=unbiased)
        payload = demo_payload(run, unbiased, random_state)
        plot_demo_audit(run, out[pkey], unbiased=unbiased)
        atomic_write_json(payload, out[jkey])
        written[payload["dataset"]] = payload
    return written


def counterfactual_table_stage(
    *,
    results: Mapping[str, str | Path],
    out: Mapping[str, str | Path],
) -> pd.DataFrame:
    """Read the JSON of every audit (``results``: name -> path) and write the table (csv, md, tex)."""
    payloads = {name: json.loads(Path(path).read_text()) for name, path in results.items()}
    table = counterfactual_table(payloads)
    write_table(
        table, csv=out["csv"], md=out.get("md"), tex=out.get("tex"), digits=3,
        title="Counterfactual twins: identical profiles that differ only in S",
    )
    return table

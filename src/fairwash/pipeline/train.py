"""Stage functions behind the Snakemake scripts: read inputs, call the library, write outputs.

Each stage takes paths and plain parameters (never the ``snakemake`` object) and
writes every output atomically, so a script is a handful of lines and a stage can
be tested without Snakemake.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import AuditData
from fairwash.fairness import disparate_impact
from fairwash.io import atomic_write_json, atomic_write_parquet

__all__ = ["train_stage", "import_authors_stage"]


def train_stage(
    *,
    data_parquet: str | Path,
    model_params: Mapping[str, Any],
    n_audit: int,
    random_state: int,
    progress: bool | None,
    out: Mapping[str, str | Path],
) -> dict[str, Any]:
    """Train the audited MLP on a data set and write model, predictions and audited set.

    ``out`` maps ``weights``, ``config``, ``metrics``, ``predictions``, ``audited`` and
    ``audited_meta`` to paths (the rule's outputs).  Returns the metrics.
    """
    # imported here: the model module imports torch, which the authors' import stage never needs
    from fairwash.model import fit_audited_model, save_model

    data = AuditData.load(data_parquet)
    params = dict(model_params)
    fit = fit_audited_model(
        data,
        n_audit=int(n_audit),
        test_size=float(params.pop("test_size", 0.2)),
        random_state=int(random_state),
        progress=progress,
        **params,
    )
    model_dir = Path(out["weights"]).parent
    save_model(fit.model, model_dir, standardizer=fit.standardizer, feature_names=data.columns)

    Z = fit.standardizer.transform(data.X.to_numpy(np.float64))
    proba = fit.model.predict_proba(Z)
    split = np.full(data.n, "train", dtype=object)
    split[fit.test_index] = "test"
    audited_rows = np.zeros(data.n, dtype=bool)
    audited_rows[fit.test_index[: int(n_audit)]] = True
    predictions = pd.DataFrame(
        {
            "row": np.arange(data.n),
            "split": split.astype(str),
            "audited": audited_rows,
            "proba": proba,
            "Y_hat": (proba > fit.model.threshold).astype(np.int8),
            "Y": data.Y,
            "S": data.S,
        }
    )
    atomic_write_parquet(predictions, out["predictions"])
    fit.audited.save(out["audited"], out["audited_meta"])

    metrics = dict(fit.metrics)
    metrics.setdefault("di_labels", disparate_impact(fit.audited.Y, fit.audited.S))
    metrics.setdefault("di_model", disparate_impact(fit.audited.Y_hat, fit.audited.S))
    metrics.setdefault("p_s1", float(np.mean(fit.audited.S)))
    metrics["threshold"] = float(fit.model.threshold)
    metrics["random_state"] = int(random_state)
    atomic_write_json(metrics, out["metrics"])
    return metrics


def import_authors_stage(*, data_parquet: str | Path, out: Mapping[str, str | Path]) -> dict[str, Any]:
    """The authors' audited set is already (X, S, Ŷ): copy it as the audited set, write metrics.

    There is no true label, so accuracy and label DI are reported as missing (None), never 0.
    """
    data = AuditData.load(data_parquet)
    yh = data.require_y_hat()
    data.save(out["audited"], out["audited_meta"])
    metrics = {
        "n_audit": data.n,
        "p_s1": float(np.mean(data.S)),
        "di_model": disparate_impact(yh, data.S),
        "di_labels": None,
        "accuracy_test": None,
        "threshold": data.meta.get("threshold"),
        "note": "authors' audited set: no true label Y, so no accuracy and no label DI",
    }
    atomic_write_json(metrics, out["metrics"])
    return metrics

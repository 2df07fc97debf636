"""Stage: run one fairwashing method on one audited set; the distribution-shift table."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import AuditData
from fairwash.fairness import disparate_impact
from fairwash.manipulate import METHODS, Manipulation, run_method
from fairwash.store import read_manipulation, read_manipulation_summary, write_manipulation

__all__ = ["load_audit_model", "manipulate_stage", "shift_table"]


def load_audit_model(
    *, source: str, model_dir: str | Path | None, dataset: str | None = None, authors_dir: str | None = None,
    hub_revision: str | None = None,
) -> Any:
    """The audited model for the Grad methods (:func:`fairwash.models.resolve_model`), or ``None``.

    Returns ``None`` (with the reason on stderr, the rule's log) when no model exists, e.g.
    BAF in the authors' repository without a hub revision.
    """
    # torch only when a model is loaded: import cost (fairwash.results imports this module)
    from fairwash.models import ModelUnavailable, resolve_model

    try:
        return resolve_model(source, model_dir=model_dir, dataset=dataset, authors_dir=authors_dir,
                             hub_revision=hub_revision)
    except ModelUnavailable as exc:
        print(f"no model: {exc}", file=sys.stderr)
        return None


def manipulate_stage(
    *,
    audited_parquet: str | Path,
    method: str,
    target: float,
    model: Any,
    random_state: int,
    options: Mapping[str, Any] | None,
    out: Mapping[str, str | Path],
) -> dict[str, Any]:
    """Run ``method`` and write the manipulated distribution, its summary and trajectory.

    A method that cannot run or cannot reach the target (no model, an empty bin, a
    stuck greedy) writes the identity distribution with ``reached: false`` and the
    reason, so the tables say why instead of the run stopping.
    """
    data = AuditData.load(audited_parquet)
    started = time.perf_counter()
    error = None
    try:
        man = run_method(method, data, target=target, model=model, random_state=random_state,
                         options=options)
    except ValueError as exc:
        error = str(exc)
        n = data.n
        man = Manipulation(method, target, data.X.to_numpy(np.float64), data.S, data.require_y_hat(),
                           np.full(n, 1.0 / n), np.arange(n), None,
                           {"error": error, "reached": False, "already_fair": False})
    seconds = time.perf_counter() - started
    summary = {
        "dataset": data.name,
        "method": method,
        "target": target,
        "di_original": float(disparate_impact(data.require_y_hat(), data.S)),
        "di": float(man.di),
        "reached": bool(man.reached) and error is None,
        "error": error,
        "seconds": seconds,
        "k": man.k,
        "greedy": METHODS[method].greedy,
        "info": man.info,
    }
    write_manipulation(man, summary, out, columns=data.columns)
    return summary




def shift_table(
    *, audited: Mapping[str, str | Path], manipulated: Mapping[tuple[str, str], tuple[str, str]],
) -> pd.DataFrame:
    """Tables 4, 13, 14: W and KL of each manipulation from its original, whole and per group.

    Parameters
    ----------
    audited : mapping data set -> audited parquet
    manipulated : mapping (data set, method) -> (parquet, summary json)
    """
    from fairwash.detect.shift import distribution_shift  # POT only here: a manipulate job starts faster

    rows = []
    originals: dict[str, np.ndarray] = {}
    for (ds, method), (parquet, summary) in manipulated.items():
        if ds not in originals:
            originals[ds] = AuditData.load(audited[ds]).joint()
        man = read_manipulation(parquet, summary)
        info = read_manipulation_summary(summary)
        shift = distribution_shift(originals[ds], man.joint(), man.weights)
        rows.append({"data set": ds, "method": method, "DI before": info["di_original"],
                     "DI after": info["di"], "reached": info["reached"], **_rename(shift.to_dict()),
                     "seconds": info["seconds"], "note": info.get("error") or ""})
    return pd.DataFrame(rows)


def _rename(d: dict[str, float]) -> dict[str, float]:
    names = {"w": "W", "kl": "KL", "w_s0": "W (S=0)", "w_s1": "W (S=1)", "kl_s0": "KL (S=0)",
             "kl_s1": "KL (S=1)", "moved_mass": "moved mass"}
    return {names[k]: v for k, v in d.items()}


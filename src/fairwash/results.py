"""Read back what the pipeline cached under ``results/`` (for the notebook and for auditors).

Every function takes the data set's name and an optional results folder (default: the
environment variable ``FAIRWASH_RESULTS``, else ``results``) and returns a library object:
:class:`~fairwash.data.base.AuditData`, :class:`~fairwash.manipulate.base.Manipulation`,
:class:`~fairwash.detect.battery.ReferenceThresholds`, a frame or a dict. Nothing here
recomputes a pipeline step; :func:`attack_shift` and :func:`sample_rows` call the same
library functions the pipeline calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash import store
from fairwash.data.base import AuditData
from fairwash.detect.battery import ReferenceThresholds
from fairwash.detect.shift import ShiftResult, distribution_shift
from fairwash.io import read_json
from fairwash.manipulate.base import Manipulation

__all__ = [
    "RESULTS_ENV", "Attack", "results_dir", "dataset_row", "load_audited", "load_attack", "attack_shift",
    "reference_sizes", "closest_size", "load_reference", "sample_rows", "honest_rows", "load_counterfactual",
    "counterfactual_figure",
]

#: Environment variable naming the results folder.
RESULTS_ENV = "FAIRWASH_RESULTS"


def results_dir(results: str | Path | None = None) -> Path:
    """``results`` if given, else ``$FAIRWASH_RESULTS``, else ``results`` (relative to the cwd)."""
    return Path(results if results is not None else os.environ.get(RESULTS_ENV, "results"))


def _path(kind: str, part: str, results: str | Path | None, **wildcards: Any) -> Path:
    return store.path(kind, part, root=results_dir(results), **wildcards)


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run the pipeline first (make run), or point "
                                f"{RESULTS_ENV} at a results folder")
    return path


def dataset_row(dataset: str, results: str | Path | None = None) -> pd.Series:
    """The data set's row of Table 1 (``tables/datasets.csv``), paper columns included."""
    table = pd.read_csv(_need(_path("table", "csv", results, name="datasets")), keep_default_na=False,
                        na_values=[""])
    rows = table[table["data set"] == dataset]
    if rows.empty:
        raise KeyError(f"{dataset!r} is not in Table 1; it has {sorted(table['data set'])}")
    return rows.iloc[0]


def load_audited(dataset: str, results: str | Path | None = None) -> AuditData:
    """The audited set (standardised X, S, Y, Ŷ) every attack and test starts from."""
    return AuditData.load(_need(_path("audited", "parquet", results, ds=dataset)),
                          _need(_path("audited", "json", results, ds=dataset)))


@dataclass(frozen=True)
class Attack:
    """One cached fairwashing method's output: the distribution ``Q`` and its summary.

    Attributes
    ----------
    manipulation : Manipulation
        ``Q``: support points ``(x, s, ŷ)``, weights, origin.
    summary : dict
        The manipulate stage's JSON: ``di_original``, ``di``, ``reached``, ``seconds``, ``info``.
    """

    manipulation: Manipulation
    summary: dict[str, Any]

    @property
    def method(self) -> str:
        return self.manipulation.method

    @property
    def di_before(self) -> float:
        return float(self.summary["di_original"])

    @property
    def di_after(self) -> float:
        return float(self.summary["di"])


def load_attack(dataset: str, method: str, results: str | Path | None = None) -> Attack:
    """A method's manipulated distribution ``Q`` (``manipulated/{ds}/{method}.*``)."""
    summary = _need(_path("manipulation", "json", results, ds=dataset, method=method))
    man = store.read_manipulation(_need(_path("manipulation", "parquet", results, ds=dataset, method=method)),
                                  summary)
    return Attack(man, store.read_manipulation_summary(summary))


def attack_shift(dataset: str, method: str, results: str | Path | None = None) -> ShiftResult:
    """W and KL of the method's ``Q`` from the audited set (the shift table's row, Tables 4, 11–14)."""
    attack = load_attack(dataset, method, results)
    original = load_audited(dataset, results).joint()
    return distribution_shift(original, attack.manipulation.joint(), attack.manipulation.weights)


def reference_sizes(dataset: str, results: str | Path | None = None) -> list[int]:
    """Sample sizes m with cached reference thresholds (``audit/{ds}/reference_m{m}.json``), sorted."""
    return sorted(int(w["m"]) for w in store.find("reference", "json", root=results_dir(results), ds=dataset))


def closest_size(dataset: str, fraction: float = 0.1, results: str | Path | None = None) -> int:
    """The cached reference size m closest to ``fraction`` of the audited n (the paper: 10 %, 20 %)."""
    sizes = reference_sizes(dataset, results)
    if not sizes:
        where = _path("reference", "json", results, ds=dataset, m=0).parent
        raise FileNotFoundError(f"no reference thresholds under {where}")
    n = int(read_json(_need(_path("audited", "json", results, ds=dataset)))["n"])
    return min(sizes, key=lambda m: (abs(m - fraction * n), m))


def load_reference(dataset: str, m: int, results: str | Path | None = None) -> ReferenceThresholds:
    """The honest reference draws and 95 % thresholds of the battery at size ``m`` (eq. 3)."""
    return store.read_thresholds(_need(_path("reference", "json", results, ds=dataset, m=int(m))))


def sample_rows(manipulation: Manipulation, m: int, random_state: int | np.random.Generator) -> np.ndarray:
    """One audit sample of ``m`` rows ``(x, s, ŷ)`` drawn from ``Q`` without replacement.

    Drawn by :meth:`Manipulation.sample_indices` (proportionally to ``Q``'s weights), as the
    audit stage draws its samples; the seed is the caller's.

    Returns
    -------
    ndarray, shape (m, d + 2)
    """
    return manipulation.joint()[manipulation.sample_indices(int(m), random_state)]


def honest_rows(data: AuditData, m: int, random_state: int | np.random.Generator) -> np.ndarray:
    """An honest audit sample: ``m`` rows ``(x, s, ŷ)`` of the audited set, uniformly without replacement.

    Returns
    -------
    ndarray, shape (m, d + 2)
    """
    full = data.joint()
    return full[np.sort(np.random.default_rng(random_state).choice(len(full), size=int(m), replace=False))]


def load_counterfactual(dataset: str, results: str | Path | None = None) -> dict[str, Any]:
    """The counterfactual-twin audit of the data set's model (``counterfactual/{ds}.json``)."""
    return read_json(_need(_path("counterfactual", "json", results, ds=dataset)))


def counterfactual_figure(dataset: str, results: str | Path | None = None) -> Path:
    """Path of the twin audit's figure (``figures/counterfactual_{ds}.png``)."""
    return _need(_path("figure", "png", results, name=f"counterfactual_{dataset}"))

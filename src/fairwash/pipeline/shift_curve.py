r"""Stage: distribution shift against the original DI on simulated data (paper, Fig. 7, Appendix 0.I).

A family of simulated data sets (:func:`fairwash.data.synthetic.simulate`) spans a range
of label Disparate Impacts; on each, a small audited MLP is trained
(:func:`fairwash.model.fit_audited_model`), every fairwashing method is driven to the
target DI (:func:`fairwash.manipulate.run_method`), and the exact shift of its
distribution ``Q`` from the audited set ``P_n`` is measured
(:func:`fairwash.detect.shift.distribution_shift`: :math:`W_1(Q, P_n)` and
:math:`\mathrm{KL}(Q \Vert P_n)`, whole and per group).  The lower the original DI, the
further an attack has to move the distribution.

The paper measures the distance between the full original and 20 % samples of the
manipulated data and fits a logistic regression through it; fairwash plots the exact
shift of ``Q`` itself, which is what those samples estimate without their sampling noise
(the W of an honest 20 % sample from the original is already ~0.9 at n = 2 000, ten
times the shifts being compared).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.synthetic import simulate
from fairwash.detect.shift import distribution_shift
from fairwash.fairness import disparate_impact
from fairwash.io import atomic_write_json, atomic_write_parquet
from fairwash.manipulate import METHODS, run_method
from fairwash.model import fit_audited_model

__all__ = ["simulated_audit", "shift_curve", "shift_curve_stage"]

def _check_levels(label_di: Sequence[float]) -> list[float]:
    levels = [float(v) for v in label_di]
    if not levels:
        raise ValueError("label_di must list at least one label DI")
    bad = [v for v in levels if not 0.0 < v < 1.0]
    if bad:
        raise ValueError(f"label_di values must lie in (0, 1), got {bad}")
    return levels


def simulated_audit(label_di: float, *, n_audit: int, n_features: int, p_s1: float, p_y1_s1: float,
                    model: Mapping[str, Any] | None = None, random_state: int) -> Any:
    """One member of the simulated family with its audited model.

    Draws ``ceil(n_audit / test_size)`` individuals with ``P(Y=1|S=1) = p_y1_s1`` and
    ``P(Y=1|S=0) = label_di · p_y1_s1`` (Appendix 0.I), trains the audited MLP on the
    training split and returns the :class:`~fairwash.model.FitResult` (its ``audited``
    set holds the model's decisions on the first ``n_audit`` test rows).

    Parameters
    ----------
    label_di : float in (0, 1)
        Dialled label DI.
    n_audit, n_features : int
    p_s1, p_y1_s1 : float in (0, 1)
    model : mapping, optional
        MLP settings passed to :func:`fairwash.model.fit_audited_model` (its defaults for the
        missing keys; the pipeline passes every key, from ``config/schema.yaml``).
    random_state : int
        Seeds the data and the training.

    Returns
    -------
    fairwash.model.FitResult
    """

    settings = dict(model or {})
    test_size = float(settings.pop("test_size", 0.2))
    n = math.ceil(int(n_audit) / test_size)
    data = simulate(n, int(n_features), float(p_s1), float(label_di) * float(p_y1_s1), float(p_y1_s1),
                    random_state=int(random_state), name=f"sim_di{label_di:g}")
    return fit_audited_model(data, n_audit=int(n_audit), test_size=test_size, random_state=int(random_state),
                             progress=False, **settings)


def shift_curve(
    label_di: Sequence[float],
    *,
    methods: Sequence[str],
    target: float = COMPLIANCE_THRESHOLD,
    n_audit: int,
    n_features: int,
    p_s1: float,
    p_y1_s1: float,
    model: Mapping[str, Any] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    random_state: int,
    progress: bool = False,
) -> pd.DataFrame:
    """Fig. 7 data: the shift each method needs to reach ``target``, across simulated data sets.

    For each dialled label DI a data set and its audited model are built
    (:func:`simulated_audit`, seeds from ``numpy.random.SeedSequence(random_state)``),
    then every method of ``methods`` runs to ``target`` and its distribution's exact
    shift from the audited set is measured.

    Parameters
    ----------
    label_di : sequence of float in (0, 1)
        The family's label DIs.
    methods : sequence of str
        Names of :data:`fairwash.manipulate.METHODS`.
    target : float, default 0.8
    n_audit, n_features, p_s1, p_y1_s1, model
        See :func:`simulated_audit`.
    options : mapping method -> options, optional
        Keyword options per method (e.g. Grad's ``C0``).
    random_state : int
    progress : bool, default False
        A progress bar over (data set, method).

    Returns
    -------
    DataFrame
        One row per (data set, method): ``label_di``, ``seed``, ``di_labels`` and
        ``di_original`` (of the audited set's labels and decisions), ``accuracy``,
        ``method``, ``di_after``, ``reached``, ``W``, ``KL``, ``W (S=0)``, ``W (S=1)``,
        ``KL (S=0)``, ``KL (S=1)``, ``moved mass``, ``seconds``, ``note`` (why a method
        could not run; its shift is then NaN).
    """

    levels = _check_levels(label_di)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; known methods: {list(METHODS)}")
    seeds = np.random.SeedSequence(int(random_state)).generate_state(len(levels))
    options = dict(options or {})
    rows = []
    bar = None
    if progress:
        from tqdm.auto import tqdm  # only when a bar is shown

        bar = tqdm(total=len(levels) * len(methods), desc="Fig. 7 shift curve")
    names = {"w": "W", "kl": "KL", "w_s0": "W (S=0)", "w_s1": "W (S=1)", "kl_s0": "KL (S=0)",
             "kl_s1": "KL (S=1)", "moved_mass": "moved mass"}
    try:
        for level, seed in zip(levels, seeds, strict=True):
            fit = simulated_audit(level, n_audit=n_audit, n_features=n_features, p_s1=p_s1, p_y1_s1=p_y1_s1,
                                  model=model, random_state=int(seed))
            audited = fit.audited
            original = audited.joint()
            base = {"label_di": level, "seed": int(seed),
                    "di_labels": float(disparate_impact(audited.require_y("Fig. 7"), audited.S)),
                    "di_original": float(disparate_impact(audited.require_y_hat(), audited.S)),
                    "accuracy": float(fit.metrics["accuracy_audit"])}
            for method in methods:
                started = time.perf_counter()
                note = ""
                shift: dict[str, float] = dict.fromkeys(names.values(), math.nan)
                di_after, reached = math.nan, False
                try:
                    man = run_method(method, audited, target=target, model=fit.model, random_state=int(seed),
                                     options=options.get(method))
                except (ValueError, RuntimeError) as exc:  # a method that cannot reach the target says why
                    note = f"{type(exc).__name__}: {exc}"
                else:
                    res = distribution_shift(original, man.joint(), man.weights)
                    shift = {names[k]: v for k, v in res.to_dict().items()}
                    di_after, reached = float(man.di), bool(man.reached)
                rows.append({**base, "method": method, "di_after": di_after, "reached": reached, **shift,
                             "seconds": time.perf_counter() - started, "note": note})
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return pd.DataFrame(rows)


def shift_curve_stage(
    *,
    label_di: Sequence[float],
    methods: Sequence[str],
    target: float,
    n_audit: int,
    n_features: int,
    p_s1: float,
    p_y1_s1: float,
    model: Mapping[str, Any] | None,
    options: Mapping[str, Mapping[str, Any]] | None,
    random_state: int,
    threads: int = 1,
    progress: bool = False,
    out_parquet: str | Path,
    out_json: str | Path,
) -> dict[str, Any]:
    """Run :func:`shift_curve` and write its rows (parquet) and a summary (JSON).

    ``threads`` caps torch's intra-op threads for the run (the job's share of the
    machine; the same count gives the same bytes), restored afterwards.
    """
    import torch  # the thread cap of this job (torch is loaded by the model anyway)

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    started = time.perf_counter()
    try:
        curve = shift_curve(label_di, methods=methods, target=target, n_audit=n_audit, n_features=n_features,
                            p_s1=p_s1, p_y1_s1=p_y1_s1, model=model, options=options,
                            random_state=random_state, progress=progress)
    finally:
        torch.set_num_threads(before)
    timing = curve.pop("seconds")
    atomic_write_parquet(curve, out_parquet)
    failed = curve[curve["note"] != ""]
    summary = {
        "label_di": [float(v) for v in label_di], "methods": list(methods), "target": float(target),
        "n_audit": int(n_audit), "n_features": int(n_features), "p_s1": float(p_s1),
        "p_y1_s1": float(p_y1_s1),
        "model": dict(model or {}), "random_state": int(random_state),
        "di_original": sorted(set(curve["di_original"].round(6))),
        "failures": [f"{r.method} at label DI {r.label_di:g}: {r.note}" for r in failed.itertuples()],
        "method_seconds": {m: float(timing[curve["method"] == m].sum()) for m in methods},
        "seconds": time.perf_counter() - started,
    }
    atomic_write_json(summary, out_json)
    return summary

"""Stage: the audit protocol (reference thresholds, detection, fairest undetected DI, Fig. 8).

Each function takes paths and plain parameters, calls :mod:`fairwash.protocol` (the
threshold store, Table 2, Tables 3 and 15, Fig. 8), and writes its outputs atomically.
The tables are built by :mod:`fairwash.tables`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import METHOD_SPECS, NO_MMD, TESTS
from fairwash.data.authors import load_authors_highest_di, load_authors_thresholds
from fairwash.data.base import AuditData
from fairwash.detect.battery import context_for_thresholds
from fairwash.detect.context import BatteryContext, WassersteinConfig
from fairwash.detect.thresholds import ReferenceThresholds, code_mode_thresholds
from fairwash.io import atomic_write_json, atomic_write_parquet, to_jsonable
from fairwash.pipeline.manipulate import load_audit_model
from fairwash.protocol.compare import search_protocols
from fairwash.protocol.detection_rates import detection, detection_summary, empty_detection
from fairwash.protocol.fairest import fairest_by_size
from fairwash.protocol.sample_size import sample_size_study, smallest_safe_fraction
from fairwash.protocol.thresholds import ThresholdSettings, obtain_thresholds
from fairwash.resume import Checkpoint, fingerprint
from fairwash.store import read_manipulation, read_manipulation_summary, read_thresholds, write_audit_frame

__all__ = [
    "reference_stage",
    "detect_stage",
    "detect_stages",
    "fairest_stage",
    "sample_size_stage",
    "code_mode_for",
]


# ----------------------------------------------------------------------------- reference
def reference_stage(
    *,
    audited_parquet: str | Path,
    m: int,
    n_draws: int,
    level: float,
    rule: str,
    w_method: str,
    subref_size: int,
    subref_seed: int,
    seed: int,
    out_json: str | Path,
    tests: Sequence[str] = TESTS,
    resume_dir: str | Path | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Honest reference draws and thresholds of the battery for size ``m`` (eq. 3).

    :func:`fairwash.protocol.thresholds.obtain_thresholds` computes them and writes
    ``out_json`` (the command line's cache entries are the same function's output, so
    ``fairwash check --thresholds out_json`` can reuse this file). With ``resume_dir``,
    each draw is kept there as it finishes and an interrupted job continues from the
    first missing draw (draw ``i`` has its own seed stream, so the thresholds are the
    same); the folder is removed once ``out_json`` is written. ``workers`` threads make the
    draws (the same bytes for any number).
    """
    data = AuditData.load(audited_parquet)
    w_config = WassersteinConfig(method=w_method, subref_size=int(subref_size), seed=int(subref_seed))
    ctx = BatteryContext.prepare(data.joint(), w_config=w_config)
    settings = ThresholdSettings(tests=tuple(tests), n_draws=int(n_draws), level=float(level), rule=rule,
                                 seed=int(seed))
    job = {"stage": "reference", "m": int(m), "n_draws": int(n_draws), "seed": int(seed),
           "tests": list(tests), "config": ctx.config()}
    ck = Checkpoint(resume_dir, fingerprint([audited_parquet], job)) if resume_dir else None
    _, info = obtain_thresholds(ctx, int(m), settings, out_json, checkpoint=ck, extra={"dataset": data.name},
                                reuse=False, workers=int(workers))
    return info["file"]


# ----------------------------------------------------------------------------- Table 2
def detect_stage(
    *,
    audited_parquet: str | Path,
    manipulated_parquet: str | Path,
    manipulated_json: str | Path,
    reference_json: str | Path,
    m: int,
    n_samples: int,
    target: float,
    seed: int,
    out_parquet: str | Path,
    out_json: str | Path,
    tests: Sequence[str] = TESTS,
) -> dict[str, Any]:
    """Battery on repeated samples from one manipulated distribution (Table 2)."""
    job = {"manipulated_parquet": manipulated_parquet, "manipulated_json": manipulated_json, "seed": seed,
           "out_parquet": out_parquet, "out_json": out_json}
    return detect_stages(audited_parquet=audited_parquet, reference_json=reference_json, m=m,
                         n_samples=n_samples, target=target, jobs=[job], tests=tests)[0]


def detect_stages(
    *,
    audited_parquet: str | Path,
    reference_json: str | Path,
    m: int,
    n_samples: int,
    target: float,
    jobs: Sequence[Mapping[str, Any]],
    tests: Sequence[str] = TESTS,
    resume_dir: str | Path | None = None,
    w_a_rate_samples: int | None = None,
) -> list[dict[str, Any]]:
    """Table 2 for several manipulations of one audited set at one size, sharing one context.

    Parameters
    ----------
    jobs : sequence of mappings
        One per manipulation: ``manipulated_parquet``, ``manipulated_json``, ``seed``,
        ``out_parquet``, ``out_json``. Each writes its own outputs (atomically) as soon as
        it is done; the audited set, the thresholds and the battery's set-up (row index,
        MMD self term) are loaded once for all.

    w_a_rate_samples : int, optional
        Exact W_A on a seeded subsample of this many samples besides where it decides
        evasion (:func:`fairwash.protocol.detection_rates.detection`); ``None`` = every sample.
    resume_dir : path, optional
        Keep each manipulation's finished frame and summary there, so that an
        interrupted job redoes only the manipulations it had not finished (Snakemake
        deletes a rerun job's outputs first); removed at the end.

    Returns
    -------
    list of dict
        The summary written to each ``out_json``.
    """
    data = AuditData.load(audited_parquet)
    thr = read_thresholds(reference_json)
    ctx = context_for_thresholds(data.joint(), thr)
    ck = None
    if resume_dir:
        inputs = [audited_parquet, reference_json, *(j[k] for j in jobs for k in ("manipulated_parquet",
                                                                                   "manipulated_json"))]
        settings = {"stage": "detect", "m": int(m), "n_samples": int(n_samples), "target": float(target),
                    "tests": list(tests), "seeds": [int(j["seed"]) for j in jobs],
                    "w_a_rate_samples": w_a_rate_samples}
        ck = Checkpoint(resume_dir, fingerprint(inputs, settings))
    summaries = []
    for i, job in enumerate(jobs):
        key = f"job{i}"
        stored = ck.get(key) if ck is not None else None
        if stored is not None:  # done by an earlier attempt: its seconds are resumed work
            frame, summary = ck.get_frame(key), stored | {"resumed_seconds": ck.seconds(key)}
        else:
            frame, summary = _detect_one(data, job, thr, ctx, m=int(m), n_samples=int(n_samples),
                                         target=float(target), tests=tests, w_a_rate_samples=w_a_rate_samples)
            if ck is not None:
                ck.put_frame(key, frame)
                ck.put(key, summary, seconds=summary["seconds"])
        write_audit_frame(frame, job["out_parquet"])
        atomic_write_json(summary, job["out_json"])
        summaries.append(summary)
    if ck is not None:
        ck.clear()
    return summaries


def _detect_one(data: AuditData, job: Mapping[str, Any], thr: ReferenceThresholds, ctx: BatteryContext, *,
                m: int, n_samples: int, target: float, tests: Sequence[str],
                w_a_rate_samples: int | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Table 2 frame and summary of one manipulation (see :func:`detect_stages`)."""
    started = time.perf_counter()
    man = read_manipulation(job["manipulated_parquet"], job["manipulated_json"])
    info = read_manipulation_summary(job["manipulated_json"])
    error = info.get("error")  # the method could not run: Q is the original, nothing to test
    support = int(np.count_nonzero(man.weights > 0))
    if error is None and support < m:
        error = f"Q has {support} support points, fewer than m = {m}"
    if error is not None:
        frame = empty_detection(tests)
    else:
        frame = detection(None, man, m, thr, n_samples=n_samples, tests=tests, target=target,
                          random_state=int(job["seed"]), context=ctx, w_a_rate_samples=w_a_rate_samples)
    summary = detection_summary(frame, tests) | {
        "dataset": data.name, "method": info["method"], "m": m, "target": target,
        "di_q": float(man.di), "error": error,
        "reached": bool(info.get("reached", False)) and error == info.get("error"),
        "tests": list(tests), "w_a_rate_samples": w_a_rate_samples,
        "seconds": time.perf_counter() - started, "resumed_seconds": 0.0,
    }
    return frame, to_jsonable(summary)


# ----------------------------------------------------------------------------- Tables 3, 15
def fairest_stage(
    *,
    audited_parquet: str | Path,
    method: str,
    reference_jsons: Mapping[int, str | Path],
    model: Any,
    options: Mapping[str, Any] | None,
    seed: int,
    start: float,
    step: float,
    n_samples: int,
    out_json: str | Path,
    ablation: Sequence[str] = NO_MMD,
    target_offset: float = 0.001,
    progress: bool = False,
    resume_dir: str | Path | None = None,
    model_files: Sequence[str | Path] = (),
    model_params: Mapping[str, Any] | None = None,
    protocols: Sequence[str] = (),
) -> dict[str, Any]:
    """Fairest undetected DI of one method at every size, with the seven tests and the ablation.

    ``protocols`` adds one set per protocol of :data:`fairwash.protocol.compare.PROTOCOLS`
    (``optimal``, ``holm``, ``minp``) searched on the same samples (issue 17's comparison).

    ``Q`` at each level is built once and shared by the sizes and by both test sets.
    With ``resume_dir``, every searched level is kept there (see
    :func:`fairwash.protocol.fairest.fairest_undetected_sets`) and an interrupted job goes on from
    the first level not stored; ``model_files`` and ``model_params`` (the audited model's
    files and where it comes from) enter the fingerprint that decides whether stored
    levels still apply.
    """
    data = AuditData.load(audited_parquet)
    thr = {int(m): read_thresholds(p) for m, p in reference_jsons.items()}
    ck = None
    if resume_dir:
        settings = {"stage": "fairest", "method": method, "seed": int(seed), "start": float(start),
                    "step": float(step), "n_samples": int(n_samples), "ablation": list(ablation),
                    "target_offset": float(target_offset), "options": dict(options or {}),
                    "model": dict(model_params or {}), "protocols": list(protocols)}
        inputs = [audited_parquet, *(reference_jsons[m] for m in sorted(reference_jsons)), *model_files]
        ck = Checkpoint(resume_dir, fingerprint(inputs, settings))
    started = time.perf_counter()
    by_size, cache = fairest_by_size(
        data, method, thr, test_sets={"seven": TESTS, "ablation": tuple(ablation),
                                      **search_protocols([p for p in protocols if p != "any"])}, model=model,
        options=options, start=float(start), step=float(step), n_samples=int(n_samples),
        random_state=int(seed), target_offset=target_offset, progress=progress, checkpoint=ck)
    out = {
        "dataset": data.name, "method": method, "start": float(start), "step": float(step),
        "n_samples": int(n_samples), "ablation": list(ablation), "method_runs": cache.runs,
        "method_seconds": cache.seconds, "method_errors": {str(k): v for k, v in cache.errors.items()},
        "seconds": time.perf_counter() - started,
        "resumed_seconds": ck.resumed_seconds if ck is not None else 0.0,
        "sizes": {str(m): {k: v.to_dict() for k, v in res.items()} for m, res in by_size.items()},
    }
    atomic_write_json(to_jsonable(out), out_json)
    if ck is not None:
        ck.clear()
    return out


# ----------------------------------------------------------------------------- Fig. 8
def sample_size_stage(
    *,
    audited_parquet: str | Path,
    methods: Sequence[str],
    fractions: Sequence[float],
    reference_jsons: Mapping[int, str | Path],
    model: Any,
    options: Mapping[str, Mapping[str, Any]] | None,
    seed: int,
    start: float,
    step: float,
    n_samples: int,
    target: float,
    out_parquet: str | Path,
    out_json: str | Path,
    progress: bool = False,
) -> dict[str, Any]:
    """Fairest undetected DI against the sample fraction (Fig. 8) and the smallest safe fraction."""
    data = AuditData.load(audited_parquet)
    thr = {int(m): read_thresholds(p) for m, p in reference_jsons.items()}
    started = time.perf_counter()
    study = sample_size_study(data, methods, fractions, thresholds=thr, model=model, start=start, step=step,
                              n_samples=n_samples, random_state=int(seed), options=options, progress=progress)
    safe = smallest_safe_fraction(study, target)
    study.insert(0, "dataset", data.name)
    atomic_write_parquet(study, out_parquet)
    out = {"dataset": data.name, "n": data.n, "target": target, "methods": list(methods),
           "fractions": list(fractions), "n_samples": n_samples, "start": start, "step": step,
           "smallest_safe_fraction": safe.fraction, "smallest_safe_m": safe.m, "status": safe.status,
           "message": safe.message, "seconds": time.perf_counter() - started}
    atomic_write_json(to_jsonable(out), out_json)
    return out


# ----------------------------------------------------------------------------- the authors' results
def authors_highest_di(authors_dir: str | Path | None) -> dict[str, dict[int, float | None]] | None:
    """The authors' ``Highest_DI.npy`` from their cache, or ``None`` (with the reason logged)."""
    try:
        return load_authors_highest_di(authors_dir, download=False)
    except (OSError, ValueError, LookupError) as exc:
        print(f"authors' Highest_DI.npy unavailable: {exc}", file=sys.stderr)
        return None


def code_mode_for(
    reference_json: str | Path, audited_parquet: str | Path, n_draws: int = 30
) -> dict[str, float]:
    """The authors' code's thresholds (mean + 1.96 std of 30 draws, their KL form) from a cached reference."""
    ref = read_thresholds(reference_json)
    full = AuditData.load(audited_parquet).joint()
    return code_mode_thresholds(full, ref, n_draws=min(n_draws, ref.n_draws))


def authors_thresholds(authors_dir: str | Path | None) -> dict[str, dict[int, dict[str, float]]] | None:
    """The authors' ``dic_threshold.json`` from their cache, or ``None`` (with the reason logged)."""
    try:
        return load_authors_thresholds(authors_dir, download=False)
    except (OSError, ValueError, LookupError) as exc:
        print(f"authors' dic_threshold.json unavailable: {exc}", file=sys.stderr)
        return None


def model_for(methods: Sequence[str], *, source: str, model_config: str | Path | None, authors_name: str,
              authors_dir: str | None, hub_revision: str | None) -> Any:
    """The audited model when a method of ``methods`` needs it (Grad), else ``None``
    (:func:`fairwash.models.resolve_model`, through the manipulate stage's loader)."""
    if not any(METHOD_SPECS[m].needs_model for m in methods):
        return None
    return load_audit_model(source=source, model_dir=Path(model_config).parent if model_config else None,
                            dataset=authors_name, authors_dir=authors_dir, hub_revision=hub_revision)

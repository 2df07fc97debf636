"""From parsed arguments to the library's inputs: the prepared data, the tests, the battery
context and the threshold cache shared by ``check`` and ``risk``."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairwash.catalogue import NO_MMD, TESTS
from fairwash.data.base import DataError

__all__ = ["prepare_from_args", "tests_from_args", "check_battery_args", "cache_dir_default",
           "cached_thresholds", "cache_dir_from_args", "battery_context", "di"]

_CACHE_VERSION = 1


def prepare_from_args(args: argparse.Namespace, sample_path: str | None):
    from fairwash.inputs import prepare, read_table

    full_df = read_table(args.full)
    sample_df = read_table(sample_path) if sample_path is not None else None
    return prepare(
        full_df, sample_df, sensitive=args.sensitive, outcome=args.outcome, features=args.features,
        exclude=args.exclude, categorical=args.categorical, s0=args.s0, s_threshold=args.s_threshold,
        positive=args.positive, drop_missing=args.drop_missing, max_levels=args.max_levels,
    ), full_df


def tests_from_args(args: argparse.Namespace) -> tuple[str, ...]:
    if args.no_mmd:
        return NO_MMD
    if args.tests is None:
        return TESTS
    unknown = [t for t in args.tests if t not in TESTS]
    if unknown:
        raise DataError(f"--tests: unknown test(s) {unknown}; choose among {','.join(TESTS)}")
    return tuple(dict.fromkeys(args.tests))


def check_battery_args(args: argparse.Namespace) -> None:
    if not 0 < args.level < 1:
        raise DataError(f"--level must lie strictly between 0 and 1, got {args.level}")
    if args.rule == "quantile":
        need = math.ceil(args.level / (1 - args.level))
        if args.draws < need:
            raise DataError(f"--draws {args.draws} is too few for a {args.level:g} quantile: "
                            f"use at least {need}")


def cache_dir_default() -> Path:
    """``$FAIRWASH_CACHE`` or ``~/.cache/fairwash``."""
    env = os.environ.get("FAIRWASH_CACHE")
    return Path(env).expanduser() if env else Path("~/.cache/fairwash").expanduser()


def cached_thresholds(
    context: Any,
    m: int,
    *,
    tests: Sequence[str],
    n_draws: int,
    level: float,
    rule: str,
    seed: int,
    cache_dir: Path | None,
) -> tuple[Any, dict[str, Any]]:
    """Reference thresholds (eq. 3) for samples of size ``m``, read from or written to a cache.

    The cache key hashes the prepared full rows (``context.fingerprint``, a SHA-256 of the
    standardised ``(x, s, ŷ)`` array), ``m``, the tests, the number of draws, the level, the
    rule, the seed and the statistic settings (``context.config()``); the file is JSON
    (``thresholds-<key>.json``) written atomically, so concurrent calls never read half a file.
    A cache file that does not parse or does not match is ignored and rewritten.

    Returns
    -------
    thresholds : fairwash.detect.battery.ReferenceThresholds
    info : dict
        ``cache`` ("used", "written", "off", or "unwritable"), ``path``, ``seconds``.
    """
    from fairwash.detect.battery import ReferenceThresholds, thresholds_from_draws
    from fairwash.io import atomic_write_text
    from fairwash.resume import Checkpoint, reference_draws_resumable

    key_obj = {
        "version": _CACHE_VERSION, "fingerprint": context.fingerprint, "n": context.n, "m": int(m),
        "tests": sorted(context.calibrated(tests)), "draws": int(n_draws), "level": float(level),
        "rule": rule, "seed": int(seed), "config": context.config(),
    }
    key = hashlib.sha256(json.dumps(key_obj, sort_keys=True).encode()).hexdigest()[:24]
    path = None if cache_dir is None else cache_dir / f"thresholds-{key}.json"
    if path is not None and path.is_file():
        try:
            d = json.loads(path.read_text())
            thr = ReferenceThresholds.from_dict(d["thresholds"])
            if d.get("key") == key_obj and thr.fingerprint == context.fingerprint and thr.m == m:
                return thr, {"cache": "used", "path": str(path), "seconds": 0.0}
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is recomputed and overwritten
    t0 = time.perf_counter()
    # the draws are kept one by one beside the cache, so an interrupted call (Ctrl-C during
    # minutes of exact W_A draws) goes on from the first missing draw when rerun
    partial = None
    if cache_dir is not None:
        try:
            partial = Checkpoint(cache_dir / f"partial-{key}", {"key": key_obj})
        except OSError:
            partial = None
    draws = reference_draws_resumable(context, int(m), tests=tests, n_draws=int(n_draws),
                                      random_state=int(seed), checkpoint=partial)
    thr = thresholds_from_draws(context, int(m), draws, tests=tests, level=level, rule=rule,
                                random_state=int(seed))
    seconds = time.perf_counter() - t0
    if partial is not None:
        partial.clear()
    if path is None:
        return thr, {"cache": "off", "path": None, "seconds": seconds}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # json (not atomic_write_json): the honest draws may hold inf, which must read back as inf
        atomic_write_text(json.dumps({"key": key_obj, "thresholds": thr.to_dict()}, sort_keys=True), path)
    except OSError as exc:
        return thr, {"cache": "unwritable", "path": str(path), "seconds": seconds, "error": str(exc)}
    return thr, {"cache": "written", "path": str(path), "seconds": seconds}


def cache_dir_from_args(args: argparse.Namespace) -> Path | None:
    if args.no_cache:
        return None
    return Path(args.cache_dir).expanduser() if args.cache_dir else cache_dir_default()


def battery_context(full_rows: np.ndarray, w_method: str):
    from fairwash.detect.battery import BatteryContext, WassersteinConfig

    return BatteryContext.prepare(full_rows, w_config=WassersteinConfig(method=w_method))


def di(y_hat: np.ndarray, s: np.ndarray) -> float:
    from fairwash.fairness import disparate_impact

    return float(disparate_impact(y_hat, s))


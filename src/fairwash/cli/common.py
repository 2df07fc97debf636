"""From parsed arguments to the library's inputs: the prepared data, the tests, the battery
context and the threshold store shared by ``check`` and ``risk``."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairwash.catalogue import NO_MMD, TESTS
from fairwash.data.base import DataError
from fairwash.fairness import disparate_impact
from fairwash.store import user_cache_dir

__all__ = ["prepare_from_args", "tests_from_args", "check_battery_args", "cache_dir_default",
           "cache_dir_from_args", "settings_from_args", "store_from_args",
           "battery_context", "di", "notify"]


def prepare_from_args(args: argparse.Namespace, sample_path: str | None):
    # the readers load pandas / pyarrow only when a command runs: `fairwash --help` answers at once
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
    """``$FAIRWASH_CACHE`` or ``~/.cache/fairwash`` (:func:`fairwash.store.user_cache_dir`)."""
    return user_cache_dir()


def cache_dir_from_args(args: argparse.Namespace) -> Path | None:
    if args.no_cache:
        return None
    return Path(args.cache_dir).expanduser() if args.cache_dir else cache_dir_default()


def settings_from_args(args: argparse.Namespace, tests: Sequence[str]):
    """The honest draws asked for: ``--draws``, ``--level``, ``--rule``, ``--seed``."""
    # POT (via the battery) only when a command runs: `fairwash --help` answers at once
    from fairwash.protocol.thresholds import ThresholdSettings

    return ThresholdSettings(tests=tuple(tests), n_draws=args.draws, level=args.level, rule=args.rule,
                             seed=args.seed)


def store_from_args(args: argparse.Namespace, context: Any, tests: Sequence[str]):
    """The threshold store of a command: ``--thresholds`` files, then the cache, else the draws."""
    # POT (via the battery) only when a command runs: `fairwash --help` answers at once
    from fairwash.protocol.thresholds import ThresholdStore

    return ThresholdStore(context, settings_from_args(args, tests), cache_dir=cache_dir_from_args(args),
                          files=args.thresholds)


def battery_context(full_rows: np.ndarray, w_method: str):
    # POT only when a command runs: `fairwash --help` answers at once
    from fairwash.detect.context import BatteryContext, WassersteinConfig

    return BatteryContext.prepare(full_rows, w_config=WassersteinConfig(method=w_method))


def di(y_hat: np.ndarray, s: np.ndarray) -> float:
    return float(disparate_impact(y_hat, s))


def notify(message: str) -> None:
    """A progress line on stderr (the text output only; ``--json`` stays silent)."""
    print(message, file=sys.stderr, flush=True)

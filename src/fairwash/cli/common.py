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
from fairwash.errors import DataError
from fairwash.fairness import disparate_impact
from fairwash.protocol import limits

__all__ = ["prepare_from_args", "tests_from_args", "check_battery_args", "check_battery_size",
           "warn_inputs", "cache_dir_default",
           "cache_dir_from_args", "settings_from_args", "store_from_args",
           "battery_context", "di", "notify"]


def prepare_from_args(args: argparse.Namespace, sample_path: str | None):
    for path in (args.full, sample_path):  # a typo is reported before pandas is loaded
        if path is not None:
            limits.check_regular_file(path)
    # the readers load pandas / pyarrow only when a command runs: `fairwash --help` answers at once
    from fairwash.inputs import prepare, read_table

    bounds = limits.ReadLimits(args.max_rows, args.max_columns, args.max_bytes)
    how = {"sep": args.sep, "encoding": args.encoding, "limits": bounds}
    full_df = read_table(args.full, **how)
    sample_df = read_table(sample_path, **how) if sample_path is not None else None
    return prepare(
        full_df, sample_df, sensitive=args.sensitive, outcome=args.outcome, features=args.features,
        exclude=args.exclude, categorical=args.categorical, s0=args.s0, s_threshold=args.s_threshold,
        positive=args.positive, drop_missing=args.drop_missing, max_levels=args.max_levels,
        max_bytes=args.max_bytes,
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


#: Fewest honest draws for ``--rule mean_std``: the standard deviation of k draws has a relative
#: standard error of about 1 / sqrt(2 (k - 1)), 24 % at k = 10.
MIN_DRAWS_MEAN_STD = 10
#: Lowest confidence level accepted: below it, the test rejects most honest samples.
MIN_LEVEL = 0.5


def check_battery_args(args: argparse.Namespace) -> None:
    """Refuse a level or a number of draws that cannot give a meaningful threshold, with the reason."""
    if not (math.isfinite(args.level) and 0 < args.level < 1):
        raise DataError(f"--level must lie strictly between 0 and 1, got {args.level}")
    if args.level < MIN_LEVEL:
        raise DataError(
            f"--level {args.level:g} is a confidence level: the test would reject about "
            f"{100 * (1 - args.level):.0f} % of honest samples. Did you mean --level {1 - args.level:g} "
            f"(a {100 * args.level:g} % risk of a false alarm)? Levels below {MIN_LEVEL:g} are refused")
    if args.rule == "quantile":
        need = math.ceil(args.level / (1 - args.level))
        if args.draws < need:
            raise DataError(f"--draws {args.draws} is too few for a {args.level:g} quantile: "
                            f"use at least {need}")
    elif args.draws < MIN_DRAWS_MEAN_STD:
        raise DataError(
            f"--rule mean_std --draws {args.draws}: a standard deviation of {args.draws} draw(s) is "
            f"{'undefined' if args.draws < 2 else 'too uncertain'} (its relative error is about "
            f"1 / sqrt(2 (k - 1))); use at least --draws {MIN_DRAWS_MEAN_STD}")


def check_battery_size(n: int, m: int, tests: Sequence[str], w_method: str) -> None:
    """Refuse a paper battery larger than this machine can hold (:mod:`fairwash.protocol.limits`)."""
    try:
        limits.check_battery_size(n, m, tests, w_method)
    except limits.SizeError as exc:
        raise DataError(str(exc)) from None


def warn_inputs(inputs: Any, quiet: bool) -> None:
    """Warn on stderr about a red-team label (the text output also shows it)."""
    if inputs.redteam and not quiet:
        print(f"fairwash: warning: {inputs.redteam}", file=sys.stderr, flush=True)


def cache_dir_default() -> Path:
    """``$FAIRWASH_CACHE`` or ``~/.cache/fairwash`` (:func:`fairwash.store.user_cache_dir`)."""
    from fairwash.store import user_cache_dir  # the store loads pandas: not before the files are read

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
                          files=args.thresholds, workers=getattr(args, "jobs", 1))


def battery_context(full_rows: np.ndarray, w_method: str):
    # POT only when a command runs: `fairwash --help` answers at once
    from fairwash.detect.context import BatteryContext, WassersteinConfig

    return BatteryContext.prepare(full_rows, w_config=WassersteinConfig(method=w_method))


def di(y_hat: np.ndarray, s: np.ndarray) -> float:
    return float(disparate_impact(y_hat, s))


def notify(message: str) -> None:
    """A progress line on stderr (the text output only; ``--json`` stays silent)."""
    print(message, file=sys.stderr, flush=True)

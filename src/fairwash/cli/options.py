"""What every ``fairwash`` command shares on its command line: exit codes, argument types,
the data and battery option groups and their help."""

from __future__ import annotations

import argparse
import math
from typing import Any

from fairwash.catalogue import TESTS
from fairwash.protocol.limits import DEFAULT_READ_LIMITS, fmt_bytes, parse_bytes

__all__ = ["EXIT_OK", "EXIT_REJECTED", "EXIT_USAGE", "EXIT_INTERNAL", "Formatter", "COMMON_INPUT_HELP",
           "csv_list", "positive_int", "fraction_arg", "positive_float", "size_arg", "seed_arg",
           "add_data_options",
           "add_battery_options", "jobs_option", "debug_option", "report_option"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

COMMON_INPUT_HELP = """\
inputs:
  The full data: one row per individual, with the sensitive attribute, the
  audited model's decision Ŷ and the features. The sample has the same columns.
  Files are CSV (.csv, .csv.gz, .tsv) or parquet (.parquet), chosen by extension.

  The sensitive attribute becomes S by a rule you state (fairwash never guesses
  which group is disadvantaged):
    --s0 VALUE         S = 0 (disadvantaged) where the column equals VALUE,
                       S = 1 for every other value;
    --s-threshold T    numeric column: S = 1 where it is greater than T, else 0.
  The outcome must be the model's binary decision: 0/1 or True/False as is,
  otherwise name the favourable value with --positive VALUE.
  Features are all other columns (or --features); text columns are one-hot
  encoded with the levels of the full data; every feature is standardised with
  the full data's mean and standard deviation. Missing values are reported per
  column and refused, unless --drop-missing drops the incomplete rows.
"""


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=88)


def csv_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def fraction_arg(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def size_arg(text: str) -> int:
    """``--max-bytes``: ``500M``, ``2G`` or a number of bytes."""
    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seed_arg(text: str) -> int:
    """A seed: an integer from 0 to 2**32 - 1 (NumPy's seed sequences take no negative entropy)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 4294967295, got {text!r}") from None
    if not 0 <= v < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 4294967295, got {text!r}")
    return v


def add_data_options(p: argparse.ArgumentParser, *, sample: bool) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--full", required=True, metavar="FILE",
                   help="the auditee's full data (CSV or parquet)")
    if sample:
        g.add_argument("--sample", required=True, metavar="FILE",
                       help="the submitted audit sample (same columns)")
    g.add_argument("--sensitive", required=True, metavar="COL", help="the sensitive-attribute column")
    g.add_argument("--outcome", required=True, metavar="COL",
                   help="the audited model's decision column (binary)")
    r = g.add_mutually_exclusive_group()
    r.add_argument("--s0", metavar="VALUE", help="the disadvantaged group's value of --sensitive (S = 0)")
    r.add_argument("--s-threshold", metavar="T", dest="s_threshold",
                   help="numeric --sensitive: S = 1 where greater than T, else S = 0")
    g.add_argument("--positive", metavar="VALUE",
                   help="the favourable value of --outcome (needed unless it is 0/1 or True/False)")
    g.add_argument("--features", type=csv_list, metavar="A,B,...",
                   help="feature columns (default: every other column)")
    g.add_argument("--exclude", type=csv_list, default=[], metavar="A,B,...",
                   help="columns to leave out of the features (ids, free text, the true label)")
    g.add_argument("--categorical", type=csv_list, default=[], metavar="A,B,...",
                   help="numeric columns holding category codes, to one-hot encode")
    g.add_argument("--drop-missing", action="store_true",
                   help="drop rows with missing values (reported) instead of refusing them")
    g.add_argument("--max-levels", type=positive_int, default=50, metavar="N",
                   help="most distinct values a text feature may have (default 50)")
    g.add_argument("--sep", metavar="CHAR", default=None,
                   help="CSV field separator (default ',', tab for .tsv); e.g. --sep ';'")
    g.add_argument("--encoding", metavar="NAME", default="utf-8",
                   help="CSV text encoding (default utf-8; e.g. latin-1 for a Windows export)")
    lim = DEFAULT_READ_LIMITS
    g.add_argument("--max-rows", type=positive_int, default=lim.max_rows, metavar="N",
                   help=f"refuse a file with more rows (default {lim.max_rows:,})")
    g.add_argument("--max-columns", type=positive_int, default=lim.max_columns, metavar="N",
                   help=f"refuse a file with more columns (default {lim.max_columns:,})")
    g.add_argument("--max-bytes", type=size_arg, default=lim.max_bytes, metavar="SIZE",
                   help=f"refuse a file holding more data: a CSV's text once decompressed, a parquet "
                        f"file's size in memory (default {fmt_bytes(lim.max_bytes)}; e.g. 500M, 8G). "
                        "Files are checked before they are expanded; only regular files are read")


def add_battery_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("battery")
    t = g.add_mutually_exclusive_group()
    t.add_argument("--tests", type=csv_list, default=None, metavar="T1,T2,...",
                   help=f"tests to run (default all seven: {','.join(TESTS)})")
    t.add_argument("--no-mmd", action="store_true",
                   help="the five-test ablation of the paper's Table 15 (no MMD_A, MMD_P)")
    g.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    g.add_argument("--draws", type=positive_int, default=100, metavar="N",
                   help="honest reference samples per threshold (default 100; at least 19 at level 0.95)")
    g.add_argument("--rule", choices=("quantile", "mean_std"), default="quantile",
                   help="threshold: empirical quantile (default) or mean + 1.96 std (the authors' code)")
    g.add_argument("--w-method", choices=("exact", "subref", "sliced"), default="exact",
                   help="W_A estimator: exact OT (default), exact against a 5 000-row subsample of "
                        "the full data, or sliced Wasserstein; faster on large data")
    g.add_argument("--seed", type=seed_arg, default=0,
                   help="seed of the honest draws, 0 to 4294967295 (default 0)")
    g.add_argument("--cache-dir", metavar="DIR",
                   help="where reference thresholds are cached "
                        "(default $FAIRWASH_CACHE or ~/.cache/fairwash)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    g.add_argument("--thresholds", action="append", default=[], metavar="FILE",
                   help="a reference-thresholds file to reuse for the sample size it was computed for "
                        "(the pipeline's results/audit/<set>/reference_m<m>.json, or a cache entry); "
                        "refused unless it was computed on this full data with these statistic settings "
                        "and covers the tests; its own draws, level, rule and seed are used (repeatable)")


def jobs_option(p: argparse.ArgumentParser) -> None:
    """``--jobs N``: threads for the honest reference draws (the same thresholds for any N)."""
    p.add_argument("--jobs", "-j", type=positive_int, default=1, metavar="N",
                   help="threads for the honest reference draws (default 1; the cores you give it; "
                        "the same thresholds for any N)")


def debug_option(p: argparse.ArgumentParser, default: Any = argparse.SUPPRESS) -> None:
    p.add_argument("--debug", action="store_true", default=default,
                   help="show the full traceback of an unexpected error")



def report_option(p: argparse.ArgumentParser) -> None:
    """``--report PATH``: also write the self-contained HTML report (:mod:`fairwash.audit_report`)."""
    p.add_argument("--report", metavar="PATH",
                   help="also write a self-contained HTML report (verdict, figures, cells, DI and its "
                        "interval, the sample size that closes the gap, and what reproduces it) to PATH; it "
                        "computes the recommended sample size (up to tens of seconds when the full "
                        "data's DI is near 0.8)")

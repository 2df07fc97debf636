"""The ``fairwash`` command line for auditors (issue 7).

Subcommands::

    fairwash check   is a submitted audit sample representative of the full data? (the battery)
    fairwash risk    how fair could a fairwashed sample of this size look, undetected?
    fairwash twins   the counterfactual-twin audit of a model
    fairwash attack  write a deliberately manipulated sample (red-team exercises)

Exit status: 0 success (``check``: the sample is representative), 1 ``check`` rejects
the sample, 2 bad input (unreadable file, unknown column, ambiguous rule, bad option),
3 an unexpected internal error (rerun with ``--debug`` for the traceback).

Only this module prints.  Heavy libraries (torch, POT) are imported inside the
subcommands so that ``fairwash --help`` and input errors answer at once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from fairwash.data.base import DataError

__all__ = ["main", "build_parser", "cache_dir_default", "cached_thresholds", "EXIT_OK", "EXIT_REJECTED",
           "EXIT_USAGE", "EXIT_INTERNAL"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

#: Attacks ``fairwash attack`` can write (they keep every row an existing row of the full file,
#: or edit only its S / decision); the Grad methods move features through a model.
ATTACK_METHODS = ("Matching", "Entropic_b", "Entropic_p", "Replace", "SBS")
REDTEAM_BANNER = "RED-TEAM EXERCISE: this sample is deliberately manipulated"
_CACHE_VERSION = 1
#: ``fairwash.detect.battery.TESTS``, repeated here so that the help does not import POT/torch
#: (a test checks they agree).
TESTS = ("KS", "KL_A", "KL_P", "W_A", "W_P", "MMD_A", "MMD_P")


# ============================================================================ help texts
_MAIN_DESCRIPTION = """\
fairwash: audit Disparate Impact the way a supervisory authority should.

An auditee asked to prove that its model does not discriminate sends a sample of
its decisions. It may have chosen that sample to look fair ("fairwashing"). The
paper "Exposing the Illusion of Fairness" gives the authority two defences: test
the submitted sample against the full data with a combination of tests, and
demand a sample large enough that no manipulation hides. These commands apply
them to your own files (CSV or parquet).

Disparate Impact (DI) = P(Ŷ=1 | S=0) / P(Ŷ=1 | S=1), S = 0 the disadvantaged
group; DI >= 0.8 is the usual compliance threshold.
"""

_MAIN_EPILOG = """\
exit status:
  0  success (check: the sample is representative)
  1  check: at least one test rejects the sample
  2  bad input: unreadable file, unknown column, ambiguous rule, bad option
  3  unexpected internal error (rerun with --debug to see the traceback)

examples:
  fairwash check --full decisions.csv --sample submitted.csv \\
      --sensitive sex --s0 Female --outcome approved
  fairwash check --help

Run "fairwash COMMAND --help" for each command's inputs, outputs and examples.
"""

_COMMON_INPUT_HELP = """\
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

_CHECK_DESCRIPTION = """\
fairwash check: is the submitted sample representative of the full data?

Runs the paper's battery of seven tests (Section 4) on the submitted rows
(x, s, ŷ) against the full data:
  KS     two-sample Kolmogorov-Smirnov on ŷ within each group (SciPy p-value)
  KL_A   Kullback-Leibler divergence on exact rows (infinite for a row that is
         not in the full data)
  KL_P   the same on the four (s, ŷ) cells
  W_A    Wasserstein-1 distance (exact optimal transport) on the rows
  W_P    the same on the four cells
  MMD_A  squared MMD, Gaussian kernel, on the rows
  MMD_P  the same on the four cells
A distance test rejects when its statistic exceeds the 95 % quantile of the same
distance for honest samples of the same size, drawn uniformly from the full data
(eq. 3); its p-value is the Monte-Carlo one from those draws. The honest draws
depend only on the full data and the sample size: they are cached (--cache-dir)
and reused by later calls.

""" + _COMMON_INPUT_HELP + """
outputs:
  A table (test, statistic, threshold, p-value, verdict), the sample's DI next
  to the full data's, the sizes, the rules applied, the missing-value report, and
  a one-line verdict:
    REPRESENTATIVE: no test rejects at the 5 % level
    NOT REPRESENTATIVE: rejected by KL_A, W_A
  --json prints the same as one JSON object (infinite statistics as the string
  "inf", undefined values as null).
"""

_CHECK_EPILOG = """\
exit status:
  0  representative (no test rejects)
  1  not representative (at least one test rejects)
  2  bad input (the message says what to fix)

examples:
  fairwash check --full decisions.csv --sample submitted.csv \\
      --sensitive sex --s0 Female --outcome approved

  # age as the sensitive attribute (S = 1 above 25), text outcome, 5-test ablation
  fairwash check --full acs.parquet --sample sub.parquet --sensitive AGEP \\
      --s-threshold 25 --outcome decision --positive granted --no-mmd --json

  # a large data set: faster approximate W_A, fewer honest draws
  fairwash check ... --w-method subref --draws 50
"""

_ATTACK_DESCRIPTION = """\
fairwash attack: RED-TEAM EXERCISE -- write a deliberately manipulated sample.

For training and for testing an audit process only. It builds, from the full
data, the distribution Q of one of the paper's fairwashing attacks aimed at a
target DI, draws a sample of the requested size from Q and writes it in the
full file's own columns, so that it can be handed to "fairwash check" or to any
other audit procedure. The file is labelled as manipulated: a first comment line
(CSV) and a sidecar FILE.redteam.json that record the method, target and seed.

methods:
  Matching     moves individuals onto their nearest existing neighbour in a more
               favourable (s, ŷ) cell, best DI gain per unit of distance (eq. 11);
               the paper's hardest attack to detect
  Entropic_b   exponential reweighting (KL projection, Thm 5.1), balanced split
  Entropic_p   the same, proportional split
  Replace      edits s or ŷ of the fewest individuals (Alg. 1)
  SBS          minimum-Wasserstein reweighting (Fukuchi et al.)
  The Grad methods move features through the audited model; they are not offered
  here because the written rows must be rows of the full file.

Rows written: reweighting methods write existing rows; Matching writes, for a
moved individual, the row it was moved onto; Replace writes the individual's row
with the sensitive value or decision changed (to the most frequent value of the
new group / decision).

""" + _COMMON_INPUT_HELP + """
outputs:
  FILE (CSV or parquet, by extension) with the full file's columns,
  FILE.redteam.json (provenance), and a summary with the banner
  "RED-TEAM EXERCISE: this sample is deliberately manipulated".
"""

_ATTACK_EPILOG = """\
exit status:
  0  the sample was written; 2 bad input or an unreachable target

examples:
  fairwash attack --full decisions.csv --sensitive sex --s0 Female \\
      --outcome approved --method Matching --target 0.8 --size 500 \\
      --out redteam_matching.csv --seed 1
  fairwash check --full decisions.csv --sample redteam_matching.csv \\
      --sensitive sex --s0 Female --outcome approved
"""

_TWINS_DESCRIPTION = """\
fairwash twins: the counterfactual-twin audit of a model.

Clones each base profile into two twins that differ only in the sensitive
column, feeds both to the model and counts the pairs whose decisions differ (the
flip rate, with an exact 95 % confidence interval). A flip is a fact about the
model's direct use of S, not a statistical association. With --numeric-feature
it also finds, by bisection on the model, the value of that feature (income) at
which each twin's decision switches, and the gap between the two.

What it does not see: discrimination through other columns that encode S
(proxies), which are held fixed; and if the sensitive column is not an input of
the model the flip rate is 0 by construction (the output says so).

inputs:
  --model DIR   a model directory written by the pipeline (results/models/NAME/:
                model.safetensors and model.json, which holds the feature names
                and the standardiser)
  --data FILE   rows with the model's input columns in raw units (CSV/parquet),
                e.g. results/data/NAME.parquet; the base profiles are drawn
                from its rows
  --sensitive-column COL   the input column holding S
  --demo        instead: the article's demo (virtual bank customers, a decision
                tree trained on poisoned labels, 1 000 gender-neutral profiles)

outputs:
  The number of pairs and flips, the flip rate and its interval, which group the
  flips favour, the caveats, and with --numeric-feature each group's decision
  boundary and the gap; --json as JSON; --plot PNG the approval curves.
"""

_TWINS_EPILOG = """\
exit status:
  0  the audit ran (whatever it found); 2 bad input

examples:
  fairwash twins --demo
  fairwash twins --model results/models/loan --data results/data/loan.parquet \\
      --sensitive-column gender_male --numeric-feature income --lo 30000 --hi 90000 \\
      --plot twins.png
"""

_RISK_DESCRIPTION = """\
fairwash risk: how much room does a sample size leave for undetected fairwashing?

With --fraction F: the fairest DI an auditee could submit at that sample size
(F x the full size) with the paper's attacks, while passing every test of the
battery: for each attack and each DI level of a grid, samples are drawn from the
manipulated distribution and tested; the answer is the highest DI of a sample
that passes all tests (Table 3's search).
With --target T: the smallest sample fraction, among --fractions, at which no
attack reaches DI >= T undetected (the paper's guideline: demand a sample large
enough to leave no room for fairwashing).

""" + _COMMON_INPUT_HELP + """
outputs:
  Per attack: the fairest undetected DI (or "-" if none passes); the overall
  answer; --json as JSON.
"""

_RISK_EPILOG = """\
exit status:
  0  the study ran; 2 bad input

examples:
  fairwash risk --full decisions.csv --sensitive sex --s0 Female \\
      --outcome approved --fraction 0.1
  fairwash risk --full decisions.csv --sensitive sex --s0 Female \\
      --outcome approved --target 0.8 --fractions 0.05,0.1,0.2,0.4
"""


# ============================================================================ parser
class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=88)


def _csv_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def _add_data_options(p: argparse.ArgumentParser, *, sample: bool) -> None:
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
    g.add_argument("--features", type=_csv_list, metavar="A,B,...",
                   help="feature columns (default: every other column)")
    g.add_argument("--exclude", type=_csv_list, default=[], metavar="A,B,...",
                   help="columns to leave out of the features (ids, free text, the true label)")
    g.add_argument("--categorical", type=_csv_list, default=[], metavar="A,B,...",
                   help="numeric columns holding category codes, to one-hot encode")
    g.add_argument("--drop-missing", action="store_true",
                   help="drop rows with missing values (reported) instead of refusing them")
    g.add_argument("--max-levels", type=_positive_int, default=50, metavar="N",
                   help="most distinct values a text feature may have (default 50)")


def _add_battery_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("battery")
    t = g.add_mutually_exclusive_group()
    t.add_argument("--tests", type=_csv_list, default=None, metavar="T1,T2,...",
                   help=f"tests to run (default all seven: {','.join(TESTS)})")
    t.add_argument("--no-mmd", action="store_true",
                   help="the five-test ablation of the paper's Table 15 (no MMD_A, MMD_P)")
    g.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    g.add_argument("--draws", type=_positive_int, default=100, metavar="N",
                   help="honest reference samples per threshold (default 100; at least 19 at level 0.95)")
    g.add_argument("--rule", choices=("quantile", "mean_std"), default="quantile",
                   help="threshold: empirical quantile (default) or mean + 1.96 std (the authors' code)")
    g.add_argument("--w-method", choices=("exact", "subref", "sliced"), default="exact",
                   help="W_A estimator: exact OT (default), exact against a 5 000-row subsample of "
                        "the full data, or sliced Wasserstein; faster on large data")
    g.add_argument("--seed", type=int, default=0, help="seed of the honest draws (default 0)")
    g.add_argument("--cache-dir", metavar="DIR",
                   help="where reference thresholds are cached "
                        "(default $FAIRWASH_CACHE or ~/.cache/fairwash)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")


def _debug_option(p: argparse.ArgumentParser, default: Any = argparse.SUPPRESS) -> None:
    p.add_argument("--debug", action="store_true", default=default,
                   help="show the full traceback of an unexpected error")


def build_parser() -> argparse.ArgumentParser:
    """The ``fairwash`` argument parser (subcommands check, risk, twins, attack)."""
    from fairwash import __version__

    parser = argparse.ArgumentParser(prog="fairwash", description=_MAIN_DESCRIPTION, epilog=_MAIN_EPILOG,
                                     formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"fairwash {__version__}")
    _debug_option(parser, default=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True

    p = sub.add_parser("check", help="is a submitted sample representative of the full data?",
                       description=_CHECK_DESCRIPTION, epilog=_CHECK_EPILOG, formatter_class=_Formatter)
    _add_data_options(p, sample=True)
    _add_battery_options(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _debug_option(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("risk", help="fairest undetected DI at a sample size, or the size that closes the gap",
                       description=_RISK_DESCRIPTION, epilog=_RISK_EPILOG, formatter_class=_Formatter)
    _add_data_options(p, sample=False)
    q = p.add_mutually_exclusive_group(required=True)
    q.add_argument("--fraction", type=_fraction, metavar="F",
                   help="sample size as a fraction of the full data")
    q.add_argument("--target", type=_positive_float, metavar="T",
                   help="the DI an auditee wants to show (e.g. 0.8): find the sample size that stops it")
    p.add_argument("--fractions", type=lambda s: [_fraction(x) for x in _csv_list(s)],
                   default=[0.05, 0.1, 0.2, 0.4], metavar="F1,F2,...",
                   help="sample fractions tried with --target (default 0.05,0.1,0.2,0.4)")
    p.add_argument("--methods", type=_csv_list, default=list(ATTACK_METHODS), metavar="M1,M2,...",
                   help=f"attacks tried (default {','.join(ATTACK_METHODS)})")
    p.add_argument("--samples", type=_positive_int, default=30, metavar="N",
                   help="samples drawn per attack and DI level (default 30; the paper 100)")
    p.add_argument("--step", type=_positive_float, default=0.05, help="DI grid step (default 0.05)")
    _add_battery_options(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _debug_option(p)
    p.set_defaults(func=cmd_risk)

    p = sub.add_parser("twins", help="counterfactual-twin audit of a model",
                       description=_TWINS_DESCRIPTION, epilog=_TWINS_EPILOG, formatter_class=_Formatter)
    p.add_argument("--demo", action="store_true", help="run the article's demo (needs no files)")
    p.add_argument("--model", metavar="DIR", help="model directory (model.safetensors + model.json)")
    p.add_argument("--data", metavar="FILE", help="rows with the model's inputs, raw units (CSV or parquet)")
    p.add_argument("--sensitive-column", metavar="COL", help="the model input holding S")
    p.add_argument("--values", nargs=2, type=float, default=(0.0, 1.0), metavar=("S0", "S1"),
                   help="the two values of the sensitive column, disadvantaged group first (default 0 1)")
    p.add_argument("--n-profiles", type=_positive_int, default=1000, metavar="N",
                   help="base profiles drawn from the data's rows (default 1000, all rows if fewer)")
    p.add_argument("--numeric-feature", metavar="COL",
                   help="find each twin's decision boundary in this column")
    p.add_argument("--lo", type=float, help="lower end of the boundary search (default: column minimum)")
    p.add_argument("--hi", type=float, help="upper end of the boundary search (default: column maximum)")
    p.add_argument("--plot", metavar="PNG", help="write the approval curves of one profile's twins")
    p.add_argument("--seed", type=int, default=0, help="seed of the profile draw / the demo (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _debug_option(p)
    p.set_defaults(func=cmd_twins)

    p = sub.add_parser("attack", help="RED-TEAM EXERCISE: write a deliberately manipulated sample",
                       description=_ATTACK_DESCRIPTION, epilog=_ATTACK_EPILOG, formatter_class=_Formatter)
    _add_data_options(p, sample=False)
    g = p.add_argument_group("attack")
    g.add_argument("--method", required=True, choices=ATTACK_METHODS, help="the fairwashing attack")
    g.add_argument("--target", type=_positive_float, default=0.8, help="target DI (default 0.8)")
    s = g.add_mutually_exclusive_group(required=True)
    s.add_argument("--size", type=_positive_int, metavar="M", help="rows to write")
    s.add_argument("--fraction", type=_fraction, metavar="F",
                   help="rows to write, as a fraction of the full data")
    g.add_argument("--out", required=True, metavar="FILE", help="output file (.csv or .parquet)")
    g.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    _debug_option(p)
    p.set_defaults(func=cmd_attack)
    return parser


# ============================================================================ main
def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fairwash`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 after --help / --version, 2 on a usage error
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    debug = bool(getattr(args, "debug", False))
    try:
        return int(args.func(args, sys.stdout))
    except (DataError, ValueError) as exc:  # DataError, ModelError are ValueErrors: the user's input
        if debug:
            raise
        print(f"fairwash: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        if debug:
            raise
        print(f"fairwash: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fairwash: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        else:
            print(f"fairwash: internal error: {type(exc).__name__}: {exc}\n"
                  "(this is a bug, not a problem with your files; rerun with --debug for the traceback)",
                  file=sys.stderr)
        return EXIT_INTERNAL


# ============================================================================ shared helpers
def _fmt_num(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def _fmt_di(x: float) -> str:
    if x is None or math.isnan(x):
        return "undefined"
    if math.isinf(x):
        return "inf (no favourable decision in S=1)"
    return f"{x:.3f}"


def _json_value(x: Any) -> Any:
    """JSON for other tools: nan -> null, ±inf -> "inf" / "-inf", numpy -> Python."""
    if isinstance(x, dict):
        return {str(k): _json_value(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_value(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_json_value(v) for v in x.tolist()]
    if isinstance(x, np.bool_ | bool):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        f = float(x)
        if math.isnan(f):
            return None
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f
    if isinstance(x, Path):
        return str(x)
    return x


def _print_json(obj: Any, out: TextIO) -> None:
    out.write(json.dumps(_json_value(obj), indent=2, allow_nan=False) + "\n")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align,
                                                                                      strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _prepare_from_args(args: argparse.Namespace, sample_path: str | None):
    from fairwash.inputs import prepare, read_table

    full_df = read_table(args.full)
    sample_df = read_table(sample_path) if sample_path is not None else None
    return prepare(
        full_df, sample_df, sensitive=args.sensitive, outcome=args.outcome, features=args.features,
        exclude=args.exclude, categorical=args.categorical, s0=args.s0, s_threshold=args.s_threshold,
        positive=args.positive, drop_missing=args.drop_missing, max_levels=args.max_levels,
    ), full_df


def _tests_from_args(args: argparse.Namespace) -> tuple[str, ...]:
    from fairwash.detect.battery import NO_MMD, TESTS

    if args.no_mmd:
        return NO_MMD
    if args.tests is None:
        return TESTS
    unknown = [t for t in args.tests if t not in TESTS]
    if unknown:
        raise DataError(f"--tests: unknown test(s) {unknown}; choose among {','.join(TESTS)}")
    return tuple(dict.fromkeys(args.tests))


def _check_battery_args(args: argparse.Namespace) -> None:
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


def _cache_dir_from_args(args: argparse.Namespace) -> Path | None:
    if args.no_cache:
        return None
    return Path(args.cache_dir).expanduser() if args.cache_dir else cache_dir_default()


def _context(full_rows: np.ndarray, w_method: str):
    from fairwash.detect.battery import BatteryContext, WassersteinConfig

    return BatteryContext.prepare(full_rows, w_config=WassersteinConfig(method=w_method))


def _di(y_hat: np.ndarray, s: np.ndarray) -> float:
    from fairwash.fairness import disparate_impact

    return float(disparate_impact(y_hat, s))


# ============================================================================ check
def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """``fairwash check``: the battery on a submitted sample."""
    from fairwash.detect.battery import run_battery

    tests = _tests_from_args(args)
    _check_battery_args(args)
    (full, sample, report), _ = _prepare_from_args(args, args.sample)
    assert sample is not None
    m, n = sample.n, full.n
    if m > n:
        raise DataError(f"the sample has {m} rows but the full data only {n}: a sample cannot be larger "
                        "than the data it is drawn from (are --full and --sample swapped?)")
    ctx = _context(full.joint(), args.w_method)
    if not args.json:
        cal = ctx.calibrated(tests)
        if cal:
            print(f"fairwash: reference thresholds for m = {m}: looking in the cache, else "
                  f"{args.draws} honest draws (done once per data set and size)...",
                  file=sys.stderr, flush=True)
    thr, cache = cached_thresholds(ctx, m, tests=tests, n_draws=args.draws, level=args.level, rule=args.rule,
                                   seed=args.seed, cache_dir=_cache_dir_from_args(args))
    result = run_battery(None, sample.joint(), thr, tests=tests, context=ctx)
    di_full, di_sample = _di(full.Y_hat, full.S), _di(sample.Y_hat, sample.S)
    alpha = 1 - args.level
    verdict = (f"REPRESENTATIVE: no test rejects at the {alpha * 100:g} % level" if result.passed else
               f"NOT REPRESENTATIVE: rejected by {', '.join(result.rejected_by)}")
    payload = {
        "verdict": "representative" if result.passed else "not_representative",
        "message": verdict,
        "passed": result.passed,
        "rejected_by": list(result.rejected_by),
        "level": args.level,
        "tests": [
            {"test": r.name, "statistic": r.statistic, "threshold": r.threshold, "p_value": r.p_value,
             "rejected": r.rejected} for r in result.results
        ],
        "di": {"sample": di_sample, "full": di_full},
        "sizes": {"n_full": n, "m_sample": m, "fraction": m / n, "features_encoded": full.d},
        "inputs": report.to_dict(),
        "thresholds": {"draws": thr.n_draws, "rule": thr.rule, "seed": args.seed, "w_method": args.w_method,
                       **cache},
    }
    if args.json:
        _print_json(payload, out)
        return EXIT_OK if result.passed else EXIT_REJECTED
    w = out.write
    w("fairwash check: is the submitted sample representative of the full data?\n\n")
    enc = report.encoding
    n_cat = len(enc.categorical)
    feat_line = f"{len(enc.features)} columns -> {len(enc.columns)} standardised features"
    if n_cat:
        feat_line += f" ({n_cat} text column(s) one-hot encoded)"
    info = [
        ("full data", f"{report.full_path}: {n} rows used of {report.rows_full} "
                      f"(S=0: {report.groups_full['S=0']}, S=1: {report.groups_full['S=1']})"),
        ("sample", f"{report.sample_path}: {m} rows used of {report.rows_sample} = {100 * m / n:.1f} % "
                   f"of the full data (S=0: {report.groups_sample['S=0']}, "
                   f"S=1: {report.groups_sample['S=1']})"),
        ("sensitive", report.s_rule.describe()),
        ("outcome", report.outcome_rule.describe()),
        ("features", feat_line),
        ("missing", report.missing_text()),
    ]
    if report.ignored_columns:
        info.append(("ignored", f"sample-only column(s) {report.ignored_columns}"))
    if cache["cache"] == "used":
        how = f"read from the cache {cache['path']}"
    elif cache["cache"] == "written":
        how = f"computed in {cache['seconds']:.1f} s, cached in {cache['path']}"
    elif cache["cache"] == "off":
        how = f"computed in {cache['seconds']:.1f} s (cache off)"
    else:
        how = f"computed in {cache['seconds']:.1f} s (cache not writable: {cache.get('error')})"
    rule_txt = (f"{args.level * 100:g} % quantile" if thr.rule == "quantile" else "mean + 1.96 std")
    info.append(("thresholds", f"{rule_txt} of {thr.n_draws} honest samples of {m} rows (seed {args.seed}, "
                               f"W_A {args.w_method}); {how}"))
    width = max(len(k) for k, _ in info)
    for k, v in info:
        w(f"{k.ljust(width)}  {v}\n")
    w("\n")
    rows = []
    for r in result.results:
        thr_txt = _fmt_num(r.threshold) if not math.isnan(r.threshold) else f"p > {alpha:g}"
        rows.append([r.name, _fmt_num(r.statistic), thr_txt, _fmt_num(r.p_value, 3),
                     "REJECT" if r.rejected else "pass"])
    w(_table(["test", "statistic", "threshold", "p-value", "verdict"], rows, "lrrrl") + "\n")
    w("\n")
    w(f"Disparate Impact  sample {_fmt_di(di_sample)}   full data {_fmt_di(di_full)}   "
      "(P(Ŷ=1|S=0) / P(Ŷ=1|S=1); compliance threshold 0.8)\n")
    if math.isfinite(di_sample) and math.isfinite(di_full) and di_sample >= 0.8 > di_full:
        w("                  the sample would pass the 0.8 threshold; the full data would not\n")
    w("\n" + verdict + "\n")
    return EXIT_OK if result.passed else EXIT_REJECTED


# ============================================================================ attack
def _representative_value(series, mask: np.ndarray) -> Any:
    """The most frequent value of ``series`` among rows ``mask`` (ties: the first in sort order)."""
    vals = series[mask]
    counts = vals.value_counts()
    top = counts[counts == counts.max()].index
    try:
        return sorted(top)[0]
    except TypeError:
        return sorted(top, key=str)[0]


def attack_rows(full_df, full, report, manipulation, index: np.ndarray):
    """Rows of the full file (original columns) for support points ``index`` of ``manipulation``.

    A support point that is an original individual (reweighting), or a Matching move
    (row ``source`` became a copy of original row ``dest``), is written as that original
    row.  When the manipulation changed a point's S or Ŷ without copying a row (Replace),
    the sensitive / outcome value is set to the most frequent value of the new group /
    decision in the full data.

    Returns
    -------
    frame : DataFrame, len(index) rows, the columns of ``full_df``
    n_edited : int
        Rows whose sensitive or outcome value was edited.
    """
    q = manipulation
    base = q.origin.copy()
    if q.trajectory is not None and len(q.trajectory):
        dst = q.trajectory["dest"].to_numpy(dtype=np.int64)
        src = q.trajectory["source"].to_numpy(dtype=np.int64)
        copy = dst >= 0
        base[src[copy]] = dst[copy]
    rows_in_full = base[index]
    if not np.array_equal(q.X[index], full.X.to_numpy(np.float64)[rows_in_full]):
        raise RuntimeError(f"{q.method}: the manipulated features are not rows of the full data")
    frame = full_df.iloc[report.full_rows[rows_in_full]].reset_index(drop=True).copy()
    s_col, y_col = report.s_rule.column, report.outcome_rule.column
    used = full_df.iloc[report.full_rows]
    s_new, y_new = q.S[index], q.Y_hat[index]
    s_old, y_old = full.S[rows_in_full], full.Y_hat[rows_in_full]
    n_edited = 0
    for col, new, old, codes in ((s_col, s_new, s_old, full.S), (y_col, y_new, y_old, full.Y_hat)):
        for v in (0, 1):
            mask = (new == v) & (old != v)
            if mask.any():
                value = _representative_value(used[col].reset_index(drop=True), codes == v)
                integral = isinstance(value, int | np.integer | bool | np.bool_)
                if frame[col].dtype.kind in "iub" and not integral:
                    frame[col] = frame[col].astype(object)
                frame.loc[mask, col] = value
                n_edited += int(mask.sum())
    return frame, n_edited


def cmd_attack(args: argparse.Namespace, out: TextIO) -> int:
    """``fairwash attack``: write a sample drawn from a manipulated distribution (red team)."""
    from fairwash.io import atomic_write_json, atomic_write_parquet, atomic_write_text
    from fairwash.manipulate import run_method

    out_path = Path(args.out)
    suffix = out_path.name.lower()
    is_parquet = suffix.endswith((".parquet", ".pq"))
    if not (is_parquet or suffix.endswith(".csv")):
        raise DataError(f"--out {args.out}: use a .csv or .parquet file name")
    (full, _, report), full_df = _prepare_from_args(args, None)
    n = full.n
    m = args.size if args.size is not None else max(1, int(round(args.fraction * n)))
    if m > n:
        raise DataError(f"--size {m} is larger than the full data ({n} rows)")
    di0 = _di(full.Y_hat, full.S)
    options = {"m": m} if args.method == "SBS" else {}
    q = run_method(args.method, full, target=args.target, random_state=args.seed, options=options)
    if not q.reached:
        raise DataError(f"{args.method} could not reach DI {args.target:g} on this data (it reached "
                        f"{q.di:.3f}); choose a lower --target or another --method")
    idx = q.sample_indices(m, random_state=args.seed)
    frame, n_edited = attack_rows(full_df, full, report, q, idx)
    di_sample = _di(q.Y_hat[idx], q.S[idx])
    moved = 0
    if q.trajectory is not None and len(q.trajectory):
        moved = int(np.isin(idx, q.trajectory["source"].to_numpy()).sum())
    provenance = {
        "label": REDTEAM_BANNER,
        "tool": "fairwash attack",
        "method": args.method,
        "target": args.target,
        "seed": args.seed,
        "size": m,
        "full": report.full_path,
        "n_full": n,
        "sensitive": report.s_rule.to_dict(),
        "outcome": report.outcome_rule.to_dict(),
        "di_full": di0,
        "di_manipulated_distribution": q.di,
        "di_sample": di_sample,
        "rows_moved_or_edited": moved,
        "values_edited": n_edited,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if is_parquet:
        atomic_write_parquet(frame, out_path)
    else:
        header = (f"# {REDTEAM_BANNER} (fairwash attack --method {args.method} --target {args.target:g} "
                  f"--seed {args.seed}); not an audit sample\n")
        atomic_write_text(header + frame.to_csv(index=False), out_path)
    side = out_path.with_name(out_path.name + ".redteam.json")
    atomic_write_json(provenance, side)
    if args.json:
        _print_json({**provenance, "out": str(out_path), "sidecar": str(side)}, out)
        return EXIT_OK
    w = out.write
    bar = "=" * len(REDTEAM_BANNER)
    w(f"{bar}\n{REDTEAM_BANNER}\n{bar}\n\n")
    lines = [
        ("method", f"{args.method}, target DI {args.target:g}, seed {args.seed}"),
        ("full data", f"{report.full_path}: {n} rows, DI {_fmt_di(di0)}"),
        ("sensitive", report.s_rule.describe()),
        ("outcome", report.outcome_rule.describe()),
        ("manipulated Q", f"DI {_fmt_di(q.di)}"),
        ("sample", f"{m} rows drawn from Q, DI {_fmt_di(di_sample)}; {moved} row(s) moved by the attack, "
                   f"{n_edited} sensitive/outcome value(s) edited"),
        ("written", f"{out_path} (full file's columns) and {side}"),
    ]
    width = max(len(k) for k, _ in lines)
    for k, v in lines:
        w(f"{k.ljust(width)}  {v}\n")
    w("\nTest it with: fairwash check --full ... --sample " + str(out_path) + " (same data options)\n")
    return EXIT_OK


# ============================================================================ twins
def _twins_report(result: Any, out: TextIO, header: str) -> None:
    w = out.write
    w(header + "\n\n")
    lo, hi = result.ci
    s0, s1 = result.values
    lines = [
        ("pairs", f"{result.n_pairs} twin pairs (differing only in {result.sensitive_column}: "
                  f"{_fmt_num(s0)} vs {_fmt_num(s1)})"),
        ("flips", f"{result.n_flips} pair(s) get different decisions"),
        ("flip rate", f"{100 * result.flip_rate:.1f} %  ({100 * result.confidence:g} % CI "
                      f"{100 * lo:.1f} - {100 * hi:.1f} %, {result.ci_method})"),
        ("favouring", f"S={_fmt_num(s1)}: {result.flips_favouring_s1}   S={_fmt_num(s0)}: "
                      f"{result.flips_favouring_s0}"),
        ("S is input", "yes" if result.sensitive_is_input else "NO (flips can only come from proxies)"),
    ]
    b = result.boundary
    if b:
        for key in ("s0", "s1"):
            g = b[key]
            bound = "none in range" if g["boundary"] is None else f"{g['boundary']:,.0f}"
            lines.append((f"boundary {g['label']}", f"{bound} ({g['status']})"))
        lines.append(("gap", b["message"]))
    width = max(len(k) for k, _ in lines)
    for k, v in lines:
        w(f"{k.ljust(width)}  {v}\n")
    for note in result.notes:
        w(f"\nnote: {note}")
    w("\n")
    verdict = ("DIRECT USE OF S: identical twins get different decisions" if result.n_flips else
               "NO FLIP: identical twins get identical decisions (direct use of S not detected)")
    w("\n" + verdict + "\n")


def cmd_twins(args: argparse.Namespace, out: TextIO) -> int:
    """``fairwash twins``: the counterfactual-twin audit (or the article's demo)."""
    from fairwash import counterfactual as cf

    if args.demo:
        if args.model or args.data:
            raise DataError("--demo runs the article's own model and data; "
                            "do not combine it with --model/--data")
        run = cf.run_demo(random_state=args.seed)
        res = run.result
        written = []
        if args.plot:
            written = cf.plot_approval_curves(
                run.model, run.profiles.iloc[0], "income", np.linspace(*cf.BASE_INCOME_RANGE, 601),
                "gender_male", args.plot, feature_columns=("gender_male", "income"),
                boundary=res.boundary, labels=cf.GENDER_LABELS)
        if args.json:
            _print_json({**res.to_dict(), "plot": [str(p) for p in written]}, out)
            return EXIT_OK
        _twins_report(res, out, "fairwash twins --demo: the counterfactual-twin article's demo "
                                "(1 000 virtual customers, a tree trained on labels poisoned by "
                                f"income thresholds {cf.DEMO_RULE['male_threshold']:,.0f} for men and "
                                f"{cf.DEMO_RULE['female_threshold']:,.0f} for women)")
        for p in written:
            out.write(f"plot written: {p}\n")
        return EXIT_OK

    missing = [o for o, v in (("--model", args.model), ("--data", args.data),
                              ("--sensitive-column", args.sensitive_column)) if not v]
    if missing:
        raise DataError(f"twins needs {', '.join(missing)} (or --demo for the article's demo)")
    from fairwash.inputs import check_columns, read_table
    from fairwash.model import load_model

    model, std, info = load_model(args.model)
    names = info.get("feature_names")
    if not names:
        raise DataError(f"{Path(args.model) / 'model.json'} has no feature_names; "
                        "the model's inputs are unknown")
    data = read_table(args.data)
    where = f"data {args.data}"
    check_columns(data, names, "model input", where)
    col = args.sensitive_column
    if col not in names and col not in data.columns:
        check_columns(data, [col], "sensitive", where)
    miss = {c: int(k) for c, k in data[names].isna().sum().items() if k}
    if miss:
        raise DataError(f"{where}: missing values in model input column(s) {miss}; drop or fix those rows")
    non_num = [c for c in names if not np.issubdtype(data[c].dtype, np.number) and data[c].dtype != bool]
    if non_num:
        raise DataError(f"{where}: model input column(s) {non_num} are not numeric; the model takes the "
                        "encoded columns it was trained on")
    values = tuple(int(v) if float(v).is_integer() else float(v) for v in args.values)
    n_prof = min(args.n_profiles, len(data))
    rng = np.random.default_rng(args.seed)
    pick = np.sort(rng.choice(len(data), size=n_prof, replace=False))
    base = data.iloc[pick][list(dict.fromkeys([*names, *([col] if col in data.columns else [])]))]
    base = base.reset_index(drop=True)
    transform = std.transform if std is not None else None
    boundary = None
    if args.numeric_feature:
        feat = args.numeric_feature
        if feat not in names:
            check_columns(data[names], [feat], "numeric feature (model input)", where)
        lo = float(data[feat].min()) if args.lo is None else args.lo
        hi = float(data[feat].max()) if args.hi is None else args.hi
        tol = max((hi - lo) * 1e-5, 1e-9)
        boundary = cf.income_boundary(model, base.iloc[0], feat, lo, hi, s_column=col, values=values,
                                      feature_columns=names, transform=transform, tol=tol)
    res = cf.counterfactual_audit(model, base, col, feature_columns=names, transform=transform,
                                  values=values, boundary=boundary)
    written = []
    if args.plot:
        if not args.numeric_feature:
            raise DataError("--plot draws approval curves along --numeric-feature; give it too")
        written = cf.plot_approval_curves(
            model, base.iloc[0], args.numeric_feature, np.linspace(boundary["lo"], boundary["hi"], 601), col,
            args.plot, values=values, feature_columns=names, transform=transform, boundary=boundary,
            unit="units of the data file")
    if args.json:
        _print_json({**res.to_dict(), "model": str(args.model), "data": str(args.data),
                     "plot": [str(p) for p in written]}, out)
        return EXIT_OK
    header = f"fairwash twins: model {args.model}, {n_prof} base profiles drawn from the rows of {args.data}"
    if boundary is not None:
        others = [c for c in names if c not in (col, args.numeric_feature)]
        prof = ", ".join(f"{c}={_fmt_num(float(base.iloc[0][c]))}" for c in others[:8])
        span = f"[{_fmt_num(boundary['lo'], 6)}, {_fmt_num(boundary['hi'], 6)}]"
        header += f"\nboundaries: along {args.numeric_feature} in {span} for the twins of profile 0"
        header += f" ({prof})" if prof else ""
    _twins_report(res, out, header)
    for p in written:
        out.write(f"plot written: {p}\n")
    return EXIT_OK


# ============================================================================ risk
def cmd_risk(args: argparse.Namespace, out: TextIO) -> int:
    """``fairwash risk``: the fairest undetected DI at a size, or the size that closes the gap.

    Built on :mod:`fairwash.audit`: :func:`~fairwash.audit.fairest_undetected_sets` (Table 3's
    search: levels from 1.0 down by ``--step`` to the full data's DI, ``--samples`` samples per
    level, the highest DI of a sample passing every test at the first level where one exists)
    and :func:`~fairwash.audit.smallest_safe_fraction` (``--target``: each fraction is searched
    at the single level ``target``; the answer is the smallest fraction from which on no
    attack has an undetected sample above it).
    """
    import pandas as pd

    from fairwash.audit import ManipulationLevels, fairest_undetected_sets, smallest_safe_fraction

    tests = _tests_from_args(args)
    _check_battery_args(args)
    bad = [mth for mth in args.methods if mth not in ATTACK_METHODS]
    if bad:
        raise DataError(f"--methods: unknown or unsupported method(s) {bad}; choose among "
                        f"{','.join(ATTACK_METHODS)} (the Grad methods need the audited model)")
    (full, _, report), _ = _prepare_from_args(args, None)
    n = full.n
    di0 = _di(full.Y_hat, full.S)
    ctx = _context(full.joint(), args.w_method)
    cache_dir = _cache_dir_from_args(args)
    methods = list(dict.fromkeys(args.methods))
    levels_q = {mth: ManipulationLevels(full, mth, random_state=args.seed) for mth in methods}

    def study(fraction: float, start: float, step: float) -> tuple[int, dict[str, Any], dict[str, Any]]:
        m = max(2, int(round(fraction * n)))
        thr, cache = cached_thresholds(ctx, m, tests=tests, n_draws=args.draws, level=args.level,
                                       rule=args.rule, seed=args.seed, cache_dir=cache_dir)
        res = {}
        for mth in methods:
            opts = {"m": m} if mth == "SBS" else None  # SBS weights are capped for this size
            cache_q = levels_q[mth] if opts is None else ManipulationLevels(full, mth, options=opts,
                                                                            random_state=args.seed)
            res[mth] = fairest_undetected_sets(
                full, mth, m, thr, test_sets={"tests": tests}, start=start, step=step,
                n_samples=args.samples, random_state=args.seed, context=ctx, levels_cache=cache_q,
            )["tests"]
        return m, res, cache

    def summary(r: Any) -> dict[str, Any]:
        searched = [lv for lv in r.levels if lv["status"] == "searched"]
        return {"di": r.best_di, "level": r.level_found, "levels_searched": len(searched),
                "samples_tested": r.n_battery, "failed_levels": [lv["level"] for lv in r.levels
                                                                 if lv["status"] == "method_failed"]}

    w = out.write
    head = [
        ("full data", f"{report.full_path}: {n} rows, DI {_fmt_di(di0)}"),
        ("sensitive", report.s_rule.describe()),
        ("outcome", report.outcome_rule.describe()),
        ("search", f"attacks {', '.join(methods)}; {args.samples} samples per attack and DI level; "
                   f"tests {', '.join(tests)} at level {args.level:g}"),
    ]
    width = max(len(k) for k, _ in head)
    if args.fraction is not None:
        m, res, cache = study(args.fraction, 1.0, args.step)
        found = [(r.best_di, mth) for mth, r in res.items() if r.best_di is not None]
        top = max(found) if found else None
        payload = {"mode": "fraction", "fraction": args.fraction, "m": m, "n": n, "di_full": di0,
                   "methods": {mth: summary(r) for mth, r in res.items()},
                   "fairest_undetected": None if top is None else {"di": top[0], "method": top[1]},
                   "inputs": report.to_dict(), "thresholds": cache}
        if args.json:
            _print_json(payload, out)
            return EXIT_OK
        w(f"fairwash risk: how fair could a sample of {m} rows ({100 * args.fraction:g} % of the data) look, "
          "undetected?\n\n")
        for k, v in head:
            w(f"{k.ljust(width)}  {v}\n")
        w("\n")
        rows = [[mth, "-" if r.best_di is None else f"{r.best_di:.3f}",
                 "-" if r.level_found is None else f"{r.level_found:.2f}", str(r.n_battery)]
                for mth, r in res.items()]
        w(_table(["attack", "fairest undetected DI", "at level", "samples tested"], rows, "lrrr") + "\n\n")
        if top is None:
            w(f"NO ROOM FOUND: no attack produced an undetected sample with DI above the full data's "
              f"{di0:.3f} (a search, not a proof)\n")
        else:
            w(f"AT RISK: at m = {m} an auditee could submit DI {top[0]:.3f} ({top[1]}) without any test "
              f"rejecting; the full data's DI is {di0:.3f}\n")
        return EXIT_OK

    target = float(args.target)
    if target <= di0:
        raise DataError(f"--target {target:g} is not above the full data's DI ({di0:.3f}): nothing to hide")
    table, rows_study = [], []
    for fr in sorted(set(args.fractions)):
        # one level only: step = target makes the next level 0 <= DI of the full data
        m, res, _ = study(fr, target, target)
        hits = {mth: r.best_di_raw for mth, r in res.items() if r.best_di is not None}
        table.append({"fraction": fr, "m": m, "evaded_by": sorted(hits),
                      "best_di": max(hits.values()) if hits else None,
                      "methods": {mth: summary(r) for mth, r in res.items()}})
        for mth, r in res.items():
            rows_study.append({"method": mth, "fraction": fr, "m": m,
                               "fairest_di": math.nan if r.best_di_raw is None else r.best_di_raw})
    safe = smallest_safe_fraction(pd.DataFrame(rows_study), target=target)
    payload = {"mode": "target", "target": target, "n": n, "di_full": di0, "fractions": table,
               "smallest_safe_fraction": {"fraction": safe.fraction, "m": safe.m, "status": safe.status,
                                          "message": safe.message},
               "inputs": report.to_dict()}
    if args.json:
        _print_json(payload, out)
        return EXIT_OK
    w(f"fairwash risk: which sample size stops an auditee from showing DI > {target:g} undetected?\n\n")
    for k, v in head:
        w(f"{k.ljust(width)}  {v}\n")
    w("\n")
    rows = [[f"{100 * r['fraction']:g} %", str(r["m"]), ", ".join(r["evaded_by"]) or "none",
             "-" if r["best_di"] is None else f"{r['best_di']:.3f}"] for r in table]
    w(_table(["fraction", "m", f"undetected with DI > {target:g}", "best DI"], rows, "rrll") + "\n\n")
    if safe.fraction is None:
        w(f"NOT ENOUGH: {safe.message}; try larger --fractions\n")
    elif safe.status == "all_safe":
        w(f"SAFE AT EVERY FRACTION TRIED: {safe.message} ({args.samples} samples per attack: a search, "
          "not a proof)\n")
    else:
        w(f"DEMAND AT LEAST {100 * safe.fraction:g} % (m = {safe.m}): {safe.message} "
          f"({args.samples} samples per attack: a search, not a proof)\n")
    return EXIT_OK

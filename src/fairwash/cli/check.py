"""``fairwash check``: the battery on a submitted sample."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any, TextIO

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.cli.common import (
    battery_context,
    cache_dir_from_args,
    cached_thresholds,
    check_battery_args,
    di,
    prepare_from_args,
    tests_from_args,
)
from fairwash.cli.options import (
    COMMON_INPUT_HELP,
    EXIT_OK,
    EXIT_REJECTED,
    Formatter,
    add_battery_options,
    add_data_options,
    debug_option,
)
from fairwash.cli.render import fmt_di, fmt_num, print_json, table
from fairwash.data.base import DataError

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

""" + COMMON_INPUT_HELP + """
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


def register(sub: Any) -> None:
    """Add ``fairwash check`` to the subparsers ``sub``."""
    p = sub.add_parser("check", help="is a submitted sample representative of the full data?",
                       description=_CHECK_DESCRIPTION, epilog=_CHECK_EPILOG, formatter_class=Formatter)
    add_data_options(p, sample=True)
    add_battery_options(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    debug_option(p)
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """``fairwash check``: the battery on a submitted sample."""
    from fairwash.detect.battery import run_battery

    tests = tests_from_args(args)
    check_battery_args(args)
    (full, sample, report), _ = prepare_from_args(args, args.sample)
    assert sample is not None
    m, n = sample.n, full.n
    if m > n:
        raise DataError(f"the sample has {m} rows but the full data only {n}: a sample cannot be larger "
                        "than the data it is drawn from (are --full and --sample swapped?)")
    ctx = battery_context(full.joint(), args.w_method)
    if not args.json:
        cal = ctx.calibrated(tests)
        if cal:
            print(f"fairwash: reference thresholds for m = {m}: looking in the cache, else "
                  f"{args.draws} honest draws (done once per data set and size)...",
                  file=sys.stderr, flush=True)
    thr, cache = cached_thresholds(ctx, m, tests=tests, n_draws=args.draws, level=args.level, rule=args.rule,
                                   seed=args.seed, cache_dir=cache_dir_from_args(args))
    result = run_battery(None, sample.joint(), thr, tests=tests, context=ctx)
    di_full, di_sample = di(full.Y_hat, full.S), di(sample.Y_hat, sample.S)
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
        print_json(payload, out)
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
        thr_txt = fmt_num(r.threshold) if not math.isnan(r.threshold) else f"p > {alpha:g}"
        rows.append([r.name, fmt_num(r.statistic), thr_txt, fmt_num(r.p_value, 3),
                     "REJECT" if r.rejected else "pass"])
    w(table(["test", "statistic", "threshold", "p-value", "verdict"], rows, "lrrrl") + "\n")
    w("\n")
    tau = COMPLIANCE_THRESHOLD
    w(f"Disparate Impact  sample {fmt_di(di_sample)}   full data {fmt_di(di_full)}   "
      f"(P(Ŷ=1|S=0) / P(Ŷ=1|S=1); compliance threshold {tau:g})\n")
    if math.isfinite(di_sample) and math.isfinite(di_full) and di_sample >= tau > di_full:
        w(f"                  the sample would pass the {tau:g} threshold; the full data would not\n")
    w("\n" + verdict + "\n")
    return EXIT_OK if result.passed else EXIT_REJECTED


"""``fairwash check``: the battery on a submitted sample."""

from __future__ import annotations

import argparse
import math
from typing import Any, TextIO

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.cli.common import (
    cache_dir_from_args,
    check_battery_args,
    notify,
    prepare_from_args,
    settings_from_args,
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
and reused by later calls. A pipeline run's reference file for the same data and
size can be reused with --thresholds FILE (results/audit/<set>/reference_m<m>.json).

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
    """``fairwash check``: the battery on a sample (:func:`fairwash.protocol.check.check_sample`)."""
    # POT only when a check runs: `fairwash --help` answers at once
    from fairwash.protocol.check import check_sample

    tests = tests_from_args(args)
    check_battery_args(args)
    (full, sample, inputs), _ = prepare_from_args(args, args.sample)
    assert sample is not None
    report = check_sample(full, sample, tests=tests, settings=settings_from_args(args, tests),
                          w_method=args.w_method, cache_dir=cache_dir_from_args(args),
                          threshold_files=args.thresholds, notify=None if args.json else notify)
    if args.json:
        print_json(report.to_dict(inputs.to_dict()), out)
    else:
        render_check(report, inputs, out)
    return EXIT_OK if report.passed else EXIT_REJECTED


def _provenance_text(info: dict[str, Any]) -> str:
    """Where the thresholds came from, for the ``thresholds`` line."""
    if info["cache"] == "file":
        return f"read from {info['path']} (--thresholds)"
    if info["cache"] == "used":
        return f"read from the cache {info['path']}"
    if info["cache"] == "written":
        return f"computed in {info['seconds']:.1f} s, cached in {info['path']}"
    if info["cache"] == "off":
        return f"computed in {info['seconds']:.1f} s (cache off)"
    return f"computed in {info['seconds']:.1f} s (cache not writable: {info.get('error')})"


def _info_lines(report: Any, inputs: Any) -> list[tuple[str, str]]:
    """The key/value lines above the table: files, rules, features, missing values, thresholds."""
    n, m, thr = report.n, report.m, report.thresholds
    enc = inputs.encoding
    feat_line = f"{len(enc.features)} columns -> {len(enc.columns)} standardised features"
    if enc.categorical:
        feat_line += f" ({len(enc.categorical)} text column(s) one-hot encoded)"
    info = [
        ("full data", f"{inputs.full_path}: {n} rows used of {inputs.rows_full} "
                      f"(S=0: {inputs.groups_full['S=0']}, S=1: {inputs.groups_full['S=1']})"),
        ("sample", f"{inputs.sample_path}: {m} rows used of {inputs.rows_sample} = {100 * m / n:.1f} % "
                   f"of the full data (S=0: {inputs.groups_sample['S=0']}, "
                   f"S=1: {inputs.groups_sample['S=1']})"),
        ("sensitive", inputs.s_rule.describe()),
        ("outcome", inputs.outcome_rule.describe()),
        ("features", feat_line),
        ("missing", inputs.missing_text()),
    ]
    if inputs.ignored_columns:
        info.append(("ignored", f"sample-only column(s) {inputs.ignored_columns}"))
    rule_txt = f"{report.level * 100:g} % quantile" if thr.rule == "quantile" else "mean + 1.96 std"
    info.append(("thresholds", f"{rule_txt} of {thr.n_draws} honest samples of {m} rows (seed {report.seed}, "
                               f"W_A {report.w_method}); {_provenance_text(report.provenance)}"))
    return info


def _results_table(report: Any) -> str:
    alpha = 1 - report.level
    rows = []
    for r in report.battery.results:
        thr_txt = fmt_num(r.threshold) if not math.isnan(r.threshold) else f"p > {alpha:g}"
        rows.append([r.name, fmt_num(r.statistic), thr_txt, fmt_num(r.p_value, 3),
                     "REJECT" if r.rejected else "pass"])
    return table(["test", "statistic", "threshold", "p-value", "verdict"], rows, "lrrrl")


def render_check(report: Any, inputs: Any, out: TextIO) -> None:
    """The text output of ``fairwash check`` (a :class:`~fairwash.protocol.check.CheckReport`)."""
    w = out.write
    w("fairwash check: is the submitted sample representative of the full data?\n\n")
    info = _info_lines(report, inputs)
    width = max(len(k) for k, _ in info)
    for k, v in info:
        w(f"{k.ljust(width)}  {v}\n")
    w("\n" + _results_table(report) + "\n\n")
    tau, di_sample, di_full = COMPLIANCE_THRESHOLD, report.di_sample, report.di_full
    w(f"Disparate Impact  sample {fmt_di(di_sample)}   full data {fmt_di(di_full)}   "
      f"(P(Ŷ=1|S=0) / P(Ŷ=1|S=1); compliance threshold {tau:g})\n")
    if math.isfinite(di_sample) and math.isfinite(di_full) and di_sample >= tau > di_full:
        w(f"                  the sample would pass the {tau:g} threshold; the full data would not\n")
    w("\n" + report.message + "\n")

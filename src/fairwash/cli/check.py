"""``fairwash check``: the battery on a submitted sample."""

from __future__ import annotations

import argparse
import math
from typing import Any, TextIO

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.cli.common import (
    cache_dir_from_args,
    check_battery_args,
    check_battery_size,
    notify,
    prepare_from_args,
    settings_from_args,
    tests_from_args,
    warn_inputs,
)
from fairwash.cli.options import (
    COMMON_INPUT_HELP,
    EXIT_OK,
    EXIT_REJECTED,
    Formatter,
    add_battery_options,
    add_data_options,
    debug_option,
    jobs_option,
    report_option,
)
from fairwash.cli.render import fmt_di, fmt_num, key_values, print_json, table
from fairwash.errors import DataError
from fairwash.protocol.combine import COMBINE_RULES
from fairwash.text import shown, shown_list

MAX_NAMED_ROWS = 20  # offending rows named in the text (all of them in --json)

_CHECK_DESCRIPTION = """\
fairwash check: is the submitted sample representative of the full data?

--protocol optimal (THE DEFAULT): membership, then the exact DI test.
  1. every submitted row must be a row of the full data, and occur no more
     often than there (an honest sample never fails this; offending rows are
     named by their row number among the sample's rows used);
  2. the exact one-sided DI test: p = P(an honest sample of m rows shows a DI
     at least as high as the submitted one), exactly, from the hypergeometric
     law of the four (s, ŷ) cells; reject if p <= 1 - level.
  Its level is exact (printed); no reference draws: milliseconds. Among all
  tests on the cell counts at this level, none leaves a lower cap on the DI an
  undetected sample can show. Also printed: the DI's confidence interval from
  the sample alone, and with --recommend the recommended sample size for this
  full data (exact; up to tens of seconds when the full data's DI is near 0.8).

--protocol paper: the paper's battery of seven tests (Section 4) on the
submitted rows (x, s, ŷ) against the full data, combined by --combine:
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
--combine any (the paper's, default) rejects if any test rejects: its overall
level is NOT 5 % (11-24 % of honest samples are rejected, as measured); holm
(Holm step-down on the p-values) and minp (the smallest p-value, calibrated on
the same honest draws; KS, which has none, Holm-combined with it) keep the
overall level at most 5 % and print adjusted p-values.

""" + COMMON_INPUT_HELP + """
outputs:
  A table (test, statistic, threshold, p-value, verdict), the sample's DI next
  to the full data's, the sizes, the rules applied, the missing-value report, and
  a one-line verdict:
    REPRESENTATIVE: no test rejects at the 5 % level
    NOT REPRESENTATIVE: rejected by KL_A, W_A
  --json prints the same as one JSON object (infinite statistics as the string
  "inf", undefined values as null).
  --report PATH also writes one self-contained HTML page: the verdict, each
  test's honest reference distribution with its threshold and observed value,
  the four (s, ŷ) cells, the DI and its interval, the sample size that closes
  the gap, the command, input SHA-256, versions and seed.
"""

_CHECK_EPILOG = """\
exit status:
  0  representative (the protocol does not reject)
  1  not representative (membership or the DI test fails; paper: a test rejects)
  2  bad input (the message says what to fix)

examples:
  fairwash check --full decisions.csv --sample submitted.csv \\
      --sensitive sex --s0 Female --outcome approved

  # the paper's battery, combined at an exact overall level
  fairwash check ... --protocol paper --combine minp

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
    g = p.add_argument_group("protocol")
    g.add_argument("--protocol", choices=("optimal", "paper"), default="optimal",
                   help="optimal (default): membership + exact DI test, instant; paper: the seven-test "
                        "battery of Section 4")
    g.add_argument("--combine", choices=COMBINE_RULES, default=None,
                   help="paper only: any (the paper's, default; overall level above 5 %%), holm, or "
                        "minp (exact overall level)")
    g.add_argument("--recommend", action="store_true",
                   help="optimal: also compute the sample size that leaves no room to reach the compliance "
                        "threshold (exact; up to tens of seconds when the full data's DI is close to it; "
                        "fairwash risk --target answers the same)")
    add_battery_options(p)
    jobs_option(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    report_option(p)
    debug_option(p)
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """``fairwash check``: the battery on a sample (:func:`fairwash.protocol.check.check_sample`).

    The arguments and the files are checked before SciPy, POT or torch is loaded: a
    misspelt file name is reported at once.
    """
    tests = tests_from_args(args)
    check_battery_args(args)
    _check_protocol_args(args)
    (full, sample, inputs), _ = prepare_from_args(args, args.sample)
    assert sample is not None
    warn_inputs(inputs, args.json)
    if args.protocol == "optimal":
        # the optimal protocol's module loads SciPy: only once the inputs are valid
        from fairwash.protocol.optimal import check_optimal

        report: Any = check_optimal(full, sample, alpha=round(1 - args.level, 12),
                                    recommend=args.recommend or bool(args.report))  # the report shows it
    else:
        check_battery_size(full.n, sample.n, tests, args.w_method)
        # POT only once the inputs are valid and the problem fits in memory
        from fairwash.protocol.check import check_sample

        report = check_sample(full, sample, tests=tests, settings=settings_from_args(args, tests),
                              w_method=args.w_method, cache_dir=cache_dir_from_args(args),
                              threshold_files=args.thresholds, notify=None if args.json else notify,
                              combine_rule=args.combine or "any", workers=args.jobs)
    if args.json:
        print_json(report.to_dict(inputs.to_dict()), out)
    else:
        (render_optimal if args.protocol == "optimal" else render_check)(report, inputs, out)
    if args.report:
        # matplotlib and the report only when a report is asked for
        from fairwash.audit_report import collect_provenance, write_check_report

        prov = collect_provenance(args.argv, [args.full, args.sample], None if args.protocol == "optimal"
                                  else report.seed)
        written_to(write_check_report(report, inputs, full, sample, prov, args.report), args.json, out)
    return EXIT_OK if report.passed else EXIT_REJECTED


def written_to(path: Any, quiet: bool, out: TextIO) -> None:
    """The line saying where the report went (on stderr with ``--json``: stdout stays one object)."""
    line = f"report written to {shown(str(path))}\n"
    if quiet:
        notify(line.rstrip("\n"))
    else:
        out.write(line)


def _check_protocol_args(args: argparse.Namespace) -> None:
    if args.protocol == "optimal" and args.combine not in (None, "any"):
        raise DataError("--combine applies to --protocol paper (the optimal protocol is one test)")
    if args.protocol == "optimal" and args.thresholds:
        raise DataError("--thresholds applies to --protocol paper (the optimal protocol needs no "
                        "reference draws)")
    if args.protocol == "paper" and args.recommend:
        raise DataError("--recommend applies to --protocol optimal; for the paper's battery, "
                        "fairwash risk --target --simulate studies the sample size")


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
    if info["cache"] == "none":
        return "none needed (no test here is calibrated by honest draws)"
    return f"computed in {info['seconds']:.1f} s (cache not writable: {info.get('error')})"


def _info_lines(report: Any, inputs: Any) -> list[tuple[str, str]]:
    """The key/value lines above the table: files, rules, features, missing values, thresholds."""
    n, m, thr = report.n, report.m, report.thresholds
    enc = inputs.encoding
    feat_line = f"{len(enc.features)} columns -> {len(enc.columns)} standardised features"
    if enc.categorical:
        feat_line += f" ({len(enc.categorical)} text column(s) one-hot encoded)"
    info = [
        *_file_lines(inputs, n, m),
        ("features", feat_line),
        ("missing", inputs.missing_text()),
    ]
    if inputs.ignored_columns:
        info.append(("ignored", f"sample-only column(s) {shown_list(inputs.ignored_columns)}"))
    if inputs.redteam:
        info.append(("RED-TEAM", inputs.redteam))
    rule_txt = f"{report.level * 100:g} % quantile" if thr.rule == "quantile" else "mean + 1.96 std"
    info.append(("thresholds", f"{rule_txt} of {thr.n_draws} honest samples of {m} rows (seed {report.seed}, "
                               f"W_A {report.w_method}); {_provenance_text(report.provenance)}"))
    return info


def _results_table(report: Any) -> str:
    alpha, comb = 1 - report.level, report.combination
    rows = []
    for r in report.battery.results:
        thr_txt = fmt_num(r.threshold) if not math.isnan(r.threshold) else f"p > {alpha:g}"
        row = [r.name, fmt_num(r.statistic), thr_txt, fmt_num(r.p_value, 3),
               "REJECT" if r.rejected else "pass"]
        if comb is not None:
            adj = comb.adjusted[r.name]
            row[-1:] = [fmt_num(adj, 3), "REJECT" if adj <= comb.alpha else "pass"]
        rows.append(row)
    if comb is None:
        return table(["test", "statistic", "threshold", "p-value", "verdict"], rows, "lrrrl")
    head = ["test", "statistic", "threshold", "p-value", f"{comb.rule} adj. p", "verdict"]
    return table(head, rows, "lrrrrl")


def render_check(report: Any, inputs: Any, out: TextIO) -> None:
    """The text output of ``fairwash check`` (a :class:`~fairwash.protocol.check.CheckReport`)."""
    w = out.write
    w("fairwash check: is the submitted sample representative of the full data?\n\n")
    info = _info_lines(report, inputs)
    w(key_values(info))
    w("\n" + _results_table(report) + "\n\n")
    if report.combination is not None:
        w(f"combination  {report.combination.note}\n")
    tau, di_sample, di_full = COMPLIANCE_THRESHOLD, report.di_sample, report.di_full
    w(f"Disparate Impact  sample {fmt_di(di_sample)}   full data {fmt_di(di_full)}   "
      f"(P(Ŷ=1|S=0) / P(Ŷ=1|S=1); compliance threshold {tau:g})\n")
    if math.isfinite(di_sample) and math.isfinite(di_full) and di_sample >= tau > di_full:
        w(f"                  the sample would pass the {tau:g} threshold; the full data would not\n")
    w("\n" + report.message + "\n")


def _file_lines(inputs: Any, n: int, m: int) -> list[tuple[str, str]]:
    """The lines naming the two files, their sizes and groups, and the S and Ŷ rules."""
    return [
        ("full data", f"{inputs.full_path}: {n} rows used of {inputs.rows_full} "
                      f"(S=0: {inputs.groups_full['S=0']}, S=1: {inputs.groups_full['S=1']})"),
        ("sample", f"{inputs.sample_path}: {m} rows used of {inputs.rows_sample} = {100 * m / n:.1f} % "
                   f"of the full data (S=0: {inputs.groups_sample['S=0']}, "
                   f"S=1: {inputs.groups_sample['S=1']})"),
        ("sensitive", inputs.s_rule.describe()),
        ("outcome", inputs.outcome_rule.describe()),
    ]


def _optimal_lines(res: Any, inputs: Any) -> list[tuple[str, str]]:
    """The key/value lines of the optimal protocol: files, rules, then each piece of evidence."""
    rep, m, n = res.report, res.m, res.n
    mem, test, cap, ci = rep.membership, rep.di, rep.cap, rep.interval
    rows = res.offending_rows
    if mem.passed:
        mem_txt = f"pass: all {m} rows are rows of the full data, none more often than there"
    else:
        shown = ", ".join(str(r) for r in rows[:MAX_NAMED_ROWS])
        extra = len(rows) - MAX_NAMED_ROWS
        more = f" and {extra} more (--json lists all)" if extra > 0 else ""
        mem_txt = (f"FAIL: {mem.n_absent} row(s) absent from the full data, {mem.n_excess} excess copy(ies); "
                   f"sample rows {shown}{more}")
    verdict = "REJECT" if test.reject else "pass"
    ss = res.sample_size
    ss_txt = ("not computed (--recommend, or fairwash risk --target)" if ss is None else
              "none needed: the full data's DI is already >= the threshold" if ss.m is None else
              f"m >= {ss.m} ({100 * ss.m / n:.1f} % of the full data): from there on no sample "
              f"passing the DI test shows DI >= {ss.tau:g} at level {ss.alpha:g}")
    return [
        ("protocol", "optimal (the default): membership, then the exact one-sided DI test; "
                     "--protocol paper for the paper's battery"),
        *_file_lines(inputs, n, m),
        ("missing", inputs.missing_text()),
        *([("RED-TEAM", inputs.redteam)] if inputs.redteam else []),
        ("membership", mem_txt),
        ("DI test", f"{verdict}: sample DI {fmt_di(test.statistic)}, p = P_honest(DI >= it) = "
                    f"{fmt_num(test.p_value, 3)}; cap at m = {m}: {fmt_di(cap.value)} "
                    f"(exact level {cap.size:.4f} <= {rep.alpha:g})"),
        ("DI interval", f"{100 * ci.confidence:g} % CI from the sample alone "
                        f"[{fmt_di(ci.low)}, {fmt_di(ci.high)}] (Katz log, finite-population factor "
                        f"{ci.fpc:.3f}); full data's DI {fmt_di(res.di_full)}"),
        ("sample size", ss_txt),
        ("time", f"{res.seconds:.3f} s"),
    ]


def render_optimal(res: Any, inputs: Any, out: TextIO) -> None:
    """The text output of ``fairwash check`` (an :class:`~fairwash.protocol.optimal.OptimalCheck`)."""
    w = out.write
    w("fairwash check: is the submitted sample representative of the full data? (optimal protocol)\n\n")
    info = _optimal_lines(res, inputs)
    w(key_values(info))
    w("\n" + res.message + "\n")

"""``fairwash risk``: the fairest undetected DI at a size, or the size that closes the gap."""

from __future__ import annotations

import argparse
import math
from typing import Any, TextIO

from fairwash.catalogue import ROW_PRESERVING_METHODS, sample_size
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
    Formatter,
    add_battery_options,
    add_data_options,
    csv_list,
    debug_option,
    fraction_arg,
    positive_float,
    positive_int,
)
from fairwash.cli.render import fmt_di, print_json, table
from fairwash.data.base import DataError

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

""" + COMMON_INPUT_HELP + """
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



def register(sub: Any) -> None:
    """Add ``fairwash risk`` to the subparsers ``sub``."""
    p = sub.add_parser("risk", help="fairest undetected DI at a sample size, or the size that closes the gap",
                       description=_RISK_DESCRIPTION, epilog=_RISK_EPILOG, formatter_class=Formatter)
    add_data_options(p, sample=False)
    q = p.add_mutually_exclusive_group(required=True)
    q.add_argument("--fraction", type=fraction_arg, metavar="F",
                   help="sample size as a fraction of the full data")
    q.add_argument("--target", type=positive_float, metavar="T",
                   help="the DI an auditee wants to show (e.g. 0.8): find the sample size that stops it")
    p.add_argument("--fractions", type=lambda s: [fraction_arg(x) for x in csv_list(s)],
                   default=[0.05, 0.1, 0.2, 0.4], metavar="F1,F2,...",
                   help="sample fractions tried with --target (default 0.05,0.1,0.2,0.4)")
    p.add_argument("--methods", type=csv_list, default=list(ROW_PRESERVING_METHODS), metavar="M1,M2,...",
                   help=f"attacks tried (default {','.join(ROW_PRESERVING_METHODS)})")
    p.add_argument("--samples", type=positive_int, default=30, metavar="N",
                   help="samples drawn per attack and DI level (default 30; the paper 100)")
    p.add_argument("--step", type=positive_float, default=0.05, help="DI grid step (default 0.05)")
    add_battery_options(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    debug_option(p)
    p.set_defaults(func=cmd_risk)


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

    tests = tests_from_args(args)
    check_battery_args(args)
    bad = [mth for mth in args.methods if mth not in ROW_PRESERVING_METHODS]
    if bad:
        raise DataError(f"--methods: unknown or unsupported method(s) {bad}; choose among "
                        f"{','.join(ROW_PRESERVING_METHODS)} (the Grad methods need the audited model)")
    (full, _, report), _ = prepare_from_args(args, None)
    n = full.n
    di0 = di(full.Y_hat, full.S)
    ctx = battery_context(full.joint(), args.w_method)
    cache_dir = cache_dir_from_args(args)
    methods = list(dict.fromkeys(args.methods))
    levels_q = {mth: ManipulationLevels(full, mth, random_state=args.seed) for mth in methods}

    def study(fraction: float, start: float, step: float) -> tuple[int, dict[str, Any], dict[str, Any]]:
        m = sample_size(fraction, n)
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
        ("full data", f"{report.full_path}: {n} rows, DI {fmt_di(di0)}"),
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
            print_json(payload, out)
            return EXIT_OK
        w(f"fairwash risk: how fair could a sample of {m} rows ({100 * args.fraction:g} % of the data) look, "
          "undetected?\n\n")
        for k, v in head:
            w(f"{k.ljust(width)}  {v}\n")
        w("\n")
        rows = [[mth, "-" if r.best_di is None else f"{r.best_di:.3f}",
                 "-" if r.level_found is None else f"{r.level_found:.2f}", str(r.n_battery)]
                for mth, r in res.items()]
        w(table(["attack", "fairest undetected DI", "at level", "samples tested"], rows, "lrrr") + "\n\n")
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
    by_fraction, rows_study = [], []
    for fr in sorted(set(args.fractions)):
        # one level only: step = target makes the next level 0 <= DI of the full data
        m, res, _ = study(fr, target, target)
        hits = {mth: r.best_di_raw for mth, r in res.items() if r.best_di is not None}
        by_fraction.append({"fraction": fr, "m": m, "evaded_by": sorted(hits),
                      "best_di": max(hits.values()) if hits else None,
                      "methods": {mth: summary(r) for mth, r in res.items()}})
        for mth, r in res.items():
            rows_study.append({"method": mth, "fraction": fr, "m": m,
                               "fairest_di": math.nan if r.best_di_raw is None else r.best_di_raw})
    safe = smallest_safe_fraction(pd.DataFrame(rows_study), target=target)
    payload = {"mode": "target", "target": target, "n": n, "di_full": di0, "fractions": by_fraction,
               "smallest_safe_fraction": {"fraction": safe.fraction, "m": safe.m, "status": safe.status,
                                          "message": safe.message},
               "inputs": report.to_dict()}
    if args.json:
        print_json(payload, out)
        return EXIT_OK
    w(f"fairwash risk: which sample size stops an auditee from showing DI > {target:g} undetected?\n\n")
    for k, v in head:
        w(f"{k.ljust(width)}  {v}\n")
    w("\n")
    rows = [[f"{100 * r['fraction']:g} %", str(r["m"]), ", ".join(r["evaded_by"]) or "none",
             "-" if r["best_di"] is None else f"{r['best_di']:.3f}"] for r in by_fraction]
    w(table(["fraction", "m", f"undetected with DI > {target:g}", "best DI"], rows, "rrll") + "\n\n")
    if safe.fraction is None:
        w(f"NOT ENOUGH: {safe.message}; try larger --fractions\n")
    elif safe.status == "all_safe":
        w(f"SAFE AT EVERY FRACTION TRIED: {safe.message} ({args.samples} samples per attack: a search, "
          "not a proof)\n")
    else:
        w(f"DEMAND AT LEAST {100 * safe.fraction:g} % (m = {safe.m}): {safe.message} "
          f"({args.samples} samples per attack: a search, not a proof)\n")
    return EXIT_OK


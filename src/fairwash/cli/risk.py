"""``fairwash risk``: the fairest undetected DI at a size, or the size that closes the gap."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from fairwash.catalogue import ROW_PRESERVING_METHODS, sample_size
from fairwash.cli.check import written_to
from fairwash.cli.common import (
    battery_context,
    check_battery_args,
    check_battery_size,
    di,
    prepare_from_args,
    store_from_args,
    tests_from_args,
    warn_inputs,
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
    jobs_option,
    positive_float,
    positive_int,
    report_option,
)
from fairwash.cli.render import fmt_di, key_values, print_json, table
from fairwash.errors import DataError

_RISK_DESCRIPTION = """\
fairwash risk: how much room does a sample size leave for undetected fairwashing?

FIRST, INSTANTLY, from the optimal protocol (fairwash check's default):
With --fraction F: the cap, i.e. the highest DI a sample of F x the full size
can show and still pass membership and the exact DI test; no attack, however
clever, does better (exact, no simulation).
With --target T: the recommended sample size, the smallest m from which on no
sample passing the optimal protocol shows DI >= T (exact).

THEN, with --simulate, the paper's battery against the paper's attacks:
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
  answer; --json as JSON. The honest draws are cached as for "fairwash check";
  a pipeline run's reference files can be reused with --thresholds FILE (one per
  sample size). --report PATH also writes one self-contained HTML page: the
  answer, the exact honest law of the DI at that size with its cap, the search
  (with --simulate), the command, input SHA-256, versions and seed.
"""

_RISK_EPILOG = """\
exit status:
  0  the answer was computed; 2 bad input

examples:
  fairwash risk --full decisions.csv --sensitive sex --s0 Female \\
      --outcome approved --fraction 0.1
  fairwash risk --full decisions.csv --sensitive sex --s0 Female \\
      --outcome approved --target 0.8
  # and the paper's battery against the attacks (minutes)
  fairwash risk ... --target 0.8 --fractions 0.05,0.1,0.2,0.4 --simulate
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
    p.add_argument("--simulate", action="store_true",
                   help="also run the paper's attacks against the paper's battery (minutes; the cap and "
                        "the recommended size of the optimal protocol are printed first either way)")
    p.add_argument("--fractions", type=lambda s: [fraction_arg(x) for x in csv_list(s)],
                   default=[0.05, 0.1, 0.2, 0.4], metavar="F1,F2,...",
                   help="sample fractions tried with --target --simulate (default 0.05,0.1,0.2,0.4)")
    p.add_argument("--methods", type=csv_list, default=list(ROW_PRESERVING_METHODS), metavar="M1,M2,...",
                   help=f"attacks tried (default {','.join(ROW_PRESERVING_METHODS)})")
    p.add_argument("--samples", type=positive_int, default=30, metavar="N",
                   help="samples drawn per attack and DI level (default 30; the paper 100)")
    p.add_argument("--step", type=positive_float, default=0.05, help="DI grid step (default 0.05)")
    add_battery_options(p)
    jobs_option(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    report_option(p)
    debug_option(p)
    p.set_defaults(func=cmd_risk)


def cmd_risk(args: argparse.Namespace, out: TextIO) -> int:
    """``fairwash risk``: the optimal protocol's cap or recommended size, then with ``--simulate``
    :func:`~fairwash.protocol.risk.risk_at_fraction` or :func:`~fairwash.protocol.risk.risk_for_target`."""
    tests = tests_from_args(args)
    check_battery_args(args)
    methods = _methods_from_args(args)
    (full, _, inputs), _ = prepare_from_args(args, None)
    warn_inputs(inputs, args.json)
    if args.simulate:
        fractions = [args.fraction] if args.fraction is not None else args.fractions
        check_battery_size(full.n, max(sample_size(f, full.n) for f in fractions), tests, args.w_method)
    # SciPy / POT only once the inputs are valid: a misspelt file is reported at once
    from fairwash.protocol.risk import cap_at_fraction, size_for_target

    alpha = round(1 - args.level, 12)
    if args.fraction is not None:
        cap = cap_at_fraction(full, args.fraction, alpha)
    else:
        _check_target(float(args.target), di(full.Y_hat, full.S))
        cap = size_for_target(full, float(args.target), alpha)
    res = _simulate(args, full, methods, tests) if args.simulate else None
    written = None
    if args.report:
        # matplotlib and the report only when a report is asked for
        from fairwash.audit_report import collect_provenance, write_risk_report

        prov = collect_provenance(args.argv, [args.full], args.seed if args.simulate else None)
        written = write_risk_report(cap, inputs, full, prov, args.report, res)
    if args.json:
        base = res.to_dict(inputs.to_dict()) if res is not None else {
            "mode": cap.mode, "fraction": cap.fraction, "m": cap.m, "target": cap.target, "n": cap.n,
            "di_full": cap.di_full, "inputs": inputs.to_dict()}
        print_json(base | {"simulated": res is not None, "optimal": cap.to_dict()}, out)
        if written is not None:
            written_to(written, True, out)
        return EXIT_OK
    render_cap(cap, inputs, out)
    if res is not None:
        out.write("\n")
        (render_fraction if args.fraction is not None else render_target)(res, args, inputs, out)
    if written is not None:
        written_to(written, False, out)
    return EXIT_OK


def _simulate(args: argparse.Namespace, full: Any, methods: list[str], tests: tuple[str, ...]) -> Any:
    """Today's study: the paper's attacks against the paper's battery."""
    # POT only when the attacks are simulated
    from fairwash.protocol.risk import risk_at_fraction, risk_for_target

    store = store_from_args(args, battery_context(full.joint(), args.w_method), tests)
    if args.fraction is not None:
        return risk_at_fraction(full, args.fraction, methods=methods, store=store, n_samples=args.samples,
                                step=args.step, seed=args.seed)
    return risk_for_target(full, float(args.target), args.fractions, methods=methods, store=store,
                           n_samples=args.samples, seed=args.seed)


def render_cap(cap: Any, inputs: Any, out: TextIO) -> None:
    """The optimal protocol's instant answer (a :class:`~fairwash.protocol.risk.CapRisk`)."""
    w, data = out.write, f"full data  {inputs.full_path}: {cap.n} rows, DI {fmt_di(cap.di_full)}\n"
    if cap.mode == "fraction":
        q = cap.cap
        w(f"fairwash risk, optimal protocol (membership + exact DI test at level {cap.alpha:g}): a sample of "
          f"{cap.m} rows ({100 * cap.fraction:g} % of the data)\n{data}")
        w(f"CAP {fmt_di(q.value)}: no sample of {cap.m} rows passing the optimal protocol shows a DI above "
          f"{fmt_di(q.value)} (exact level {q.size:.4f}; no simulation needed)\n")
        return
    s = cap.size
    w(f"fairwash risk, optimal protocol (membership + exact DI test at level {cap.alpha:g}): DI >= "
      f"{cap.target:g} undetected?\n{data}")
    if s.m is None:
        w(f"NO SIZE HELPS: the full data's DI is itself >= {cap.target:g}\n")
    else:
        w(f"DEMAND AT LEAST m = {s.m} ({100 * s.m / cap.n:.1f} % of the data): from there on no sample "
          f"passing the optimal protocol shows DI >= {cap.target:g} (exact)\n")


def _methods_from_args(args: argparse.Namespace) -> list[str]:
    bad = [mth for mth in args.methods if mth not in ROW_PRESERVING_METHODS]
    if bad:
        raise DataError(f"--methods: unknown or unsupported method(s) {bad}; choose among "
                        f"{','.join(ROW_PRESERVING_METHODS)} (the Grad methods need the audited model)")
    return list(dict.fromkeys(args.methods))


def _check_target(target: float, di0: float) -> None:
    if target <= di0:
        raise DataError(f"--target {target:g} is not above the full data's DI ({di0:.3f}): nothing to hide")


def _head(res: Any, args: argparse.Namespace, inputs: Any, out: TextIO) -> None:
    """The key/value lines under the title: data, rules, the search's settings."""
    tests = tests_from_args(args)
    head = [
        ("full data", f"{inputs.full_path}: {res.n} rows, DI {fmt_di(res.di_full)}"),
        ("sensitive", inputs.s_rule.describe()),
        ("outcome", inputs.outcome_rule.describe()),
        ("search", f"attacks {', '.join(_methods_from_args(args))}; {args.samples} samples per attack and DI "
                   f"level; tests {', '.join(tests)} at level {args.level:g}"),
    ]
    out.write(key_values(head))
    out.write("\n")


def render_fraction(res: Any, args: argparse.Namespace, inputs: Any, out: TextIO) -> None:
    """The text output of ``fairwash risk --fraction`` (a :class:`~fairwash.protocol.risk.FractionRisk`)."""
    w, m, di0 = out.write, res.m, res.di_full
    w(f"fairwash risk: how fair could a sample of {m} rows ({100 * res.fraction:g} % of the data) look, "
      "undetected?\n\n")
    _head(res, args, inputs, out)
    rows = [[mth, "-" if r.best_di is None else f"{r.best_di:.3f}",
             "-" if r.level_found is None else f"{r.level_found:.2f}", str(r.n_battery)]
            for mth, r in res.results.items()]
    w(table(["attack", "fairest undetected DI", "at level", "samples tested"], rows, "lrrr") + "\n\n")
    top = res.fairest
    if top is None:
        w(f"NO ROOM FOUND: no attack produced an undetected sample with DI above the full data's "
          f"{di0:.3f} (a search, not a proof)\n")
    else:
        w(f"AT RISK: at m = {m} an auditee could submit DI {top[0]:.3f} ({top[1]}) without any test "
          f"rejecting; the full data's DI is {di0:.3f}\n")


def render_target(res: Any, args: argparse.Namespace, inputs: Any, out: TextIO) -> None:
    """The text output of ``fairwash risk --target`` (a :class:`~fairwash.protocol.risk.TargetRisk`)."""
    w, target, safe = out.write, res.target, res.safe
    w(f"fairwash risk: which sample size stops an auditee from showing DI > {target:g} undetected?\n\n")
    _head(res, args, inputs, out)
    rows = [[f"{100 * r['fraction']:g} %", str(r["m"]), ", ".join(r["evaded_by"]) or "none",
             "-" if r["best_di"] is None else f"{r['best_di']:.3f}"] for r in res.fractions]
    w(table(["fraction", "m", f"undetected with DI > {target:g}", "best DI"], rows, "rrll") + "\n\n")
    if safe.fraction is None:
        w(f"NOT ENOUGH: {safe.message}; try larger --fractions\n")
    elif safe.status == "all_safe":
        w(f"SAFE AT EVERY FRACTION TRIED: {safe.message} ({args.samples} samples per attack: a search, "
          "not a proof)\n")
    else:
        w(f"DEMAND AT LEAST {100 * safe.fraction:g} % (m = {safe.m}): {safe.message} "
          f"({args.samples} samples per attack: a search, not a proof)\n")

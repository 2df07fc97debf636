"""``fairwash twins``: the counterfactual-twin audit of a model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from fairwash.cli.options import (
    EXIT_OK,
    Formatter,
    debug_option,
    positive_int,
)
from fairwash.cli.render import fmt_num, print_json
from fairwash.data.base import DataError

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


def register(sub: Any) -> None:
    """Add ``fairwash twins`` to the subparsers ``sub``."""
    p = sub.add_parser("twins", help="counterfactual-twin audit of a model",
                       description=_TWINS_DESCRIPTION, epilog=_TWINS_EPILOG, formatter_class=Formatter)
    p.add_argument("--demo", action="store_true", help="run the article's demo (needs no files)")
    p.add_argument("--model", metavar="DIR", help="model directory (model.safetensors + model.json)")
    p.add_argument("--data", metavar="FILE", help="rows with the model's inputs, raw units (CSV or parquet)")
    p.add_argument("--sensitive-column", metavar="COL", help="the model input holding S")
    p.add_argument("--values", nargs=2, type=float, default=(0.0, 1.0), metavar=("S0", "S1"),
                   help="the two values of the sensitive column, disadvantaged group first (default 0 1)")
    p.add_argument("--n-profiles", type=positive_int, default=1000, metavar="N",
                   help="base profiles drawn from the data's rows (default 1000, all rows if fewer)")
    p.add_argument("--numeric-feature", metavar="COL",
                   help="find each twin's decision boundary in this column")
    p.add_argument("--lo", type=float, help="lower end of the boundary search (default: column minimum)")
    p.add_argument("--hi", type=float, help="upper end of the boundary search (default: column maximum)")
    p.add_argument("--plot", metavar="PNG", help="write the approval curves of one profile's twins")
    p.add_argument("--seed", type=int, default=0, help="seed of the profile draw / the demo (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    debug_option(p)
    p.set_defaults(func=cmd_twins)


def _twins_report(result: Any, out: TextIO, header: str) -> None:
    w = out.write
    w(header + "\n\n")
    lo, hi = result.ci
    s0, s1 = result.values
    lines = [
        ("pairs", f"{result.n_pairs} twin pairs (differing only in {result.sensitive_column}: "
                  f"{fmt_num(s0)} vs {fmt_num(s1)})"),
        ("flips", f"{result.n_flips} pair(s) get different decisions"),
        ("flip rate", f"{100 * result.flip_rate:.1f} %  ({100 * result.confidence:g} % CI "
                      f"{100 * lo:.1f} - {100 * hi:.1f} %, {result.ci_method})"),
        ("favouring", f"S={fmt_num(s1)}: {result.flips_favouring_s1}   S={fmt_num(s0)}: "
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
            print_json({**res.to_dict(), "plot": [str(p) for p in written]}, out)
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
        print_json({**res.to_dict(), "model": str(args.model), "data": str(args.data),
                     "plot": [str(p) for p in written]}, out)
        return EXIT_OK
    header = f"fairwash twins: model {args.model}, {n_prof} base profiles drawn from the rows of {args.data}"
    if boundary is not None:
        others = [c for c in names if c not in (col, args.numeric_feature)]
        prof = ", ".join(f"{c}={fmt_num(float(base.iloc[0][c]))}" for c in others[:8])
        span = f"[{fmt_num(boundary['lo'], 6)}, {fmt_num(boundary['hi'], 6)}]"
        header += f"\nboundaries: along {args.numeric_feature} in {span} for the twins of profile 0"
        header += f" ({prof})" if prof else ""
    _twins_report(res, out, header)
    for p in written:
        out.write(f"plot written: {p}\n")
    return EXIT_OK


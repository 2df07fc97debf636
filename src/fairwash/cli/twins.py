"""``fairwash twins``: the counterfactual-twin audit of a model."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from fairwash.cli.options import (
    EXIT_OK,
    Formatter,
    csv_list,
    debug_option,
    fraction_arg,
    positive_float,
    positive_int,
)
from fairwash.cli.render import fmt_num, key_values, print_json
from fairwash.errors import DataError

#: fairwash.twins.MODEL_KINDS, spelled here so that ``fairwash --help`` imports no numerics
#: (tests/test_probes.py checks that the two agree).
MODEL_KINDS = ("fairwash", "onnx", "skops", "callable", "http")

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
  --model MODEL the model, of one of five kinds (--model-kind, else from MODEL):
      DIR                  fairwash: a model directory written by the pipeline
                           (results/models/NAME/: model.safetensors + model.json,
                           which holds the feature names and the standardiser)
      FILE.onnx            onnx: read with onnxruntime; one input per column (the
                           file names them), or one tensor input whose columns are
                           --feature-columns or the file's metadata "feature_names"
      FILE.skops           skops: a scikit-learn estimator or pipeline; a type skops
                           does not trust is refused by name unless --trust lists it.
                           Pickle / joblib files are never read (they run code)
      module:function      callable: a function taking a DataFrame of the inputs and
      file.py:function     returning decisions or probabilities. It is imported and
                           run: only for code you control, never an auditee's file
      http(s)://URL        http: a black-box endpoint, rows POSTed as JSON in
                           batches (see "endpoint" below)
  --data FILE   rows with the model's input columns in raw units (CSV/parquet),
                e.g. results/data/NAME.parquet; the base profiles are drawn
                from its rows
  --sensitive-column COL   the input column holding S
  --demo        instead: the article's demo (virtual bank customers, a decision
                tree trained on poisoned labels, 1 000 gender-neutral profiles)

how a decision is read:
  A label 0/1 is the decision. A probability P(approved) (or a pair of class
  probabilities, the second one's) is approved when >= --threshold (default 0.5).
  A fairwash or skops model gives its own decision unless --threshold is given.
  Any other answer (a 7, a string, the wrong number of answers) is an error.

endpoint:
  Each request is POST URL {"instances": [{"income": 52000.0, "age": 41.0, ...},
  ...]} (--request-key; "" sends the bare list), at most --batch-size rows; the
  decisions are read at --answer-path in the JSON answer ($.predictions[*]; also
  e.g. $.predictions[*].label, $.scores[*][1], $[*]). A 5xx, 429 or timeout is
  retried with exponential back-off; every answered row is kept in --cache, so a
  rerun (after a failure too) asks only the rows not yet answered. The report
  counts the rows and requests spent.

outputs:
  The number of pairs and flips, the flip rate and its interval, which group the
  flips favour, the caveats, and with --numeric-feature each group's decision
  boundary and the gap; --json as JSON; --plot PNG the approval curves.
"""

_TWINS_EPILOG = """\
exit status:
  0  the audit ran (whatever it found); 2 bad input, a model that cannot be read,
     or an endpoint that fails, times out or answers something else than decisions

examples:
  fairwash twins --demo
  fairwash twins --model results/models/loan --data results/data/loan.parquet \\
      --sensitive-column gender_male --numeric-feature income --lo 30000 --hi 90000 \\
      --plot twins.png
  fairwash twins --model loan.onnx --data loan.csv --sensitive-column gender_male
  fairwash twins --model loan.skops --trust mylib.Scaler --data loan.csv --sensitive-column gender_male
  fairwash twins --model scorer.py:score --data loan.csv --sensitive-column gender_male
  fairwash twins --model https://bank.example/v1/score --answer-path '$.decisions[*]' \\
      --batch-size 50 --max-rps 5 --feature-columns income,age,gender_male \\
      --data loan.csv --sensitive-column gender_male --numeric-feature income
"""


def register(sub: Any) -> None:
    """Add ``fairwash twins`` to the subparsers ``sub``."""
    p = sub.add_parser("twins", help="counterfactual-twin audit of a model",
                       description=_TWINS_DESCRIPTION, epilog=_TWINS_EPILOG, formatter_class=Formatter)
    p.add_argument("--demo", action="store_true", help="run the article's demo (needs no files)")
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
    _model_options(p)
    _endpoint_options(p)
    debug_option(p)
    p.set_defaults(func=cmd_twins)


def _model_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--model", metavar="MODEL",
                   help="DIR, FILE.onnx, FILE.skops, module:function, file.py:function or http(s)://URL")
    g.add_argument("--model-kind", choices=MODEL_KINDS, help="the kind of --model (default: from its form)")
    g.add_argument("--feature-columns", type=csv_list, metavar="A,B,...",
                   help="the model's inputs in its order (callable, endpoint: default every column of "
                        "--data; ONNX tensor input: default the file's metadata)")
    g.add_argument("--threshold", type=fraction_arg, metavar="T",
                   help="approve when P(approved) >= T (default: the model's own decision, 0.5 for "
                        "probabilities)")
    g.add_argument("--trust", type=csv_list, default=[], metavar="TYPE,...",
                   help="skops: types to trust beyond skops' defaults (the refusal names them)")
    g.add_argument("--onnx-output", metavar="NAME",
                   help="ONNX: the output to read (default: the probability output, else the first)")


def _endpoint_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("endpoint (--model http(s)://...)")
    g.add_argument("--answer-path", default="$.predictions[*]", metavar="PATH",
                   help="where the answers are in the JSON answer (default $.predictions[*])")
    g.add_argument("--request-key", default="instances", metavar="KEY",
                   help='the key of the rows in the request (default instances; "" for a bare list)')
    g.add_argument("--batch-size", type=positive_int, default=100, metavar="N",
                   help="rows per request (default 100)")
    g.add_argument("--timeout", type=positive_float, default=10.0, metavar="S",
                   help="seconds to wait for each answer (default 10)")
    g.add_argument("--retries", type=_non_negative_int, default=3, metavar="N",
                   help="retries of a failed request (5xx, 429, timeout), default 3")
    g.add_argument("--backoff", type=positive_float, default=0.5, metavar="S",
                   help="first retry after S seconds, doubling each time (default 0.5)")
    g.add_argument("--max-rps", type=positive_float, metavar="R", help="at most R requests per second")
    g.add_argument("--cache", metavar="FILE",
                   help="the answers kept for a rerun (default: twins-http/<hash>.json in "
                        "$FAIRWASH_CACHE or ~/.cache/fairwash)")


def _non_negative_int(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


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
    w(key_values(lines))
    for note in result.notes:
        w(f"\nnote: {note}")
    w("\n")
    verdict = ("DIRECT USE OF S: identical twins get different decisions" if result.n_flips else
               "NO FLIP: identical twins get identical decisions (direct use of S not detected)")
    w("\n" + verdict + "\n")


def _twins_header(args: argparse.Namespace, audit: Any) -> str:
    """The first lines of ``fairwash twins``' report."""
    from fairwash import twins  # the twin audit (scipy, pandas) only for this command: import cost

    if args.demo:
        rule = twins.DEMO_RULE
        return ("fairwash twins --demo: the counterfactual-twin article's demo (1 000 virtual customers, a "
                f"tree trained on labels poisoned by income thresholds {rule['male_threshold']:,.0f} "
                f"for men and {rule['female_threshold']:,.0f} for women)")
    probe = audit.probe
    header = (f"fairwash twins: model {args.model} ({probe.kind}), {len(audit.base)} base profiles "
              f"drawn from the rows of {args.data}\n"
              f"inputs: {', '.join(probe.feature_columns)}; decision: {probe.decision_rule}")
    b = audit.boundary
    if b is not None:
        others = [c for c in audit.probe.feature_columns if c not in (audit.sensitive_column, audit.feature)]
        prof = ", ".join(f"{c}={fmt_num(float(audit.base.iloc[0][c]))}" for c in others[:8])
        span = f"[{fmt_num(b['lo'], 6)}, {fmt_num(b['hi'], 6)}]"
        header += f"\nboundaries: along {audit.feature} in {span} for the twins of profile 0"
        header += f" ({prof})" if prof else ""
    return header


def _run(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The twin audit the arguments ask for (the demo, or a model file on a data file)."""
    from fairwash import twins  # the twin audit (scipy, pandas) only for this command: import cost

    if args.demo:
        if args.model or args.data:
            raise DataError("--demo runs the article's own model and data; "
                            "do not combine it with --model/--data")
        return twins.demo_twin_audit(random_state=args.seed), {}
    missing = [o for o, v in (("--model", args.model), ("--data", args.data),
                              ("--sensitive-column", args.sensitive_column)) if not v]
    if missing:
        raise DataError(f"twins needs {', '.join(missing)} (or --demo for the article's demo)")
    values = tuple(int(v) if float(v).is_integer() else float(v) for v in args.values)
    endpoint = twins.EndpointOptions(
        answer_path=args.answer_path, request_key=args.request_key, batch_size=args.batch_size,
        timeout=args.timeout, retries=args.retries, backoff=args.backoff, max_rps=args.max_rps,
        cache=args.cache)
    audit = twins.audit_model_file(
        args.model, args.data, args.sensitive_column, kind=args.model_kind,
        feature_columns=args.feature_columns, threshold=args.threshold, trust=args.trust,
        onnx_output=args.onnx_output, endpoint=endpoint, values=values, n_profiles=args.n_profiles,
        seed=args.seed, numeric_feature=args.numeric_feature, lo=args.lo, hi=args.hi)
    files: dict[str, Any] = {"model": str(args.model), "model_kind": audit.probe.kind,
                             "decision_rule": audit.probe.decision_rule, "data": str(args.data)}
    if audit.probe.queries is not None:
        files["queries"] = audit.probe.queries
    return audit, files


def _queries_report(queries: dict[str, Any], out: TextIO) -> None:
    """What an endpoint cost: rows and requests sent, rows read from the cache."""
    q = queries
    out.write(f"\nqueries  {q['rows_sent']} rows sent in {q['requests']} requests to {q['endpoint']} "
              f"({q['retries']} retries; at most {q['batch_size']} rows each)\n"
              f"cache    {q['cache']}: {q['rows_cached']} of the {q['rows_asked']} rows asked were answered "
              f"from it ({q['cache_rows_at_start']} rows held from earlier runs)\n")


def cmd_twins(args: argparse.Namespace, out: TextIO) -> int:
    """``fairwash twins``: the counterfactual-twin audit (or the article's demo)."""
    from fairwash import twins  # the twin audit (scipy, pandas) only for this command: import cost

    audit, files = _run(args)
    written = twins.plot_profile_curves(audit, args.plot) if args.plot else []
    if args.json:
        print_json({**audit.result.to_dict(), **files, "plot": [str(p) for p in written]}, out)
        return EXIT_OK
    _twins_report(audit.result, out, _twins_header(args, audit))
    if "queries" in files:
        _queries_report(files["queries"], out)
    for p in written:
        out.write(f"plot written: {p}\n")
    return EXIT_OK

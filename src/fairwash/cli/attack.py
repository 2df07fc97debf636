"""``fairwash attack``: write a sample drawn from a manipulated distribution (red-team exercises)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from fairwash.catalogue import COMPLIANCE_THRESHOLD, ROW_PRESERVING_METHODS, sample_size
from fairwash.cli.common import (
    di,
    prepare_from_args,
)
from fairwash.cli.options import (
    COMMON_INPUT_HELP,
    EXIT_OK,
    Formatter,
    add_data_options,
    debug_option,
    fraction_arg,
    positive_float,
    positive_int,
)
from fairwash.cli.render import fmt_di, print_json
from fairwash.data.base import DataError

REDTEAM_BANNER = "RED-TEAM EXERCISE: this sample is deliberately manipulated"

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

""" + COMMON_INPUT_HELP + """
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


def register(sub: Any) -> None:
    """Add ``fairwash attack`` to the subparsers ``sub``."""
    p = sub.add_parser("attack", help="RED-TEAM EXERCISE: write a deliberately manipulated sample",
                       description=_ATTACK_DESCRIPTION, epilog=_ATTACK_EPILOG, formatter_class=Formatter)
    add_data_options(p, sample=False)
    g = p.add_argument_group("attack")
    g.add_argument("--method", required=True, choices=ROW_PRESERVING_METHODS, help="the fairwashing attack")
    g.add_argument("--target", type=positive_float, default=COMPLIANCE_THRESHOLD,
                   help=f"target DI (default {COMPLIANCE_THRESHOLD:g})")
    s = g.add_mutually_exclusive_group(required=True)
    s.add_argument("--size", type=positive_int, metavar="M", help="rows to write")
    s.add_argument("--fraction", type=fraction_arg, metavar="F",
                   help="rows to write, as a fraction of the full data")
    g.add_argument("--out", required=True, metavar="FILE", help="output file (.csv or .parquet)")
    g.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    debug_option(p)
    p.set_defaults(func=cmd_attack)


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
    (full, _, report), full_df = prepare_from_args(args, None)
    n = full.n
    m = args.size if args.size is not None else sample_size(args.fraction, n)
    if m > n:
        raise DataError(f"--size {m} is larger than the full data ({n} rows)")
    di0 = di(full.Y_hat, full.S)
    options = {"m": m} if args.method == "SBS" else {}
    q = run_method(args.method, full, target=args.target, random_state=args.seed, options=options)
    if not q.reached:
        raise DataError(f"{args.method} could not reach DI {args.target:g} on this data (it reached "
                        f"{q.di:.3f}); choose a lower --target or another --method")
    idx = q.sample_indices(m, random_state=args.seed)
    frame, n_edited = attack_rows(full_df, full, report, q, idx)
    di_sample = di(q.Y_hat[idx], q.S[idx])
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
        print_json({**provenance, "out": str(out_path), "sidecar": str(side)}, out)
        return EXIT_OK
    w = out.write
    bar = "=" * len(REDTEAM_BANNER)
    w(f"{bar}\n{REDTEAM_BANNER}\n{bar}\n\n")
    lines = [
        ("method", f"{args.method}, target DI {args.target:g}, seed {args.seed}"),
        ("full data", f"{report.full_path}: {n} rows, DI {fmt_di(di0)}"),
        ("sensitive", report.s_rule.describe()),
        ("outcome", report.outcome_rule.describe()),
        ("manipulated Q", f"DI {fmt_di(q.di)}"),
        ("sample", f"{m} rows drawn from Q, DI {fmt_di(di_sample)}; {moved} row(s) moved by the attack, "
                   f"{n_edited} sensitive/outcome value(s) edited"),
        ("written", f"{out_path} (full file's columns) and {side}"),
    ]
    width = max(len(k) for k, _ in lines)
    for k, v in lines:
        w(f"{k.ljust(width)}  {v}\n")
    w("\nTest it with: fairwash check --full ... --sample " + str(out_path) + " (same data options)\n")
    return EXIT_OK


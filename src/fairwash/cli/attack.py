"""``fairwash attack``: write a sample drawn from a manipulated distribution (red-team exercises)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from fairwash.catalogue import COMPLIANCE_THRESHOLD, ROW_PRESERVING_METHODS, sample_size
from fairwash.cli.common import prepare_from_args
from fairwash.cli.options import (
    COMMON_INPUT_HELP,
    EXIT_OK,
    Formatter,
    add_data_options,
    debug_option,
    fraction_arg,
    positive_float,
    positive_int,
    seed_arg,
)
from fairwash.cli.render import fmt_di, key_values, print_json
from fairwash.errors import DataError
from fairwash.io import atomic_write_json, atomic_write_parquet, atomic_write_text
from fairwash.protocol.rows import attack_rows  # re-exported: its historical path (fairwash.cli)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["REDTEAM_BANNER", "register", "cmd_attack", "render_attack", "attack_rows", "neutralise_formulas"]

REDTEAM_BANNER = "RED-TEAM EXERCISE: this sample is deliberately manipulated"
#: A text cell starting with one of these is a formula to a spreadsheet (``=HYPERLINK(...)``).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``frame`` with every text cell (and column name) that a spreadsheet would run as a formula
    prefixed by ``'``, and how many were.

    Numeric columns are left alone (``-1.5`` is a number, not a formula).

    Examples
    --------
    >>> import pandas as pd
    >>> out, k = neutralise_formulas(pd.DataFrame({"a": ["=HYPERLINK(1)", "ok"], "b": [-1, 2]}))
    >>> out["a"].tolist(), out["b"].tolist(), k
    (["'=HYPERLINK(1)", 'ok'], [-1, 2], 1)
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype  # pandas only when a command writes

    def fix(v: object) -> object:
        return "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v

    out = frame.copy()
    count = 0
    for col in out.columns:
        if is_numeric_dtype(out[col]) or is_bool_dtype(out[col]):
            continue
        hit = out[col].map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        if hit.any():
            count += int(hit.sum())
            out[col] = out[col].astype(object).map(fix)
    names = [fix(str(c)) for c in out.columns]
    count += sum(1 for a, b in zip(names, out.columns, strict=True) if a != str(b))
    out.columns = names
    return out, count

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
  In a CSV, a text cell that a spreadsheet would run as a formula (starting with
  =, +, -, @, a tab or a carriage return) is written with a leading ' (counted in
  the summary): such a cell then differs from the full data's; write parquet for an
  exact copy.
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
    g.add_argument("--seed", type=seed_arg, default=0, help="seed of the draw, 0 to 4294967295 (default 0)")
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    debug_option(p)
    p.set_defaults(func=cmd_attack)


def cmd_attack(args: argparse.Namespace, out: TextIO) -> int:
    """``fairwash attack``: write a sample drawn from a manipulated distribution (red team)."""
    # torch / POT (via the attacks) only when an attack runs: `fairwash --help` answers at once
    from fairwash.protocol.redteam import red_team_sample

    out_path = Path(args.out)
    is_parquet = out_path.name.lower().endswith((".parquet", ".pq"))
    if not (is_parquet or out_path.name.lower().endswith(".csv")):
        raise DataError(f"--out {args.out}: use a .csv or .parquet file name")
    (full, _, report), full_df = prepare_from_args(args, None)
    m = args.size if args.size is not None else sample_size(args.fraction, full.n)
    if m > full.n:
        raise DataError(f"--size {m} is larger than the full data ({full.n} rows)")
    sample = red_team_sample(full_df, full, report, args.method, target=args.target, m=m, seed=args.seed)
    provenance = _provenance(args, report, sample, m, full.n)
    side, neutralised = _write(sample, provenance, args, out_path, is_parquet)
    if args.json:
        print_json({**provenance, "out": str(out_path), "sidecar": str(side)}, out)
    else:
        render_attack(args, report, sample, m, full.n, out_path, side, out)
        if neutralised:
            out.write(f"neutralised {neutralised} text cell(s) that a spreadsheet would run as formulas "
                      "(prefixed with '); they no longer equal the full data's: write .parquet for an exact "
                      "copy\n")
    return EXIT_OK


def _provenance(args: argparse.Namespace, report: Any, sample: Any, m: int, n: int) -> dict[str, Any]:
    """The sidecar's record: the banner, the attack, the sizes, the DI values, the edits."""
    return {
        "label": REDTEAM_BANNER, "tool": "fairwash attack", "method": args.method, "target": args.target,
        "seed": args.seed, "size": m, "full": report.full_path, "n_full": n,
        "sensitive": report.s_rule.to_dict(), "outcome": report.outcome_rule.to_dict(),
        "di_full": sample.di_full, "di_manipulated_distribution": sample.manipulation.di,
        "di_sample": sample.di_sample, "rows_moved_or_edited": sample.moved, "values_edited": sample.n_edited,
    }


def _write(sample: Any, provenance: dict[str, Any], args: argparse.Namespace, out_path: Path,
           is_parquet: bool) -> tuple[Path, int]:
    """Write the sample (labelled as manipulated) and its sidecar; return the sidecar's path and
    the number of formula cells neutralised (CSV only)."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    neutralised = 0
    if is_parquet:
        atomic_write_parquet(sample.frame, out_path)
    else:
        frame, neutralised = neutralise_formulas(sample.frame)
        header = (f"# {REDTEAM_BANNER} (fairwash attack --method {args.method} --target {args.target:g} "
                  f"--seed {args.seed}); not an audit sample\n")
        atomic_write_text(header + frame.to_csv(index=False), out_path)
    side = out_path.with_name(out_path.name + ".redteam.json")
    atomic_write_json(provenance | {"formula_cells_neutralised": neutralised}, side)
    return side, neutralised


def render_attack(args: argparse.Namespace, report: Any, sample: Any, m: int, n: int, out_path: Path,
                  side: Path, out: TextIO) -> None:
    """The text output of ``fairwash attack``: the banner, then what was written."""
    w = out.write
    bar = "=" * len(REDTEAM_BANNER)
    w(f"{bar}\n{REDTEAM_BANNER}\n{bar}\n\n")
    lines = [
        ("method", f"{args.method}, target DI {args.target:g}, seed {args.seed}"),
        ("full data", f"{report.full_path}: {n} rows, DI {fmt_di(sample.di_full)}"),
        ("sensitive", report.s_rule.describe()),
        ("outcome", report.outcome_rule.describe()),
        ("manipulated Q", f"DI {fmt_di(sample.manipulation.di)}"),
        ("sample", f"{m} rows drawn from Q, DI {fmt_di(sample.di_sample)}; {sample.moved} row(s) moved by "
                   f"the attack, {sample.n_edited} sensitive/outcome value(s) edited"),
        ("written", f"{out_path} (full file's columns) and {side}"),
    ]
    w(key_values(lines))
    w("\nTest it with: fairwash check --full ... --sample " + str(out_path) + " (same data options)\n")

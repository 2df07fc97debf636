"""Regenerate docs/img/report_pass.png and docs/img/report_rejected.png (the audit report, in Chromium).

A synthetic auditee file (2 000 rows, the full data's DI about 0.3), an honest sample of 200 rows
(passes; the exact DI test rejects 5 % of honest samples, the seed-0 draw among them) and a
Matching red-team sample of 200 rows at DI 0.8 from ``fairwash attack`` (rejected),
each checked with ``fairwash check --report`` and screenshot by headless Chromium.

    PYTHONPATH=src python scripts/report_screenshots.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from fairwash.audit_report.browser import screenshot
from fairwash.cli import main
from fairwash.data.synthetic import simulate

ROOT = Path(__file__).resolve().parents[1]
DATA = ["--sensitive", "sex", "--s0", "Female", "--outcome", "approved"]


def decisions(n: int = 2000, seed: int = 11) -> pd.DataFrame:
    """A small auditee file: the model's decisions, the sex, two numeric and one text feature."""
    d = simulate(n, 3, 0.5, 0.15, 0.5, random_state=seed)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "sex": np.where(d.S == 0, "Female", "Male"),
        "income": np.round(40_000 + 9_000 * d.X["inf_0"].to_numpy(), 0),
        "score": np.round(d.X["inf_1"].to_numpy(), 3),
        "region": rng.choice(["north", "south", "east"], d.n),
        "approved": d.Y.astype(int),
    })


def run(workdir: Path, out_dir: Path) -> list[Path]:
    """Write the files in ``workdir``, the two reports there and their screenshots in ``out_dir``."""
    decisions().to_csv(workdir / "decisions.csv", index=False)
    pd.read_csv(workdir / "decisions.csv").sample(200, random_state=1).to_csv(workdir / "submitted.csv",
                                                                              index=False)
    full = ["--full", str(workdir / "decisions.csv"), *DATA]
    if main(["attack", *full, "--method", "Matching", "--target", "0.8", "--size", "200",
             "--out", str(workdir / "redteam_matching.csv"), "--seed", "1"]) != 0:
        raise SystemExit("fairwash attack failed")
    shots = []
    for sample, name, expected in (("submitted.csv", "report_pass", 0), ("redteam_matching.csv",
                                                                       "report_rejected", 1)):
        html = workdir / f"{name}.html"
        code = main(["check", *full, "--sample", str(workdir / sample), "--report", str(html)])
        if code != expected:
            raise SystemExit(f"{sample}: exit status {code}, expected {expected}")
        shots.append(screenshot(html, out_dir / f"{name}.png", width=1200, height=2900))
    return shots


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=Path, help="keep the data and the HTML reports in this directory")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="where the PNGs go")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        shots = run(args.keep, args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            shots = run(Path(tmp), args.out)
    for s in shots:
        print(f"wrote {s}")


if __name__ == "__main__":
    cli()

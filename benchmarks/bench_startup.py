"""Start-up of the pipeline's jobs: the imports of each rule's script, this tree against a baseline.

Every rule runs ``scripts/<name>.py`` in a fresh Python, which imports its ``fairwash`` modules
before the first useful computation (issue 18, goal 4: <= 1 s). For every script this measures
the wall and CPU time of a fresh interpreter importing the same modules (``-c "import ..."``,
the modules read from the script's ``from fairwash... import`` lines), once with this tree's
``src`` and once with ``--baseline`` (another checkout's ``src``, e.g. main's), alternately, and
reports medians of ``--runs`` runs.

Run: ``.venv/bin/python benchmarks/bench_startup.py --baseline /path/to/main/src [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_IMPORT = re.compile(r"^(?:from (fairwash[\w.]*) import|import (fairwash[\w.]*))", re.M)


def script_modules(path: Path) -> list[str]:
    """The fairwash modules a rule's script imports at its top."""
    return sorted({a or b for a, b in _IMPORT.findall(path.read_text())})


def time_import(modules: list[str], src: Path, pot_switches: bool = False) -> tuple[float, float]:
    """(wall s, CPU s of the child) of a fresh interpreter importing ``modules`` from ``src``;
    ``pot_switches``: with POT's backend switches set, as main's workflow set them for its jobs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POT_BACKEND_DISABLE_")}
    if pot_switches:
        env.update({f"POT_BACKEND_DISABLE_{b}": "1" for b in ("PYTORCH", "JAX", "TENSORFLOW", "CUPY")})
    env["PYTHONPATH"] = str(src)
    code = ";".join(f"import {m}" for m in modules) or "pass"
    before = os.times()
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    wall = time.perf_counter() - t
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", type=Path, required=True, help="the baseline's src directory")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    rows = []
    for path in sorted((REPO / "scripts").glob("*.py")):
        mods = script_modules(path)
        if not mods:
            continue
        samples: dict[str, list[tuple[float, float]]] = {"base": [], "new": []}
        for _ in range(args.runs):
            samples["base"].append(time_import(mods, args.baseline, pot_switches=True))
            samples["new"].append(time_import(mods, REPO / "src"))
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
               for k, v in samples.items()}
        rows.append((path.stem, med["base"], med["new"]))
    print("| script | baseline wall s | baseline CPU s | this wall s | this CPU s |")
    print("|---|---:|---:|---:|---:|")
    for name, (bw, bc), (nw, nc) in rows:
        print(f"| {name} | {bw:.2f} | {bc:.2f} | {nw:.2f} | {nc:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

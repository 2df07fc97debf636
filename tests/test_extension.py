"""Adding a test or an attack touches only the places docs/architecture.md names.

The test copies the project, makes exactly the edits the architecture page lists — for a new
attack a ``MethodSpec`` in the catalogue, a module in ``manipulate/`` and its runner in
``_RUNNERS``, a colour in the figure style; for an eighth test a ``TestSpec`` in the catalogue
and its statistic in ``detect.context.STATISTICS``; both names in the schema's enums — and
checks in a fresh interpreter that the rest of fairwash picks them up: the attack runs by
name, is offered by the command line and goes through Table 2's detection and the fairest
search; the test is calibrated by honest draws, rejects a shifted sample and is accepted by
``--tests``; and the one-home guard (tests/test_catalogue.py) still passes on the edited tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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

TOY_STATISTIC = (
    '    "MEAN_A": lambda ctx, rows, w, q: (\n'
    "        float(np.linalg.norm(np.average(rows, axis=0, weights=w) - ctx.full.mean(axis=0))), np.nan),\n"
)

CHECK = '''\
import numpy as np

from fairwash import catalogue
from fairwash.catalogue import TESTS
from fairwash.cli.common import tests_from_args
from fairwash.cli.parser import build_parser
from fairwash.data.synthetic import simulate
from fairwash.detect.battery import run_battery
from fairwash.detect.thresholds import reference_thresholds
from fairwash.manipulate import run_method
from fairwash.protocol.detection_rates import detection
from fairwash.protocol.fairest import fairest_undetected

data = simulate(600, 3, 0.5, 0.15, 0.5, random_state=1)
data = data.with_decisions(data.Y)  # the labels as the decisions: DI about 0.3
q = run_method("Uniform_up", data, target=0.8)
assert q.reached and abs(q.di - 0.8) < 1e-9, q.di
assert "Uniform_up" in catalogue.METHODS and "Uniform_up" in catalogue.ROW_PRESERVING_METHODS
args = build_parser().parse_args(["attack", "--full", "f.csv", "--sensitive", "s", "--s0", "a", "--outcome",
                                  "y", "--method", "Uniform_up", "--size", "5", "--out", "o.csv"])
assert args.method == "Uniform_up"

assert TESTS[-1] == "MEAN_A" and catalogue.TEST_SPECS["MEAN_A"].calibrated
full, m = data.joint(), 100
thr = reference_thresholds(full, m, tests=TESTS, n_draws=19, random_state=3)
assert "MEAN_A" in thr.draws and len(thr.draws["MEAN_A"]) == 19
rng = np.random.default_rng(0)
honest = [run_battery(full, full[rng.choice(len(full), m, replace=False)], thr, tests=["MEAN_A"])
          for _ in range(40)]
assert sum(r["MEAN_A"].rejected for r in honest) <= 8  # level 5 %: 2 expected, P(> 8) < 1e-3
shifted = full[np.argsort(full[:, 0])[-m:]]
assert run_battery(full, shifted, thr, tests=["MEAN_A"])["MEAN_A"].rejected
frame = detection(full, q, m, thr, n_samples=3, tests=TESTS, random_state=5)
assert len(frame) == 3 and any("MEAN_A" in c for c in frame.columns), list(frame.columns)
best = fairest_undetected(data, "Uniform_up", m, thr, start=0.9, n_samples=3, tests=TESTS, random_state=5)
assert best.n_battery >= 0


class Args:
    no_mmd, tests = False, ["MEAN_A", "KS"]


assert tests_from_args(Args) == ("MEAN_A", "KS")
print("ok")
'''


def _edit(path: Path, anchor: str, insert: str) -> None:
    text = path.read_text()
    assert text.count(anchor) == 1, (path, anchor)
    path.write_text(text.replace(anchor, anchor + insert))


@pytest.fixture(scope="module")
def extended(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("extended")
    for name in ("src", "tests", "config", "scripts", "workflow"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO / "Snakefile", root / "Snakefile")
    pkg = root / "src" / "fairwash"
    # a new attack: 1. its facts in the catalogue
    _edit(pkg / "catalogue.py", '"Matching for equality of odds (Appendix 0.A, eq. 12)"),\n',
          '        MethodSpec("Uniform_up", "Uniform_up", False, False, False, True, False, False,\n'
          '                   "up-weights the favourable rows of S=0 (a toy)", offer_rank=5),\n')
    # 2. its module and its runner
    (pkg / "manipulate" / "uniform.py").write_text(TOY_ATTACK)
    _edit(pkg / "manipulate" / "__init__.py", '    "Matching_EoO": _no_model("matching", "eo_matching"),\n',
          '    "Uniform_up": _no_model("uniform", "uniform_up"),\n')
    # 3. its colour
    _edit(pkg / "figures" / "style.py", '    "Matching_EoO": MethodStyle("#7f7f7f", "*"),\n',
          '    "Uniform_up": MethodStyle("#000000", "."),\n')
    # an eighth test: 1. its facts in the catalogue; 2. its statistic
    _edit(pkg / "catalogue.py", '"squared MMD, Gaussian kernel, on the four (s, ŷ) cells"),\n',
          '        TestSpec("MEAN_A", "MEAN", "row", 7, True, True,\n'
          '                 "distance between the mean rows (a toy)"),\n')
    _edit(pkg / "detect" / "context.py",
          '    "MMD_P": lambda ctx, rows, w, q: (mmd_cells(q, ctx.cells, gamma=ctx.gamma), np.nan),\n',
          TOY_STATISTIC)
    # both names where configs may use them: the schema's enums
    schema = root / "config" / "schema.yaml"
    _edit(schema, "items: {enum: [KS, KL_A, KL_P, W_A, W_P, MMD_A, MMD_P", ", MEAN_A")
    _edit(schema, "Matching, SBS, Matching_EoO", ", Uniform_up")
    return root


def _run(root: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([sys.executable, *argv], env=env, capture_output=True, text=True, cwd=root)


@pytest.mark.slow
def test_a_toy_attack_and_test_need_only_the_named_places(extended):
    out = _run(extended, "-c", CHECK)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "ok"


@pytest.mark.slow
def test_the_one_home_guard_passes_on_the_extended_tree(extended):
    # test_catalogue_facts pins the paper's seven tests and ten methods, which the toys extend
    out = _run(extended, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_catalogue.py",
               "tests/test_layers.py", "-k", "not test_catalogue_facts")
    assert out.returncode == 0, out.stdout[-3000:]

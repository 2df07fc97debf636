"""fairwash._pot: POT without its optional extras at import, nothing else changed (issue 18, start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHECK = """
import json, os, sys
import fairwash.detect.context  # takes ot from fairwash._pot
from fairwash._pot import ot
import numpy as np
seen = sorted(m for m in ("sklearn", "networkx", "torch") if m in sys.modules)
env = sorted(k for k in os.environ if k.startswith("POT_BACKEND_DISABLE_"))
# a tiny transport, solved by hand: mass 1/2 moves 1 and mass 1/2 moves 3 on the line
w = float(ot.emd2([0.5, 0.5], [0.5, 0.5], ot.dist(np.array([[0.0], [1.0]]), np.array([[1.0], [4.0]]),
                                                  metric="euclidean")))
import sklearn.cluster, networkx  # still importable for anyone who needs them
print(json.dumps({"seen": seen, "env": env, "w": w, "kmeans": hasattr(sklearn.cluster, "KMeans"),
                  "nx": hasattr(networkx, "Graph")}))
"""


def _run(code: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POT_BACKEND_DISABLE_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_pot_loads_without_sklearn_networkx_torch_and_leaves_no_trace():
    got = _run(CHECK)
    assert got["seen"] == []  # neither the extras nor a backend were imported
    assert got["env"] == []  # the backend switches were set for the import only
    assert got["w"] == 2.0  # (1 + 3) / 2
    assert got["kmeans"] and got["nx"]


def test_an_extra_imported_first_is_not_hidden():
    got = _run("import json, sys, sklearn.cluster\nfrom fairwash._pot import ot\n"
               "print(json.dumps({'lowrank_sklearn': bool(ot.lowrank.sklearn_import)}))")
    assert got["lowrank_sklearn"]  # POT found scikit-learn: nothing was hidden from it


def test_manipulate_stage_imports_no_pot():
    got = _run("import json, sys, fairwash.pipeline.manipulate\n"
               "print(json.dumps({'ot': 'ot' in sys.modules, 'torch': 'torch' in sys.modules}))")
    assert got == {"ot": False, "torch": False}

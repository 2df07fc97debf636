"""The results store and the JSON convention: every reader/writer pair round-trips, inf and nan included."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairwash import store
from fairwash.cli.render import json_value
from fairwash.detect.battery import ReferenceThresholds
from fairwash.io import atomic_write_json, dumps_json, json_float, json_floats, read_json, to_jsonable
from fairwash.manipulate.base import Manipulation

INF = math.inf
REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- the JSON convention
def test_to_jsonable_spells_inf_and_drops_nan():
    obj = {"kl": INF, "neg": -np.inf, "nan": np.nan, "f32": np.float32(0.5), "i": np.int64(3),
           "b": np.bool_(True), "arr": np.array([1.0, np.inf, np.nan]), 2: (1, 2.5)}
    assert to_jsonable(obj) == {"kl": "inf", "neg": "-inf", "nan": None, "f32": 0.5, "i": 3, "b": True,
                                "arr": [1.0, "inf", None], "2": [1, 2.5]}


def test_dumps_json_is_strict_and_reads_back():
    text = dumps_json({"a": [INF, -INF, np.nan, 1.5]})
    assert "Infinity" not in text and "NaN" not in text
    back = json.loads(text)["a"]
    np.testing.assert_array_equal(json_floats(back), [INF, -INF, np.nan, 1.5])


def test_json_float_restores_and_refuses_other_strings():
    assert json_float("inf") == INF and json_float("-inf") == -INF and json_float(3) == 3.0
    assert math.isnan(json_float(None))
    with pytest.raises(ValueError, match="'abc'"):
        json_float("abc")


def test_read_json_accepts_files_written_before_the_convention(tmp_path):
    (tmp_path / "old.json").write_text('{"kl": Infinity, "p": NaN}')
    old = read_json(tmp_path / "old.json")
    assert json_float(old["kl"]) == INF and math.isnan(json_float(old["p"]))


def test_same_content_same_bytes_as_before_for_finite_values(tmp_path):
    obj = {"b": 1, "a": [0.1, np.float64(2.0)], "c": {"z": None, "y": "s"}}
    atomic_write_json(obj, tmp_path / "x.json")
    assert (tmp_path / "x.json").read_text() == json.dumps(to_jsonable(obj), indent=2, sort_keys=True) + "\n"


def test_the_command_line_renders_json_by_the_same_convention():
    obj = {"x": [INF, -INF, np.nan, np.int32(2)]}
    assert json_value(obj) == to_jsonable(obj) == {"x": ["inf", "-inf", None, 2]}


# ----------------------------------------------------------------------------- paths
def test_template_and_path_agree():
    assert store.template("detection", "parquet") == "results/audit/{ds}/{method}_m{m}.parquet"
    p = store.path("detection", "parquet", root="elsewhere", ds="adult", method="SBS", m=50)
    assert p.as_posix() == "elsewhere/audit/adult/SBS_m50.parquet"
    for kind, parts in store.TEMPLATES.items():
        for part in parts:
            assert store.template(kind, part).startswith("results/")


@pytest.mark.parametrize(("kind", "part", "wildcards", "needle"), [
    ("nosuch", "json", {}, "kinds"),
    ("reference", "parquet", {}, "parts"),
    ("reference", "json", {"ds": "a"}, "missing ['m']"),
    ("reference", "json", {"ds": "a", "m": 1, "method": "SBS"}, "unknown ['method']"),
])
def test_path_names_what_is_wrong(kind, part, wildcards, needle):
    with pytest.raises(KeyError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        store.path(kind, part, **wildcards)


def test_find_lists_the_existing_files(tmp_path):
    for m in (100, 50):
        store.path("reference", "json", root=tmp_path, ds="a", m=m).parent.mkdir(parents=True, exist_ok=True)
        store.path("reference", "json", root=tmp_path, ds="a", m=m).write_text("{}")
    (tmp_path / "audit" / "a" / "reference_mX.json").write_text("{}")  # not a size
    found = store.find("reference", "json", root=tmp_path, ds="a")
    assert sorted(int(f["m"]) for f in found) == [50, 100]
    assert store.find("reference", "json", root=tmp_path, ds="b") == []


# ----------------------------------------------------------------------------- reader/writer pairs
def _thresholds() -> ReferenceThresholds:
    return ReferenceThresholds(
        m=10, n=100, level=0.95, rule="quantile", tests=("KS", "KL_A", "W_A"),
        draws={"KL_A": np.array([0.1, INF, 0.3]), "W_A": np.array([0.2, 0.4, np.nan])},
        thresholds={"KL_A": INF, "W_A": 0.4}, config={"random_state": 1}, fingerprint="abc",
        precomputed={"mmd_self_term": 0.25})


def test_thresholds_round_trip_keeps_inf(tmp_path):
    thr = _thresholds()
    written = store.write_thresholds(thr, tmp_path / "r.json", extra={"seconds": 1.5})
    assert written["seconds"] == 1.5
    text = (tmp_path / "r.json").read_text()
    assert '"inf"' in text and "Infinity" not in text
    back = store.read_thresholds(tmp_path / "r.json")
    np.testing.assert_array_equal(back.draws["KL_A"], [0.1, INF, 0.3])
    np.testing.assert_array_equal(back.draws["W_A"], [0.2, 0.4, np.nan])
    assert back.thresholds == {"KL_A": INF, "W_A": 0.4}
    assert (back.m, back.n, back.tests, back.fingerprint, back.precomputed) == (
        10, 100, ("KS", "KL_A", "W_A"), "abc", {"mmd_self_term": 0.25})
    store.write_thresholds(back, tmp_path / "again.json", extra={"seconds": 1.5})
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "r.json").read_bytes()


def _manipulation(trajectory: pd.DataFrame | None) -> Manipulation:
    rng = np.random.default_rng(0)
    return Manipulation("Replace", 0.8, rng.normal(size=(6, 2)), np.array([0, 1] * 3, dtype=np.int8),
                        np.array([1, 0, 0, 1, 1, 1], dtype=np.int8), np.full(6, 1 / 6), np.arange(6),
                        trajectory, {"kl": INF, "steps": 3, "gap": np.nan})


@pytest.mark.parametrize("with_trajectory", [True, False])
def test_manipulation_round_trip(tmp_path, with_trajectory):
    traj = pd.DataFrame({"step": [0, 1], "source": [1, 2], "dest": [3, 4], "move": ["a", "b"],
                         "cost": [0.5, INF], "di": [0.7, 0.8]}) if with_trajectory else None
    man = _manipulation(traj)
    out = {p: tmp_path / f"Replace.{p}" for p in ("parquet", "json", "trajectory")}
    summary = {"method": man.method, "target": man.target, "di_original": 0.5, "di": INF, "seconds": 0.1,
               "info": man.info}
    store.write_manipulation(man, summary, out, columns=["age", "income"])
    assert "Infinity" not in out["json"].read_text()
    back = store.read_manipulation(out["parquet"], out["json"], out["trajectory"])
    np.testing.assert_array_equal(back.X, man.X)
    for attr in ("S", "Y_hat", "origin"):
        np.testing.assert_array_equal(getattr(back, attr), getattr(man, attr))
    np.testing.assert_array_equal(pd.read_parquet(out["parquet"])["weight"], man.weights)  # stored exactly
    np.testing.assert_allclose(back.weights, man.weights, rtol=1e-15)  # Manipulation renormalises
    assert (back.method, back.target) == ("Replace", 0.8)
    assert back.info == {"kl": "inf", "steps": 3, "gap": None}  # info stays as written: free-form
    if with_trajectory:
        pd.testing.assert_frame_equal(back.trajectory, traj)
    else:
        assert back.trajectory is None
    info = store.read_manipulation_summary(out["json"])
    assert info["di"] == INF and info["di_original"] == 0.5
    columns = ["age", "income", "S", "Y_hat", "weight", "origin"]
    assert list(pd.read_parquet(out["parquet"]).columns) == columns


def test_audit_frame_round_trip(tmp_path):
    frame = pd.DataFrame({"sample": [0, 1], "di": [0.9, np.nan], "KL_A": [INF, 0.2],
                          "KS_rejected": [True, False]})
    store.write_audit_frame(frame, tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(store.read_audit_frame(tmp_path / "a.parquet"), frame)
    # Table 2's lazy columns: nullable verdicts (NA = not computed) survive the round trip
    frame["W_A_rejected"] = pd.array([pd.NA, True], dtype="boolean")
    frame["passed"] = pd.array([pd.NA, False], dtype="boolean")
    frame["full_battery"] = [False, True]
    store.write_audit_frame(frame, tmp_path / "b.parquet")
    pd.testing.assert_frame_equal(store.read_audit_frame(tmp_path / "b.parquet"), frame)


# ----------------------------------------------------------------------------- the rules use the store
#: The rules that may write each kind of artefact.
WRITERS = {
    "data": ("load_data",), "audited": ("train_model", "import_authors"),
    "model": ("train_model", "import_authors"),
    "manipulation": ("manipulate",), "reference": ("reference",), "detection": ("detect_",),
    "fairest": ("fairest",), "sample_size": ("sample_size",), "shift_curve": ("shift_curve",),
    "counterfactual": ("counterfactual",), "table": ("table_",),
    "figure": ("figure_", "counterfactual", "table_protocols"),  # the protocol comparison: table + figure
    "protocol_honest": ("protocol_honest",),
    "fairest_replicate": ("fairest_replicate",), "reference_replicate": ("reference_replicate",),
    "cap_replicates": ("cap_replicates",),
}


def test_every_file_of_the_workflow_is_a_store_template(tmp_path):
    """A dry run of the tiny config: each file a rule writes matches exactly one template of the store,
    written by the rule of that kind, and every template is used."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
         "--configfile", str(REPO / "tests" / "config" / "tiny.yaml"), "--summary", "--cores", "1"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split("\t") for line in proc.stdout.splitlines()[1:] if line.startswith("results/")]
    patterns = {(kind, part): store.pattern(kind, part) for kind, parts in store.TEMPLATES.items()
                for part in parts}
    used = set()
    for row in rows:
        file, rule = row[0], row[2]
        if file.startswith("results/report/"):
            continue
        kinds = [key for key, pat in patterns.items() if pat.fullmatch(file)]
        assert len(kinds) == 1, (file, kinds)
        assert rule.startswith(WRITERS[kinds[0][0]]), (file, rule)
        used.add(kinds[0])
    assert len(rows) > 200
    assert used == set(patterns)

"""The protocol layer both faces call: one threshold store, check_sample, risk on Fig. 8's loop.

The central promise: the pipeline's reference stage and the command line's cache produce
the same thresholds file content (thresholds, draws, settings) for the same rows, m and
seed, so an auditor can reuse the pipeline's file (``fairwash check --thresholds FILE``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairwash.catalogue import NO_MMD, TESTS
from fairwash.cli import main
from fairwash.data.base import AuditData
from fairwash.data.synthetic import simulate
from fairwash.detect.battery import BatteryContext, reference_thresholds
from fairwash.inputs import prepare, read_table
from fairwash.pipeline.audit import reference_stage
from fairwash.protocol import (
    ManipulationLevels,
    ThresholdSettings,
    ThresholdStore,
    fairest_undetected_sets,
    mismatch,
    obtain_thresholds,
    risk_at_fraction,
    risk_for_target,
)

#: The fields of a thresholds file that come from the thresholds (the rest is provenance).
THRESHOLD_FIELDS = ("m", "n", "level", "rule", "tests", "draws", "thresholds", "config", "fingerprint",
                    "precomputed")


def _toy(directory: Path, seed: int = 4, n: int = 300) -> Path:
    gen = np.random.default_rng(seed)
    x = gen.integers(0, 4, (n, 2)).astype(float)
    s = (gen.random(n) < 0.6).astype(np.int8)
    y = ((x[:, 0] + 1.2 * s + gen.normal(0, 1, n)) > 2.2).astype(np.int8)
    AuditData.from_arrays("toy", x, s, Y_hat=y).save(directory / "toy.parquet", directory / "toy.json")
    return directory / "toy.parquet"


def _reference(audited: Path, out: Path, m: int, seed: int = 2) -> dict:
    return reference_stage(audited_parquet=audited, m=m, n_draws=19, level=0.95, rule="quantile",
                           w_method="exact", subref_size=100, subref_seed=1, seed=seed, out_json=out)


def _section(path: Path) -> dict[str, str]:
    """Each threshold field of a file, as canonical JSON text."""
    d = json.loads(Path(path).read_text())
    return {k: json.dumps(d[k], sort_keys=True) for k in THRESHOLD_FIELDS}


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("protocol")
    audited = _toy(d)
    _reference(audited, d / "reference_m40.json", 40)
    return {"dir": d, "audited": audited, "ref40": d / "reference_m40.json"}


# ----------------------------------------------------------------------------- one store
def test_pipeline_and_cli_write_the_same_thresholds_bytes(toy, tmp_path):
    ctx = BatteryContext.prepare(AuditData.load(toy["audited"]).joint())
    # the CLI's cache: the store fairwash check builds, with no --thresholds file
    def cli_store(seed):
        return ThresholdStore(ctx, ThresholdSettings(tests=TESTS, n_draws=19, seed=seed), cache_dir=tmp_path)

    thr, info = cli_store(2).get(40)
    assert info["cache"] == "written"
    pipeline, cli = _section(toy["ref40"]), _section(info["path"])
    assert pipeline == cli
    assert "mmd_self_term" in json.loads(pipeline["precomputed"])
    # and the same as the battery's own reference_thresholds on those rows
    fresh = reference_thresholds(None, 40, n_draws=19, random_state=2, context=ctx)
    for t in fresh.thresholds:
        np.testing.assert_array_equal(thr.draws[t], fresh.draws[t])
    # another seed is another file content (the comparison can fail)
    _, other = cli_store(3).get(40)
    assert _section(other["path"])["draws"] != pipeline["draws"]


def test_the_store_reuses_a_pipeline_file_for_its_size_only(toy, tmp_path):
    ctx = BatteryContext.prepare(AuditData.load(toy["audited"]).joint())
    settings = ThresholdSettings(tests=NO_MMD, n_draws=25, seed=9)  # the file's own draws are used
    store = ThresholdStore(ctx, settings, cache_dir=tmp_path, files=[toy["ref40"]])
    thr, info = store.get(40)
    assert info["cache"] == "file" and thr.n_draws == 19 and thr.config["random_state"] == 2
    assert store.get(40)[0] is thr  # obtained once per store
    other, info80 = store.get(80)
    assert info80["cache"] == "written" and other.n_draws == 25
    # a file computed on other rows is refused, naming why
    d2 = tmp_path / "other"
    d2.mkdir()
    _reference(_toy(d2, seed=11), d2 / "ref.json", 40)
    with pytest.raises(ValueError, match="other full data"):
        ThresholdStore(ctx, settings, files=[d2 / "ref.json"]).get(40)
    (d2 / "bad.json").write_text('{"m": 40}')
    with pytest.raises(ValueError, match="not a reference-thresholds file"):
        ThresholdStore(ctx, settings, files=[d2 / "bad.json"])


def test_mismatch_names_what_differs(toy):
    ctx = BatteryContext.prepare(AuditData.load(toy["audited"]).joint())
    thr = reference_thresholds(None, 40, n_draws=19, random_state=2, context=ctx)
    same = ThresholdSettings(n_draws=19, seed=2)
    assert mismatch(thr, ctx, 40, same) is None
    assert "seed" in mismatch(thr, ctx, 40, ThresholdSettings(n_draws=19, seed=5))
    assert mismatch(thr, ctx, 40) is None  # a given file: data, m and statistics only
    assert "m = 40" in mismatch(thr, ctx, 41)
    sliced = BatteryContext.prepare(ctx.full, w_config=type(ctx.w_config)(method="sliced"))
    assert "statistic settings" in mismatch(thr, sliced, 40)


def test_obtain_raises_on_an_unwritable_file_unless_a_cache(toy, tmp_path):
    ctx = BatteryContext.prepare(AuditData.load(toy["audited"]).joint())
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = ThresholdSettings(tests=("KL_P", "W_P"), n_draws=19)
    with pytest.raises(OSError):
        obtain_thresholds(ctx, 20, settings, blocker / "thr.json")
    _, info = obtain_thresholds(ctx, 20, settings, blocker / "thr.json", tolerate_unwritable=True)
    assert info["cache"] == "unwritable"


# ----------------------------------------------------------------------------- the CLI reuses it
def _decisions(n: int = 500, seed: int = 3) -> pd.DataFrame:
    d = simulate(n, 3, 0.5, 0.15, 0.5, random_state=seed)
    return pd.DataFrame({"sex": np.where(d.S == 0, "Female", "Male"),
                         "score": np.round(d.X["inf_1"].to_numpy(), 3), "approved": d.Y.astype(int)})


def test_check_reuses_the_pipeline_file(tmp_path, capsys):
    df = _decisions()
    df.to_csv(tmp_path / "full.csv", index=False)
    df.sample(50, random_state=1).to_csv(tmp_path / "sample.csv", index=False)
    full, _, _ = prepare(read_table(tmp_path / "full.csv"), None, sensitive="sex", s0="Female",
                         outcome="approved")
    full.save(tmp_path / "audited.parquet", tmp_path / "audited.json")
    _reference(tmp_path / "audited.parquet", tmp_path / "reference_m50.json", 50, seed=0)
    _reference(tmp_path / "audited.parquet", tmp_path / "reference_m20.json", 20, seed=0)
    base = ["check", "--full", tmp_path / "full.csv", "--sample", tmp_path / "sample.csv",
            "--sensitive", "sex", "--s0", "Female", "--outcome", "approved", "--protocol", "paper", "--json"]

    def run(*extra):
        code = main([str(a) for a in (*base, *extra)])
        out, err = capsys.readouterr()
        return code, out, err

    code_f, out_f, _ = run("--thresholds", tmp_path / "reference_m20.json", "--thresholds",
                           tmp_path / "reference_m50.json", "--no-cache")
    code_c, out_c, _ = run("--draws", "19", "--cache-dir", tmp_path / "cache")
    a, b = json.loads(out_f), json.loads(out_c)
    assert a["thresholds"]["cache"] == "file" and b["thresholds"]["cache"] == "written"
    assert code_f == code_c and a["tests"] == b["tests"] and a["verdict"] == b["verdict"]
    # the CLI's cache entry is the pipeline's file, thresholds for thresholds
    assert _section(b["thresholds"]["path"]) == _section(tmp_path / "reference_m50.json")
    code, _, err = run("--thresholds", tmp_path / "reference_m20.json")
    assert code == 2 and "for m = [20]" in err


# ----------------------------------------------------------------------------- risk
def test_risk_runs_the_pipelines_search(toy, tmp_path):
    data = AuditData.load(toy["audited"])
    ctx = BatteryContext.prepare(data.joint())
    store = ThresholdStore(ctx, ThresholdSettings(n_draws=19, seed=2), files=[toy["ref40"]])
    res = risk_at_fraction(data, 40 / data.n, methods=["Matching", "Entropic_b"], store=store, n_samples=6,
                           step=0.1, seed=0)
    assert res.m == 40 and res.thresholds["cache"] == "file"
    for method, r in res.results.items():
        direct = fairest_undetected_sets(data, method, 40, store.get(40)[0], test_sets={"t": TESTS},
                                         start=1.0, step=0.1, n_samples=6, random_state=0, context=ctx,
                                         levels_cache=ManipulationLevels(data, method, random_state=0))["t"]
        assert (r.best_di, r.level_found, r.n_battery) == (direct.best_di, direct.level_found,
                                                           direct.n_battery)
    top = res.fairest
    assert top is None or top[0] == max(r.best_di for r in res.results.values() if r.best_di is not None)
    target = risk_for_target(data, 0.9, [0.2, 40 / data.n], methods=["Matching"], store=store, n_samples=4)
    assert [f["m"] for f in target.fractions] == sorted(f["m"] for f in target.fractions)
    assert target.to_dict()["smallest_safe_fraction"]["status"] in ("found", "all_safe", "none_safe")
    with pytest.raises(ValueError, match="not above"):
        risk_for_target(data, 0.01, [0.2], methods=["Matching"], store=store, n_samples=4)


def test_every_public_name_of_the_protocol_resolves_to_its_definition():
    """The package loads its names lazily: none may be shadowed by a submodule of the same name."""
    import importlib
    import pkgutil
    import types

    import fairwash.protocol as protocol

    for info in pkgutil.iter_modules(protocol.__path__):
        importlib.import_module(f"fairwash.protocol.{info.name}")  # submodules become package attributes
    for name in protocol.__all__:
        obj = getattr(protocol, name)
        assert not isinstance(obj, types.ModuleType), name
        assert obj is getattr(importlib.import_module(f"fairwash.protocol.{protocol._EXPORTS[name]}"), name)

"""The one twin-audit function (fairwash.twins.audit): what ``fairwash twins`` prints, from the library."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fairwash.cli import main
from fairwash.data.base import DataError
from fairwash.model import MLP, AuditedModel, Standardizer, save_model
from fairwash.twins import (
    audit_model_file,
    demo_twin_audit,
    plot_profile_curves,
    probe_for,
    run_demo,
    twin_audit,
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """A saved MLP that uses S heavily, and a CSV of its inputs in raw units."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("saved")
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"income": rng.uniform(20_000, 90_000, 300), "age": rng.integers(18, 70, 300),
                         "gender_male": rng.integers(0, 2, 300)})
    data.to_csv(folder / "data.csv", index=False)
    names = ["income", "age", "gender_male"]
    net = MLP(3, width=8, n_blocks=1)
    with torch.no_grad():
        net.seq[1].weight[:, 2] = 5.0
    net.eval()
    std = Standardizer.fit(data[names].to_numpy(float))
    save_model(AuditedModel(net, 0.5), folder / "m", standardizer=std, feature_names=names)
    return {"model": folder / "m", "data": folder / "data.csv"}


def _cli_json(argv: list, capsys) -> dict:
    code = main([str(a) for a in argv])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_the_library_gives_what_the_cli_prints(saved, capsys):
    argv = ["twins", "--model", saved["model"], "--data", saved["data"], "--sensitive-column", "gender_male",
            "--n-profiles", 120, "--seed", 7, "--numeric-feature", "income", "--json"]
    printed = _cli_json(argv, capsys)
    audit = audit_model_file(saved["model"], saved["data"], "gender_male", n_profiles=120, seed=7,
                             numeric_feature="income")
    files = {"model": str(saved["model"]), "model_kind": "fairwash",
             "decision_rule": audit.probe.decision_rule, "data": str(saved["data"])}
    expected = {**audit.result.to_dict(), **files, "plot": []}
    assert printed == json.loads(json.dumps(expected))
    # the profile draw and the bisection tolerance of fairwash twins
    pick = np.sort(np.random.default_rng(7).choice(300, size=120, replace=False))
    np.testing.assert_array_equal(audit.base["data_row"], pick)
    data = pd.read_csv(saved["data"])
    lo, hi = data["income"].min(), data["income"].max()
    assert audit.boundary["tol"] == max((hi - lo) * 1e-5, 1e-9) and audit.profile == 0
    # every profile's boundaries come with it, and the one profile's are among them
    assert audit.boundary_profiles["n_profiles"] == 120


def test_twin_audit_on_given_rows_with_a_fixed_tolerance(saved):
    probe = probe_for(saved["model"])
    data = pd.read_csv(saved["data"])
    audit = twin_audit(probe, data, "gender_male", rows=[3, 1, 4], numeric_feature="income", tol=1.0)
    assert list(audit.base["data_row"]) == [3, 1, 4] and audit.boundary["tol"] == 1.0
    assert audit.fixed.n_pairs == 3 and audit.flipped is None and audit.primary is audit.fixed


def test_errors_name_the_column_and_the_file(saved):
    with pytest.raises(DataError, match="gender_male"):
        audit_model_file(saved["model"], saved["data"], "gender_mal")
    with pytest.raises(DataError, match="numeric feature"):
        audit_model_file(saved["model"], saved["data"], "gender_male", numeric_feature="incom")
    audit = audit_model_file(saved["model"], saved["data"], "gender_male", n_profiles=10)
    with pytest.raises(DataError, match="--numeric-feature"):
        plot_profile_curves(audit, saved["data"].with_suffix(".png"))


def test_demo_audit_is_the_demo(capsys):
    audit = demo_twin_audit(random_state=2)
    assert audit.result.to_dict() == run_demo(random_state=2).result.to_dict()
    printed = _cli_json(["twins", "--demo", "--json", "--seed", 2], capsys)
    assert printed == {**json.loads(json.dumps(audit.result.to_dict())), "plot": []}

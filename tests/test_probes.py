"""The model kinds of the twin audit (fairwash.twins.load_probe): ONNX, skops, callables, objects.

The HTTP endpoint and the four-kinds comparison on one loan pipeline are in
tests/test_probes_http.py.
"""

from __future__ import annotations

import ast
import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairwash.cli import main
from fairwash.cli.twins import MODEL_KINDS as CLI_KINDS
from fairwash.data.base import DataError
from fairwash.data.synthetic import loan_applicants
from fairwash.twins import (
    DEMO_FEATURES,
    MODEL_KINDS,
    ModelProbe,
    audit_model_file,
    load_probe,
    model_kind,
    read_answers,
    run_demo,
    twin_audit,
)

onnx = pytest.importorskip("onnx")
sio = pytest.importorskip("skops.io")
skl2onnx = pytest.importorskip("skl2onnx")

SRC = Path(__file__).resolve().parents[1] / "src" / "fairwash"
COLUMNS = ["income", "age", "gender_male"]


@pytest.fixture(scope="module")
def loan(tmp_path_factory) -> dict:
    """A loan pipeline (standardiser + logistic regression), its data, and files of it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    folder = tmp_path_factory.mktemp("probes")
    data = loan_applicants(300, random_state=1)
    X = data.X
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=10, max_iter=1000)).fit(X, data.Y)
    X.to_csv(folder / "loan.csv", index=False)
    sio.dump(pipe, folder / "loan.skops")
    # numpy.nan_to_num is a function skops does not trust by default
    odd = make_pipeline(FunctionTransformer(np.nan_to_num), StandardScaler(),
                        LogisticRegression(C=10, max_iter=1000)).fit(X, data.Y)
    sio.dump(odd, folder / "odd.skops")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tensor = skl2onnx.to_onnx(pipe, X.to_numpy(np.float32)[:1])
        per_column = skl2onnx.to_onnx(pipe, X.astype(np.float32)[:1], options={"zipmap": False})
    onnx.save(tensor, folder / "bare.onnx")  # one tensor input, no column names
    onnx.helper.set_model_props(tensor, {"feature_names": ",".join(COLUMNS)})
    onnx.save(tensor, folder / "named.onnx")
    onnx.save(per_column, folder / "columns.onnx")
    return {"folder": folder, "data": folder / "loan.csv", "X": X, "pipe": pipe}


def _flips(audit) -> tuple[int, float]:
    return audit.fixed.n_flips, round(audit.boundary["gap"], 6) if audit.boundary else None


# --------------------------------------------------------------------------- kinds


def test_the_kind_is_detected_from_the_model_and_pickles_are_refused(tmp_path):
    assert model_kind(tmp_path) == "fairwash"
    assert model_kind("m.onnx") == "onnx" and model_kind("m.SKOPS") == "skops"
    assert model_kind("mypkg.scoring:score") == "callable" and model_kind("dir/scorer.py:score") == "callable"
    assert model_kind("https://bank.example/score") == "http" and model_kind("http://127.0.0.1:8/x") == "http"
    for name in ("model.pkl", "model.joblib", "model.pickle"):
        with pytest.raises(DataError, match="pickle file .* never read"):
            model_kind(name)
    with pytest.raises(DataError, match="--model-kind"):
        model_kind("model.bin")
    assert CLI_KINDS == MODEL_KINDS


def test_a_model_file_is_never_unpickled(tmp_path):
    class Boom:
        def __reduce__(self):
            return (Path.write_text, (tmp_path / "pwned", "ran"))

    hostile = tmp_path / "model.skops"
    hostile.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(DataError, match="not a readable skops file"):
        load_probe(hostile)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(DataError, match="pickle"):
        load_probe(tmp_path / "model.pkl", kind="skops")
    assert not (tmp_path / "pwned").exists()
    # and no module of fairwash imports pickle, joblib, cloudpickle or dill
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in {"pickle", "joblib", "cloudpickle", "dill"}, (path, name)


# --------------------------------------------------------------------------- skops


def test_skops_refuses_an_untrusted_type_by_name_and_trust_accepts_it(loan, capsys):
    odd = loan["folder"] / "odd.skops"
    with pytest.raises(DataError, match=r"untrusted type\(s\) numpy.nan_to_num.*--trust numpy.nan_to_num"):
        load_probe(odd)
    argv = ["twins", "--model", str(odd), "--data", str(loan["data"]), "--sensitive-column", "gender_male",
            "--n-profiles", "50", "--json"]
    assert main(argv) == 2
    assert "untrusted type(s) numpy.nan_to_num" in capsys.readouterr().err
    assert main([*argv, "--trust", "numpy.nan_to_num"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model_kind"] == "skops" and printed["n_pairs"] == 50
    probe = load_probe(odd, trust=["numpy.nan_to_num"])
    assert probe.kind == "skops" and list(probe.feature_columns) == COLUMNS


def test_skops_gives_the_estimators_own_decisions_and_a_threshold_moves_them(loan):
    probe = load_probe(loan["folder"] / "loan.skops")
    X = loan["X"]
    np.testing.assert_array_equal(probe.decide(X), loan["pipe"].predict(X))
    np.testing.assert_allclose(probe.proba(X), loan["pipe"].predict_proba(X)[:, 1])
    strict = load_probe(loan["folder"] / "loan.skops", threshold=0.99)
    np.testing.assert_array_equal(strict.decide(X), loan["pipe"].predict_proba(X)[:, 1] >= 0.99)
    with pytest.raises(DataError, match="fitted on columns"):
        load_probe(loan["folder"] / "loan.skops", feature_columns=["age", "income", "gender_male"])


# --------------------------------------------------------------------------- ONNX


def test_onnx_reads_its_inputs_from_the_file_or_the_named_columns(loan):
    folder, X = loan["folder"], loan["X"]
    expected = loan["pipe"].predict(X)
    for probe in (load_probe(folder / "columns.onnx"), load_probe(folder / "named.onnx"),
                  load_probe(folder / "bare.onnx", feature_columns=COLUMNS)):
        assert probe.kind == "onnx" and list(probe.feature_columns) == COLUMNS
        np.testing.assert_array_equal(probe.decide(X), expected)
        np.testing.assert_allclose(probe.proba(X), loan["pipe"].predict_proba(X)[:, 1], atol=1e-5)
    # the data's column order does not matter: the probe selects the model's order
    np.testing.assert_array_equal(load_probe(folder / "columns.onnx").decide(X[COLUMNS[::-1]]), expected)
    label = load_probe(folder / "named.onnx", onnx_output="output_label")
    np.testing.assert_array_equal(label.decide(X), expected)


def test_onnx_refuses_unknown_or_contradicting_column_orders(loan):
    folder = loan["folder"]
    with pytest.raises(DataError, match="no column names: give --feature-columns"):
        load_probe(folder / "bare.onnx")
    with pytest.raises(DataError, match="records the columns of its input 'X' as"):
        load_probe(folder / "named.onnx", feature_columns=["age", "income", "gender_male"])
    with pytest.raises(DataError, match="takes 3 columns, 2 named"):
        load_probe(folder / "bare.onnx", feature_columns=["income", "age"])
    with pytest.raises(DataError, match="model's inputs are"):
        load_probe(folder / "columns.onnx", feature_columns=["income", "age"])
    with pytest.raises(DataError, match="no output 'score'"):
        load_probe(folder / "named.onnx", onnx_output="score")
    (folder / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(DataError, match="onnxruntime cannot load it"):
        load_probe(folder / "junk.onnx")


def test_the_cli_audits_an_onnx_file_like_its_skops_twin(loan, capsys):
    base = ["twins", "--data", str(loan["data"]), "--sensitive-column", "gender_male", "--n-profiles", "80",
            "--numeric-feature", "income", "--json"]
    out = {}
    for name in ("loan.skops", "bare.onnx"):
        extra = ["--feature-columns", ",".join(COLUMNS)] if name == "bare.onnx" else []
        assert main([*base, "--model", str(loan["folder"] / name), *extra]) == 0
        out[name] = json.loads(capsys.readouterr().out)
    a, b = out["loan.skops"], out["bare.onnx"]
    assert a["model_kind"] == "skops" and b["model_kind"] == "onnx"
    assert a["n_flips"] == b["n_flips"]
    assert abs(a["boundary"]["gap"] - b["boundary"]["gap"]) <= 2 * a["boundary"]["tol"]


# --------------------------------------------------------------------------- callables and objects


def test_a_callable_by_module_or_file_path(loan, tmp_path, monkeypatch):
    (tmp_path / "bank_rule.py").write_text(
        "def approve(frame):\n"
        "    return (frame['income'] >= 50_000 + 15_000 * (1 - frame['gender_male'])).astype(int)\n\n"
        "def seven(frame):\n"
        "    return [7] * len(frame)\n\n"
        "def broken(frame):\n"
        "    raise KeyError('salary')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    by_module = audit_model_file("bank_rule:approve", loan["data"], "gender_male", n_profiles=100,
                                 numeric_feature="income", lo=30_000, hi=90_000)
    by_file = audit_model_file(f"{tmp_path / 'bank_rule.py'}:approve", loan["data"], "gender_male",
                               n_profiles=100, numeric_feature="income", lo=30_000, hi=90_000)
    assert by_module.probe.kind == "callable" and _flips(by_module) == _flips(by_file)
    assert list(by_module.probe.feature_columns) == COLUMNS  # every column of the data file
    assert abs(by_module.boundary["gap"] - 15_000) <= 2 * by_module.boundary["tol"]
    with pytest.raises(DataError, match="answer 7 .*neither a decision"):
        audit_model_file("bank_rule:seven", loan["data"], "gender_male", n_profiles=5)
    with pytest.raises(DataError, match="callable bank_rule:broken failed on 10 rows \\(KeyError"):
        audit_model_file("bank_rule:broken", loan["data"], "gender_male", n_profiles=5)
    with pytest.raises(DataError, match="cannot import 'no_such_module'"):
        load_probe("no_such_module:f", feature_columns=COLUMNS)
    with pytest.raises(DataError, match="expected module:function"):
        load_probe("bank_rule", kind="callable", feature_columns=COLUMNS)
    with pytest.raises(DataError, match="has no function 'nope'"):
        load_probe("bank_rule:nope", feature_columns=COLUMNS)


def test_fitted_objects_go_through_the_same_probe(loan):
    X = loan["X"]
    from_object = twin_audit(loan["pipe"], X, "gender_male", n_profiles=60, numeric_feature="income")
    from_file = twin_audit(load_probe(loan["folder"] / "loan.skops"), X, "gender_male", n_profiles=60,
                           numeric_feature="income")
    assert from_object.result.to_dict() == from_file.result.to_dict()
    run = run_demo(random_state=0)  # the demo's decision tree
    tree = load_probe(run.model, feature_columns=DEMO_FEATURES)
    assert isinstance(tree, ModelProbe) and tree.kind == "model"
    people = run.customers
    np.testing.assert_array_equal(tree.decide(people), run.model.predict(people[list(DEMO_FEATURES)]))
    fn = load_probe(lambda f: loan["pipe"].predict_proba(f)[:, 1], feature_columns=COLUMNS)
    assert fn.kind == "callable"
    np.testing.assert_array_equal(fn.decide(X), loan["pipe"].predict(X))


def test_the_pipeline_mlp_goes_through_load_probe(tmp_path):
    import torch  # the pipeline's MLP: only this test trains one

    from fairwash.model import MLP, AuditedModel, Standardizer, save_model

    torch.manual_seed(0)
    X = loan_applicants(100, random_state=0).X
    std = Standardizer.fit(X[COLUMNS].to_numpy(float))
    save_model(AuditedModel(MLP(3, width=4, n_blocks=1).eval(), 0.5), tmp_path / "m", standardizer=std,
               feature_names=COLUMNS)
    probe = load_probe(tmp_path / "m")
    assert probe.kind == "fairwash" and probe.transform is not None
    high = load_probe(tmp_path / "m", threshold=0.999)
    assert high.decide(X).sum() <= probe.decide(X).sum() + (probe.proba(X) == 0.5).sum()


# --------------------------------------------------------------------------- the answer rule


def test_answers_are_labels_or_probabilities_and_nothing_else():
    np.testing.assert_array_equal(read_answers([0, 1, True], 3, "m"), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(read_answers([[0.2, 0.8], [0.9, 0.1]], 2, "m"), [0.8, 0.1])
    np.testing.assert_array_equal(read_answers([{0: 0.3, 1: 0.7}, {"0": 1.0, "1": 0.0}], 2, "m"), [0.7, 0.0])
    np.testing.assert_array_equal(read_answers(pd.Series([0.25]), 1, "m"), [0.25])
    for bad, match in (([0, 7], "answer 7"), ([-1, 0], "answer -1"), ([float("nan")], "answer nan"),
                       (["yes", "no"], "not numbers"), ([0, 1, 1], "3 answer\\(s\\) for 2 row"),
                       ([[0.1, 0.2, 0.7]] * 2, "shape \\(2, 3\\)"), ([{0: 1.0}], "without class 1")):
        with pytest.raises(DataError, match=match):
            read_answers(bad, 2 if match.startswith(("answer 7", "answer -1", "not", "3 ", "shape")) else 1,
                         "endpoint X")


def test_twins_help_names_every_kind(capsys):
    assert main(["twins", "--help"]) == 0
    text = capsys.readouterr().out
    for word in ("FILE.onnx", "FILE.skops", "module:function", "http(s)://URL", "--trust", "--batch-size",
                 "--max-rps", "--answer-path", "--cache", "--threshold", "only for code you control"):
        assert word in text, word

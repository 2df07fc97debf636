"""The ``fairwash`` command line (issue 7): check, attack, twins, help texts, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairwash import cli
from fairwash.cli import main
from fairwash.data.synthetic import simulate
from fairwash.inputs import prepare, read_table

FW = Path(sys.executable).parent / "fairwash"
DATA = ["--sensitive", "sex", "--s0", "Female", "--outcome", "approved"]
FAST = ["--draws", "20"]


def _decisions(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """A small auditee file: DI of the decisions about 0.3, one text feature."""
    d = simulate(n, 3, 0.5, 0.15, 0.5, random_state=seed)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "sex": np.where(d.S == 0, "Female", "Male"),
        "income": np.round(40_000 + 9_000 * d.X["inf_0"].to_numpy(), 0),
        "score": np.round(d.X["inf_1"].to_numpy(), 3),
        "region": rng.choice(["north", "south", "east"], d.n),
        "approved": d.Y.astype(int),
    })


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    df = _decisions()
    df.to_csv(root / "full.csv", index=False)
    df.sample(100, random_state=0).to_csv(root / "honest.csv", index=False)
    return root


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def check_args(files, sample, *extra):
    return ["check", "--full", files / "full.csv", "--sample", sample, *DATA, *FAST,
            "--cache-dir", files / "cache", "--protocol", "paper", *extra]


# ----------------------------------------------------------------------------- help
@pytest.mark.parametrize("command", [[], ["check"], ["attack"], ["twins"], ["risk"]])
def test_help_reads_like_a_man_page(command, capsys):
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0
    for section in ("exit status:", "examples:", "fairwash"):
        assert section in out
    if command:
        assert "outputs:" in out and "inputs:" in out
    if command == ["attack"]:
        assert "RED-TEAM EXERCISE" in out


def test_cli_test_list_matches_the_battery():
    from fairwash.detect.battery import TESTS

    assert cli.TESTS == TESTS


# ----------------------------------------------------------------------------- check
def test_honest_sample_passes(files, capsys):
    code, out, err = run(check_args(files, files / "honest.csv"), capsys)
    assert code == 0, out + err
    assert "REPRESENTATIVE: no test rejects at the 5 % level" in out
    for t in cli.TESTS:
        assert f"\n{t} " in out
    assert "S = 0 (the disadvantaged group) where sex == 'Female'" in out
    assert "missing     none" in out
    # the DI shown is the one computed independently from the file
    smp = pd.read_csv(files / "honest.csv")
    p0 = smp.loc[smp.sex == "Female", "approved"].mean()
    p1 = smp.loc[smp.sex == "Male", "approved"].mean()
    assert f"sample {p0 / p1:.3f}" in out


def test_matching_sample_at_an_unreachable_disguise_fails_naming_tests(files, capsys):
    out_file = files / "matching.csv"
    code, out, _ = run(["attack", "--full", files / "full.csv", *DATA, "--method", "Matching",
                        "--target", "1.0", "--size", 100, "--out", out_file, "--seed", 1], capsys)
    assert code == 0
    code, out, err = run(check_args(files, out_file, "--json"), capsys)
    assert code == 1, err
    res = json.loads(out)
    assert res["verdict"] == "not_representative" and res["rejected_by"]
    rejected = {t["test"] for t in res["tests"] if t["rejected"]}
    assert rejected == set(res["rejected_by"])
    code, out, _ = run(check_args(files, out_file), capsys)
    assert code == 1
    assert f"NOT REPRESENTATIVE: rejected by {', '.join(res['rejected_by'])}" in out


def test_json_is_strict_and_consistent(files, capsys):
    code, out, _ = run(check_args(files, files / "honest.csv", "--json"), capsys)
    res = json.loads(out)  # strict JSON: allow_nan=False on output
    assert code == 0 and res["passed"] is True and res["verdict"] == "representative"
    assert [t["test"] for t in res["tests"]] == list(cli.TESTS)
    assert res["sizes"]["m_sample"] == 100 and res["sizes"]["n_full"] == 600
    ks = res["tests"][0]
    assert ks["threshold"] is None and 0 <= ks["p_value"] <= 1
    assert res["inputs"]["sensitive"]["value"] == "Female"


def test_thresholds_are_cached_between_calls(tmp_path, files, capsys):
    argv = ["check", "--full", files / "full.csv", "--sample", files / "honest.csv", *DATA, *FAST,
            "--cache-dir", tmp_path / "c", "--protocol", "paper", "--json"]
    _, out1, _ = run(argv, capsys)
    _, out2, _ = run(argv, capsys)
    a, b = json.loads(out1), json.loads(out2)
    assert a["thresholds"]["cache"] == "written" and b["thresholds"]["cache"] == "used"
    assert a["tests"] == b["tests"]
    assert len(list((tmp_path / "c").glob("thresholds-*.json"))) == 1
    # another number of draws is another entry, not a stale hit
    _, out3, _ = run([*argv, "--draws", "25"], capsys)
    assert json.loads(out3)["thresholds"]["cache"] == "written"
    assert len(list((tmp_path / "c").glob("thresholds-*.json"))) == 2
    # the text output says where the thresholds came from
    _, text, _ = run(argv[:-1], capsys)
    assert "read from the cache" in text


def _store(ctx, cache_dir):
    """The threshold store ``fairwash check`` uses: 20 draws at 0.95, seed 4, cached in ``cache_dir``."""
    from fairwash.protocol.thresholds import ThresholdSettings, ThresholdStore

    settings = ThresholdSettings(tests=cli.TESTS, n_draws=20, level=0.95, rule="quantile", seed=4)
    return ThresholdStore(ctx, settings, cache_dir=cache_dir)


def test_cached_thresholds_match_a_fresh_computation(tmp_path, files):
    from fairwash.detect.battery import BatteryContext, reference_thresholds

    full, _, _ = prepare(read_table(files / "full.csv"), None, sensitive="sex", s0="Female",
                         outcome="approved")
    ctx = BatteryContext.prepare(full.joint())
    first, info1 = _store(ctx, tmp_path).get(50)  # one store per call, as one per fairwash check
    again, info2 = _store(ctx, tmp_path).get(50)
    fresh = reference_thresholds(full.joint(), 50, n_draws=20, random_state=4)
    assert (info1["cache"], info2["cache"]) == ("written", "used")
    for t in fresh.thresholds:
        assert again.thresholds[t] == fresh.thresholds[t]
        np.testing.assert_array_equal(again.draws[t], fresh.draws[t])
    # a damaged entry is recomputed, not trusted
    Path(info1["path"]).write_text("{not json")
    _, info3 = _store(ctx, tmp_path).get(50)
    assert info3["cache"] == "written"


def test_interrupted_thresholds_resume_from_the_stored_draws(tmp_path, files, monkeypatch):
    """Ctrl-C during the honest draws: the rerun computes only the missing ones, same thresholds."""
    from fairwash.detect import thresholds as detect_thresholds
    from fairwash.detect.battery import BatteryContext, reference_thresholds

    full, _, _ = prepare(read_table(files / "full.csv"), None, sensitive="sex", s0="Female",
                         outcome="approved")
    ctx = BatteryContext.prepare(full.joint())
    real, calls, kill_done = detect_thresholds.reference_draws, [], []

    class Killed(Exception):
        pass

    def interrupted_at_7(*args, **kwargs):
        calls.append(1)
        if len(calls) == 7 and not kill_done:
            kill_done.append(1)
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(detect_thresholds, "reference_draws", interrupted_at_7)
    with pytest.raises(Killed):
        _store(ctx, tmp_path).get(50)
    assert len(list(tmp_path.glob("partial-*/draw_*.json"))) == 6
    calls.clear()
    thr, info = _store(ctx, tmp_path).get(50)
    assert len(calls) == 20 - 6 and info["cache"] == "written"
    assert not list(tmp_path.glob("partial-*"))  # removed once the thresholds are cached
    fresh = reference_thresholds(full.joint(), 50, n_draws=20, random_state=4)
    for t in fresh.thresholds:
        np.testing.assert_array_equal(thr.draws[t], fresh.draws[t])
        assert thr.thresholds[t] == fresh.thresholds[t]


def test_misspelt_column_is_a_clear_error(files, capsys):
    argv = check_args(files, files / "honest.csv")
    argv[argv.index("approved")] = "aproved"
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.startswith("fairwash: error: ")
    assert "did you mean 'approved'" in err
    assert "Available columns: sex, income, score, region, approved" in err
    assert "Traceback" not in err


def test_missing_values_are_reported(files, tmp_path, capsys):
    df = pd.read_csv(files / "full.csv")
    df.loc[[3, 7], "score"] = np.nan
    df.to_csv(tmp_path / "holes.csv", index=False)
    base = ["check", "--full", tmp_path / "holes.csv", "--sample", files / "honest.csv", *DATA, *FAST,
            "--cache-dir", tmp_path / "c"]
    code, _, err = run(base, capsys)
    assert code == 2 and "score (2 of 600 rows)" in err and "--drop-missing" in err
    code, out, _ = run([*base, "--drop-missing"], capsys)
    assert code in (0, 1)
    assert "598 rows used of 600" in out and "score (2); 2 row(s) dropped" in out


def test_sensitive_with_three_values_and_no_rule(files, capsys):
    argv = ["check", "--full", files / "full.csv", "--sample", files / "honest.csv", "--sensitive", "region",
            "--outcome", "approved", *FAST]
    code, _, err = run(argv, capsys)
    assert code == 2 and "3 distinct values" in err and "--s0 VALUE" in err


def test_usage_errors_exit_2(files, capsys):
    code, _, err = run(["check", "--full", files / "full.csv"], capsys)
    assert code == 2 and "required" in err
    code, _, err = run([*check_args(files, files / "honest.csv"), "--draws", "5"], capsys)
    assert code == 2 and "at least 19" in err
    code, _, err = run([*check_args(files, files / "honest.csv"), "--tests", "KS,XX"], capsys)
    assert code == 2 and "unknown test" in err
    code, _, err = run(check_args(files, files / "nope.csv"), capsys)
    assert code == 2 and "file not found" in err


def test_sample_larger_than_full_is_refused(files, capsys):
    argv = ["check", "--full", files / "honest.csv", "--sample", files / "full.csv", *DATA, *FAST,
            "--no-cache"]
    code, _, err = run(argv, capsys)
    assert code == 2 and "swapped" in err


def test_unexpected_errors_are_reported_as_internal(files, capsys, monkeypatch):
    def boom(args, out):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli.check, "cmd_check", boom)
    code, _, err = run(check_args(files, files / "honest.csv"), capsys)
    assert code == 3 and "internal error: RuntimeError: kaboom" in err and "Traceback" not in err
    code, _, err = run([*check_args(files, files / "honest.csv"), "--debug"], capsys)
    assert code == 3 and "Traceback" in err


# ----------------------------------------------------------------------------- attack
@pytest.mark.parametrize("method", ["Matching", "Entropic_b", "Replace"])
def test_attack_writes_a_labelled_fairer_sample(files, tmp_path, method, capsys):
    out_file = tmp_path / f"{method}.csv"
    code, out, _ = run(["attack", "--full", files / "full.csv", *DATA, "--method", method, "--target", "0.9",
                        "--size", 150, "--out", out_file, "--seed", 2], capsys)
    assert code == 0
    assert "RED-TEAM EXERCISE: this sample is deliberately manipulated" in out
    assert out_file.read_text().startswith("# RED-TEAM EXERCISE")
    side = json.loads((tmp_path / f"{method}.csv.redteam.json").read_text())
    assert side["method"] == method and side["label"].startswith("RED-TEAM")
    full_df = pd.read_csv(files / "full.csv")
    smp = read_table(out_file)
    assert list(smp.columns) == list(full_df.columns) and len(smp) == 150
    # the DI of the written file, recomputed from its columns, is the reported one and is higher
    p = smp.groupby("sex")["approved"].mean()
    di_file = p["Female"] / p["Male"]
    q = full_df.groupby("sex")["approved"].mean()
    assert di_file == pytest.approx(side["di_sample"], rel=1e-12)
    assert di_file > q["Female"] / q["Male"] + 0.2
    # reweighting and Matching write existing rows of the full file; Replace edits s or ŷ only
    keys = set(map(tuple, full_df.astype(str).to_numpy()))
    found = [tuple(r) in keys for r in smp.astype(str).to_numpy()]
    if method == "Replace":
        feats = set(map(tuple, full_df[["income", "score", "region"]].astype(str).to_numpy()))
        assert all(tuple(r) in feats for r in smp[["income", "score", "region"]].astype(str).to_numpy())
        assert side["values_edited"] > 0 and not all(found)
        assert set(smp["sex"]) <= {"Female", "Male"} and set(smp["approved"]) <= {0, 1}
    else:
        assert all(found)


def test_attack_parquet_and_bad_output_name(files, tmp_path, capsys):
    code, _, _ = run(["attack", "--full", files / "full.csv", *DATA, "--method", "Entropic_p", "--fraction",
                      "0.1", "--out", tmp_path / "e.parquet"], capsys)
    assert code == 0 and len(pd.read_parquet(tmp_path / "e.parquet")) == 60
    code, _, err = run(["attack", "--full", files / "full.csv", *DATA, "--method", "Matching", "--size", 10,
                        "--out", tmp_path / "e.xlsx"], capsys)
    assert code == 2 and ".csv or .parquet" in err
    code, _, err = run(["attack", "--full", files / "full.csv", *DATA, "--method", "Grad_b", "--size", 10,
                        "--out", tmp_path / "g.csv"], capsys)
    assert code == 2 and "invalid choice" in err


# ----------------------------------------------------------------------------- twins
def test_twins_demo_finds_the_poisoned_rule(capsys):
    code, out, _ = run(["twins", "--demo", "--json"], capsys)
    assert code == 0
    res = json.loads(out)
    assert res["n_pairs"] == 1000 and res["n_flips"] > 0
    assert res["flips_favouring_s1"] == res["n_flips"]  # every flip favours men
    assert 10_000 < res["boundary"]["gap"] < 20_000  # the rule's gap is 15 000
    code, out, _ = run(["twins", "--demo"], capsys)
    assert "DIRECT USE OF S" in out and "flip rate" in out


def test_twins_on_a_saved_model_matches_a_direct_computation(tmp_path, capsys):
    import torch

    from fairwash.model import MLP, AuditedModel, Standardizer, save_model

    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"income": rng.uniform(20_000, 90_000, 300), "age": rng.integers(18, 70, 300),
                         "gender_male": rng.integers(0, 2, 300)})
    data.to_csv(tmp_path / "data.csv", index=False)
    names = ["income", "age", "gender_male"]
    std = Standardizer.fit(data[names].to_numpy(float))
    net = MLP(3, width=8, n_blocks=1)
    with torch.no_grad():  # a model that uses S heavily
        net.seq[1].weight[:, 2] = 5.0
    net.eval()
    model = AuditedModel(net, 0.5)
    save_model(model, tmp_path / "m", standardizer=std, feature_names=names)
    code, out, err = run(["twins", "--model", tmp_path / "m", "--data", tmp_path / "data.csv",
                          "--sensitive-column", "gender_male", "--n-profiles", 300, "--json"], capsys)
    assert code == 0, err
    res = json.loads(out)
    t0, t1 = data[names].copy(), data[names].copy()
    t0["gender_male"], t1["gender_male"] = 0, 1
    d0 = model.predict(std.transform(t0.to_numpy(float)))
    d1 = model.predict(std.transform(t1.to_numpy(float)))
    assert res["n_pairs"] == 300 and res["n_flips"] == int((d0 != d1).sum())
    assert res["sensitive_is_input"] is True
    # misspelt input column
    code, _, err = run(["twins", "--model", tmp_path / "m", "--data", tmp_path / "data.csv",
                        "--sensitive-column", "gender_mal"], capsys)
    assert code == 2 and "gender_male" in err
    code, _, err = run(["twins", "--data", tmp_path / "data.csv"], capsys)
    assert code == 2 and "--model" in err


# ----------------------------------------------------------------------------- the installed entry point
def test_entry_point_exit_codes(files):
    if not FW.exists():
        pytest.skip("fairwash console script not installed next to this Python")
    r = subprocess.run([str(FW), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "exit status" in r.stdout
    r = subprocess.run([str(FW), "check", "--full", str(files / "full.csv"),
                        "--sample", str(files / "honest.csv"), "--sensitive", "sexe", "--s0", "Female",
                        "--outcome", "approved"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "no sensitive column 'sexe' (did you mean 'sex'?)" in r.stderr and "Traceback" not in r.stderr


# ----------------------------------------------------------------------------- risk
def test_risk_fraction_and_target(files, capsys):
    base = ["risk", "--full", files / "full.csv", *DATA, *FAST, "--cache-dir", files / "cache",
            "--samples", 5, "--methods", "Matching,Entropic_b", "--simulate", "--json"]
    code, out, _ = run([*base, "--fraction", "0.1"], capsys)
    assert code == 0
    res = json.loads(out)
    assert res["m"] == 60 and set(res["methods"]) == {"Matching", "Entropic_b"}
    assert res["simulated"] is True and res["optimal"]["cap"]["m"] == 60  # today's keys, plus the cap
    for r in res["methods"].values():
        assert r["di"] is None or (min(1.0, r["di"]) >= r["di"] > r["level"] > res["di_full"])
    # the reported answer is a real undetected sample: redraw it independently and run the battery
    from fairwash.detect.battery import BatteryContext, reference_thresholds, run_battery
    from fairwash.manipulate import run_method
    from fairwash.protocol.samples import draw_samples

    full, _, _ = prepare(read_table(files / "full.csv"), None, sensitive="sex", s0="Female",
                         outcome="approved")
    ctx = BatteryContext.prepare(full.joint())
    thr = reference_thresholds(None, 60, n_draws=20, random_state=0, context=ctx)
    r = res["methods"]["Entropic_b"]
    if r["di"] is not None:
        q = run_method("Entropic_b", full, target=r["level"] + 0.001)
        idx = draw_samples(q, 60, 5, 0, key=(60, int(round(r["level"] * 10_000))))
        ok = []
        for i in idx:
            rows = q.joint()[i]
            p0, p1 = rows[rows[:, -2] == 0, -1].mean(), rows[rows[:, -2] == 1, -1].mean()
            if p1 > 0 and p0 / p1 > r["level"] and run_battery(None, rows, thr, context=ctx).passed:
                ok.append(min(1.0, p0 / p1))
        assert max(ok) == pytest.approx(r["di"])
    code, out, _ = run([*base, "--target", "1.0", "--fractions", "0.05,0.5"], capsys)
    assert code == 0
    res = json.loads(out)
    assert [f["m"] for f in res["fractions"]] == [30, 300]
    # at half the data, no sample of DI above 1 passes (it would have to be very unrepresentative)
    assert res["fractions"][1]["evaded_by"] == []
    code, _, err = run([*base, "--target", "0.1"], capsys)
    assert code == 2 and "not above" in err


# ----------------------------------------------------------------------------- optimal protocol (issue 17)
def optimal_args(files, sample, *extra):
    return ["check", "--full", files / "full.csv", "--sample", sample, *DATA, *extra]


def test_check_defaults_to_the_optimal_protocol_and_says_so(files, capsys, monkeypatch):
    import fairwash.detect.thresholds as thr_mod

    def no_draws(*a, **k):
        raise AssertionError("the optimal protocol draws no reference samples")

    monkeypatch.setattr(thr_mod, "reference_draws", no_draws)
    code, out, err = run(optimal_args(files, files / "honest.csv"), capsys)
    assert code == 0, out + err
    first = out.splitlines()[:3]
    assert "optimal protocol" in first[0] and first[2].startswith("protocol     optimal (the default)")
    assert "membership   pass" in out and "DI test      pass" in out and "REPRESENTATIVE" in out
    code, out, _ = run(["check", "--help"], capsys)
    assert "--protocol optimal (THE DEFAULT)" in out


def test_optimal_check_names_the_copied_rows_of_a_matching_sample(files, tmp_path, capsys):
    out_file = tmp_path / "matching.csv"
    run(["attack", "--full", files / "full.csv", *DATA, "--method", "Matching", "--target", "1.0",
         "--size", 100, "--out", out_file, "--seed", 1], capsys)
    code, out, _ = run(optimal_args(files, out_file, "--json"), capsys)
    assert code == 1
    res = json.loads(out)
    assert res["protocol"] == "optimal" and not res["membership"]["passed"]
    # the named rows are copies: each occurs in the sample more often than in the full data
    smp, full = read_table(out_file), pd.read_csv(files / "full.csv")
    cols = list(full.columns)
    counts_full = full.value_counts(cols)
    counts_smp = smp[cols].value_counts(cols)
    for r in res["offending_rows"]:
        key = tuple(smp.loc[r - 1, cols])
        assert counts_smp[key] > counts_full.get(key, 0)
    code, text, _ = run(optimal_args(files, out_file), capsys)
    assert code == 1 and "membership   FAIL" in text
    assert ", ".join(str(r) for r in res["offending_rows"][:20]) in text


def test_optimal_check_rejects_an_entropic_sample_by_its_di(files, tmp_path, capsys):
    out_file = tmp_path / "entropic.csv"
    code, _, err = run(["attack", "--full", files / "full.csv", *DATA, "--method", "Entropic_b",
                        "--target", "0.9", "--size", 100, "--out", out_file, "--seed", 1], capsys)
    assert code == 0, err
    code, out, _ = run(optimal_args(files, out_file, "--json"), capsys)
    res = json.loads(out)
    assert res["di"]["sample"] >= 0.8
    assert code == 1 and res["di_test"]["reject"] and res["di_test"]["p_value"] <= 0.05
    assert res["di"]["sample"] > res["cap"]["value"]


def test_paper_protocol_with_any_is_todays_battery(files, capsys):
    from fairwash.cli.check import render_check
    from fairwash.protocol.check import check_sample

    code, out, _ = run(check_args(files, files / "honest.csv", "--combine", "any"), capsys)
    full, sample, inputs = prepare(read_table(files / "full.csv"), read_table(files / "honest.csv"),
                                   sensitive="sex", s0="Female", outcome="approved")
    from fairwash.protocol.thresholds import ThresholdSettings

    rep = check_sample(full, sample, settings=ThresholdSettings(n_draws=20), cache_dir=files / "cache")
    import io

    buf = io.StringIO()
    render_check(rep, inputs, buf)
    assert code == 0 and out.split("thresholds")[0] == buf.getvalue().split("thresholds")[0]
    assert out.split("\n\n", 2)[2] == buf.getvalue().split("\n\n", 2)[2]
    code, out, _ = run(check_args(files, files / "honest.csv", "--combine", "minp", "--json"), capsys)
    res = json.loads(out)
    assert code == 0 and res["combination"]["rule"] == "minp"
    assert set(res["combination"]["adjusted_p_values"]) == set(cli.TESTS)
    code, _, err = run(optimal_args(files, files / "honest.csv", "--combine", "minp"), capsys)
    assert code == 2 and "--protocol paper" in err


def test_risk_answers_from_the_cap_without_drawing(files, capsys, monkeypatch):
    import fairwash.detect.thresholds as thr_mod
    from fairwash.detect.dilaw import cell_counts, di_quantile, recommended_sample_size

    def no_draws(*a, **k):
        raise AssertionError("the cap needs no reference samples")

    monkeypatch.setattr(thr_mod, "reference_draws", no_draws)
    full, _, _ = prepare(read_table(files / "full.csv"), None, sensitive="sex", s0="Female",
                         outcome="approved")
    cells = cell_counts(full.S, full.Y_hat)
    base = ["risk", "--full", files / "full.csv", *DATA]
    code, out, _ = run([*base, "--fraction", "0.1", "--json"], capsys)
    res = json.loads(out)
    assert code == 0 and res["m"] == 60 and res["simulated"] is False
    assert res["optimal"]["cap"]["value"] == pytest.approx(di_quantile(cells, 60).value)
    code, out, _ = run([*base, "--target", "0.8"], capsys)
    assert code == 0 and f"DEMAND AT LEAST m = {recommended_sample_size(cells, 0.8).m} " in out


def test_optimal_check_names_the_edited_rows_of_a_replace_sample(files, tmp_path, capsys):
    out_file = tmp_path / "replace.csv"
    run(["attack", "--full", files / "full.csv", *DATA, "--method", "Replace", "--target", "0.9",
         "--size", 100, "--out", out_file, "--seed", 1], capsys)
    code, out, _ = run(optimal_args(files, out_file, "--json"), capsys)
    res = json.loads(out)
    assert code == 1 and res["membership"]["n_absent"] > 0
    smp, full = read_table(out_file), pd.read_csv(files / "full.csv")
    present = set(map(tuple, full.to_numpy().tolist()))
    rows = smp[list(full.columns)].to_numpy().tolist()
    absent = [i + 1 for i, row in enumerate(rows) if tuple(row) not in present]
    assert absent == [r for r, o in zip(res["offending_rows"], res["membership"]["offending"], strict=True)
                      if o["reason"] == "absent"]


def test_optimal_check_computes_the_recommended_size_only_when_asked(files, capsys, monkeypatch):
    """The verdict is instant; the recommended m (seconds on data near 0.8) only with --recommend."""
    import fairwash.protocol.optimal as opt

    calls = []
    real = opt.recommended_sample_size
    monkeypatch.setattr(opt, "recommended_sample_size", lambda *a, **k: calls.append(1) or real(*a, **k))
    code, out, _ = run(optimal_args(files, files / "honest.csv", "--json"), capsys)
    assert code in (0, 1) and json.loads(out)["recommended_sample_size"] is None and not calls
    code, out, _ = run(optimal_args(files, files / "honest.csv", "--recommend", "--json"), capsys)
    assert json.loads(out)["recommended_sample_size"]["m"] >= 1 and calls == [1]
    argv = [*check_args(files, files / "honest.csv"), "--protocol", "paper", "--recommend"]
    code, _, err = run(argv, capsys)
    assert code == 2 and "--recommend applies to --protocol optimal" in err


def test_check_jobs_gives_the_same_result_and_threads_reach_the_draws(files, capsys, monkeypatch):
    from fairwash.detect import thresholds as detect_thresholds

    real, workers = detect_thresholds.reference_draws, []

    def spy(*args, **kwargs):
        workers.append(kwargs.get("workers", 1))
        return real(*args, **kwargs)

    monkeypatch.setattr(detect_thresholds, "reference_draws", spy)
    outs = []
    for jobs in ("1", "2"):
        argv = check_args(files, files / "honest.csv", "--json", "--no-cache", "--jobs", jobs)
        code, out, err = run(argv, capsys)
        assert code == 0, err
        res = json.loads(out)
        res["thresholds"].pop("seconds")
        outs.append(res)
    assert outs[0] == outs[1] and workers == [1, 2]
    code, _, err = run(check_args(files, files / "honest.csv", "--jobs", "0"), capsys)
    assert code == 2 and "--jobs" in err

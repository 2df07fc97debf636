"""Table rendering: values survive to CSV at full precision, text formats are well formed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairwash.detect.battery import ReferenceThresholds
from fairwash.io import atomic_write_json
from fairwash.store import write_thresholds
from fairwash.tables import (
    cost_table,
    datasets_table,
    detection_table,
    fairest_table,
    paper_name,
    search_not_run,
    shift_with_paper,
    thresholds_table,
    to_latex,
    to_markdown,
    write_table,
)


def test_write_three_formats(tmp_path):
    frame = pd.DataFrame({"data set": ["adult", "a_b"], "DI": [0.29991, np.inf], "n": [5000, 20000]})
    write_table(frame, csv=tmp_path / "t.csv", md=tmp_path / "t.md", tex=tmp_path / "t.tex", title="T")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["DI"].iloc[0] == 0.29991
    md = (tmp_path / "t.md").read_text().splitlines()
    assert md[2].startswith("| data set | DI | n |")
    assert "| adult | 0.30 | 5 000 |" in md
    assert "∞" in md[-1]
    tex = (tmp_path / "t.tex").read_text()
    assert r"a\_b" in tex and r"$\infty$" in tex and "\\toprule" in tex


def test_missing_values_render_as_dash():
    frame = pd.DataFrame({"x": [np.nan, 1.0]})
    assert "| – |" in to_markdown(frame)
    assert "--" in to_latex(frame)


def test_pipe_in_header_or_cell_is_escaped():
    md = to_markdown(pd.DataFrame({"W | S=0": ["a|b"]})).splitlines()
    assert md[0] == r"| W \| S=0 |" and md[2] == r"| a\|b |"


# ----------------------------------------------------------------------------- the paper's columns
def _write_json(path, obj):
    path.write_text(json.dumps(obj))
    return path


ADULT = {"source": "adult"}
SIM = {"source": "simulated", "params": {"n": 100}}


def test_paper_name_prefers_the_config_key():
    assert paper_name({"source": "simulated", "paper_name": "inc"}) == "INC"
    assert paper_name({"source": "authors", "params": {"dataset": "ASC_PUC"}}) == "PUC"
    assert paper_name(SIM) is None


def test_datasets_table_paper_columns(tmp_path):
    meta, metrics = {}, {}
    for name in ("adult", "sim", "own"):
        meta[name] = _write_json(tmp_path / f"{name}.json", {"n": 100, "d": 3, "meta": {"s_rule": "S"}})
        metrics[name] = _write_json(tmp_path / f"{name}_m.json", {"di_model": 0.31, "accuracy_test": 0.8})
    specs = {"adult": ADULT, "sim": SIM, "own": {**SIM, "paper_di": 0.456}}
    t = datasets_table(audited_meta=meta, metrics=metrics, specs=specs).set_index("data set")
    assert t.loc["adult", ["paper S", "paper DI model", "paper accuracy"]].tolist() == ["Sex", "0.30", "0.84"]
    assert t.loc["sim", ["paper S", "paper DI model", "paper accuracy"]].tolist() == ["", "", ""]
    assert t.loc["own", "paper DI model"] == "0.46"  # its own config value, where the paper has none
    md = to_markdown(t.reset_index())
    assert "| adult | adult | S | Sex |" in md and "| sim | simulated | S |  |" in md  # empty, not a dash


def _detect_summary(path, evades_all):
    return _write_json(path, {"compliant_pass_all": 0.0, "di_q": 0.8, "di_mean": 0.75, "n_samples": 4,
                              "n_compliant": 2,
                              "evades_all": evades_all, "evades": {"KS": True},
                              "rejection_rate": {"KS": 0.5}})


def test_detection_table_paper_verdict(tmp_path):
    summaries = {(ds, me, 10): _detect_summary(tmp_path / f"{ds}{me}.json", False)
                 for ds in ("adult", "inc", "sim") for me in ("Grad_b_1D", "Matching")}
    specs = {"adult": ADULT, "inc": {"source": "authors", "params": {"dataset": "ASC_INC"}}, "sim": SIM}
    t = detection_table(summaries, specs=specs).set_index(["data set", "method"])["paper"]
    assert t[("adult", "Grad_b_1D")] == "detected" and t[("inc", "Grad_b_1D")] == "detected"
    assert t[("adult", "Matching")] == "" and t[("inc", "Matching")] == "undetected"
    assert t[("sim", "Grad_b_1D")] == "" and t[("sim", "Matching")] == ""
    assert (detection_table(summaries)["paper"] == "").all()  # no specs: no paper names
    full = detection_table(summaries)
    assert list(full.columns[3:6]) == ["DI of Q", "mean sample DI", "sizes evaded"]
    assert (full["mean sample DI"] == 0.75).all()


def test_detection_table_shows_a_subsampled_rate_and_an_unknown_evasion(tmp_path):
    lazy = {"compliant_pass_all": 0.0, "di_q": 0.9, "di_mean": 0.85, "n_samples": 8, "n_compliant": 5,
            "evades_all": False, "evades": {"KS": True, "KL_P": False, "W_A": None},
            "rejection_rate": {"KS": 0.5, "KL_P": 1.0, "W_A": 1 / 3},
            "rejection_n": {"KS": 8, "KL_P": 8, "W_A": 3}}
    old = {k: v for k, v in lazy.items() if k != "rejection_n"} | {"evades": {"KS": True, "W_A": False}}
    t = detection_table({("sim", "Matching", 10): _write_json(tmp_path / "a.json", lazy),
                         ("sim", "Replace", 10): _write_json(tmp_path / "b.json", old)}).set_index("method")
    assert t.loc["Matching", "rej W_A over"] == 3
    assert t.loc["Replace", "rej W_A over"] == 8  # a file without rejection_n: over all samples
    assert t.loc["Matching", "tests evaded"] == "KS W_A?" and t.loc["Replace", "tests evaded"] == "KS"
    assert "rej KS over" not in t.columns
    assert to_markdown(t.reset_index()).count("W_A?") == 1


def _fairest_json(path, best):
    level = {"best_di": best, "di_original": 0.3, "level_found": 0.45, "cell_cap": 0.5, "n_battery": 3,
             "tests_run": {"W_A": 1}, "levels": [{"status": "searched"}, {"status": "skipped_cell_cap"}]}
    return _write_json(path, {"sizes": {"500": {"seven": level, "ablation": {**level, "best_di": None}},
                                        "1000": {"seven": level, "ablation": level}}})


def test_fairest_tables_paper_columns(tmp_path):
    results = {("adult", m): _fairest_json(tmp_path / f"{m}.json", 0.47)
               for m in ("Matching", "SBS", "Grad_p")}
    specs, n = {"adult": ADULT}, {"adult": 5000}
    t3 = fairest_table(results, specs=specs, n_audit=n, which="seven").set_index(["method", "m"])["paper"]
    assert t3[("Matching", 500)] == "0.54" and t3[("Matching", 1000)] == "0.42"
    assert t3[("SBS", 500)] == "0.47" and t3[("SBS", 1000)] == "–"  # Table 5
    t15 = fairest_table(results, specs=specs, n_audit=n, which="ablation").set_index(["method", "m"])
    assert t15.loc[("Matching", 500), "paper"] == "0.54" and t15.loc[("Grad_p", 500), "paper"] == ""
    assert pd.isna(t15.loc[("Matching", 500), "vs 7 tests"])
    assert t15.loc[("Matching", 1000), "vs 7 tests"] == 0.0
    other = fairest_table(results, specs=specs, n_audit={"adult": 4000}, which="seven")
    assert (other["paper"] == "").all()  # 500 and 1000 are not 10 % / 20 % of 4000


def test_fairest_table_says_when_a_method_could_not_run(tmp_path):
    """A search whose method failed at every level is "n/a" with the reason, never "–"."""
    error = "Grad_p moves points through the audited model, and no model is available for data set 'baf'"
    failed = {"best_di": None, "di_original": 0.35, "level_found": None, "cell_cap": 1.3, "n_battery": 0,
              "tests_run": {}, "levels": [{"level": 0.95, "status": "method_failed", "error": error},
                                          {"level": 0.9, "status": "method_failed", "error": error}]}
    partly = {**failed, "levels": [failed["levels"][0], {"level": 0.9, "status": "searched"}]}
    nothing = {**failed, "levels": [{"level": 0.9, "status": "searched"}]}
    results = {("baf", me): _write_json(tmp_path / f"{me}.json",
                                        {"sizes": {"2000": {"seven": lv, "ablation": lv}}})
               for me, lv in (("Grad_p", failed), ("Grad_b", partly), ("Replace", nothing))}
    t = fairest_table(results, specs={"baf": {"source": "baf"}}, n_audit={"baf": 20000}).set_index("method")
    assert t.loc["Grad_p", "fairest DI"] == "n/a" and t.loc["Grad_p", "note"] == f"not run: {error}"
    assert pd.isna(t.loc["Grad_b", "fairest DI"])
    assert t.loc["Grad_b", "note"] == f"method failed at 1 level(s): {error}"
    assert pd.isna(t.loc["Replace", "fairest DI"]) and t.loc["Replace", "note"] == ""
    assert "| n/a |" in to_markdown(t.reset_index())
    # the same rule names Fig. 11's "not run" methods
    assert [search_not_run(lv) for lv in (failed, partly, nothing)] == [True, False, False]


def test_shift_with_paper_places_each_paper_column_after_ours():
    frame = pd.DataFrame({"data set": ["adult", "adult", "sim"], "method": ["Grad_p", "SBS", "Matching"],
                          "W": [0.09, 0.08, 0.1], "KL": [np.inf, 0.15, 0.1], "W (S=0)": [0.1, 0.1, 0.1],
                          "moved mass": [0.09, 0.08, 0.1], "seconds": [1.0, 2.0, 3.0]})
    out = shift_with_paper(frame, specs={"adult": ADULT, "sim": SIM})
    assert list(out.columns) == ["data set", "method", "W", "paper W", "KL", "paper KL", "W (S=0)",
                                 "moved mass", "paper T12", "paper T14", "seconds"]
    paper = ["paper W", "paper KL", "paper T12", "paper T14"]
    assert out.iloc[0][paper].tolist() == ["0.10", "", "0.09", "0.02"]
    assert out.iloc[1][paper].tolist() == ["0.91", "0.73", "0.00", "0.73"]  # SBS: Table 4
    assert (out.iloc[2][paper] == "").all()
    assert list(frame.columns)[3] == "KL"  # the input is not modified


def test_cost_table(tmp_path):
    meta = {"a": _write_json(tmp_path / "a.json", {"n": 2000, "d": 5})}
    man = {("a", m): _write_json(tmp_path / f"{m}.json", {"seconds": s})
           for m, s in (("Matching", 0.5), ("SBS", 4.0))}
    detect = {("a", "Matching", 10): _write_json(tmp_path / "d1.json", {"seconds": 1.5, "n_samples": 8}),
              ("a", "Matching", 20): _write_json(tmp_path / "d2.json", {"seconds": 2.5, "n_samples": 8})}
    fairest = {("a", "Matching"): _write_json(tmp_path / "f.json", {"seconds": 7.0, "method_runs": 3})}
    bench = tmp_path / "b.tsv"
    bench.write_text("s\th:m:s\tmax_rss\n1.0\t0:00:01\t321.5\n")
    absent = tmp_path / "absent.tsv"
    bench2 = tmp_path / "b2.tsv"
    bench2.write_text("s\th:m:s\tmax_rss\n1.0\t0:00:01\t400.25\n")
    t = cost_table(manipulated=man, audited_meta=meta, detect=detect, fairest=fairest,
                   method_benchmarks={("a", "SBS"): [bench2]},
                   audit_benchmarks={("a", "Matching"): [bench, absent, bench2], ("a", "SBS"): [absent]}
                   ).set_index("method")
    assert t.loc["Matching", "method ms"] == 500.0 and t.loc["SBS", "method ms"] == 4000.0
    assert t.loc["Matching", "µs per row"] == pytest.approx(0.5 / 2000 * 1e6)
    assert t.loc["SBS", "method peak MB"] == 400.25 and np.isnan(t.loc["Matching", "method peak MB"])
    assert t.loc["Matching", "battery s"] == pytest.approx(4.0) and t.loc["Matching", "battery samples"] == 16
    assert t.loc["Matching", "fairest s"] == 7.0 and t.loc["Matching", "fairest method runs"] == 3
    assert t.loc["Matching", "audit peak MB"] == 400.25 and np.isnan(t.loc["SBS", "audit peak MB"])
    assert np.isnan(t.loc["SBS", "battery s"]) and np.isnan(t.loc["SBS", "fairest s"])
    assert t.loc["Matching", "paper time (T8)"] == "3–10 minutes"
    assert t.loc["Matching", "paper remedy (T8)"] == "Trade-off possible"
    assert t.loc["SBS", ["paper time (T8)", "paper memory (T10)"]].tolist() == ["", ""]


def test_tables_read_inf_back_from_the_json_convention(tmp_path):
    """An inf statistic or DI is written "inf" (fairwash.io) and reaches the tables as inf; null stays –."""
    det = tmp_path / "det.json"
    atomic_write_json({"compliant_pass_all": 0.5, "di_q": np.inf, "di_mean": np.nan, "n_samples": 4,
                       "n_compliant": 2, "evades_all": False, "evades": {"KS": False},
                       "rejection_rate": {"KS": 1.0}}, det)
    row = detection_table({("sim", "Matching", 10): det}).iloc[0]
    assert row["DI of Q"] == np.inf and row["mean sample DI"] is None and row["of which pass all"] == 1
    thr = ReferenceThresholds(m=10, n=100, level=0.95, rule="quantile", tests=("KL_A",),
                              draws={"KL_A": np.array([0.1, np.inf, 0.2])}, thresholds={"KL_A": np.inf},
                              config={}, fingerprint="f")
    write_thresholds(thr, tmp_path / "ref.json")
    t = thresholds_table({("sim", 10): tmp_path / "ref.json"}, specs={"sim": SIM}).iloc[0]
    assert t["threshold"] == np.inf and t["draws median"] == 0.2
    assert "∞" in to_markdown(detection_table({("sim", "Matching", 10): det})[["DI of Q"]])

"""The replicate spread (issue 21): quantiles, marks, frames, seeds, bytes (fairwash.pipeline.replicates)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairwash.pipeline.audit import fairest_stage, reference_stage
from fairwash.pipeline.replicates import (
    inside,
    quantile_with_none,
    reference_values,
    replicate_values,
    replicates_reference_table,
    replicates_table,
    spread,
)
from fairwash.tables import write_table

N = 400


# ----------------------------------------------------------------------------- the statistics
def test_quantiles_agree_with_numpy_on_finite_values():
    gen = np.random.default_rng(7)
    for k in (1, 2, 3, 10, 11):
        v = gen.random(k)
        for q in (0.0, 0.1, 0.5, 0.9, 1.0):
            assert quantile_with_none(list(v), q) == pytest.approx(float(np.quantile(v, q)), abs=1e-12)


def test_spread_by_hand_with_a_dash():
    # sorted: –, 0.80, 0.84, 0.86, 0.90 ; h = 4q
    values = [0.86, None, 0.90, 0.80, 0.84]
    s = spread(values)
    assert s["K"] == 5 and s["none"] == 1
    assert s["median"] == pytest.approx(0.84)  # h = 2
    assert s["q10"] == -math.inf  # h = 0.4: between – and 0.80
    assert s["q90"] == pytest.approx(0.86 + 0.6 * (0.90 - 0.86))  # h = 3.6
    assert s["min"] == -math.inf and s["max"] == 0.90
    # ten replicates, none missing: q10 at h = 0.9, q90 at h = 8.1
    ten = [0.70, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77, 0.78, 0.80]
    s = spread(ten)
    assert s["q10"] == pytest.approx(0.70 + 0.9 * 0.01) and s["q90"] == pytest.approx(0.78 + 0.1 * 0.02)
    assert s["median"] == pytest.approx((0.74 + 0.75) / 2) and s["none"] == 0
    with pytest.raises(ValueError):
        spread([])


def test_inside_marks_by_hand():
    # the paper's two decimals: 0.54 stands for [0.535, 0.545]
    assert inside("0.54", 0.50, 0.536) is True
    assert inside("0.54", 0.50, 0.534) is False
    assert inside("0.54", 0.546, 0.60) is False
    assert inside("0.54", 0.544, 0.60) is True
    assert inside("1", 0.996, 1.0) is True
    assert inside("–", -math.inf, 0.9) is True and inside("–", 0.8, 0.9) is False
    assert inside("", 0.1, 0.9) is None
    # a range reaching down to "–" holds any lower paper value
    assert inside("0.30", -math.inf, 0.5) is True


# ----------------------------------------------------------------------------- the stages
@pytest.fixture(scope="module")
def staged(tmp_path_factory, toy_audit) -> dict:
    paths = toy_audit(tmp_path_factory.mktemp("replicates"), seed=0, n=N)
    d = paths["dir"]
    refs = {40: paths["ref40"], 80: paths["ref80"]}
    runs = {}
    for method in ("Matching", "Entropic_b"):
        # seed 0 is "the main run"; replicate 0 shares it, replicates 1 and 2 have their own
        for k, seed in ((0, 0), (1, 101), (2, 202)):
            out = d / f"fairest_{method}_k{k}.json"
            fairest_stage(audited_parquet=paths["audited"], method=method, reference_jsons=refs, model=None,
                          options=None, seed=seed, start=0.95, step=0.05, n_samples=6, out_json=out)
            runs[("toy", method, k)] = out
    main = d / "fairest_Matching_main.json"
    fairest_stage(audited_parquet=paths["audited"], method="Matching", reference_jsons=refs, model=None,
                  options=None, seed=0, start=0.95, step=0.05, n_samples=6, out_json=main,
                  protocols=["optimal"])
    reference = {("toy", 40, 0): paths["ref40"]}
    for r in (1, 2):
        out = d / f"reference_m40_r{r}.json"
        reference_stage(audited_parquet=paths["audited"], m=40, n_draws=19, level=0.95, rule="quantile",
                        w_method="exact", subref_size=100, subref_seed=1, seed=1000 + r, out_json=out)
        reference[("toy", 40, r)] = out
    return {**paths, "runs": runs, "main": main, "reference": reference}


def _sizes(path: Path) -> dict:
    return json.loads(Path(path).read_text())["sizes"]


def test_replicate_zero_is_the_main_cell(staged):
    """Seeded alike, replicate 0 gives the main fairest search's answer (even beside other protocols)."""
    main, k0 = _sizes(staged["main"]), _sizes(staged["runs"][("toy", "Matching", 0)])
    for m in ("40", "80"):
        for which in ("seven", "ablation"):
            a, b = main[m][which], k0[m][which]
            assert (a["best_di"], a["level_found"], a["cell_cap"]) == (b["best_di"], b["level_found"],
                                                                       b["cell_cap"])
            assert a["levels"] == b["levels"]


def test_different_replicates_draw_different_samples(staged):
    levels = {k: [lv for by in _sizes(staged["runs"][("toy", "Matching", k)]).values()
                  for lv in by["seven"]["levels"] if lv["status"] == "searched"] for k in (0, 1, 2)}
    # the samples differ: the DIs found or the counts above each level are not all the same
    sig = {k: [(lv["level"], lv["n_above"], lv["best"]) for lv in v] for k, v in levels.items()}
    assert sig[0] != sig[1] or sig[0] != sig[2]
    # the thresholds are shared: the cell cap is the same in every replicate
    caps = {_sizes(p)["40"]["seven"]["cell_cap"] for p in staged["runs"].values()}
    assert len(caps) == 1


def test_the_tables_against_a_hand_computation(staged):
    specs, n_audit = {"toy": {"source": "simulated"}}, {"toy": N}
    values = replicate_values(staged["runs"], specs=specs, n_audit=n_audit)
    assert len(values) == 2 * 3 * 2 * 2  # methods x replicates x sizes x tables
    assert list(values.columns) == ["data set", "method", "m", "size %", "table", "k", "fairest DI", "found",
                                    "not run", "level", "cell cap", "paper"]
    caps = reference_values(staged["reference"], audited={"toy": staged["audited"]},
                            ablation={"toy": ["KS", "KL_A", "KL_P", "W_A", "W_P"]})
    table = replicates_table(values, caps)
    assert list(table.columns) == ["data set", "method", "m", "size %", "table", "K", "–", "median", "q10",
                                   "q90", "min", "max", "paper", "in 10–90", "in min–max", "main", "cell cap",
                                   "cap median", "cap q10", "cap q90", "not run"]
    assert len(table) == 2 * 2 * 2
    for row in table.to_dict("records"):
        key = ("toy", row["method"])
        found = []
        for k in (0, 1, 2):
            r = _sizes(staged["runs"][(*key, k)])[str(row["m"])]["seven" if row["table"] == "Table 3"
                                                                    else "ablation"]
            found.append(r["best_di"])
        assert row["K"] == 3 and row["–"] == sum(v is None for v in found)
        ok = sorted(v for v in found if v is not None)
        if row["–"] == 0:  # three values: median the middle one, q10 at h = 0.2, q90 at h = 1.8
            assert row["median"] == pytest.approx(ok[1])
            assert row["q10"] == pytest.approx(ok[0] + 0.2 * (ok[1] - ok[0]))
            assert row["q90"] == pytest.approx(ok[1] + 0.8 * (ok[2] - ok[1]))
        assert row["paper"] == "" and pd.isna(row["in 10–90"])  # not a paper data set
        if found[0] is None:
            assert math.isnan(row["main"])
        else:
            assert row["main"] == pytest.approx(found[0])
        if row["m"] == 40:  # the reference sets are at m = 40 only
            assert np.isfinite(row["cap median"]) and row["cap q10"] <= row["cap median"] <= row["cap q90"]
        else:
            assert math.isnan(row["cap median"])
    ref = replicates_reference_table(caps, specs=specs)
    assert list(ref.columns) == ["data set", "m", "quantity", "sets", "main", "median", "q10", "q90", "min",
                                 "max", "authors", "in 10–90", "in min–max"]
    w_a = caps[caps["quantity"] == "W_A"]["value"].to_numpy()
    row = ref[ref["quantity"] == "W_A"].iloc[0]
    assert row["sets"] == 3 and row["median"] == pytest.approx(np.median(w_a))
    assert row["min"] == w_a.min() and row["q90"] == pytest.approx(np.quantile(w_a, 0.9))
    # independent draws give different thresholds
    assert len(set(w_a)) == 3


def test_the_paper_column_on_a_paper_data_set(staged):
    """Named ADULT at 10 % / 20 % of n, the paper's Table 3 and 15 values and the marks appear."""
    values = replicate_values(staged["runs"], specs={"toy": {"source": "adult"}}, n_audit={"toy": N})
    table = replicates_table(values)
    row = table[(table["method"] == "Matching") & (table["m"] == 40) & (table["table"] == "Table 3")].iloc[0]
    assert row["paper"] == "0.54"  # paper_values.lookup("ADULT", "Matching", "fairest@10")
    assert row["in 10–90"] == inside("0.54", row["q10"] if np.isfinite(row["q10"]) else -math.inf, row["q90"])
    assert math.isnan(row["cap median"])  # no reference sets given


def test_same_inputs_same_bytes(staged, tmp_path):
    specs, n_audit = {"toy": {"source": "simulated"}}, {"toy": N}
    out = []
    for i in (0, 1):
        table = replicates_table(replicate_values(staged["runs"], specs=specs, n_audit=n_audit))
        csv, md = tmp_path / f"t{i}.csv", tmp_path / f"t{i}.md"
        write_table(table, csv=csv, md=md, digits=3)
        out.append((csv.read_bytes(), md.read_bytes()))
    assert out[0] == out[1]
    # and the stage itself: the same seed rewrites the same replicate file
    d = staged["dir"]
    again = d / "again.json"
    fairest_stage(audited_parquet=staged["audited"], method="Matching",
                  reference_jsons={40: staged["ref40"], 80: staged["ref80"]}, model=None, options=None,
                  seed=101, start=0.95, step=0.05, n_samples=6, out_json=again)
    a, b = json.loads(again.read_text()), json.loads(staged["runs"][("toy", "Matching", 1)].read_text())
    for x in (a, b):
        x.pop("seconds"), x.pop("method_seconds")
        for by in x["sizes"].values():
            for r in by.values():
                r.pop("seconds")
    assert a == b


def test_the_figure(staged, tmp_path):
    from fairwash.figures.replicates import plot_replicates
    from fairwash.figures.style import save_figure

    values = replicate_values(staged["runs"], specs={"toy": {"source": "adult"}}, n_audit={"toy": N})
    cells = replicates_table(values)
    written = [save_figure(plot_replicates(values, cells, dataset="toy"), tmp_path / f"f{i}.png")
               for i in (0, 1)]
    assert written[0][0].stat().st_size > 5000
    assert written[0][0].read_bytes() == written[1][0].read_bytes()
    with pytest.raises(ValueError, match="nothing|no replicate"):
        plot_replicates(values, cells, dataset="other")

"""The cell cap over independent sets of honest draws (issue 21; fairwash.pipeline.cap_replicates)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom

from fairwash import paper_values
from fairwash.catalogue import CELL_TESTS, NO_MMD
from fairwash.data.base import AuditData
from fairwash.detect.dilaw import cell_counts
from fairwash.pipeline.audit import reference_stage
from fairwash.pipeline.cap_replicates import cap_replicates_stage, caps_table, paper_fairest_max, read_caps
from fairwash.pipeline.replicates import reference_values


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("caps")
    gen = np.random.default_rng(3)
    n = 600
    x = gen.integers(0, 4, (n, 2)).astype(float)
    s = (gen.random(n) < 0.6).astype(np.int8)
    y = ((x[:, 0] + 1.2 * s + gen.normal(0, 1, n)) > 2.2).astype(np.int8)
    AuditData.from_arrays("toy", x, s, Y_hat=y).save(d / "toy.parquet", d / "toy.json")
    sets = [(60, r, 500 + r) for r in range(4)] + [(120, r, 700 + r) for r in range(4)]
    out = d / "cell_caps.parquet"
    frame = cap_replicates_stage(audited_parquet=d / "toy.parquet", dataset="toy", sets=sets, n_draws=19,
                                 level=0.95, rule="quantile", ablation=NO_MMD, out_parquet=out)
    return {"dir": d, "audited": d / "toy.parquet", "sets": sets, "frame": frame, "out": out}


def test_a_set_is_the_reference_file_of_its_seed(toy):
    """Set r's cell thresholds and caps equal those of the full seven-test reference file with its seed."""
    ref = toy["dir"] / "reference_m60.json"
    reference_stage(audited_parquet=toy["audited"], m=60, n_draws=19, level=0.95, rule="quantile",
                    w_method="exact", subref_size=100, subref_seed=1, seed=502, out_json=ref)
    full = reference_values({("toy", 60, 2): ref}, audited={"toy": toy["audited"]}, ablation={"toy": NO_MMD})
    ours = toy["frame"][(toy["frame"]["m"] == 60) & (toy["frame"]["r"] == 2)].set_index("quantity")["value"]
    for q in [t for t in CELL_TESTS if t != "KS"] + ["cell cap (Table 3)", "cell cap (Table 15)"]:
        want = float(full.loc[full["quantity"] == q, "value"].iloc[0])
        assert ours[q] == pytest.approx(want, rel=1e-12), q


def test_sets_differ_and_the_file_round_trips(toy):
    f = read_caps([toy["out"]])
    pd.testing.assert_frame_equal(f, toy["frame"])
    wp = f[(f["m"] == 60) & (f["quantity"] == "W_P")]["value"]
    assert wp.nunique() > 1  # independent draws, not one set four times


def test_same_seed_same_values(toy, tmp_path):
    again = cap_replicates_stage(audited_parquet=toy["audited"], dataset="toy", sets=toy["sets"], n_draws=19,
                                 level=0.95, rule="quantile", ablation=NO_MMD,
                                 out_parquet=tmp_path / "c.parquet")
    cols = ["data set", "m", "r", "quantity", "value"]
    pd.testing.assert_frame_equal(again[cols], toy["frame"][cols])


def _enumerated_di_law(cells: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Every honest (k, a, b) of size ``m`` with its weight: DI and probability (undefined DIs left out)."""
    c00, c01, c10, c11 = (int(c) for c in cells)
    n0, n1 = c00 + c01, c10 + c11
    k = np.arange(1, m)[:, None, None]
    a = np.arange(m + 1)[None, :, None]
    b = np.arange(m + 1)[None, None, :]
    w = (hypergeom.pmf(k, n0 + n1, n0, m) * hypergeom.pmf(a, n0, c01, k)
         * hypergeom.pmf(b, n1, c11, m - k))
    with np.errstate(divide="ignore", invalid="ignore"):
        di = (a / k) / (b / (m - k))
    di, w = np.broadcast_arrays(di, w)
    keep = (w > 0) & ~np.isnan(di)
    return di[keep], w[keep]


def test_optimal_cap_is_the_exact_quantile_by_enumeration(toy):
    """The optimal cap: the smallest attainable q with P(DI > q) <= α under the honest law (enumerated)."""
    data = AuditData.load(toy["audited"])
    cells = cell_counts(data.S, data.require_y_hat())
    for m in (60, 120):
        got = float(toy["frame"].query("m == @m and quantity == 'optimal cap'")["value"].iloc[0])
        di, p = _enumerated_di_law(cells, m)
        order = np.argsort(di)
        di, p = di[order], p[order]
        tail = np.cumsum(p[::-1])[::-1]  # P(DI >= di[i])
        ok = [d for d, t in zip(di, tail, strict=True) if np.isfinite(d) and t - 1e-15 > 0.05]
        assert got == pytest.approx(max(ok), abs=1e-12)


def test_paper_fairest_max_matches_the_printed_tables():
    for ds in paper_values.DATASETS:
        for pct in (10, 20):
            for table, quantity in (("Table 3", "fairest"), ("Table 15", "fairest_no_mmd")):
                key = f"{quantity}@{pct}"
                printed = [paper_values.VALUES.get((ds, me, key), "") for me in paper_values.METHODS]
                nums = [float(p) for p in printed if p not in ("", "–")]
                got = paper_fairest_max(ds, pct, table)
                if nums:
                    assert float(got) == max(nums)
                else:
                    assert got in ("–", "")
    assert paper_fairest_max("ADULT", 10, "Table 3") == "0.54"
    assert paper_fairest_max(None, 10, "Table 3") == "" and paper_fairest_max("ADULT", None, "Table 3") == ""


def test_caps_table_by_hand():
    rows = [{"data set": "a", "m": 100, "r": r, "quantity": "cell cap (Table 3)", "value": v, "seconds": 1.0}
            for r, v in enumerate([0.50, 0.54, 0.52, 0.56, 0.58])]
    rows += [{"data set": "a", "m": 100, "r": 0, "quantity": "optimal cap", "value": 0.43, "seconds": 0.01}]
    table = caps_table(pd.DataFrame(rows), specs={"a": {"source": "adult"}}, n_audit={"a": 1000})
    row = table.iloc[0]
    assert (row["table"], row["size %"], row["sets"], row["main"]) == ("Table 3", "10", 5, 0.50)
    assert row["median"] == pytest.approx(0.54) and row["q10"] == pytest.approx(0.508)
    assert row["q90"] == pytest.approx(0.572)
    assert row["paper"] == "0.54"
    assert table["in 10–90"].tolist() == [True] and table["in min–max"].tolist() == [True]
    assert row["optimal cap"] == 0.43 and row["seconds"] == 5.0
    assert row["paper − median"] == pytest.approx(0.0)
    # a paper value far from the range is outside it
    rows2 = [{**r, "value": r["value"] + 0.2} if r["quantity"].startswith("cell") else r for r in rows]
    table2 = caps_table(pd.DataFrame(rows2), specs={"a": {"source": "adult"}}, n_audit={"a": 1000})
    assert table2["in 10–90"].tolist() == [False] and table2["in min–max"].tolist() == [False]
    assert table["paper ≤ cap max"].tolist() == [True] and table2["paper ≤ cap max"].tolist() == [True]
    # caps above 1 compare with the paper's 1 (Table 3 caps the DI at 1); a paper value above every cap
    high = [{**r, "value": r["value"] + 1.0} if r["quantity"].startswith("cell") else r for r in rows]
    t_high = caps_table(pd.DataFrame(high), specs={"a": {"source": "baf"}}, n_audit={"a": 1000})
    assert t_high["paper"].tolist() == [paper_fairest_max("BAF", 10, "Table 3")] == ["1"]
    assert t_high["in 10–90"].tolist() == [True] and t_high["paper − median"].tolist() == [0.0]
    low = [{**r, "value": r["value"] - 0.2} if r["quantity"].startswith("cell") else r for r in rows]
    t_low = caps_table(pd.DataFrame(low), specs={"a": {"source": "adult"}}, n_audit={"a": 1000})
    assert t_low["paper ≤ cap max"].tolist() == [False]
    assert math.isnan(caps_table(pd.DataFrame(rows), specs={"a": {"source": "simulated"}},
                                 n_audit={"a": 1000}).iloc[0]["paper − median"])

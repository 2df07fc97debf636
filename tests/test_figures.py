"""Figures (Figs. 4, 7, 8, 9, 11), the environment page, and that figures never rerun a method."""

from __future__ import annotations

import ast
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from matplotlib.colors import to_hex

from fairwash import figures as F
from fairwash.pipeline.report import environment_html, package_versions
from fairwash.pipeline.shift_curve import shift_curve, shift_curve_stage

REPO = Path(__file__).resolve().parents[1]
METHODS = ["Grad_p", "Replace", "Entropic_b", "Matching"]


# ----------------------------------------------------------------------------- small synthetic frames
def shift_frame() -> pd.DataFrame:
    rows = []
    for ds, di0 in (("alpha", 0.3), ("beta", 0.6)):
        for j, m in enumerate(METHODS):
            kl = math.inf if m in ("Grad_p", "Replace") else 0.02 * (j + 1)
            rows.append({"data set": ds, "method": m, "DI before": di0, "DI after": 0.8,
                         "reached": m != "Matching", "W": 0.05 * (j + 1), "KL": kl, "W (S=0)": 0.1 * (j + 1),
                         "W (S=1)": 0.03 * (j + 1), "KL (S=0)": kl, "KL (S=1)": 0.01 * (j + 1)})
    return pd.DataFrame(rows)


def curve_frame() -> pd.DataFrame:
    rows = []
    for di0 in (0.3, 0.5, 0.7):
        for j, m in enumerate(METHODS):
            rows.append({"method": m, "di_original": di0, "W": (0.8 - di0) * (j + 1) / 4,
                         "KL": math.inf if m in ("Grad_p", "Replace") else (0.8 - di0) * 0.1 * (j + 1)})
    return pd.DataFrame(rows)


def study_frame() -> pd.DataFrame:
    rows = []
    for m in ("Entropic_b", "Matching"):
        for frac, di in ((0.05, 0.9), (0.1, 0.6), (0.2, np.nan)):
            rows.append({"dataset": "alpha", "method": m, "fraction": frac, "m": int(frac * 1000),
                         "fairest_di": di})
    return pd.DataFrame(rows)


def verdict_frame(rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    for method, m in itertools.product(METHODS, (50, 100)):
        f = pd.DataFrame({"sample": np.arange(8)})
        for t in F.TESTS:
            f[f"{t}_rejected"] = rng.random(8) < 0.5
        f.insert(0, "m", m)
        f.insert(0, "method", method)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def fairest_json(level_found: float | None, n_passed: int, n: int = 10) -> dict:
    levels = [{"level": 0.9, "status": "skipped_cell_cap"},
              {"level": 0.8, "status": "searched", "n_above": 3, "n_passed": 0, "best": None}]
    if level_found is not None:
        levels.append({"level": level_found, "status": "searched", "n_above": 6, "n_passed": n_passed,
                       "best": level_found + 0.01})
    run = {"level_found": level_found, "best_di": None if level_found is None else level_found + 0.01,
           "n_samples": n, "levels": levels}
    return {"sizes": {"50": {"seven": run, "ablation": run}}}


def all_figures(rng: np.random.Generator) -> dict:
    tries = F.detection_tries(verdict_frame(rng))
    fairest = F.fairest_tries({"Entropic_b": fairest_json(0.7, 3), "Matching": fairest_json(0.6, 5),
                               "Replace": fairest_json(None, 0)})
    return {
        "radar": F.plot_shift_radar(shift_frame()),
        "tradeoff": F.plot_tradeoff(shift_frame()),
        "fig7": F.plot_shift_curve(curve_frame()),
        "fig8": F.plot_sample_size(study_frame(), original_di={"alpha": 0.3}),
        "fig9": F.plot_detection_tries(tries, dataset="alpha"),
        "fig11": F.plot_fairest_tries(fairest, dataset="alpha", sizes=[50, 100]),
    }


def legend_colours(fig) -> dict[str, str]:
    """Method name -> colour of its legend entry, over the figure's and the axes' legends."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    out = {}
    for leg in legends:
        for handle, text in zip(leg.legend_handles, leg.get_texts(), strict=True):
            name = text.get_text().split(":")[0]
            if name in F.METHOD_STYLES:
                out[name] = to_hex(handle.get_color())
    return out


# ----------------------------------------------------------------------------- the figures
def test_every_figure_is_written_labelled_and_has_a_legend(tmp_path, rng):
    for name, fig in all_figures(rng).items():
        written = F.save_figure(fig, tmp_path / f"{name}.png", tmp_path / f"{name}.pdf")
        assert [p.suffix for p in written] == [".png", ".pdf"]
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"{name}.pdf").read_bytes()[:4] == b"%PDF"
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000, name
        assert legend_colours(fig), f"{name}: no legend naming a method"
        assert fig.get_suptitle(), name
        cartesian = [ax for ax in fig.axes if ax.get_visible() and ax.name == "rectilinear"]
        for ax in cartesian:
            spec = ax.get_subplotspec()
            if spec.is_last_row() or ax.xaxis.get_label_position() == "top":  # Fig. 8's top axis: m
                assert ax.get_xlabel(), f"{name}: a bottom panel without x label"
            if spec.is_first_col() and ax.xaxis.get_label_position() == "bottom":
                assert ax.get_ylabel(), f"{name}: a left panel without y label"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.{e}" for n in ("radar", "tradeoff", "fig7", "fig8", "fig9", "fig11") for e in ("png", "pdf"))


def test_a_method_has_the_same_colour_in_every_figure(rng):
    seen: dict[str, set[str]] = {}
    for fig in all_figures(rng).values():
        for method, colour in legend_colours(fig).items():
            seen.setdefault(method, set()).add(colour)
    assert set(METHODS) <= set(seen)
    for method, colours in seen.items():
        assert colours == {to_hex(F.METHOD_STYLES[method].colour)}, method
    assert len({s.colour for s in F.METHOD_STYLES.values()}) == len(F.METHOD_STYLES)
    assert len({s.marker for s in F.METHOD_STYLES.values()}) == len(F.METHOD_STYLES)


def test_same_input_same_bytes(tmp_path):
    for k in (1, 2):
        F.save_figure(F.plot_shift_radar(shift_frame()), tmp_path / f"r{k}.png", tmp_path / f"r{k}.pdf")
        F.save_figure(F.plot_shift_curve(curve_frame()), tmp_path / f"c{k}.png", tmp_path / f"c{k}.pdf")
    for stem in ("r", "c"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{stem}1.{ext}").read_bytes() == (tmp_path / f"{stem}2.{ext}").read_bytes()
    # a different input gives a different picture (the comparison above can fail)
    other = shift_frame().assign(W=lambda f: f["W"] * 2)
    F.save_figure(F.plot_shift_radar(other.assign(**{"W (S=0)": 0.01})), tmp_path / "r3.png")
    assert (tmp_path / "r3.png").read_bytes() != (tmp_path / "r1.png").read_bytes()


def test_radar_draws_infinite_kl_outside_the_rim():
    fig = F.plot_shift_radar(shift_frame(), datasets=["alpha"])
    ax = fig.axes[0]
    kl_axes = [i for i, (col, _) in enumerate(F.SHIFT_AXES) if col in ("KL", "KL (S=0)")]
    angles = np.linspace(0, 2 * np.pi, len(F.SHIFT_AXES), endpoint=False)[kl_axes]
    crosses = [ln for ln in ax.lines if ln.get_marker() == "x"]
    # Grad_p and Replace: infinite KL and KL | S=0, one cross each at the ∞ radius
    infinite = {F.METHOD_STYLES[m].colour for m in ("Grad_p", "Replace")}
    assert {to_hex(ln.get_color()) for ln in crosses} == infinite
    for ln in crosses:
        np.testing.assert_allclose(ln.get_xdata(), angles)
        np.testing.assert_allclose(ln.get_ydata(), F.INF_RADIUS)
    # the finite maxima sit on the rim (radius 1)
    radii = np.concatenate([ln.get_ydata() for ln in ax.lines if ln.get_marker() not in ("x", "None", "")])
    assert radii.max() == pytest.approx(1.0)


def test_unknown_method_or_missing_column_is_named():
    with pytest.raises(KeyError, match="Nosuch"):
        F.plot_tradeoff(shift_frame().assign(method="Nosuch"))
    with pytest.raises(KeyError, match="fairest_di"):
        F.plot_sample_size(study_frame().drop(columns="fairest_di"))
    with pytest.raises(ValueError, match="gamma"):
        F.plot_shift_radar(shift_frame(), datasets=["gamma"])


# ----------------------------------------------------------------------------- tries (Figs. 9, 11)
@pytest.mark.parametrize(("n", "n_fail"), [(6, 0), (6, 3), (6, 6), (5, 4), (1, 1)])
def test_all_fail_curve_equals_enumeration_of_orders(n, n_fail):
    # independent computation: every order of the n recorded tries, equally likely
    outcomes = [True] * n_fail + [False] * (n - n_fail)
    orders = list(itertools.permutations(outcomes))
    expected = [np.mean([all(o[:k]) for o in orders]) for k in range(1, n + 1)]
    np.testing.assert_allclose(F.all_fail_curve(n, n_fail), expected, rtol=0, atol=1e-12)


def test_all_fail_curve_is_unbiased_for_p_to_the_k(rng):
    # E[C(R, k) / C(n, k)] = p^k for R ~ Binomial(n, p): check by simulation at k = 3
    n, p, k = 12, 0.7, 3
    draws = rng.binomial(n, p, size=20_000)
    est = np.mean([F.all_fail_curve(n, r)[k - 1] for r in draws])
    se = np.std([F.all_fail_curve(n, r)[k - 1] for r in draws[:5000]]) / math.sqrt(len(draws))
    assert abs(est - p**k) < 4 * se


def test_all_fail_curve_rejects_bad_counts():
    with pytest.raises(ValueError):
        F.all_fail_curve(5, 6)
    with pytest.raises(ValueError):
        F.all_fail_curve(5, 2, max_tries=6)


def test_detection_tries_battery_rejects_when_any_test_does(rng):
    verdicts = verdict_frame(rng)
    tries = F.detection_tries(verdicts)
    assert set(tries["test"]) == {*F.TESTS, "any"}
    for (method, m), g in verdicts.groupby(["method", "m"]):
        any_rej = g[[f"{t}_rejected" for t in F.TESTS]].any(axis=1).sum()
        row = tries[(tries["method"] == method) & (tries["m"] == m) & (tries["test"] == "any")]
        assert (row["n_rejected"] == any_rej).all() and len(row) == 8
        # the battery rejects at least as often as each single test: its curve lies above theirs
        for t in F.TESTS:
            single = tries[(tries["method"] == method) & (tries["m"] == m) & (tries["test"] == t)]
            assert (row["p_all_rejected"].to_numpy() >= single["p_all_rejected"].to_numpy() - 1e-12).all()


def test_detection_tries_counts_a_subsampled_test_over_its_subsample(rng):
    verdicts = verdict_frame(rng)
    verdicts["full_battery"] = np.tile([True] * 3 + [False] * 5, len(verdicts) // 8)
    wa = verdicts["W_A_rejected"].astype("boolean")
    wa[~verdicts["full_battery"] & (np.arange(len(wa)) % 2 == 0)] = pd.NA  # not computed there
    verdicts["W_A_rejected"] = wa
    tries = F.detection_tries(verdicts)
    for (method, m), g in verdicts.groupby(["method", "m"]):
        sub = g[g["full_battery"]]
        for test, want in (("W_A", sub["W_A_rejected"].sum()),
                           ("any", sub[[f"{t}_rejected" for t in F.TESTS]].any(axis=1).sum()),
                           ("KS", g["KS_rejected"].sum())):
            row = tries[(tries["method"] == method) & (tries["m"] == m) & (tries["test"] == test)]
            assert (row["n_rejected"] == want).all() and len(row) == (8 if test == "KS" else 3)


def test_fairest_tries_reads_the_level_found():
    res = F.fairest_tries({"Entropic_b": fairest_json(0.7, 3), "Replace": fairest_json(None, 0)})
    assert set(res["method"]) == {"Entropic_b"}  # no sample found: left out
    assert (res["level"] == 0.7).all() and (res["n_passed"] == 3).all()
    np.testing.assert_allclose(res["p_none"], F.all_fail_curve(10, 7))
    # median tries: first k with P(none) <= 0.5; C(7, k) / C(10, k): 0.7, 0.467 -> k = 2
    assert res["median_tries"].iloc[0] == 2


def test_fairest_tries_names_the_methods_without_a_line():
    """A searched method with no undetected sample, or one that could not run, is named in its panel."""
    fairest = F.fairest_tries({"Entropic_b": fairest_json(0.7, 3), "Replace": fairest_json(None, 0)})
    fig = F.plot_fairest_tries(fairest, dataset="alpha", sizes=[50],
                               methods=["Entropic_b", "Replace", "Grad_p"], not_run=["Grad_p"])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("Entropic_b: DI > 0.70")
    assert labels[1:] == ["no undetected sample: Replace", "not run: Grad_p"]
    fig = F.plot_fairest_tries(fairest, dataset="alpha", sizes=[50], methods=["Entropic_b"])
    assert len(fig.axes[0].get_legend().get_texts()) == 1
    empty = F.fairest_tries({"Replace": fairest_json(None, 0)})
    fig = F.plot_fairest_tries(empty, dataset="alpha", sizes=[50], methods=["Replace", "Grad_p"],
                               not_run=["Grad_p"])
    assert "not run: Grad_p" in fig.axes[0].texts[0].get_text()


def test_detection_frame_reads_the_audit_files(tmp_path, rng):
    verdicts = verdict_frame(rng)
    paths = {}
    for (method, m), g in verdicts.groupby(["method", "m"]):
        p = tmp_path / f"{method}_m{m}.parquet"
        g.drop(columns=["method", "m"]).to_parquet(p)
        paths[(method, int(m))] = p
    back = F.detection_frame(paths)
    assert len(back) == len(verdicts) and list(back.columns[:2]) == ["method", "m"]


# ----------------------------------------------------------------------------- Fig. 7 compute
@pytest.fixture(scope="module")
def tiny_curve():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: one thread is several times faster on a busy machine
    try:
        return shift_curve([0.3, 0.6], methods=["Grad_p", "Replace", "Entropic_b", "Matching"], target=0.8,
                           n_audit=400, n_features=4, p_s1=0.5, p_y1_s1=0.5,
                           model={"width": 16, "epochs": 5, "batch_size": 64, "lr": 0.01},
                           options={"Grad_p": {"C0": 0.1}}, random_state=3)
    finally:
        torch.set_num_threads(threads)


def test_shift_curve_every_method_reaches_the_target(tiny_curve):
    c = tiny_curve
    assert len(c) == 2 * 4 and (c["note"] == "").all(), c["note"].tolist()
    assert c["reached"].all()
    assert (c["di_after"] >= 0.8 - 1e-9).all()
    assert (c["di_original"] < 0.8).all()
    assert (c["W"] > 0).all() and (c[["W (S=0)", "W (S=1)", "KL"]] >= 0).all().all()
    # Entropic reweights existing rows: finite KL; Replace and Grad put mass on new rows: infinite KL
    assert np.isfinite(c.loc[c["method"] == "Entropic_b", "KL"]).all()
    assert np.isinf(c.loc[c["method"].isin(["Replace", "Grad_p"]), "KL"]).all()


def test_shift_curve_lower_original_di_needs_a_larger_shift(tiny_curve):
    c = tiny_curve
    lo, hi = sorted(c["di_original"].unique())
    assert c.loc[c["di_original"] == lo, "label_di"].iloc[0] == 0.3  # the model's DI tracks the labels'
    assert lo < hi
    for method in ("Entropic_b", "Replace", "Matching"):
        w = c[c["method"] == method].set_index("di_original")["W"]
        assert w[lo] > w[hi], method


def test_shift_curve_stage_same_seed_same_bytes(tmp_path):
    kwargs = dict(label_di=[0.4], methods=["Replace", "Entropic_p"], target=0.8, n_audit=300, n_features=3,
                  p_s1=0.5, p_y1_s1=0.5, model={"width": 8, "epochs": 2, "batch_size": 128}, options=None,
                  random_state=5)
    for k in (1, 2):
        summary = shift_curve_stage(**kwargs, out_parquet=tmp_path / f"c{k}.parquet",
                                    out_json=tmp_path / f"c{k}.json")
    assert (tmp_path / "c1.parquet").read_bytes() == (tmp_path / "c2.parquet").read_bytes()
    assert summary["failures"] == [] and json.loads((tmp_path / "c1.json").read_text())["label_di"] == [0.4]


def test_shift_curve_rejects_bad_levels_and_methods():
    family = dict(n_audit=100, n_features=2, p_s1=0.5, p_y1_s1=0.5, random_state=0)
    with pytest.raises(ValueError, match="label_di"):
        shift_curve([1.2], methods=["Replace"], **family)
    with pytest.raises(ValueError, match="Nosuch"):
        shift_curve([0.5], methods=["Nosuch"], **family)


# ----------------------------------------------------------------------------- the environment page
def test_environment_page_lists_versions_and_config():
    versions = package_versions(["numpy", "matplotlib", "no-such-package-xyz"])
    assert versions["python"] == ".".join(map(str, sys.version_info[:3]))
    assert versions["numpy"] == np.__version__ and versions["no-such-package-xyz"] is None
    page = environment_html({"seed": 0, "datasets": {"a<b": {"n_audit": 5}}}, versions,
                            scheduler_versions={**versions, "numpy": "0.0"})
    assert f"<td>{np.__version__} (scheduler: 0.0)</td>" in page
    assert "not installed" in page
    assert "a&lt;b:" in page and "n_audit: 5" in page and "<b" not in page.replace("<body", "")


# ----------------------------------------------------------------------------- the workflow
def _snakemake(workdir: Path, config: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--configfile", str(config), "--cores", "1", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


FIGURE_RULES = ("figure_shift", "figure_sample_size", "figure_tries", "figure_shift_curve",
                "report_environment")


@pytest.mark.slow
def test_regenerating_figures_reruns_no_method(tmp_path):
    """With every intermediate present, forcing the figure rules schedules only figure jobs."""
    cfg = yaml.safe_load((REPO / "tests" / "config" / "tiny.yaml").read_text())
    cfg["shift_curve"] = {"label_di": [0.3, 0.6], "n_audit": 200, "n_features": 4}
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    work.mkdir()
    summary = _snakemake(work, config, "--summary")
    assert summary.returncode == 0, summary.stderr[-3000:]
    files = [line.split("\t")[0] for line in summary.stdout.splitlines()[1:] if line.strip()]
    assert any("fig9_detection_tries_simtiny" in f for f in files)
    for rel in files:  # every output of the DAG "computed", all at the same time
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        os.utime(path, (1e9, 1e9))
    dry = _snakemake(work, config, "-n", "--rerun-triggers", "mtime", "--forcerun", *FIGURE_RULES)
    out = dry.stdout + dry.stderr
    assert dry.returncode == 0, out[-3000:]
    jobs = {line.split()[1].rstrip(":") for line in out.splitlines()
            if line.startswith(("rule ", "localrule "))}
    assert set(FIGURE_RULES) <= jobs, jobs
    assert jobs <= {*FIGURE_RULES, "all"}, jobs - {*FIGURE_RULES, "all"}
    shutil.rmtree(work / ".snakemake", ignore_errors=True)


def test_the_style_module_is_a_leaf():
    """figures/style.py imports only the standard library, matplotlib and the leaf fairwash.plotting (the
    style shared with the twin audit's figures); the figure modules import it, not each other."""
    src = REPO / "src" / "fairwash" / "figures"
    tree = ast.parse((src / "style.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    fairwash_mods = {m for m in imported if m.startswith("fairwash")}
    assert fairwash_mods <= {"fairwash.plotting", "fairwash.io", "fairwash.catalogue"}, fairwash_mods
    assert not {m.split(".")[0] for m in imported} & {"pandas", "torch", "ot", "scipy"}
    for name in ("shift.py", "audit.py", "tries.py"):
        text = (src / name).read_text()
        others = {"shift", "audit", "tries"} - {name.removesuffix(".py")}
        assert not any(f"fairwash.figures.{o} " in text for o in others), name

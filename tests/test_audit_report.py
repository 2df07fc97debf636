"""The HTML audit report of ``fairwash check --report`` / ``fairwash risk --report`` (issue 19)."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairwash.audit_report.check import di_law_bins
from fairwash.audit_report.sections import esc
from fairwash.cli import main
from fairwash.data.synthetic import simulate
from fairwash.detect.dilaw import di_interval

HOSTILE_COL = "<script>alert(1)</script>"
HOSTILE_S1 = "<img src=x onerror=alert(2)>"
DATA = ["--sensitive", "sex", "--s0", "Female", "--outcome", "approved"]


def _decisions(n: int = 400, seed: int = 5) -> pd.DataFrame:
    d = simulate(n, 2, 0.5, 0.15, 0.5, random_state=seed)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "sex": np.where(d.S == 0, "Female", HOSTILE_S1),
        "score": np.round(d.X["inf_0"].to_numpy(), 3),
        HOSTILE_COL: rng.choice(["a", "b"], d.n),
        "approved": d.Y.astype(int),
    })


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    df = _decisions()
    df.to_csv(root / "full.csv", index=False)
    df.sample(80, random_state=1).to_csv(root / "honest.csv", index=False)
    # a selected sample: the disadvantaged group's approvals kept, its refusals mostly left out
    fav = df[(df.sex == "Female") & (df.approved == 1)]
    rest = df.drop(fav.index).sample(80 - len(fav), random_state=2)
    pd.concat([fav, rest]).to_csv(root / "selected.csv", index=False)
    hostile_dir = root / "<script>x"
    hostile_dir.mkdir()
    df.sample(80, random_state=3).to_csv(hostile_dir / "s.csv", index=False)
    return root


def _check(files, sample, out, *extra, capsys):
    code = main(["check", "--full", str(files / "full.csv"), "--sample", str(sample), *DATA,
                 "--report", str(out), *extra])
    text, err = capsys.readouterr()
    return code, text, err, Path(out).read_text(encoding="utf-8")


def _cells(frame: pd.DataFrame) -> list[int]:
    s = (frame.sex != "Female").astype(int).to_numpy()
    y = frame.approved.to_numpy()
    return [int(((s == a) & (y == b)).sum()) for a in (0, 1) for b in (0, 1)]


def _cells_in_page(page: str) -> list[list[int]]:
    block = re.search(r'<div id="cells">(.*?)</div>', page, re.S).group(1)
    rows = re.findall(r"<tr><td>S=(\d), Ŷ=(\d)</td><td class=\"num\">(\d+)</td><td class=\"num\">[^<]*</td>"
                      r"<td class=\"num\">(\d+)</td>", block)
    return [[int(r[2]) for r in rows], [int(r[3]) for r in rows]]


def test_optimal_report_shows_verdict_first_cells_di_and_provenance(files, tmp_path, capsys):
    out = tmp_path / "opt.html"
    code, text, _, page = _check(files, files / "honest.csv", out, capsys=capsys)
    assert code == 0
    assert f"report written to {out}" in text
    v = page.index('id="verdict"')
    assert v < page.index("<section>") and "REPRESENTATIVE" in page[v:v + 200]
    assert 'class="verdict pass"' in page
    assert page.count('id="fig-di-law"') == 1 and 'id="fig-cells"' in page
    full, sample = pd.read_csv(files / "full.csv"), pd.read_csv(files / "honest.csv")
    assert _cells_in_page(page) == [_cells(sample), _cells(full)]
    ci = di_interval(np.array(_cells(sample)), n=len(full))
    assert f"[{ci.low:.4g}, {ci.high:.4g}]" in page
    assert 'id="sample-size"' in page and "Demand at least m = " in page
    for name in ("full.csv", "honest.csv"):
        digest = hashlib.sha256((files / name).read_bytes()).hexdigest()
        assert digest in page
    assert "--report" in page and "numpy" in page and "POT" in page


def test_paper_report_draws_every_reference_distribution(files, tmp_path, capsys):
    out = tmp_path / "paper.html"
    code, _, _, page = _check(files, files / "honest.csv", out, "--protocol", "paper", "--draws", "19",
                              "--no-cache", capsys=capsys)
    assert code in (0, 1)
    for test in ("KL_A", "KL_P", "W_A", "W_P", "MMD_A", "MMD_P"):
        assert f'id="fig-{test}"' in page
    assert "<h3>KS</h3>" in page
    assert "Seed</h3><p>0</p>" in page
    assert page.index('id="verdict"') < page.index("<section>")


def test_a_selected_sample_is_reported_rejected(files, tmp_path, capsys):
    code, _, _, page = _check(files, files / "selected.csv", tmp_path / "r.html", capsys=capsys)
    assert code == 1
    assert 'class="verdict reject"' in page and "NOT REPRESENTATIVE" in page
    assert '<td class="REJECT">REJECT</td>' in page


def test_hostile_names_values_and_paths_are_escaped(files, tmp_path, capsys):
    _, _, _, page = _check(files, files / "<script>x" / "s.csv", tmp_path / "h.html",
                           capsys=capsys)
    assert "<script" not in page and "<img src=x" not in page
    assert esc(HOSTILE_COL) in page            # the column name, shown escaped
    assert "&lt;img src=x onerror=alert(2)&gt;" in page  # the S = 1 value
    assert "&lt;script&gt;x/s.csv" in page  # the path


def test_the_page_is_self_contained(files, tmp_path, capsys):
    _, _, _, page = _check(files, files / "honest.csv", tmp_path / "s.html", capsys=capsys)
    srcs = re.findall(r'src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "href=" not in page and "url(" not in page and "<script" not in page and "@import" not in page
    assert "default-src 'none'" in page


def test_same_seed_same_bytes(files, tmp_path, capsys):
    pages = []
    for _ in range(2):
        pages.append(_check(files, files / "honest.csv", tmp_path / "same.html", "--protocol", "paper",
                            "--draws", "19", "--no-cache", "--seed", "7", capsys=capsys)[3])
    assert pages[0] == pages[1]


def test_json_output_stays_one_object(files, tmp_path, capsys):
    code, text, err, page = _check(files, files / "honest.csv", tmp_path / "j.html", "--json", capsys=capsys)
    assert json.loads(text)["verdict"] == "representative"
    assert "report written to" in err and "REPRESENTATIVE" in page


def test_unwritable_report_path_is_a_clear_error(files, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["check", "--full", str(files / "full.csv"), "--sample", str(files / "honest.csv"), *DATA,
                 "--report", str(blocker / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and "r.html" in err and "Traceback" not in err


@pytest.mark.parametrize("question", [["--fraction", "0.2"], ["--target", "0.8"]])
def test_risk_report(files, tmp_path, capsys, question):
    out = tmp_path / "risk.html"
    code = main(["risk", "--full", str(files / "full.csv"), *DATA, *question, "--report", str(out)])
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert page.index('id="verdict"') < page.index("<section>")
    assert ("CAP " if question[0] == "--fraction" else "DEMAND AT LEAST m = ") in page
    assert 'id="fig-di-law"' in page
    assert hashlib.sha256((files / "full.csv").read_bytes()).hexdigest() in page
    assert "<script" not in page and esc(HOSTILE_S1) in page


def _brute_di_law(cells: list[int], m: int, edges: np.ndarray) -> np.ndarray:
    """Bin probabilities of the DI of every size-``m`` subset of a tiny population (enumeration)."""
    pop = [c for c, k in enumerate(cells) for _ in range(k)]
    counts = np.zeros(len(edges) - 1)
    total = 0
    for sub in itertools.combinations(range(len(pop)), m):
        c = np.bincount([pop[i] for i in sub], minlength=4)
        total += 1
        k, n1 = c[0] + c[1], c[2] + c[3]
        if k == 0 or n1 == 0 or c[3] == 0:
            continue  # undefined or infinite: not in a finite bin
        d = Fraction(int(c[1]) * int(n1), int(k) * int(c[3]))
        i = np.searchsorted(edges, float(d), side="right") - 1
        if 0 <= i < len(counts):
            counts[i] += 1
    return counts / total


def test_di_law_bins_match_enumeration():
    cells, m = [3, 2, 4, 5], 6
    edges, probs = di_law_bins(np.array(cells), m, upper=2.5, bins=10)
    np.testing.assert_allclose(probs, _brute_di_law(cells, m, edges), atol=1e-12)


def test_risk_report_with_the_simulated_search(files, tmp_path, capsys):
    out = tmp_path / "sim.html"
    code = main(["risk", "--full", str(files / "full.csv"), *DATA, "--fraction", "0.2", "--simulate",
                 "--samples", "2", "--draws", "19", "--methods", "Matching", "--tests", "KS,KL_P,W_P",
                 "--no-cache", "--seed", "3", "--report", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and text.rstrip().endswith(f"report written to {out}")
    page = out.read_text(encoding="utf-8")
    assert "--simulate; a search, not a proof" in page and "<td>Matching</td>" in page
    assert "Seed</h3><p>3</p>" in page

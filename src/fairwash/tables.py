"""The paper's tables, as CSV (machines), Markdown (people) and LaTeX (papers).

Builders return plain :class:`pandas.DataFrame` objects; :func:`write_table` writes
the three formats atomically.  Numbers are rounded only when rendered, never in
the CSV.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash import paper_values
from fairwash.catalogue import LAZY_TESTS
from fairwash.io import atomic_write_csv, atomic_write_text, json_float, json_floats, read_json

__all__ = ["datasets_table", "detection_table", "fairest_table", "thresholds_table", "shift_with_paper",
           "cost_table", "paper_name", "size_percent", "write_table", "to_markdown", "to_latex"]


def _number(value: Any) -> float | None:
    """A float field of a JSON file (``"inf"`` -> ``inf``); ``null`` stays ``None`` (shown "–")."""
    return None if value is None else json_float(value)


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}".replace(",", " ")
    if isinstance(value, float | np.floating):
        if np.isinf(value):
            return "∞"
        return f"{float(value):.{digits}f}"
    return str(value)


def to_markdown(frame: pd.DataFrame, *, digits: int = 2, title: str | None = None) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    def cell(text: str) -> str:  # a literal "|" would split the column
        return text.replace("|", "\\|")

    header = "| " + " | ".join(cell(str(c)) for c in frame.columns) + " |"
    rule = "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(frame[c]) else "---"
                          for c in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(_fmt(v, digits)) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    text = "\n".join([header, rule, *rows]) + "\n"
    return (f"**{title}**\n\n" + text) if title else text


def _tex_escape(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                 ("#", r"\#"), ("$", r"\$"), ("∞", r"$\infty$"), ("–", "--")):
        s = s.replace(a, b)
    return s


def to_latex(frame: pd.DataFrame, *, digits: int = 2, title: str | None = None) -> str:
    """A booktabs ``tabular`` (plus a caption comment)."""
    align = "".join("r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in frame.columns)
    lines = []
    if title:
        lines.append(f"% {title}")
    lines += [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
              " & ".join(_tex_escape(str(c)) for c in frame.columns) + r" \\", "\\midrule"]
    for row in frame.itertuples(index=False):
        lines.append(" & ".join(_tex_escape(_fmt(v, digits)) for v in row) + r" \\")
    lines += ["\\bottomrule", "\\end{tabular}", ""]
    return "\n".join(lines)


def write_table(
    frame: pd.DataFrame,
    *,
    csv: str | Path,
    md: str | Path | None = None,
    tex: str | Path | None = None,
    title: str | None = None,
    digits: int = 2,
) -> None:
    """Write a table as CSV (full precision) and optionally Markdown and LaTeX."""
    atomic_write_csv(frame, csv)
    if md is not None:
        atomic_write_text(to_markdown(frame, digits=digits, title=title), md)
    if tex is not None:
        atomic_write_text(to_latex(frame, digits=digits, title=title), tex)


#: The float fields of a model's ``metrics.json`` that Table 1 shows.
_METRIC_FLOATS = ("p_s1", "di_labels", "di_model", "accuracy_test")


def datasets_table(
    *,
    audited_meta: Mapping[str, str | Path],
    metrics: Mapping[str, str | Path],
    specs: Mapping[str, Mapping[str, Any]],
) -> pd.DataFrame:
    """Table 1: data set, source, S, n audited, DI of labels, DI of the model, accuracy.

    Parameters
    ----------
    audited_meta : mapping name -> path of the audited set's JSON metadata
    metrics : mapping name -> path of the model's ``metrics.json``
    specs : mapping name -> the data set's config block (for ``source`` and the paper's name)

    The ``paper`` columns hold the paper's figures for the same data set (Table 1: S and
    the model's DI; Appendix 0.D: accuracy), as printed, empty when the paper has none. A
    data set the paper does not have may still carry its own ``paper_di`` in the config.
    """
    rows = []
    for name in audited_meta:
        meta = read_json(audited_meta[name])
        raw = read_json(metrics[name])
        met = {k: _number(raw[k]) for k in _METRIC_FLOATS if k in raw}
        info = meta.get("meta", {})
        spec = specs.get(name, {})
        paper = paper_name(spec)
        paper_di = paper_values.lookup(paper, "", "DI")
        if not paper_di and spec.get("paper_di") is not None:
            paper_di = f"{float(spec['paper_di']):.2f}"
        rows.append(
            {
                "data set": name,
                "source": spec.get("source", info.get("source", "")),
                "S (S=0 is)": info.get("s_rule", ""),
                "paper S": paper_values.lookup(paper, "", "S"),
                "d": meta["d"],
                "n audited": meta["n"],
                "P(S=1)": met.get("p_s1", np.nan),
                "DI labels": met.get("di_labels", np.nan),
                "DI model": met.get("di_model", np.nan),
                "paper DI model": paper_di,
                "accuracy": met.get("accuracy_test", np.nan),
                "paper accuracy": paper_values.lookup(paper, "", "accuracy"),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- the audit protocol
def paper_name(spec: Mapping[str, Any]) -> str | None:
    """The paper's name (ADULT, INC, TRA, MOB, EMP, PUC, BAF) of a configured data set, if any.

    The data set's own ``paper_name`` wins; else ``source: adult`` / ``baf`` name themselves,
    ``source: acs`` is named by its task and ``source: authors`` by ``params.dataset``
    (``ASC_INC`` -> ``INC``).
    """
    if spec.get("paper_name"):
        return str(spec["paper_name"]).upper()
    source = spec.get("source")
    params = spec.get("params", {}) or {}
    if source in ("adult", "baf"):
        return str(source).upper()
    if source == "acs":
        task = str(params.get("task", "")).upper()
        return task if task in ("INC", "TRA", "MOB", "EMP", "PUC") else None
    if source == "authors":
        name = str(params.get("dataset", "")).upper()
        return name.removeprefix("ASC_") or None
    return None


def size_percent(m: int, n: int) -> int | None:
    """10 or 20 when ``m`` is 10 % or 20 % of ``n`` (the paper's two sizes), else None."""
    for pct in (10, 20):
        if m * 100 == pct * n:
            return pct
    return None


def _paper_fairest(which: str, name: str | None, pct: int | None, method: str) -> str:
    if pct is None:
        return ""
    quantity = "fairest" if which == "seven" else "fairest_no_mmd"
    return paper_values.lookup(name, method, f"{quantity}@{pct}")


def _evaded(evades: Mapping[str, bool | None]) -> str:
    """The tests some compliant sample passes; ``T?`` where ``T`` was not computed on every one."""
    return " ".join(t if v else f"{t}?" for t, v in evades.items() if v is not False) or "none"


def detection_table(
    summaries: Mapping[tuple[str, str, int], str | Path],
    *,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Table 2: per (data set, method, m), whether some sample with DI > 0.8 passes all tests.

    Parameters
    ----------
    summaries : mapping (data set, method, m) -> the detect stage's summary JSON
    specs : mapping data set -> its config block, optional
        To name the paper's data set: the ``paper`` column then holds the paper's verdict
        (Table 2 as Section 7 states it: ``detected`` / ``undetected``; empty where the
        text says nothing).

    Columns: Q's DI and the mean DI of its samples (lower for reweighting methods: weighted
    sampling without replacement under-includes heavy points, docs/protocol.md), compliant
    samples (DI > target) out of all, those passing all tests, the
    verdict ``evades all``, the tests some compliant sample passes (``W_A?``: none of the
    compliant samples on which W_A was computed passes it, and it was not computed on the
    others, which another test rejects), each test's rejection rate over the samples where it
    was computed (``rej W_A over``: how many; W_A's rate is over the seeded
    ``battery.w_a_rate_samples`` subsample when one is set), ``sizes evaded``: at how many
    of the data set's sizes the method evades all tests (the paper's mark), and a ``note``.
    A method that could not run (e.g. Grad without a model) is not sampled: its ``evades
    all`` is empty, its mark ``n/a`` and its note names the reason.
    """
    rows = []
    for (ds, method, m), path in summaries.items():
        s = read_json(path)
        comp_pass = json_float(s["compliant_pass_all"])
        sampled = s["n_samples"] > 0
        row = {
            "data set": ds, "method": method, "m": int(m), "DI of Q": _number(s["di_q"]),
            "mean sample DI": _number(s.get("di_mean")) if sampled else None,
            "samples": s["n_samples"], "DI > target": s["n_compliant"],
            "of which pass all": (0 if s["n_compliant"] == 0 else int(round(comp_pass * s["n_compliant"]))),
            "evades all": None if not sampled or s["evades_all"] is None else bool(s["evades_all"]),
            "paper": paper_values.lookup(paper_name((specs or {}).get(ds, {})), method, "detection"),
            "tests evaded": _evaded(s["evades"]) if sampled else "",
        }
        for t, r in s["rejection_rate"].items():
            row[f"rej {t}"] = _number(r)
            if t in LAZY_TESTS:  # its rate may be over a seeded subsample: the count says so
                row[f"rej {t} over"] = int(s.get("rejection_n", {}).get(t, s["n_samples"]))
        if not sampled:
            row["note"] = f"not sampled: {s.get('error') or ''}"[:100]
        else:
            row["note"] = "" if s.get("reached", True) else f"target not reached: {s.get('error') or ''}"[:80]
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    # the paper's mark counts only the sizes that were sampled
    mark = {key: (f"{int(v.dropna().sum())}/{v.count()}" if v.count() else "n/a")
            for key, v in frame.groupby(["data set", "method"])["evades all"]}
    frame.insert(frame.columns.get_loc("mean sample DI") + 1, "sizes evaded",
                 [mark[key] for key in zip(frame["data set"], frame["method"], strict=True)])
    return frame


def fairest_table(
    results: Mapping[tuple[str, str], str | Path],
    *,
    specs: Mapping[str, Mapping[str, Any]],
    n_audit: Mapping[str, int],
    which: str = "seven",
    authors_highest: Mapping[str, Mapping[int, float | None]] | None = None,
) -> pd.DataFrame:
    """Table 3 (``which="seven"``) or Table 15 (``which="ablation"``): fairest undetected DI.

    Parameters
    ----------
    results : mapping (data set, method) -> the fairest stage's JSON (every size)
    specs : mapping data set -> its config block (to name the paper's data set)
    n_audit : mapping data set -> audited n (to recognise the paper's 10 % / 20 %)
    which : {"seven", "ablation"}
    authors_highest : mapping authors' data set name -> {m: DI or None}, optional
        The authors' ``Highest_DI.npy`` (Matching), shown beside our Matching rows of
        ``source: authors`` data sets.

    Columns: ``fairest DI`` (None = "–": searched, nothing hides; ``"n/a"``: the method
    could not run at any level searched, e.g. Grad without a model), the paper's value at
    the same data set and size ("" when it reports none), for the ablation the difference
    with the seven-test answer, the search's cost (levels searched / skipped by the cell
    cap, samples entering the battery, W_A solves), and a ``note`` naming the first error
    of the levels where the method failed.
    """
    rows = []
    for (ds, method), path in results.items():
        out = read_json(path)
        name = paper_name(specs.get(ds, {}))
        for m_str, by_set in sorted(out["sizes"].items(), key=lambda kv: int(kv[0])):
            m = int(m_str)
            r = by_set[which]
            pct = size_percent(m, int(n_audit[ds]))
            searched = sum(1 for lv in r["levels"] if lv["status"] == "searched")
            skipped = sum(1 for lv in r["levels"] if lv["status"] == "skipped_cell_cap")
            failed = [lv for lv in r["levels"] if lv["status"] == "method_failed"]
            not_run = search_not_run(r)
            best = _number(r["best_di"])
            row = {"data set": ds, "original DI": _number(r["di_original"]), "m": m,
                   "size %": "" if pct is None else str(pct), "method": method,
                   "fairest DI": "n/a" if not_run else best, "level": _number(r["level_found"]),
                   "paper": _paper_fairest(which, name, pct, method)}
            if which != "seven":
                seven = _number(by_set["seven"]["best_di"])
                row["vs 7 tests"] = None if best is None or seven is None else best - seven
            if authors_highest is not None:
                row["authors Highest_DI"] = _authors_highest(authors_highest, specs.get(ds, {}), method, m)
            row.update({"cell cap": r["cell_cap"], "levels searched": searched, "levels skipped": skipped,
                        "battery samples": r["n_battery"], "W_A solves": r["tests_run"].get("W_A", 0)})
            note = ""
            if failed:
                what = "not run" if not_run else f"method failed at {len(failed)} level(s)"
                note = f"{what}: {failed[0].get('error', '')}"
            row["note"] = note
            rows.append(row)
    return pd.DataFrame(rows)


def _authors_highest(highest: Mapping[str, Mapping[int, float | None]], spec: Mapping[str, Any], method: str,
                     m: int) -> str:
    """The authors' ``Highest_DI`` beside our Matching row of a ``source: authors`` set ("" if none)."""
    if method != "Matching" or spec.get("source") != "authors":
        return ""
    by_m = highest.get(str(spec.get("params", {}).get("dataset", "")), {})
    if m not in by_m:
        return ""
    return "–" if by_m[m] is None else f"{by_m[m]:.2f}"


def search_not_run(size_result: Mapping[str, Any]) -> bool:
    """Whether a fairest search at one size never ran its method: it failed at some level
    (e.g. Grad without a model) and searched none. ``size_result`` is one ``sizes[m][which]``
    entry of a ``fairest_<method>.json``."""
    statuses = {lv["status"] for lv in size_result["levels"]}
    return "method_failed" in statuses and "searched" not in statuses


def thresholds_table(
    references: Mapping[tuple[str, int], str | Path],
    *,
    specs: Mapping[str, Mapping[str, Any]],
    authors_thresholds: Mapping[str, Mapping[int, Mapping[str, float]]] | None = None,
    code_mode: Mapping[tuple[str, int], Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """Our reference thresholds per (data set, m, test), beside the authors' ones when known.

    ``authors`` (``dic_threshold.json``: mean + 1.96 std over 30 draws, their KL form) and
    ``ours / authors`` are filled for ``source: authors`` data sets; ``code mode`` is our
    threshold by the authors' rule on the first 30 of our draws, KL in their form
    (:func:`fairwash.detect.battery.code_mode_thresholds`), and ``code mode / authors``
    the like-for-like ratio.
    """
    rows = []
    for (ds, m), path in references.items():
        ref = read_json(path)
        spec = specs.get(ds, {})
        theirs: Mapping[str, float] = {}
        if authors_thresholds is not None and spec.get("source") == "authors":
            by_m = authors_thresholds.get(str(spec.get("params", {}).get("dataset", "")), {})
            theirs = by_m.get(int(m), {})
        code = (code_mode or {}).get((ds, int(m)), {})
        for test, thr in ((t, json_float(v)) for t, v in ref["thresholds"].items()):
            draws = json_floats(ref["draws"][test])
            a = theirs.get(test, np.nan)
            c = code.get(test, np.nan)
            ok = np.isfinite(a) and a != 0
            rows.append({"data set": ds, "m": int(m), "test": test, "threshold": thr,
                         "draws median": float(np.median(draws)), "draws": len(draws), "rule": ref["rule"],
                         "W_A": ref["config"].get("w_a", {}).get("method", "exact"),
                         "authors": a, "ours / authors": thr / a if ok else np.nan,
                         "code mode": c, "code mode / authors": c / a if ok else np.nan})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- shift and cost
#: Paper columns of the shift table: (our column they follow, the paper's column, its quantity).
_SHIFT_PAPER = (("W", "paper W", "W"), ("KL", "paper KL", "KL"), ("moved mass", "paper T12", "W_T12"),
                ("paper T12", "paper T14", "KL_T14"))


def shift_with_paper(frame: pd.DataFrame, *, specs: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Tables 4, 11–14 beside the shift table: the paper's figure after each of ours.

    Parameters
    ----------
    frame : DataFrame
        The shift table (``data set``, ``method``, ``W``, ``KL``, ``moved mass``, ...).
    specs : mapping data set -> its config block (to name the paper's data set)

    Returns
    -------
    DataFrame
        A copy with ``paper W`` (Table 11) after ``W``, ``paper KL`` (Table 13) after ``KL``,
        ``paper T12`` and ``paper T14`` (the second W and KL tables of Appendix 0.L) after
        ``moved mass``; SBS's Adult figures come from Table 4. Cells are the printed
        values, empty where the paper has none.
    """
    out = frame.copy()
    names = [paper_name(specs.get(ds, {})) for ds in out["data set"]]
    for after, column, quantity in _SHIFT_PAPER:
        values = [paper_values.lookup(n, m, quantity) for n, m in zip(names, out["method"], strict=True)]
        out.insert(out.columns.get_loc(after) + 1, column, values)
    return out


def _benchmark_peak_mb(paths: list[str | Path]) -> float:
    """Largest ``max_rss`` (MB) over the Snakemake benchmark files that exist (nan if none)."""
    peaks = [pd.read_csv(p, sep="\t")["max_rss"].max() for p in paths if Path(p).exists()]
    peaks = [float(v) for v in peaks if pd.notna(v)]
    return max(peaks) if peaks else np.nan


def cost_table(
    *,
    manipulated: Mapping[tuple[str, str], str | Path],
    audited_meta: Mapping[str, str | Path],
    detect: Mapping[tuple[str, str, int], str | Path] | None = None,
    fairest: Mapping[tuple[str, str], str | Path] | None = None,
    method_benchmarks: Mapping[tuple[str, str], list[str | Path]] | None = None,
    audit_benchmarks: Mapping[tuple[str, str], list[str | Path]] | None = None,
) -> pd.DataFrame:
    """Our measured costs in place of the paper's Table 8 (time) and Table 10 (memory).

    Parameters
    ----------
    manipulated : mapping (data set, method) -> the manipulate stage's summary JSON
        (``seconds``: wall time of the method alone).
    audited_meta : mapping data set -> the audited set's JSON metadata (``n``, ``d``)
    detect : mapping (data set, method, m) -> the detect stage's JSON, optional
        (``seconds`` and ``n_samples``: the battery on Table 2's samples).
    fairest : mapping (data set, method) -> the fairest stage's JSON, optional
        (``seconds`` of the Table 3 search, ``method_runs``: how often it reran the method).
    method_benchmarks, audit_benchmarks : mapping (data set, method) -> Snakemake benchmark TSVs
        Of the job that built the method's ``Q``, and of its audit jobs (detect, fairest).
        Files that do not exist are skipped; each gives its largest ``max_rss`` (MB).

    Returns
    -------
    DataFrame
        One row per (data set, method): n, d, ``method ms``, ``µs per row`` (method time per
        audited individual), ``method peak MB``, the battery's seconds and samples, the
        fairest search's seconds and method reruns, ``audit peak MB``, and the paper's
        Table 8 and Table 10 text for the method (empty where it has none, e.g. SBS).
    """
    rows = []
    for (ds, method), path in manipulated.items():
        summary = read_json(path)
        meta = read_json(audited_meta[ds])
        n = int(meta["n"])
        seconds = json_float(summary["seconds"])
        row: dict[str, Any] = {"data set": ds, "method": method, "n": n, "d": int(meta["d"]),
                               "method ms": 1e3 * seconds, "µs per row": 1e6 * seconds / n}
        row["method peak MB"] = _benchmark_peak_mb(list((method_benchmarks or {}).get((ds, method), [])))
        runs = [read_json(p) for (d, me, _m), p in (detect or {}).items() if d == ds and me == method]
        row["battery s"] = sum(json_float(r["seconds"]) for r in runs) if runs else np.nan
        row["battery samples"] = sum(int(r["n_samples"]) for r in runs) if runs else 0
        fpath = (fairest or {}).get((ds, method))
        f = read_json(fpath) if fpath is not None else None
        row["fairest s"] = json_float(f["seconds"]) if f else np.nan
        row["fairest method runs"] = int(f.get("method_runs", 0)) if f else 0
        row["audit peak MB"] = _benchmark_peak_mb(list((audit_benchmarks or {}).get((ds, method), [])))
        for column, quantity in (("paper time (T8)", "time"), ("paper memory (T10)", "memory"),
                                 ("paper remedy (T8)", "time remedy")):
            row[column] = paper_values.lookup(None, method, quantity)
        rows.append(row)
    return pd.DataFrame(rows)

"""What the twin audit writes: the JSON payloads, the plain-language statement, the table.

* :func:`model_payload`: ``results/counterfactual/{ds}.json`` of a trained model
  (:class:`~fairwash.twins.trained.ModelAudit`);
* :func:`demo_payload`: ``demo.json`` / ``demo_control.json`` of the article's demo;
* :func:`statement`: the sentence each payload ends with;
* :func:`counterfactual_table`: one row per payload (``results/tables/counterfactual.*``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from fairwash.io import to_jsonable
from fairwash.twins.demo import GENDER_LABELS, DemoRun
from fairwash.twins.measures import CounterfactualResult
from fairwash.twins.profiles import BASE_INCOME_RANGE
from fairwash.twins.trained import ModelAudit

__all__ = ["NOT_AN_INPUT", "statement", "model_payload", "demo_payload", "counterfactual_table"]

#: What the result says when S is not a model input (Adult and the simulated sets, as in the paper).
NOT_AN_INPUT = (
    "S is not an input of the model: the twin audit measures direct use of S only; "
    "flip rate 0 by construction"
)


def statement(name: str, res: CounterfactualResult, labels: Mapping[int, str],
              flipped: CounterfactualResult | None, boundary: Mapping[str, Any] | None) -> str:
    """The plain-language result: flips and their direction, with proxies flipped, the profile's gap."""
    v0, v1 = res.values
    parts = []
    if not res.sensitive_is_input:
        parts.append(f"{name}: {NOT_AN_INPUT} ({res.n_flips} of {res.n_pairs} pairs flip).")
    else:
        parts.append(
            f"{name}: S ({res.sensitive_column}) is an input of the model; {res.n_flips:,} of "
            f"{res.n_pairs:,} twin pairs ({res.flip_rate:.1%}, 95 % CI {res.ci[0]:.1%}–{res.ci[1]:.1%}) get "
            f"different decisions: {res.flips_favouring_s1:,} favour {labels[v1]}, "
            f"{res.flips_favouring_s0:,} favour {labels[v0]}."
        )
    if flipped is not None:
        cols = ", ".join(c for c in flipped.flipped_columns if c != flipped.sensitive_column)
        parts.append(
            f"With the proxies ({cols}) flipped together with S: {flipped.n_flips:,} of {flipped.n_pairs:,} "
            f"pairs flip ({flipped.flip_rate:.1%}; {flipped.flips_favouring_s1:,} favour {labels[v1]}, "
            f"{flipped.flips_favouring_s0:,} favour {labels[v0]})."
        )
    if boundary is not None:
        parts.append(f"Representative profile: {boundary['message']}.")
    if res.n_flips == 0 and (flipped is None or flipped.n_flips == 0):
        parts.append("A zero flip rate says nothing about Disparate Impact: the groups can still differ "
                     "in their other features (see the DI audit).")
    return " ".join(parts)



def model_payload(result: ModelAudit, model_dir: str | Path) -> dict[str, Any]:
    """The JSON of a trained model's twin audit (``results/counterfactual/{ds}.json``)."""
    a, name = result.audit, result.name
    boundary = result.boundary
    payload: dict[str, Any] = {
        "dataset": name,
        "kind": "pipeline MLP",
        "base": "the audited individuals (raw units), each twinned with S = 0 and S = 1",
        "sensitive": {
            "column": result.s_column,
            "source": result.s_source,
            "is_input": result.s_column is not None,
            "twin_column": a.sensitive_column,
            "labels": {str(k): v for k, v in a.labels.items()},
        },
        "model": {
            "dir": str(model_dir),
            "feature_names": list(a.probe.feature_columns),
            "threshold": float(a.probe.model.threshold),
            "reproduces_audited_decisions": True,
        },
        "proxies_fixed": a.fixed.to_dict(),
        "proxies_flipped": a.flipped.to_dict() if a.flipped is not None else None,
        "primary": a.primary_name,
        "numeric_feature": a.feature,
        "boundary": boundary,
        "boundary_profiles": a.boundary_profiles,
        "proxy_association": result.association,
        "statement": statement(name, a.fixed, a.labels, a.flipped, boundary),
    }
    if result.s_column is None and a.flipped is None and result.association:
        top = result.association[:3]
        payload["statement"] += " Inputs most associated with S, held fixed (what this audit cannot see): "
        payload["statement"] += (
            "; ".join(f"{r['column']} (corr {r['corr_with_s']:+.2f}"
                      + (f", {r['p_s1_given_1']:.0%} of its 1s have S = 1)" if "p_s1_given_1" in r else ")")
                      for r in top)) + "."
    return to_jsonable(payload)


def demo_payload(run: DemoRun, unbiased: bool, random_state: int) -> dict[str, Any]:
    """The JSON of the article's demo (``demo.json``) or of its unbiased control (``demo_control.json``)."""
    res = run.result
    return to_jsonable({
        "dataset": "demo_control" if unbiased else "demo",
        "kind": "demo decision tree (article)",
        "base": f"{res.n_pairs} gender-neutral base profiles (Mimesis ids, income uniform on "
                f"{BASE_INCOME_RANGE[0]:,.0f}–{BASE_INCOME_RANGE[1]:,.0f})",
        "random_state": int(random_state),
        "unbiased": bool(unbiased),
        "n_customers": int(len(run.customers)),
        "sensitive": {"column": "gender_male", "source": "demo", "is_input": True,
                      "twin_column": "gender_male", "labels": {str(k): v for k, v in GENDER_LABELS.items()}},
        "proxies_fixed": res.to_dict(),
        "proxies_flipped": None,
        "primary": "proxies_fixed",
        "numeric_feature": "income",
        "boundary": res.boundary,
        "boundary_profiles": None,
        "statement": statement("demo control" if unbiased else "demo", res, GENDER_LABELS, None,
                               res.boundary),
    })


# --------------------------------------------------------------------------- the table


def _whole(x: Any) -> int | None:
    """A boundary or gap rounded to a whole unit (the bisection tolerance is 1), None if missing."""
    return None if x is None else int(round(float(x)))


def counterfactual_table(payloads: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per audited model: S column, flip rate and CI, directions, boundaries, proxies.

    Boundaries and gaps are in the numeric feature's raw units, rounded to whole units.
    """
    rows = []
    for name, p in payloads.items():
        fixed = p["proxies_fixed"]
        flipped = p.get("proxies_flipped")
        b = p.get("boundary") or {}
        summary = p.get("boundary_profiles") or {}
        sens = p["sensitive"]
        proxies = ", ".join(
            pr.get("column") or f"{pr.get('s0_column')}/{pr.get('s1_column')}" for pr in (flipped or {}).get(
                "proxies", []))
        rows.append({
            "data set": name,
            "model": p.get("kind", ""),
            "S column": sens["column"] if sens["column"] else f"({sens['twin_column']}, not in X)",
            "S input": "yes" if sens["is_input"] else "no",
            "pairs": fixed["n_pairs"],
            "flips": fixed["n_flips"],
            "flip rate": fixed["flip_rate"],
            "CI low": fixed["ci"][0],
            "CI high": fixed["ci"][1],
            "favouring S=1": fixed["flips_favouring_s1"],
            "favouring S=0": fixed["flips_favouring_s0"],
            "feature": p.get("numeric_feature") or "–",
            "boundary S=0": _whole((b.get("s0") or {}).get("boundary")),
            "boundary S=1": _whole((b.get("s1") or {}).get("boundary")),
            "gap": _whole(b.get("gap")),
            "median gap (all profiles)": _whole(summary.get("gap_median")),
            "proxies": proxies or "none configured",
            "flip rate, proxies flipped": flipped["flip_rate"] if flipped else None,
        })
    frame = pd.DataFrame(rows)
    for col in ("boundary S=0", "boundary S=1", "gap", "median gap (all profiles)"):
        frame[col] = pd.Series([r[col] for r in rows], dtype=object)  # whole numbers, None where missing
    return frame


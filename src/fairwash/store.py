"""The results store: where each artefact lives and the one reader/writer pair of each kind.

Every stage, the command line's cache, :mod:`fairwash.results`, the tables and the figures
find artefacts through :func:`path` (the Snakemake rules through :func:`template`) and read
and write them through the pairs below, so a file's place and format (its columns, its JSON
convention for ``inf``: :mod:`fairwash.io`) are defined once.

=================  ===========================================  ==============================
kind               parts                                        wildcards
=================  ===========================================  ==============================
``data``           ``parquet``, ``json``                        ``ds``
``audited``        ``parquet``, ``json``                        ``ds``
``model``          ``weights``, ``config``, ``metrics``,        ``ds``
                   ``predictions``
``manipulation``   ``parquet``, ``json``, ``trajectory``        ``ds``, ``method``
``reference``      ``json``                                     ``ds``, ``m``
``detection``      ``parquet``, ``json``                        ``ds``, ``method``, ``m``
``fairest``        ``json``                                     ``ds``, ``method``
``fairest_replicate`` ``json``                                  ``ds``, ``method``, ``k``
``reference_replicate`` ``json``                                ``ds``, ``m``, ``r``
``cap_replicates`` ``parquet``                                  ``ds``
``protocol_honest`` ``parquet``, ``json``                       ``ds``, ``m``
``sample_size``    ``parquet``, ``json``                        ``ds``
``shift_curve``    ``parquet``, ``json``                        (none)
``counterfactual`` ``json``                                     ``ds``
``table``          ``csv``, ``md``, ``tex``                     ``name``
``figure``         ``png``, ``pdf``                             ``name``
=================  ===========================================  ==============================
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fairwash.catalogue import METHODS
from fairwash.io import (
    atomic_write_json,
    atomic_write_parquet,
    json_float,
    json_floats,
    read_json,
)
from fairwash.manipulate.base import TRAJECTORY_COLUMNS, Manipulation

if TYPE_CHECKING:
    from fairwash.detect.battery import ReferenceThresholds

__all__ = [
    "user_cache_dir",
    "ROOT",
    "TEMPLATES",
    "template",
    "path",
    "pattern",
    "find",
    "write_manipulation",
    "read_manipulation",
    "read_manipulation_summary",
    "write_thresholds",
    "read_thresholds",
    "thresholds_from_json",
    "write_audit_frame",
    "read_audit_frame",
    "read_json",
]

#: The results folder the pipeline writes (relative to Snakemake's working directory).
ROOT = "results"

#: Every artefact kind -> its parts -> the path under the results folder, with Snakemake
#: wildcards in braces.
TEMPLATES: dict[str, dict[str, str]] = {
    "data": {"parquet": "data/{ds}.parquet", "json": "data/{ds}.json"},
    "audited": {"parquet": "audited/{ds}.parquet", "json": "audited/{ds}.json"},
    "model": {"weights": "models/{ds}/model.safetensors", "config": "models/{ds}/model.json",
              "metrics": "models/{ds}/metrics.json", "predictions": "models/{ds}/predictions.parquet"},
    "manipulation": {"parquet": "manipulated/{ds}/{method}.parquet", "json": "manipulated/{ds}/{method}.json",
                     "trajectory": "manipulated/{ds}/{method}.trajectory.parquet"},
    "reference": {"json": "audit/{ds}/reference_m{m}.json"},
    "detection": {"parquet": "audit/{ds}/{method}_m{m}.parquet", "json": "audit/{ds}/{method}_m{m}.json"},
    "fairest": {"json": "audit/{ds}/fairest_{method}.json"},
    "fairest_replicate": {"json": "replicates/{ds}/fairest_{method}_k{k}.json"},
    "reference_replicate": {"json": "replicates/{ds}/reference_m{m}_r{r}.json"},
    "cap_replicates": {"parquet": "replicates/{ds}/cell_caps.parquet"},
    "protocol_honest": {"parquet": "protocols/{ds}/honest_m{m}.parquet",
                        "json": "protocols/{ds}/honest_m{m}.json"},
    "sample_size": {"parquet": "audit/{ds}/sample_size.parquet", "json": "audit/{ds}/sample_size.json"},
    "shift_curve": {"parquet": "shift_curve/shift_curve.parquet", "json": "shift_curve/shift_curve.json"},
    "counterfactual": {"json": "counterfactual/{ds}.json"},
    "table": {"csv": "tables/{name}.csv", "md": "tables/{name}.md", "tex": "tables/{name}.tex"},
    "figure": {"png": "figures/{name}.png", "pdf": "figures/{name}.pdf"},
}

#: What a wildcard may match (as the rules' ``wildcard_constraints``); any other matches one folder level.
WILDCARD_PATTERNS: dict[str, str] = {"m": r"\d+", "k": r"\d+", "r": r"\d+",
                                     "method": "|".join(map(re.escape, METHODS))}


def _relative(kind: str, part: str) -> str:
    try:
        parts = TEMPLATES[kind]
    except KeyError:
        raise KeyError(f"no artefact kind {kind!r}; kinds: {list(TEMPLATES)}") from None
    try:
        return parts[part]
    except KeyError:
        raise KeyError(f"artefact {kind!r} has no part {part!r}; parts: {list(parts)}") from None


def user_cache_dir() -> Path:
    """The auditor's cache (reference thresholds, endpoint answers): ``$FAIRWASH_CACHE``, else
    ``~/.cache/fairwash``."""
    env = os.environ.get("FAIRWASH_CACHE")
    return Path(env).expanduser() if env else Path("~/.cache/fairwash").expanduser()


def template(kind: str, part: str, root: str | Path = ROOT) -> str:
    """The path pattern of one artefact, with its wildcards (``{ds}``, ``{method}``, ``{m}``).

    Examples
    --------
    >>> template("manipulation", "trajectory")
    'results/manipulated/{ds}/{method}.trajectory.parquet'
    """
    return f"{Path(root).as_posix()}/{_relative(kind, part)}"


def _fields(pattern: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(pattern) if f]


def path(kind: str, part: str, *, root: str | Path = ROOT, **wildcards: Any) -> Path:
    """The file of one artefact: :func:`template` with its wildcards filled in.

    Raises
    ------
    KeyError
        Unknown kind or part, or a wildcard missing or not in the template.

    Examples
    --------
    >>> path("reference", "json", ds="adult", m=500).as_posix()
    'results/audit/adult/reference_m500.json'
    """
    pattern = _relative(kind, part)
    needed = _fields(pattern)
    missing = [w for w in needed if w not in wildcards]
    extra = [w for w in wildcards if w not in needed]
    if missing or extra:
        raise KeyError(f"{kind} {part} ({pattern}) takes wildcards {needed}; missing {missing}, "
                       f"unknown {extra}")
    return Path(root) / pattern.format(**wildcards)


def pattern(kind: str, part: str) -> re.Pattern[str]:
    """A regular expression matching the files of one artefact under the results folder's parent.

    Examples
    --------
    >>> pattern("detection", "json").fullmatch("results/audit/adult/reference_m50.json") is None
    True
    """
    out = []
    for literal, field, _, _ in string.Formatter().parse(template(kind, part)):
        out.append(re.escape(literal))
        if field:
            out.append(f"(?P<{field}>{WILDCARD_PATTERNS.get(field, '[^/]+')})")
    return re.compile("".join(out))


def find(kind: str, part: str, *, root: str | Path = ROOT, **wildcards: Any) -> list[dict[str, str]]:
    """The wildcards of every existing file of one artefact kind, the given ones fixed, sorted.

    Examples
    --------
    ``find("reference", "json", root="results", ds="adult")`` ->
    ``[{"ds": "adult", "m": "1000"}, {"ds": "adult", "m": "500"}]`` (in the order of the paths).
    """
    glob, regex = [], []
    for literal, field, _, _ in string.Formatter().parse(_relative(kind, part)):
        glob.append(literal)
        regex.append(re.escape(literal))
        if not field:
            continue
        if field in wildcards:
            glob.append(str(wildcards[field]))
            regex.append(f"(?P<{field}>{re.escape(str(wildcards[field]))})")
        else:
            glob.append("*")
            regex.append(f"(?P<{field}>{WILDCARD_PATTERNS.get(field, '[^/]+')})")
    base = Path(root)
    found = []
    for p in sorted(base.glob("".join(glob))):
        match = re.fullmatch("".join(regex), p.relative_to(base).as_posix())
        if match:
            found.append(match.groupdict())
    return found


# ----------------------------------------------------------------------------- a manipulation
def write_manipulation(man: Manipulation, summary: Mapping[str, Any], out: Mapping[str, str | Path],
                       columns: list[str] | None = None) -> None:
    """Write a manipulated distribution ``Q``: support points, trajectory and summary.

    Parameters
    ----------
    man : Manipulation
    summary : mapping
        The JSON summary (``method``, ``target``, ``di_original``, ``di``, ``info``, ...).
    out : mapping with keys ``parquet``, ``trajectory``, ``json``
        The files (the ``manipulation`` parts of :data:`TEMPLATES`).
    columns : list of str, optional
        Names of the feature columns (default ``x0 … x{d-1}``).
    """
    atomic_write_parquet(man.to_frame(columns), out["parquet"])
    traj = man.trajectory if man.trajectory is not None else pd.DataFrame(columns=list(TRAJECTORY_COLUMNS))
    atomic_write_parquet(traj.reset_index(drop=True), out["trajectory"])
    atomic_write_json(dict(summary), out["json"])


def read_manipulation_summary(summary_json: str | Path) -> dict[str, Any]:
    """The summary written by :func:`write_manipulation`, its DIs, target and seconds as floats."""
    info = read_json(summary_json)
    for key in ("target", "di_original", "di", "seconds"):
        if key in info:
            info[key] = json_float(info[key])
    return info


def read_manipulation(parquet: str | Path, summary_json: str | Path, trajectory: str | Path | None = None
                      ) -> Manipulation:
    """Read back what :func:`write_manipulation` wrote (the trajectory only if asked for)."""
    frame = pd.read_parquet(parquet)
    info = read_manipulation_summary(summary_json)
    feats = [c for c in frame.columns if c not in ("S", "Y_hat", "weight", "origin")]
    traj = pd.read_parquet(trajectory) if trajectory is not None else None
    if traj is not None and traj.empty:
        traj = None
    return Manipulation(
        info["method"], float(info["target"]), frame[feats].to_numpy(np.float64), frame["S"].to_numpy(),
        frame["Y_hat"].to_numpy(), frame["weight"].to_numpy(), frame["origin"].to_numpy(), traj,
        dict(info.get("info") or {}),
    )


# ----------------------------------------------------------------------------- reference thresholds
def write_thresholds(thresholds: ReferenceThresholds, path: str | Path,
                     extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write reference thresholds (eq. 3) as JSON, with ``extra`` fields beside them.

    An infinite draw or threshold is written ``"inf"`` (:mod:`fairwash.io`) and reads back
    as ``inf``. Returns the dict written.
    """
    out = thresholds.to_dict() | dict(extra or {})
    atomic_write_json(out, path)
    return out


def thresholds_from_json(d: Mapping[str, Any]) -> ReferenceThresholds:
    """:class:`~fairwash.detect.battery.ReferenceThresholds` from a parsed threshold file."""
    # imported here: battery imports POT, which paths, frames and manipulations do not need
    from fairwash.detect.battery import ReferenceThresholds

    d = dict(d)
    d["draws"] = {k: json_floats(v) for k, v in d["draws"].items()}
    d["thresholds"] = {k: json_float(v) for k, v in d["thresholds"].items()}
    d["precomputed"] = {k: json_float(v) for k, v in d.get("precomputed", {}).items()}
    return ReferenceThresholds.from_dict(d)


def read_thresholds(path: str | Path) -> ReferenceThresholds:
    """Read a file written by :func:`write_thresholds`."""
    return thresholds_from_json(read_json(path))


# ----------------------------------------------------------------------------- audit frames
def write_audit_frame(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a per-sample audit frame (one row per sample: its DI, statistics, verdicts)."""
    atomic_write_parquet(frame, path)


def read_audit_frame(path: str | Path) -> pd.DataFrame:
    """Read a frame written by :func:`write_audit_frame`."""
    return pd.read_parquet(path)

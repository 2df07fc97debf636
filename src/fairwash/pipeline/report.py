"""Stage: the report's environment page (the configuration and package versions used).

Snakemake's report embeds this page, so a reader of ``results/report.html`` sees
which settings and which library versions produced the figures and tables.
"""

from __future__ import annotations

import html
import importlib.metadata
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from fairwash.io import atomic_write_text

__all__ = ["package_versions", "environment_html", "environment_stage"]


def package_versions(packages: Sequence[str]) -> dict[str, str | None]:
    """Installed versions of ``packages`` (distribution names), ``None`` when absent; Python first.

    Read from the installed metadata (:mod:`importlib.metadata`), without importing
    the packages.
    """
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def environment_html(config: Mapping[str, Any], versions: Mapping[str, str | None], *,
                     scheduler_versions: Mapping[str, str | None] | None = None) -> str:
    """A self-contained HTML page: a table of versions and the configuration as YAML.

    Parameters
    ----------
    config : mapping
        The run's configuration (after defaults and merging).
    versions : mapping package -> version or None
        Versions in the job's environment (:func:`package_versions`).
    scheduler_versions : mapping, optional
        Versions seen by the Snakemake process; a package whose version differs from the
        job's (e.g. with ``--use-conda``) is flagged.

    Returns
    -------
    str
    """
    rows = []
    for name, version in versions.items():
        other = (scheduler_versions or {}).get(name, version)
        note = "" if other == version else f" (scheduler: {html.escape(str(other))})"
        shown = "not installed" if version is None else html.escape(str(version))
        rows.append(f"<tr><td>{html.escape(name)}</td><td>{shown}{note}</td></tr>")
    config_yaml = yaml.safe_dump(_plain(config), sort_keys=True, default_flow_style=False, allow_unicode=True)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>fairwash: environment</title>',
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #bbb;padding:0.25em 0.8em;text-align:left}"
        "pre{background:#f5f5f5;padding:1em;overflow:auto}</style></head><body>",
        "<h2>Package versions</h2>",
        "<table><tr><th>package</th><th>version</th></tr>",
        *rows,
        "</table>",
        "<h2>Configuration</h2>",
        f"<pre>{html.escape(config_yaml)}</pre>",
        "</body></html>",
        "",
    ])


def _plain(obj: Any) -> Any:
    """Mappings and sequences as plain dicts and lists (Snakemake's config types are subclasses)."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def environment_stage(*, config: Mapping[str, Any], packages: Sequence[str],
                      scheduler_versions: Mapping[str, str | None] | None,
                      out_html: str | Path) -> dict[str, Any]:
    """Write :func:`environment_html` for the job's own package versions; return those versions."""
    versions = package_versions(packages)
    atomic_write_text(environment_html(config, versions, scheduler_versions=scheduler_versions), out_html)
    return versions

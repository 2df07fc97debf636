"""The report's blocks as HTML strings; every value that came from outside goes through :func:`esc`.

Each function takes plain values (numbers, labels, already-built figure data URIs) and returns
escaped HTML; none reads a file or a result object (that is :mod:`~fairwash.audit_report.check`'s
and :mod:`~fairwash.audit_report.risk`'s job).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from fairwash.audit_report.provenance import Provenance
from fairwash.text import shown

__all__ = ["esc", "fmt", "verdict", "key_table", "figure", "cells_table", "di_block", "sample_size_block",
           "provenance_block", "section"]

#: Characters kept of one outside string (a column name, a value, a path) in the page.
TEXT_LIMIT = 400


def esc(value: Any, limit: int = TEXT_LIMIT) -> str:
    """``value`` as HTML text: the project's sanitiser (:func:`fairwash.text.shown`), then escaped.

    Examples
    --------
    >>> esc("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    """
    return html.escape(shown(value, limit), quote=True)


def fmt(value: float | None, digits: int = 4) -> str:
    """A number for the page: ``digits`` significant digits; ``∞``, ``undefined`` or ``-`` (None)."""
    if value is None:
        return "-"
    v = float(value)
    if math.isnan(v):
        return "undefined"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return f"{v:.{digits}g}"


def section(title: str, *parts: str) -> str:
    """``<section>`` with an escaped ``<h2>`` title and the HTML ``parts``."""
    return f"<section>\n<h2>{esc(title)}</h2>\n" + "\n".join(parts) + "\n</section>"


def verdict(passed: bool, headline: str, detail: str) -> str:
    """The verdict box: green if ``passed``, red otherwise; ``headline`` and ``detail`` escaped."""
    cls = "pass" if passed else "reject"
    return (f'<div class="verdict {cls}" id="verdict">{esc(headline, 2000)}'
            f'<span class="detail">{esc(detail, 2000)}</span></div>')


def key_table(rows: Sequence[tuple[str, str]]) -> str:
    """A two-column table of labels and values (both escaped)."""
    body = "\n".join(f"<tr><th>{esc(k)}</th><td>{esc(v, 2000)}</td></tr>" for k, v in rows)
    return f"<table>\n{body}\n</table>"


def data_table(head: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool]) -> str:
    """A table with a header row; cells escaped; a cell equal to ``REJECT``/``pass`` is coloured."""
    ths = "".join(f"<th>{esc(h)}</th>" for h in head)
    out = []
    for row in rows:
        tds = []
        for cell, num in zip(row, numeric, strict=True):
            cls = "num" if num else ("REJECT" if cell == "REJECT" else "pass-cell" if cell == "pass" else "")
            tds.append(f'<td class="{cls}">{esc(cell)}</td>' if cls else f"<td>{esc(cell)}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table>\n<tr>{ths}</tr>\n" + "\n".join(out) + "\n</table>"


def figure(uri: str, alt: str, caption: str, fig_id: str) -> str:
    """An ``<img>`` of a ``data:image/png;base64,`` URI with an escaped alt text and caption."""
    if not uri.startswith("data:image/png;base64,"):
        raise ValueError("a report figure must be an inline PNG data URI")
    return (f'<figure id="{esc(fig_id)}"><img src="{uri}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption, 2000)}</figcaption></figure>")


def cells_table(sample: Sequence[int], full: Sequence[int]) -> str:
    """The four (s, ŷ) cells of the sample beside the full data's: counts and shares."""
    m, n = sum(sample), sum(full)
    labels = ("S=0, Ŷ=0", "S=0, Ŷ=1", "S=1, Ŷ=0", "S=1, Ŷ=1")
    rows = [[lab, str(c), f"{100 * c / m:.1f} %" if m else "-", str(C), f"{100 * C / n:.1f} %" if n else "-"]
            for lab, c, C in zip(labels, sample, full, strict=True)]
    rows.append(["total", str(m), "100 %", str(n), "100 %"])
    return '<div id="cells">' + data_table(["cell (s, ŷ)", "sample", "share", "full data", "share"], rows,
                                           [False, True, True, True, True]) + "</div>"


def di_block(di_sample: float, di_full: float, low: float, high: float, confidence: float, fpc: float,
             tau: float) -> str:
    """The DI of the sample and of the full data, and the sample's confidence interval."""
    note = ""
    if math.isfinite(di_sample) and math.isfinite(di_full) and di_sample >= tau > di_full:
        note = (f"<p><b>The sample would pass the {tau:g} threshold; the full data would not.</b></p>")
    return (f'<div id="di"><table><tr><th>DI of the sample</th>'
            f'<td class="num">{esc(fmt(di_sample))}</td></tr>'
            f'<tr><th>{esc(f"{100 * confidence:g} % interval (sample alone)")}</th>'
            f'<td class="num">[{esc(fmt(low))}, {esc(fmt(high))}]</td></tr>'
            f'<tr><th>DI of the full data</th><td class="num">{esc(fmt(di_full))}</td></tr>'
            f'<tr><th>compliance threshold</th><td class="num">{esc(f"{tau:g}")}</td></tr></table>'
            f'<p class="small">DI = P(Ŷ=1 | S=0) / P(Ŷ=1 | S=1). Interval: Katz log, finite-population '
            f"factor {esc(f'{fpc:.3f}')}.</p>{note}</div>")


def sample_size_block(m_needed: int | None, m: int | None, n: int, tau: float, alpha: float) -> str:
    """The sample size from which on no sample passing the exact DI test shows ``DI >= tau``
    (``m``: the submitted sample's size, compared with it; ``None``: no sample)."""
    if m_needed is None:
        text = f"None needed: the full data's DI is already at least {tau:g}."
    else:
        enough = ("" if m is None else "; this sample is large enough" if m >= m_needed
                  else f"; this sample ({m} rows) is smaller")
        text = (f"Demand at least m = {m_needed} rows ({100 * m_needed / n:.1f} % of the {n} rows): "
                f"from there on no sample passing the optimal protocol (exact DI test at level {alpha:g}) "
                f"shows DI >= {tau:g}{enough}.")
    return f'<p id="sample-size">{esc(text, 2000)}</p>'


def provenance_block(p: Provenance) -> str:
    """The command, the input files with SHA-256, the versions and the seed."""
    files = "\n".join(f"<tr><td><code>{esc(path)}</code></td><td><code>{esc(digest)}</code></td></tr>"
                      for path, digest in p.files)
    vers = ", ".join(f"{esc(k)} {esc(v)}" for k, v in p.versions)
    seed = "none (the result is exact)" if p.seed is None else str(p.seed)
    return (f'<div id="provenance"><h3>Command</h3><pre>{esc(p.command, 4000)}</pre>'
            f"<h3>Input files (SHA-256)</h3><table><tr><th>file</th><th>SHA-256</th></tr>\n{files}\n</table>"
            f"<h3>Versions</h3><p>{vers}</p><h3>Seed</h3><p>{esc(seed)}</p></div>")

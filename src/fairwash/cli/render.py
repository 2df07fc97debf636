"""How ``fairwash`` prints: numbers, DI values, aligned tables and JSON (one convention)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, TextIO

from fairwash.io import to_jsonable
from fairwash.text import shown

__all__ = ["key_values", "fmt_num", "fmt_di", "json_value", "print_json", "table"]


def fmt_num(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def fmt_di(x: float) -> str:
    if x is None or math.isnan(x):
        return "undefined"
    if math.isinf(x):
        return "inf (no favourable decision in S=1)"
    return f"{x:.3f}"


def json_value(x: Any) -> Any:
    """JSON for other tools, by the project's convention (:func:`fairwash.io.to_jsonable`)."""
    return to_jsonable(x)


def print_json(obj: Any, out: TextIO) -> None:
    """Strict JSON, ASCII only (a control character of a name is written ``\\u001b``, never raw)."""
    out.write(json.dumps(json_value(obj), indent=2, allow_nan=False, ensure_ascii=True) + "\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """An aligned text table; every cell :func:`~fairwash.text.shown` (no control character reaches
    the terminal, whatever a file put in a name)."""
    headers = [shown(h, 200) for h in headers]
    rows = [[shown(c, 200) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align,
                                                                                      strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])



def key_values(lines: Sequence[tuple[str, str]]) -> str:
    """``key  value`` lines, the keys padded to one width (each line ends with a newline).

    Each value passes through :func:`~fairwash.text.shown` (the last gate before the terminal:
    the parts taken from a file are shown where the line is built, this catches any other).
    """
    width = max((len(k) for k, _ in lines), default=0)
    return "".join(f"{k.ljust(width)}  {shown(v, 4000)}\n" for k, v in lines)

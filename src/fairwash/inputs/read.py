"""Reading an auditor's CSV or parquet file."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pandas as pd

from fairwash.data.base import DataError

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "read_table"]

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
#: pandas < 3 parses CSV floats with a fast, inexact parser unless asked; pandas 3 is exact by
#: default and deprecates the option.
_ROUND_TRIP: dict[str, Any] = (
    {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
)


# ----------------------------------------------------------------------------- reading
def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suf in CSV_SUFFIXES + PARQUET_SUFFIXES:
        if name.endswith(suf):
            return suf
    return path.suffix.lower()


def _comment_lines(path: Path) -> int:
    """Number of leading lines starting with ``#`` (the red-team label of ``fairwash attack``)."""
    if _suffix(path) not in (".csv", ".tsv", ".txt"):
        return 0
    k = 0
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            k += 1
    return k


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or parquet file, chosen by its extension.

    CSV floats are parsed with the round-trip parser, so a value written by pandas reads
    back bit for bit; leading lines starting with ``#`` are skipped (``attrs["comments"]``
    keeps them).

    Parameters
    ----------
    path : str or Path
        ``.csv`` (optionally compressed), ``.tsv`` / ``.txt`` (tab-separated for
        ``.tsv``), or ``.parquet`` / ``.pq``.

    Returns
    -------
    DataFrame
        With ``attrs["path"]`` and ``attrs["comments"]``.

    Raises
    ------
    DataError
        Missing file, a directory, an unknown extension, an unreadable or empty file
        (the message names the file).
    """
    p = Path(path)
    if not p.exists():
        hint = ""
        if p.parent.is_dir():
            near = difflib.get_close_matches(p.name, [q.name for q in p.parent.iterdir()], n=3)
            if near:
                hint = f"; did you mean {', '.join(repr(str(p.parent / q)) for q in near)}?"
        raise DataError(f"file not found: {p}{hint}")
    if p.is_dir():
        raise DataError(f"{p} is a directory, expected a CSV or parquet file")
    suf = _suffix(p)
    comments: list[str] = []
    try:
        if suf in PARQUET_SUFFIXES:
            frame = pd.read_parquet(p)
        elif suf in CSV_SUFFIXES:
            skip = _comment_lines(p)
            if skip:
                with p.open("r", encoding="utf-8", errors="replace") as fh:
                    comments = [next(fh).rstrip("\n") for _ in range(skip)]
            frame = pd.read_csv(p, sep="\t" if suf == ".tsv" else ",", skiprows=skip,
                                skipinitialspace=True, **_ROUND_TRIP)
        else:
            raise DataError(
                f"{p}: unknown file type {suf or '(no extension)'!r}; use a CSV file (.csv) or a "
                "parquet file (.parquet)"
            )
    except DataError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{p}: the file is empty") from exc
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        kind = "parquet" if suf in PARQUET_SUFFIXES else "CSV"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{p}: cannot read it as {kind}: {first}") from exc
    except Exception as exc:  # pyarrow raises its own error types for corrupt files
        kind = "parquet" if suf in PARQUET_SUFFIXES else "CSV"
        raise DataError(f"{p}: cannot read it as {kind}: {type(exc).__name__}: {exc}") from exc
    if frame.shape[1] == 0:
        raise DataError(f"{p}: no columns")
    if len(frame) == 0:
        raise DataError(f"{p}: no rows (only a header: {list(map(str, frame.columns))[:10]})")
    frame.columns = [str(c) for c in frame.columns]
    dup = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if dup:
        raise DataError(f"{p}: duplicated column name(s) {dup}")
    frame.attrs["path"] = str(p)
    frame.attrs["comments"] = comments
    return frame

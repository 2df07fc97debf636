"""Reading an auditor's CSV or parquet file: an untrusted file, read within stated limits.

The file comes from the audited company, so it is read as hostile: regular files only (a
FIFO or a device would block or never end), its size checked against
:class:`~fairwash.protocol.limits.ReadLimits` before its body is expanded (a parquet file's
row count and uncompressed size from its metadata; a compressed CSV streamed through a
byte cap), its header parsed here (a duplicated column name is refused, where pandas
would rename it ``sex.1`` and make it a feature), and every name it contributes to a
message shown through :func:`fairwash.text.shown`.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import zipfile
from pathlib import Path
from typing import IO, Any

import pandas as pd

from fairwash.data.base import DataError
from fairwash.protocol.limits import DEFAULT_READ_LIMITS, ReadLimits, check_regular_file, fmt_bytes
from fairwash.text import shown, shown_list

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "read_table", "HEAD_BYTES"]

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
#: Bytes read (after decompression) to find the comment lines and the header.
HEAD_BYTES = 4 * 1024**2
#: pandas < 3 parses CSV floats with a fast, inexact parser unless asked; pandas 3 is exact by
#: default and deprecates the option.
_ROUND_TRIP: dict[str, Any] = (
    {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
)
#: Separators a one-column header is searched for (the hint names ``--sep``).
_OTHER_SEPARATORS = (";", "\t", "|")


class _TooLarge(Exception):
    """The decompressed stream passed its byte cap (raised inside pandas' reader)."""


class _Capped(io.RawIOBase):
    """A binary stream that raises :class:`_TooLarge` once more than ``cap`` bytes are read."""

    def __init__(self, raw: IO[bytes], cap: int) -> None:
        self._raw, self._cap, self.count = raw, int(cap), 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._raw.read(min(len(b), self._cap + 1 - self.count))
        n = len(data)
        b[:n] = data
        self.count += n
        if self.count > self._cap:
            raise _TooLarge
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


# ----------------------------------------------------------------------------- reading
def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suf in CSV_SUFFIXES + PARQUET_SUFFIXES:
        if name.endswith(suf):
            return suf
    return path.suffix.lower()


def _open_decompressed(path: Path, suf: str) -> IO[bytes]:
    """The CSV's bytes after decompression (chosen by extension), as a stream."""
    if suf == ".csv.gz":
        return gzip.open(path, "rb")
    if suf == ".csv.bz2":
        return bz2.open(path, "rb")
    if suf == ".csv.xz":
        return lzma.open(path, "rb")
    if suf == ".csv.zip":
        archive = zipfile.ZipFile(path)
        members = [i for i in archive.infolist() if not i.is_dir()]
        if len(members) != 1:
            archive.close()
            raise DataError(f"{shown(path, 300)}: a .csv.zip must hold exactly one file, it holds "
                            f"{len(members)}")
        return archive.open(members[0])
    return path.open("rb")


def _decode_error(where: str, exc: UnicodeDecodeError, encoding: str) -> DataError:
    bad = exc.object[exc.start:exc.start + 1].hex().upper() if exc.object else "?"
    hint = ("; if it is Latin-1 or Windows-1252 (a byte such as 0xE9 for é), rerun with --encoding latin-1"
            if encoding.replace("-", "").lower() in ("utf8", "utf8sig") else "")
    return DataError(f"{where}: not {encoding} text (byte 0x{bad} at position {exc.start} of a "
                     f"block){hint}")


def _read_head(path: Path, suf: str, limits: ReadLimits, encoding: str) -> tuple[list[str], str]:
    """The leading ``#`` comment lines and the header line, decoded."""
    where = shown(path, 300)
    with _open_decompressed(path, suf) as raw:
        head = raw.read(HEAD_BYTES)
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut by the block's end
            raise _decode_error(where, exc, encoding) from None
        text = head[:exc.start].decode(encoding)
    except LookupError:
        raise DataError(f"--encoding {shown(encoding)}: not an encoding Python knows "
                        "(e.g. utf-8, latin-1, cp1252)") from None
    lines = text.splitlines()
    comments: list[str] = []
    for line in lines:
        if not line.startswith("#"):
            break
        comments.append(line)
    header = lines[len(comments)] if len(lines) > len(comments) else ""
    return comments, header


def _header_names(header: str, sep: str) -> list[str]:
    row = next(csv.reader([header], delimiter=sep, skipinitialspace=True), [])
    return [c.strip() for c in row]


def _check_header(where: str, names: list[str], header: str, sep: str, sep_given: bool,
                  limits: ReadLimits) -> None:
    if len(names) > limits.max_columns:
        raise DataError(f"{where}: {len(names):,} columns, more than the limit of {limits.max_columns:,} "
                        "(--max-columns)")
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise DataError(f"{where}: the header names the column(s) {shown_list(dup)} more than once; "
                        "rename or remove the copies (fairwash does not guess which one is meant)")
    if len(names) == 1 and not sep_given:
        for other in _OTHER_SEPARATORS:
            if other in header:
                shown_sep = "\\t" if other == "\t" else other
                raise DataError(
                    f"{where}: the header is one column, {shown_list(names[:1])}, that contains "
                    f"{shown_sep!r}: the file looks {shown_sep!r}-separated; rerun with --sep "
                    f"{shown_sep!r}" + (" (and, for a spreadsheet export, --encoding latin-1 if the "
                                        "accents come out wrong)" if other == ";" else ""))


def _read_csv(p: Path, suf: str, sep: str | None, encoding: str,
              limits: ReadLimits) -> tuple[pd.DataFrame, list[str]]:
    where = shown(p, 300)
    sep_given = sep is not None
    sep = sep if sep is not None else ("\t" if suf == ".tsv" else ",")
    if suf in (".csv", ".tsv", ".txt") and p.stat().st_size > limits.max_bytes:
        raise DataError(f"{where}: {fmt_bytes(p.stat().st_size)}, more than the limit of "
                        f"{fmt_bytes(limits.max_bytes)} (--max-bytes)")
    comments, header = _read_head(p, suf, limits, encoding)
    names = _header_names(header, sep)
    _check_header(where, names, header, sep, sep_given, limits)
    raw = _Capped(_open_decompressed(p, suf), limits.max_bytes)
    try:
        with io.BufferedReader(raw, 1 << 20) as buf:
            frame = pd.read_csv(buf, sep=sep, skiprows=len(comments), skipinitialspace=True,
                                encoding=encoding, nrows=limits.max_rows + 1, **_ROUND_TRIP)
    except _TooLarge:
        raise DataError(f"{where}: more than {fmt_bytes(limits.max_bytes)} of text once decompressed "
                        "(--max-bytes); refused before expanding further (a compression bomb, or "
                        "raise the limit)") from None
    except UnicodeDecodeError as exc:
        raise _decode_error(where, exc, encoding) from None
    if len(frame) > limits.max_rows:
        raise DataError(f"{where}: more than {limits.max_rows:,} rows (--max-rows); refused")
    return frame, comments


def _read_parquet(p: Path, limits: ReadLimits) -> pd.DataFrame:
    import pyarrow.parquet as pq  # pyarrow (pandas' parquet engine) only for a parquet file

    where = shown(p, 300)
    meta = pq.ParquetFile(p).metadata
    rows, cols = int(meta.num_rows), int(meta.num_columns)
    stored = sum(int(meta.row_group(i).total_byte_size) for i in range(meta.num_row_groups))
    size = max(stored, rows * cols * 8)
    if cols > limits.max_columns:
        raise DataError(f"{where}: {cols:,} columns, more than the limit of {limits.max_columns:,} "
                        "(--max-columns)")
    if rows > limits.max_rows:
        raise DataError(f"{where}: {rows:,} rows by its metadata, more than the limit of "
                        f"{limits.max_rows:,} (--max-rows); refused before reading it")
    if size > limits.max_bytes:
        raise DataError(f"{where}: {rows:,} rows x {cols:,} columns would take about {fmt_bytes(size)} "
                        f"in memory, more than the limit of {fmt_bytes(limits.max_bytes)} (--max-bytes); "
                        "refused before reading it")
    return pd.read_parquet(p)


def read_table(path: str | Path, *, sep: str | None = None, encoding: str = "utf-8",
               limits: ReadLimits = DEFAULT_READ_LIMITS) -> pd.DataFrame:
    """Read a CSV or parquet file, chosen by its extension, within ``limits``.

    CSV floats are parsed with the round-trip parser, so a value written by pandas reads
    back bit for bit; leading lines starting with ``#`` are skipped (``attrs["comments"]``
    keeps them: the red-team label of ``fairwash attack``).

    Parameters
    ----------
    path : str or Path
        ``.csv`` (optionally compressed: ``.csv.gz``, ``.csv.bz2``, ``.csv.xz``,
        ``.csv.zip``), ``.tsv`` / ``.txt`` (tab-separated for ``.tsv``), or ``.parquet`` / ``.pq``.
    sep : str, optional
        The CSV field separator (default ``,``; tab for ``.tsv``).
    encoding : str
        The CSV's text encoding (default UTF-8).
    limits : ReadLimits
        Rows, columns and bytes the file may hold (checked before it is expanded).

    Returns
    -------
    DataFrame
        With ``attrs["path"]`` and ``attrs["comments"]``.

    Raises
    ------
    DataError
        Missing file, a directory or other non-regular file, an unknown extension, an
        unreadable or empty file, a duplicated column name, a file past ``limits`` (the
        message names the file and the limit's option).
    """
    p = Path(path)
    check_regular_file(p)
    where = shown(p, 300)
    suf = _suffix(p)
    comments: list[str] = []
    kind = "parquet" if suf in PARQUET_SUFFIXES else "CSV"
    try:
        if suf in PARQUET_SUFFIXES:
            frame = _read_parquet(p, limits)
        elif suf in CSV_SUFFIXES:
            frame, comments = _read_csv(p, suf, sep, encoding, limits)
        else:
            raise DataError(
                f"{where}: unknown file type {shown(suf or '(no extension)')!r}; use a CSV file (.csv) or "
                "a parquet file (.parquet)"
            )
    except DataError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{where}: the file is empty") from exc
    except MemoryError:
        raise DataError(f"{where}: not enough memory to read it; lower --max-bytes / --max-rows or "
                        "use a smaller file") from None
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError, EOFError,
            zipfile.BadZipFile, lzma.LZMAError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{where}: cannot read it as {kind}: {shown(first, 300)}") from exc
    except Exception as exc:  # pyarrow raises its own error types for corrupt files
        raise DataError(f"{where}: cannot read it as {kind}: {type(exc).__name__}: "
                        f"{shown(exc, 300)}") from exc
    if frame.shape[1] == 0:
        raise DataError(f"{where}: no columns")
    if len(frame) == 0:
        raise DataError(f"{where}: no rows (only a header: {shown_list(map(str, frame.columns), 10)})")
    frame.columns = [str(c) for c in frame.columns]
    dup = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if dup:
        raise DataError(f"{where}: duplicated column name(s) {shown_list(dup)}")
    frame.attrs["path"] = str(p)
    frame.attrs["comments"] = comments
    return frame

"""Resource limits stated up front: how large an input may be read, and how large a battery may run.

Two kinds of bound, both checked before the work starts so that a hostile or merely huge
file is refused with its numbers instead of exhausting the auditor's machine:

* :class:`ReadLimits` — an input file's rows, columns and bytes (the text of a CSV after
  decompression, the in-memory size of a parquet file from its metadata). The command
  line's ``--max-rows``, ``--max-columns``, ``--max-bytes`` set them; the defaults are
  :data:`DEFAULT_READ_LIMITS`.
* :func:`battery_problem` — the memory of the paper battery's row tests on ``n`` full rows
  and samples of ``m`` rows: W_A solved exactly builds a dense ``m x n`` cost matrix and
  transport plan; MMD_A computes the ``n x n`` kernel self term (memory-bounded in blocks,
  but ``n^2 / 2`` kernel evaluations). :func:`check_battery_size` refuses a problem larger
  than the memory available (or than :data:`MMD_MAX_EVALUATIONS`) and names what would run
  instead: ``--protocol optimal``, ``--w-method subref`` or ``sliced``, ``--no-mmd``.

This module imports neither pandas, POT nor torch: the command line reads its defaults
while building the parser.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fairwash.errors import DataError
from fairwash.text import shown

__all__ = ["ReadLimits", "DEFAULT_READ_LIMITS", "parse_bytes", "fmt_bytes", "available_memory",
           "battery_problem", "check_battery_size", "W_BYTES_PER_PAIR", "MMD_MAX_EVALUATIONS",
           "SizeError", "check_regular_file"]

#: Bytes per (sample row, full row) pair of an exact W_A: the float64 cost matrix, the float64
#: transport plan and POT's working copy of the cost (measured peak about 3 x 8 bytes).
W_BYTES_PER_PAIR = 24
#: Kernel evaluations of MMD_A's self term (n^2 / 2) beyond which the battery is refused: about
#: 10^10 is a minute or two on one core; n = 200 000 rows is at the bound.
MMD_MAX_EVALUATIONS = 2 * 10**10
#: Rows of the fixed reference subsample of ``--w-method subref``
#: (:class:`fairwash.detect.context.WassersteinConfig`'s default ``subref_size``).
SUBREF_ROWS = 5_000


class SizeError(ValueError):
    """An input or a problem larger than a stated limit (a user's input: exit status 2)."""


@dataclass(frozen=True)
class ReadLimits:
    """How large an input file may be.

    Attributes
    ----------
    max_rows : int
        Rows (a CSV is read up to one row more, then refused).
    max_columns : int
        Columns (a header with more is refused before the body is read).
    max_bytes : int
        Bytes of data: a CSV's text after decompression (streamed, the stream stopped at
        the cap), a parquet file's uncompressed size from its metadata or, if larger,
        rows x columns x 8 (its in-memory size as numbers).
    """

    max_rows: int = 10_000_000
    max_columns: int = 2_000
    max_bytes: int = 2 * 1024**3

    def __post_init__(self) -> None:
        for name in ("max_rows", "max_columns", "max_bytes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")

    def describe(self) -> str:
        return (f"at most {self.max_rows:,} rows, {self.max_columns:,} columns and "
                f"{fmt_bytes(self.max_bytes)} of data")


DEFAULT_READ_LIMITS = ReadLimits()

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_bytes(text: str) -> int:
    """``"500M"``, ``"2G"``, ``"1048576"`` -> bytes (binary units, an optional trailing ``B``).

    Examples
    --------
    >>> parse_bytes("2G"), parse_bytes("512k"), parse_bytes("100")
    (2147483648, 524288, 100)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)[bB]?\s*", str(text))
    if not m:
        raise ValueError(f"expected a size such as 500M or 2G, got {text!r}")
    value = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if value < 1:
        raise ValueError(f"expected a positive size, got {text!r}")
    return value


def fmt_bytes(n: float) -> str:
    """Bytes as ``"1.5 GiB"`` (binary units).

    Examples
    --------
    >>> fmt_bytes(3 * 1024**3 // 2), fmt_bytes(512)
    ('1.5 GiB', '512 B')
    """
    for unit, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def available_memory() -> int:
    """Bytes of memory available to a new allocation: ``MemAvailable`` of ``/proc/meminfo``,
    else the free physical pages, bounded by the process's address-space limit (``ulimit -v``)."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 8 * 1024**3
    try:
        import resource  # POSIX only: the address-space limit of this process

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            avail = min(avail, soft)
    except (ImportError, ValueError, OSError):
        pass
    return int(avail)


@dataclass(frozen=True)
class BatteryProblem:
    """The size of the paper battery's row tests (see :func:`battery_problem`)."""

    n: int
    m: int
    w_bytes: int
    mmd_evaluations: int


def battery_problem(n: int, m: int, tests: Sequence[str], w_method: str) -> BatteryProblem:
    """Memory of one W_A (bytes) and kernel evaluations of MMD_A's self term for ``n`` full rows
    and samples of ``m`` rows (0 for a test not in ``tests``).

    Examples
    --------
    >>> p = battery_problem(6_000_000, 60_000, ["W_A", "MMD_A"], "exact")
    >>> p.w_bytes // 1024**3, p.mmd_evaluations
    (8046, 18000000000000)
    """
    n, m = int(n), int(m)
    ref = {"exact": n, "subref": min(n, SUBREF_ROWS), "sliced": 0}.get(w_method, n)
    w = W_BYTES_PER_PAIR * m * ref if "W_A" in tests else 0
    mmd = n * n // 2 if "MMD_A" in tests else 0
    return BatteryProblem(n, m, w, mmd)


def check_battery_size(n: int, m: int, tests: Sequence[str], w_method: str,
                       available: int | None = None) -> None:
    """Refuse a paper battery too large for this machine, with the numbers and the alternatives.

    Raises
    ------
    SizeError
        W_A would need more than ``available`` bytes (default :func:`available_memory`), or
        MMD_A more than :data:`MMD_MAX_EVALUATIONS` kernel evaluations.
    """
    p = battery_problem(n, m, tests, w_method)
    avail = available_memory() if available is None else int(available)
    if p.w_bytes > avail:
        alt = ("--w-method subref (exact against a 5 000-row subsample) or --w-method sliced"
               if w_method == "exact" else "--w-method sliced")
        raise SizeError(
            f"the paper battery's W_A ({w_method}) on {n:,} full rows and samples of {m:,} rows needs "
            f"about {fmt_bytes(p.w_bytes)} (a dense {m:,} x {p.w_bytes // (W_BYTES_PER_PAIR * m):,} "
            f"cost matrix and transport plan), more than the {fmt_bytes(avail)} available. What would run: "
            f"--protocol optimal (the default: membership and the exact DI test, no transport), {alt}, "
            "or --tests without W_A"
        )
    if p.mmd_evaluations > MMD_MAX_EVALUATIONS:
        raise SizeError(
            f"the paper battery's MMD_A on {n:,} full rows needs {p.mmd_evaluations:.2e} kernel "
            f"evaluations for its n x n self term (the bound is {MMD_MAX_EVALUATIONS:.0e}: hours of "
            "computing). What would run: --protocol optimal (the default), or --no-mmd (the paper's "
            "five-test ablation)"
        )


def check_regular_file(path: str | os.PathLike[str]) -> None:
    """Refuse a missing path (with close names), a folder, and anything that is not a regular file.

    A FIFO or a device as an input would block or never end. Checked before any reader (and
    pandas) is loaded, so that a typo in a file name is reported at once.

    Raises
    ------
    DataError
    """
    p = Path(path)
    where = shown(p, 300)
    if not p.exists():
        hint = ""
        if p.parent.is_dir():
            near = difflib.get_close_matches(p.name, [q.name for q in p.parent.iterdir()], n=3)
            if near:
                hint = f"; did you mean {', '.join(repr(shown(p.parent / q, 300)) for q in near)}?"
        raise DataError(f"file not found: {where}{hint}")
    mode = p.stat().st_mode
    if stat.S_ISDIR(mode):
        raise DataError(f"{where} is a directory, expected a CSV or parquet file")
    if not stat.S_ISREG(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
                or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise DataError(f"{where} is {kind}; fairwash reads regular files only (copy the data to a file)")

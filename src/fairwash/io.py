"""Atomic file writing and the project's one JSON convention.

Every writer goes to a temporary file in the destination folder, flushes it to disk
(``fsync``) and renames it into place (``os.replace`` is atomic on POSIX), so a reader
sees either the old file or the complete new one, even after a power cut. The temporary
file is created with the mode a plain ``open()`` would give (``0666`` less the umask,
applied by the kernel: the process's umask is never changed), and an error names the
target file, not the temporary one.

JSON has no ``NaN`` or ``inf``, and a statistic may be either (the KL of a row outside
the data is ``inf``). Every JSON file and every ``--json`` output of fairwash is strict
JSON (``allow_nan=False``) written through :func:`to_jsonable`:

=======================  ==========================
Python value             JSON
=======================  ==========================
``inf`` / ``-inf``       ``"inf"`` / ``"-inf"``
``nan``                  ``null``
numpy scalar, array      number, bool, list
:class:`~pathlib.Path`   string
=======================  ==========================

A reader restores a float where it expects one with :func:`json_float` (``"inf"`` ->
``inf``, ``null`` -> ``nan``) or :func:`json_floats` (a list of them, as an array).
:func:`read_json` also accepts the ``Infinity`` / ``NaN`` tokens of files written
before this convention.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # only for annotations: the command line's renderer imports this module
    import pandas as pd

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_write_parquet",
    "atomic_write_csv",
    "to_jsonable",
    "dumps_json",
    "read_json",
    "json_float",
    "json_floats",
]

#: How ``+inf`` and ``-inf`` are spelled in JSON.
INF_TEXT: dict[float, str] = {math.inf: "inf", -math.inf: "-inf"}


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched; an
    :class:`OSError` is raised again naming ``path`` (``filename``), its message saying
    which file was being written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path, fd = _new_temp(path)
        os.close(fd)
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        yield tmp_path
        _fsync(tmp_path)
        os.replace(tmp_path, path)
        _fsync(path.parent, directory=True)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename in (None, str(tmp_path)):
            raise _naming(exc, path) from exc
        raise


def _new_temp(path: Path) -> tuple[Path, int]:
    """A new file ``.<name>.<random>.tmp`` beside ``path``, opened exclusively with mode 0666
    (the kernel applies the umask, as for a plain ``open()``)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def _fsync(path: Path, *, directory: bool = False) -> None:
    """Flush ``path``'s data (or a folder's entries, best effort) to disk."""
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        if directory:
            return  # some systems cannot open a folder: the rename is still atomic
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` again, naming the target ``path`` (not the temporary file)."""
    if exc.errno:  # OSError(errno, ...) is the matching subclass (PermissionError, ...)
        return OSError(exc.errno, f"{exc.strerror or exc} (writing {path})", str(path))
    return OSError(f"{exc} (writing {path})")


def _write_with(path: str | Path, writer: Callable[[Path], None]) -> None:
    with atomic_path(path) as tmp:
        writer(tmp)


def atomic_write_bytes(data: bytes, path: str | Path) -> None:
    _write_with(path, lambda p: p.write_bytes(data))


def atomic_write_text(text: str, path: str | Path) -> None:
    _write_with(path, lambda p: p.write_text(text))


def to_jsonable(obj: Any) -> Any:
    """A copy of ``obj`` that strict JSON accepts, by the project's convention.

    ``inf`` / ``-inf`` become ``"inf"`` / ``"-inf"``, ``nan`` becomes ``None``, numpy
    scalars and arrays become Python numbers and lists, paths become strings, mapping
    keys become strings.

    Examples
    --------
    >>> to_jsonable({"kl": float("inf"), "w": np.float32(0.5), "p": float("nan")})
    {'kl': 'inf', 'w': 0.5, 'p': None}
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        if math.isnan(f):
            return None
        return INF_TEXT.get(f, f)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def dumps_json(obj: Any, *, indent: int | None = 2, sort_keys: bool = True) -> str:
    """Strict JSON text of :func:`to_jsonable` ``(obj)``, ending in a newline.

    Sorted keys by default, so the same content gives the same bytes.
    """
    return json.dumps(to_jsonable(obj), indent=indent, sort_keys=sort_keys, allow_nan=False) + "\n"


def read_json(path: str | Path) -> Any:
    """Parse a JSON file (strings such as ``"inf"`` stay strings: see :func:`json_float`)."""
    return json.loads(Path(path).read_text())


def json_float(value: Any) -> float:
    """A float read back from JSON: ``"inf"`` / ``"-inf"`` -> ``±inf``, ``None`` -> ``nan``.

    Raises
    ------
    ValueError
        ``value`` is neither a number, ``None`` nor a spelling of ``inf``.

    Examples
    --------
    >>> json_float("inf"), json_float(None), json_float(2)
    (inf, nan, 2.0)
    """
    if value is None:
        return math.nan
    if isinstance(value, str):
        if value in ("inf", "-inf"):
            return float(value)
        raise ValueError(f"expected a number, null, 'inf' or '-inf' in JSON, got {value!r}")
    return float(value)


def json_floats(values: Any) -> np.ndarray:
    """A list of JSON floats (:func:`json_float` each) as a float64 array."""
    return np.array([json_float(v) for v in values], dtype=np.float64)


def atomic_write_json(obj: Any, path: str | Path) -> None:
    """Write :func:`dumps_json` ``(obj)`` atomically."""
    atomic_write_text(dumps_json(obj), path)


def atomic_write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write parquet deterministically (no pandas index, fixed compression)."""
    _write_with(path, lambda p: frame.to_parquet(p, index=False, compression="zstd"))


def atomic_write_csv(frame: pd.DataFrame, path: str | Path, **kwargs: Any) -> None:
    kwargs.setdefault("index", False)
    _write_with(path, lambda p: frame.to_csv(p, **kwargs))

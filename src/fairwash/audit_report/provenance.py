"""What reproduces a report: the exact command, the inputs' SHA-256, the versions, the seed."""

from __future__ import annotations

import hashlib
import platform
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["Provenance", "collect_provenance", "sha256_file", "versions"]

#: The distributions whose versions a report names (the import name differs for POT).
VERSIONED = ("fairwash", "numpy", "scipy", "pandas", "POT", "matplotlib")


@dataclass(frozen=True)
class Provenance:
    """The command line, the input files with their SHA-256, the versions and the seed of one run."""

    command: str
    files: tuple[tuple[str, str], ...]
    versions: tuple[tuple[str, str], ...]
    seed: int | None


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 hex digest of the file at ``path``, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def versions() -> tuple[tuple[str, str], ...]:
    """``(name, version)`` of Python and of :data:`VERSIONED` ("not installed" if absent)."""
    out = [("python", platform.python_version())]
    for name in VERSIONED:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return tuple(out)


def collect_provenance(argv: Sequence[str], files: Sequence[str | Path], seed: int | None) -> Provenance:
    """The :class:`Provenance` of ``fairwash`` run with ``argv`` (without the program name) on ``files``."""
    return Provenance("fairwash " + shlex.join(str(a) for a in argv),
                      tuple((str(p), sha256_file(p)) for p in files), versions(), seed)

"""Resume a long job where it stopped: its finished units of work are kept on disk.

A paper-settings job can run for an hour (99 exact W_A draws at n = 20 000, a fairest
search through Grad reruns). Snakemake restarts an interrupted job from scratch and
deletes its declared outputs first, so the job keeps its own progress in a
:class:`Checkpoint` folder outside its outputs: one file per finished unit (a reference
draw, a method's Table 2 samples, a searched level), written atomically. A rerun with
the same inputs and settings reads them back instead of recomputing; a rerun with other
inputs or settings finds a different fingerprint and starts afresh. The job removes the
folder once its outputs are written.

Folders are created owner-only (0700), and :meth:`Checkpoint.clear` removes only the
folders a checkpoint created: each parent it creates holds a marker file (``.fairwash-made``),
and a parent is removed only when nothing but that marker is left in it; never a cache folder
or a parent that was there before. With ``secret``, each unit carries a keyed checksum and
a unit whose checksum does not match is recomputed (the threshold cache's partial draws).

Units are pure functions of their seeds, so a resumed job writes the same results as
an uninterrupted one (timings aside). The resumable reference draws are
:func:`fairwash.protocol.thresholds.reference_draws_resumable`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from fairwash.io import atomic_write_parquet, atomic_write_text

__all__ = ["Checkpoint", "fingerprint", "private_dir", "make_private_dirs"]

_KEY = re.compile(r"^[A-Za-z0-9_.=-]+$")
#: Left in each parent folder a checkpoint creates: the mark that :meth:`Checkpoint.clear` may remove it.
MADE_MARKER = ".fairwash-made"
_FINGERPRINT = "_fingerprint.json"
_SECONDS = ".seconds"


def make_private_dirs(directory: str | Path) -> list[Path]:
    """Create ``directory`` and its missing parents, each 0700; return those created (outermost first).

    A folder that exists already is left as it is.
    """
    directory = Path(directory)
    missing = []
    p = directory
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    created = []
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made by a concurrent process meanwhile: not ours
        os.chmod(d, 0o700)  # mkdir's mode passes through the umask; owner-only whatever it is
        created.append(d)
    return created


def private_dir(directory: str | Path) -> Path:
    """``directory``, created 0700 (with its missing parents) if it does not exist."""
    make_private_dirs(directory)
    return Path(directory)


def _file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint(inputs: Iterable[str | Path], settings: Mapping[str, Any]) -> dict[str, Any]:
    """What a job's results depend on: the SHA-256 of each input file and its settings.

    Parameters
    ----------
    inputs : iterable of paths
        The job's input files (read in full; the paper's largest is a few MB).
    settings : mapping
        JSON-serialisable parameters (seeds, sizes, test lists...).
    """
    files = {str(p): _file_digest(p) for p in inputs}
    canon = json.loads(json.dumps(settings, sort_keys=True, default=str))
    return {"inputs": files, "settings": canon}


def _dumps(obj: Any) -> str:
    # allow_nan: a statistic may be inf (KL of a row outside the data) and must come back as inf
    return json.dumps(obj, sort_keys=True, allow_nan=True, indent=1) + "\n"


class Checkpoint:
    """Finished units of one job, one file each, under ``directory``.

    Parameters
    ----------
    directory : path
        The job's own folder (e.g. ``results/resume/reference/puc_m4000``).
    fingerprint : mapping
        From :func:`fingerprint`. A folder holding another fingerprint is emptied.
    secret : bytes, optional
        Key of a checksum stored with each unit (HMAC-SHA-256); a unit whose checksum is
        missing or wrong reads as not done.

    Examples
    --------
    >>> import tempfile
    >>> ck = Checkpoint(tempfile.mkdtemp() + "/job", {"settings": {"seed": 1}})
    >>> ck.put("draw_0", {"W_A": 1.5})
    >>> ck.get("draw_0"), ck.get("draw_1")
    ({'W_A': 1.5}, None)
    >>> ck.clear()
    """

    def __init__(self, directory: str | Path, fingerprint: Mapping[str, Any], *,
                 secret: bytes | None = None) -> None:
        self.directory = Path(directory)
        self._secret = secret
        text = _dumps(fingerprint)
        marker = self.directory / _FINGERPRINT
        if self.directory.exists() and (not marker.exists() or marker.read_text() != text):
            shutil.rmtree(self.directory)
        self.resumed = self.directory.exists()
        #: compute seconds of the units read back so far (done by earlier attempts)
        self.resumed_seconds = 0.0
        for made in make_private_dirs(self.directory):
            if made != self.directory:
                (made / MADE_MARKER).touch()
        if not marker.exists():
            atomic_write_text(text, marker)

    def _path(self, key: str, suffix: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"checkpoint key {key!r} must match {_KEY.pattern}")
        return self.directory / f"{key}{suffix}"

    def __contains__(self, key: str) -> bool:
        return self._path(key, ".json").exists() or self._path(key, ".parquet").exists()

    def get(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key`` (``default`` when the unit is not done).

        A hit adds the unit's stored compute seconds to :attr:`resumed_seconds`.
        """
        path = self._path(key, ".json")
        if not path.exists():
            return default
        text = path.read_text()
        if self._secret is not None:
            mac = self._path(key, ".hmac")
            if not mac.exists() or not hmac.compare_digest(mac.read_text().strip(), self._mac(text)):
                return default  # edited or unsigned: done again
        self.resumed_seconds += self.seconds(key)
        return json.loads(text)

    def _mac(self, text: str) -> str:
        assert self._secret is not None
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def put(self, key: str, value: Any, *, seconds: float = 0.0) -> None:
        """Store a finished unit (atomically: an interruption leaves no half file) and the
        seconds it took, so that a resumed job can report the work its outputs cost."""
        atomic_write_text(f"{float(seconds)!r}\n", self._path(key, _SECONDS))
        text = _dumps(value)
        if self._secret is not None:
            atomic_write_text(self._mac(text) + "\n", self._path(key, ".hmac"))
        atomic_write_text(text, self._path(key, ".json"))

    def seconds(self, key: str) -> float:
        """Compute seconds stored with unit ``key`` (0 when none were)."""
        path = self._path(key, _SECONDS)
        return float(path.read_text()) if path.exists() else 0.0

    def get_frame(self, key: str) -> pd.DataFrame | None:
        path = self._path(key, ".parquet")
        return pd.read_parquet(path) if path.exists() else None

    def put_frame(self, key: str, frame: pd.DataFrame) -> None:
        atomic_write_parquet(frame, self._path(key, ".parquet"))

    def __len__(self) -> int:
        """Finished units stored (temporary files of an interrupted write not counted)."""
        names = (p.name for p in self.directory.iterdir())
        return sum(1 for name in names
                   if name != _FINGERPRINT and not name.startswith(".") and not name.endswith(_SECONDS)
                   and not name.endswith(".hmac"))

    def clear(self) -> None:
        """Remove the folder (call once the job's outputs are written), and its parent and
        grandparent (``results/resume/<rule>``, ``results/resume``) when a checkpoint created them
        (they hold :data:`MADE_MARKER`) and nothing else is left in them; never a folder that
        existed before (a cache folder, a home)."""
        shutil.rmtree(self.directory, ignore_errors=True)
        for parent in (self.directory.parent, self.directory.parent.parent):
            try:
                if [p.name for p in parent.iterdir()] != [MADE_MARKER]:
                    break  # not made by a checkpoint, or another job is still running there
                (parent / MADE_MARKER).unlink()
                parent.rmdir()
            except OSError:
                break

"""The answers an HTTP endpoint already gave, kept on disk so a rerun does not ask them again.

One JSON file per endpoint: a header (the URL, the answer path, the request key, the
columns sent) and ``answers``, a map from a row's key (:func:`row_key`: the SHA-256 of
the row's values as JSON, which round-trips every float exactly) to the answer read from
the endpoint (P(ŷ = 1), labels as 0.0 / 1.0).  The file is rewritten atomically
(:func:`fairwash.io.atomic_write_json`) after every answered batch, so an interrupted or
failed run leaves every answer it received, and a run never reads a half-written file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fairwash.data.base import DataError
from fairwash.io import atomic_write_json
from fairwash.store import user_cache_dir

__all__ = ["AnswerCache", "default_cache_path", "row_key"]

_VERSION = 1


def row_key(values: Sequence[float]) -> str:
    """The cache key of one row: SHA-256 of its values as JSON (32 hex digits)."""
    return hashlib.sha256(json.dumps([float(v) for v in values]).encode()).hexdigest()[:32]


def default_cache_path(header: Mapping[str, Any]) -> Path:
    """``<cache>/twins-http/<hash of the header>.json`` in the cache folder of ``fairwash check``.

    ``<cache>`` is ``$FAIRWASH_CACHE``, else ``~/.cache/fairwash``.
    """
    root = user_cache_dir()
    digest = hashlib.sha256(json.dumps(dict(header), sort_keys=True).encode()).hexdigest()[:16]
    return root / "twins-http" / f"{digest}.json"


class AnswerCache:
    """The answered rows of one endpoint, in memory and in ``path``.

    Parameters
    ----------
    path : str or Path
        The cache file (created on the first save).
    header : mapping
        What the answers depend on: a file with another header is refused.
    """

    def __init__(self, path: str | Path, header: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.header = {**dict(header), "version": _VERSION}
        self.answers: dict[str, float] = {}
        if self.path.exists():
            self._load()
        self.loaded = len(self.answers)

    def _load(self) -> None:
        try:
            doc = json.loads(self.path.read_text())
            header, answers = doc["header"], doc["answers"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"answer cache {self.path} is unreadable ({exc}); delete it or give another "
                            "--cache") from None
        if header != self.header:
            diff = sorted(k for k in set(header) | set(self.header) if header.get(k) != self.header.get(k))
            raise DataError(f"answer cache {self.path} was written for another query ({', '.join(diff)} "
                            f"differ: {[header.get(k) for k in diff]}); give another --cache")
        self.answers = {str(k): float(v) for k, v in answers.items()}

    def __len__(self) -> int:
        return len(self.answers)

    def get(self, key: str) -> float | None:
        return self.answers.get(key)

    def update(self, answers: Mapping[str, float]) -> None:
        """Add ``answers`` and rewrite the file atomically."""
        self.answers.update(answers)
        atomic_write_json({"header": self.header, "answers": self.answers}, self.path)

"""The results store: where each artefact lives and the one reader/writer pair of each kind.

Every stage, the command line's cache, :mod:`fairwash.results` and the figures read and
write artefacts through these functions, so a file's format (its JSON convention for
``inf``, its columns) is defined once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fairwash.detect.battery import ReferenceThresholds
from fairwash.io import atomic_write_json

__all__ = ["read_thresholds", "write_thresholds"]


def write_thresholds(thresholds: ReferenceThresholds, path: str | Path,
                     extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write reference thresholds (eq. 3) as JSON, with ``extra`` fields beside them.

    Returns the dict written.
    """
    out = thresholds.to_dict() | dict(extra or {})
    atomic_write_json(out, path)
    return out


def read_thresholds(path: str | Path) -> ReferenceThresholds:
    """Read a file written by :func:`write_thresholds`."""
    return ReferenceThresholds.from_dict(json.loads(Path(path).read_text()))

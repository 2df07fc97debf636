"""Random streams: one helper for every module that draws (detect, manipulate, protocol).

Kept at the bottom of the import graph (it imports only numpy) so that the battery and
the attacks both read it without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["check_random_state", "spawn_stream"]


def check_random_state(random_state: Any) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from an int, a Generator or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, int | np.integer):
        return np.random.default_rng(random_state)
    raise TypeError(f"random_state must be an int, a numpy Generator or None, not {random_state!r}")


def spawn_stream(random_state: int | np.random.Generator, key: Sequence[int]) -> np.random.Generator:
    """The stream ``SeedSequence(random_state, spawn_key=key)`` (a Generator is returned as is).

    Each draw of a protocol has its own stream, so a draw does not depend on which other
    draws were made before it (shards, resumed jobs, skipped levels give the same draws).

    Examples
    --------
    >>> a = spawn_stream(0, (3, 1)).random()
    >>> a == spawn_stream(0, (3, 1)).random() != spawn_stream(0, (3, 2)).random()
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if not isinstance(random_state, int | np.integer) or isinstance(random_state, bool):
        raise TypeError(f"random_state must be an int or a numpy Generator, got {random_state!r}")
    seq = np.random.SeedSequence(int(random_state), spawn_key=tuple(int(k) for k in key))
    return np.random.default_rng(seq)

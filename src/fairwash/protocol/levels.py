"""``Q`` at each DI level of a search, built once and shared (paper, Section 7).

The fairest search (Tables 3, 15) and the sample-size study (Fig. 8) visit the same
levels for every sample size and test set; :class:`ManipulationLevels` runs the method
once per level (greedy methods: once in all, every lower level a prefix of the
trajectory) and hands the same ``Q`` to every caller.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fairwash.data.base import AuditData
from fairwash.manipulate import METHODS, Manipulation, apply_prefix, run_method
from fairwash.protocol.samples import level_key

__all__ = ["ManipulationLevels"]


class ManipulationLevels:
    """``Q`` for each level of a search, built once and shared across sizes and test sets.

    Greedy methods (:attr:`MethodSpec.greedy`) run once, at the first level asked for,
    and every lower level is a prefix of that trajectory (:func:`apply_prefix`); the
    others run at every level (target = level + ``target_offset``). A run that fails
    (unreachable target, solver error) is recorded and gives ``None``.
    """

    def __init__(self, data: AuditData, method: str, *, model: Any = None,
                 options: Mapping[str, Any] | None = None, random_state: Any = 0,
                 target_offset: float = 0.001) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; known methods: {list(METHODS)}")
        self.data, self.method, self.model = data, method, model
        self.options = dict(options or {})
        self.random_state, self.target_offset = random_state, float(target_offset)
        self.greedy = METHODS[method].greedy
        self._cache: dict[int, Manipulation | None] = {}
        self._base: Manipulation | None = None
        self.errors: dict[float, str] = {}
        self.runs = 0
        self.seconds = 0.0

    def at(self, level: float) -> Manipulation | None:
        key = level_key(level)
        if key not in self._cache:
            started = time.perf_counter()
            target = level + self.target_offset
            try:
                if self.greedy and self._base is not None and target <= self._base.target + 1e-12:
                    man = apply_prefix(self.data, self._base, target)
                else:
                    man = run_method(self.method, self.data, target=target, model=self.model,
                                     random_state=self.random_state, options=self.options)
                    self.runs += 1
                    if self.greedy:
                        self._base = man
            except (ValueError, RuntimeError) as exc:
                self.errors[round(level, 10)] = str(exc)
                man = None
            self.seconds += time.perf_counter() - started
            self._cache[key] = man
        return self._cache[key]

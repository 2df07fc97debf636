"""The short-circuited battery of a search: one sample's tests run cheapest first, on demand.

The fairest search (paper, Section 7, Tables 3 and 15) only needs to know whether a
sample passes *every* test of a set. :class:`LazyBattery` computes a test's statistic
the first time it is asked for, keeps the verdict, and :meth:`LazyBattery.passes` stops
at the first rejection, in :data:`fairwash.catalogue.COST_ORDER` (cell tests first,
exact W_A last). The seven-test and five-test sets asked of the same sample share its
statistics. The verdicts are :func:`fairwash.detect.battery.run_battery`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fairwash.catalogue import COST_ORDER
from fairwash.detect.context import BatteryContext
from fairwash.detect.thresholds import ReferenceThresholds

__all__ = ["TestCounters", "LazyBattery", "test_p_value", "test_rejects"]


def test_p_value(ctx: BatteryContext, thresholds: ReferenceThresholds, test: str, stat: float,
                 ks_p: float) -> float:
    """A test's p-value: SciPy's for KS under SciPy calibration, else Monte-Carlo on the draws."""
    if test == "KS" and ctx.ks_calibration == "scipy":
        return float(ks_p)
    return thresholds.p_value(test, stat)


def test_rejects(ctx: BatteryContext, thresholds: ReferenceThresholds, test: str, stat: float,
                 ks_p: float) -> bool:
    """The battery's verdict on one test: SciPy's p for KS under SciPy calibration, else eq. 3's threshold."""
    if test == "KS" and ctx.ks_calibration == "scipy":
        return bool(ks_p <= 1 - thresholds.level)
    return thresholds.rejects(test, stat)


test_p_value.__test__ = False  # not pytest tests
test_rejects.__test__ = False


@dataclass
class TestCounters:
    """Work of a search: samples that entered the battery, statistics computed per test."""

    __test__ = False  # not a pytest class

    samples: int = 0
    tests: dict[str, int] = field(default_factory=dict)

    def add(self, test: str) -> None:
        self.tests[test] = self.tests.get(test, 0) + 1


class LazyBattery:
    """One sample's battery: statistics computed on demand, cheapest first, cached.

    Parameters
    ----------
    ctx : BatteryContext
    thresholds : ReferenceThresholds
        For the sample's size (checked by the caller).
    rows : ndarray, shape (m, d + 2)
        The sample ``(x, s, ŷ)``.
    counters : TestCounters
        Incremented by one sample now and by one per statistic computed.
    """

    def __init__(self, ctx: BatteryContext, thresholds: ReferenceThresholds, rows: np.ndarray,
                 counters: TestCounters) -> None:
        self.ctx, self.thr, self.rows, self.counters = ctx, thresholds, rows, counters
        self.rejected: dict[str, bool] = {}
        self.stats: dict[str, float] = {}
        self.p_values: dict[str, float] = {}
        counters.samples += 1

    def rejects(self, test: str) -> bool:
        """The verdict of ``test`` (computed once; its statistic and p-value are kept)."""
        if test not in self.rejected:
            stat, ks_p = self.ctx.statistics(self.rows, (test,))[test]
            self.counters.add(test)
            self.stats[test] = float(stat)
            self.p_values[test] = test_p_value(self.ctx, self.thr, test, stat, ks_p)
            self.rejected[test] = test_rejects(self.ctx, self.thr, test, stat, ks_p)
        return self.rejected[test]

    def p_value(self, test: str) -> float:
        """The p-value of ``test`` (computed once)."""
        self.rejects(test)
        return self.p_values[test]

    def passes(self, tests: Sequence[str]) -> bool:
        """True if no test of ``tests`` rejects (stops at the first rejection)."""
        return not any(self.rejects(t) for t in sorted(tests, key=COST_ORDER.index))

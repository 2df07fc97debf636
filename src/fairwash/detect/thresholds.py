r"""Reference thresholds of the battery (paper, eq. 3): honest draws and their quantile.

For each calibrated test ``D`` the authority compares ``D(sample, P_n)`` with the
distribution of ``D(P_m^{(j)}, P_n)`` over honest samples ``P_m^{(j)}`` of the same size,
drawn uniformly without replacement from the full data. :func:`reference_draws` computes
those statistics (draw ``i`` has its own seed stream), :func:`thresholds_from_draws`
turns them into a :class:`ReferenceThresholds`, :func:`reference_thresholds` does both;
:func:`code_mode_thresholds` gives the authors' code's thresholds from the same draws.
Storing and reusing them (cache, pipeline file, resumable draws) is
:mod:`fairwash.protocol.thresholds`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from fairwash.catalogue import TEST_SPECS, TESTS, check_tests
from fairwash.detect.context import BatteryContext, WassersteinConfig
from fairwash.seeding import check_random_state

__all__ = [
    "Rule",
    "quantile_rank",
    "exceeds",
    "ReferenceThresholds",
    "reference_draws",
    "check_workers",
    "honest_draw",
    "map_draws",
    "thresholds_from_draws",
    "reference_thresholds",
    "context_kwargs",
    "code_mode_thresholds",
]

#: Relative tolerance when comparing a statistic with a threshold / a reference draw,
#: so that a statistic equal to a draw up to rounding (e.g. KL_A, constant when all
#: rows are distinct) counts as a tie, not an exceedance.
_TIE_RTOL = 1e-9

Rule = Literal["quantile", "mean_std"]


def exceeds(stat: float, ref: float | np.ndarray) -> Any:
    """``stat > ref`` beyond rounding (``inf > inf`` is False, ``inf > x`` True)."""
    ref = np.asarray(ref, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        margin = _TIE_RTOL * np.maximum(np.abs(ref), 1e-300)
        return (stat > ref + np.where(np.isfinite(ref), margin, 0.0)) & ~(np.isinf(stat) & np.isinf(ref))


def quantile_rank(n_draws: int, level: float) -> int:
    """The rank ``k = ⌈level (N + 1)⌉`` of the quantile rule's threshold among ``N`` sorted draws."""
    return int(np.ceil(level * (n_draws + 1)))


def _threshold(draws: np.ndarray, level: float, rule: Rule) -> float:
    n = len(draws)
    if rule == "quantile":
        k = quantile_rank(n, level)
        if k > n:
            raise ValueError(
                f"n_draws={n} is too small for level={level}: need at least "
                f"{int(np.ceil(level / (1 - level)))} draws"
            )
        return float(np.sort(draws)[k - 1])
    if rule == "mean_std":
        z = stats.norm.ppf(1 - (1 - level) / 2)
        return float(np.mean(draws) + z * np.std(draws))
    raise ValueError(f"rule must be 'quantile' or 'mean_std', got {rule!r}")


@dataclass(frozen=True)
class ReferenceThresholds:
    """Honest reference draws and the thresholds derived from them (eq. 3).

    Attributes
    ----------
    m, n : int
        Sample size and full-data size.
    level : float
        Confidence level (0.95).
    rule : {"quantile", "mean_std"}
        ``quantile``: the ``⌈level (N + 1)⌉``-th smallest of the ``N`` draws (so that
        "statistic > threshold" is exactly "Monte-Carlo p-value <= 1 - level");
        ``mean_std``: mean + z·std with z = 1.96 at level 0.95 (the authors' code).
    tests : tuple of str
        The tests the draws cover (KS needs none: it has its own p-value).
    draws : dict[str, ndarray]
        The ``N`` honest statistics per distance test.
    thresholds : dict[str, float]
    config : dict
        Statistic settings (:meth:`BatteryContext.config`) plus ``random_state``.
    fingerprint : str
        Hash of the full data the draws were computed on.
    precomputed : dict[str, float]
        Reusable quantities of the full data, so that later contexts skip their set-up:
        ``mmd_self_term``, the ``n x n`` kernel term of MMD_A (one scalar, ~3 s at
        n = 20 000; valid only for the same fingerprint and ``gamma``, both checked).
    """

    m: int
    n: int
    level: float
    rule: Rule
    tests: tuple[str, ...]
    draws: dict[str, np.ndarray]
    thresholds: dict[str, float]
    config: dict[str, Any]
    fingerprint: str
    precomputed: dict[str, float] = field(default_factory=dict)

    @property
    def n_draws(self) -> int:
        return len(next(iter(self.draws.values()))) if self.draws else 0

    def p_value(self, test: str, statistic: float) -> float:
        """Monte-Carlo p-value ``(1 + #{draws >= statistic}) / (N + 1)``."""
        d = self.draws[test]
        at_least = ~exceeds(statistic, d)
        return float((1 + np.count_nonzero(at_least)) / (len(d) + 1))

    def rejects(self, test: str, statistic: float) -> bool:
        return bool(exceeds(statistic, self.thresholds[test]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``inf`` stays a float: ``json`` writes ``Infinity``)."""
        return {
            "m": self.m,
            "n": self.n,
            "level": self.level,
            "rule": self.rule,
            "tests": list(self.tests),
            "draws": {k: [float(x) for x in v] for k, v in self.draws.items()},
            "thresholds": dict(self.thresholds),
            "config": self.config,
            "fingerprint": self.fingerprint,
            "precomputed": {k: float(v) for k, v in self.precomputed.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReferenceThresholds:
        return cls(
            m=int(d["m"]),
            n=int(d["n"]),
            level=float(d["level"]),
            rule=d["rule"],
            tests=tuple(d["tests"]),
            draws={k: np.asarray(v, dtype=np.float64) for k, v in d["draws"].items()},
            thresholds={k: float(v) for k, v in d["thresholds"].items()},
            config=dict(d["config"]),
            fingerprint=str(d["fingerprint"]),
            precomputed={k: float(v) for k, v in d.get("precomputed", {}).items()},
        )


def _draw_rng(random_state: int | np.random.Generator, i: int) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(np.random.SeedSequence(int(random_state), spawn_key=(i,)))


def reference_draws(
    context: BatteryContext,
    m: int,
    *,
    tests: Sequence[str] = TESTS,
    n_draws: int = 100,
    random_state: int | np.random.Generator,
    start: int = 0,
    workers: int = 1,
) -> dict[str, np.ndarray]:
    """Distance statistics of ``n_draws`` honest samples (eq. 3).

    Each honest sample is ``m`` rows drawn uniformly **without replacement** from the
    full data. With an int ``random_state``, draw ``i`` uses its own stream
    ``SeedSequence(random_state, spawn_key=(i,))``: draws ``start .. start+n_draws-1``
    are the same whether computed in one call or in shards (``start``), so the
    expensive W_A draws can be spread over jobs and concatenated, and over ``workers``
    threads (POT's exact solver releases the GIL): the same bytes for any ``workers``.
    A Generator ``random_state`` is one shared stream: ``workers`` must be 1 then.

    Returns
    -------
    dict[str, ndarray of shape (n_draws,)]
        One entry per calibrated test in ``tests`` (KS only with
        ``ks_calibration="reference"``).
    """
    tests = check_tests(tests)
    dist_tests = context.calibrated(tests)
    if not (isinstance(m, int | np.integer) and 1 <= m <= context.n):
        raise ValueError(f"m must be an int in [1, n={context.n}], got {m!r}")
    if n_draws < 1:
        raise ValueError(f"n_draws must be positive, got {n_draws}")
    if not isinstance(random_state, np.random.Generator):
        check_random_state(random_state)  # type check only
        if random_state is None:
            raise ValueError("random_state is required (an int or a numpy Generator)")
    workers = check_workers(workers)
    if workers > 1 and isinstance(random_state, np.random.Generator):
        raise ValueError("workers > 1 needs an int random_state (a Generator is one shared stream)")
    out = {t: np.empty(n_draws) for t in dist_tests}

    def one(j: int) -> dict[str, tuple[float, float]]:
        return honest_draw(context, int(m), dist_tests, random_state, start + j)

    for j, stats_j in enumerate(map_draws(one, range(n_draws), workers)):
        for t in dist_tests:
            out[t][j] = stats_j[t][0]
    return out


def check_workers(workers: Any) -> int:
    """``workers`` as a positive int, or a ValueError naming it."""
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    return int(workers)


def honest_draw(context: BatteryContext, m: int, tests: Sequence[str],
                random_state: int | np.random.Generator, i: int) -> dict[str, tuple[float, float]]:
    """The statistics of honest draw ``i``: ``m`` rows without replacement from its own stream."""
    idx = _draw_rng(random_state, i).choice(context.n, size=int(m), replace=False)
    return context.statistics(context.full[idx], tests)


def map_draws(fn: Callable[[int], Any], items: Sequence[int], workers: int) -> Iterator[Any]:
    """``fn`` over ``items``, in order, on ``workers`` threads (the first item alone first).

    The first call builds the context's lazy caches before any thread shares them. An
    interruption (Ctrl-C) cancels the draws not started; the results yielded are kept.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    yield fn(items[0])
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(fn, i) for i in items[1:]]
        for f in futures:
            yield f.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def thresholds_from_draws(
    context: BatteryContext,
    m: int,
    draws: dict[str, np.ndarray],
    *,
    tests: Sequence[str] = TESTS,
    level: float = 0.95,
    rule: Rule = "quantile",
    random_state: Any = None,
) -> ReferenceThresholds:
    """Assemble :class:`ReferenceThresholds` from (possibly concatenated) draws."""
    tests = check_tests(tests)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    calibrated = context.calibrated(tests)
    missing = [t for t in calibrated if t not in draws]
    if missing:
        raise ValueError(f"draws lack the test(s) {missing}")
    draws = {t: np.asarray(draws[t], dtype=np.float64) for t in calibrated}
    if len({len(v) for v in draws.values()}) > 1:
        raise ValueError("draws have different lengths across tests")
    thresholds = {t: _threshold(v, level, rule) for t, v in draws.items()}
    config = context.config() | {
        "random_state": random_state if isinstance(random_state, int | None) else "generator"
    }
    return ReferenceThresholds(
        m=int(m),
        n=context.n,
        level=float(level),
        rule=rule,
        tests=tests,
        draws=draws,
        thresholds=thresholds,
        config=config,
        fingerprint=context.fingerprint,
        precomputed=context.precomputed(),
    )


def reference_thresholds(
    full,
    m: int,
    *,
    tests: Sequence[str] = TESTS,
    n_draws: int = 100,
    level: float = 0.95,
    rule: Rule = "quantile",
    random_state: int | np.random.Generator,
    context: BatteryContext | None = None,
    workers: int = 1,
) -> ReferenceThresholds:
    r"""Reference thresholds of the distance tests for samples of size ``m`` (eq. 3).

    For each distance test ``D``, the statistics :math:`D(P_m^{(j)}, P_n)` of
    ``n_draws`` independent honest samples (uniform, without replacement) are kept, and
    the threshold is their empirical ``level`` quantile (``rule="quantile"``, ours) or
    mean + 1.96·std (``rule="mean_std"``, the authors' code with 30 draws).

    Parameters
    ----------
    full : ndarray, shape (n, d + 2)
        The full data ``(x, s, ŷ)``; ignored when ``context`` is given.
    m : int
        Sample size.
    tests : sequence of str
        Subset of :data:`TESTS`.
    n_draws : int
        Honest draws; with ``rule="quantile"`` at least ``level / (1 - level)`` (19).
    level : float
    rule : {"quantile", "mean_std"}
    random_state : int or numpy Generator
    context : BatteryContext, optional
        Reuse an existing context (its settings define the statistics).
    workers : int
        Threads for the draws (the same thresholds for any number).

    Returns
    -------
    ReferenceThresholds
    """
    ctx = context if context is not None else BatteryContext.prepare(full)
    draws = reference_draws(ctx, m, tests=tests, n_draws=n_draws, random_state=random_state, workers=workers)
    return thresholds_from_draws(
        ctx, m, draws, tests=tests, level=level, rule=rule, random_state=random_state
    )


def context_kwargs(thresholds: ReferenceThresholds) -> dict[str, Any]:
    """Rebuild the statistic settings recorded with ``thresholds``."""
    cfg = thresholds.config
    w = dict(cfg.get("w_a", {"method": "exact"}))
    return {
        "gamma": cfg.get("gamma", 1.0),
        "kl_form": cfg.get("kl_form", "sample_ref"),
        "w_config": WassersteinConfig(**w),
        "ks_method": cfg.get("ks_method", "auto"),
        "ks_calibration": cfg.get("ks_calibration", "scipy"),
    }


def code_mode_thresholds(full, reference: ReferenceThresholds, *, n_draws: int = 30) -> dict[str, float]:
    r"""The thresholds the authors' code would set, from the first draws of ``reference``.

    The authors' code (``dic_threshold.json``) uses mean + 1.96 std over 30 honest draws
    and its own KL form (:func:`fairwash.detect.distances.kl_discrete`, ``form="authors"``).
    Draw ``i`` of ``reference`` is a fixed sample (its own seed stream), so the first
    ``n_draws`` samples are regenerated exactly: the W and MMD statistics are read from
    the stored draws, the KL statistics recomputed on the same samples in the authors'
    form. Nothing here solves a transport problem.

    Parameters
    ----------
    full : ndarray, shape (n, d + 2)
        The full data ``reference`` was computed on (fingerprint checked).
    reference : ReferenceThresholds
        Computed with an int ``random_state`` and at least ``n_draws`` draws.
    n_draws : int
        The code's 30 by default.

    Returns
    -------
    dict[str, float]
        Test -> threshold, for every calibrated test of ``reference``.
    """
    seed = reference.config.get("random_state")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"reference needs an int random_state to regenerate its draws, got {seed!r}")
    if not 2 <= n_draws <= reference.n_draws:
        raise ValueError(f"n_draws must be in [2, {reference.n_draws}] (the reference's), got {n_draws}")
    ctx = BatteryContext.prepare(full, **(context_kwargs(reference) | {"kl_form": "authors"}))
    if ctx.fingerprint != reference.fingerprint:
        raise ValueError("reference was computed on other full data (fingerprint mismatch)")
    draws = {t: np.asarray(v[:n_draws]) for t, v in reference.draws.items()}
    kl_tests = [t for t in draws if TEST_SPECS[t].distance == "KL"]
    if kl_tests and reference.config.get("kl_form") != "authors":
        draws |= reference_draws(ctx, reference.m, tests=kl_tests, n_draws=n_draws, random_state=seed)
    return {t: _threshold(v, reference.level, "mean_std") for t, v in draws.items()}

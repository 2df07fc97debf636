r"""The threshold store: reference thresholds (eq. 3) computed once, resumably, and reused.

The honest draws of the battery (paper, Section 4, eq. 3) depend only on the full data,
the sample size ``m``, the tests, the number of draws, the level, the rule, the seed and
the statistics' settings. Computing them is the expensive part of an audit (minutes of
exact W_A at n = 20 000), so both faces of fairwash obtain them here, in one way:

* :func:`compute_thresholds` — the draws one at a time through a
  :class:`fairwash.resume.Checkpoint` (draw ``i`` has its own seed stream, so a resumed
  computation gives the thresholds of an uninterrupted one);
* :func:`obtain_thresholds` — compute-or-load one file, written with
  :func:`fairwash.store.write_thresholds`: the pipeline's ``reference_m<m>.json`` and the
  command line's cache entries are the same function's output, so the same data, ``m``
  and settings give the same thresholds and draws, byte for byte;
* :func:`mismatch` — why a thresholds file cannot serve a context and size (``None`` if
  it can): how the command line accepts a pipeline file (``--thresholds FILE``);
* :class:`ThresholdStore` — thresholds by ``m`` for one full data set and settings:
  given files first, then the cache (``thresholds-<key>.json``), else computed.

The cache is the auditor's, but it lives on disk where another account or a hostile
file could alter it, so an entry is trusted only when it carries a keyed checksum
(HMAC-SHA-256, field ``"hmac"``) made with a per-user key (:func:`cache_secret`: 32
random bytes in ``<cache>/.key``, created 0600); a folder the tool creates is 0700; an
entry whose checksum does not match is recomputed and overwritten; a cache folder that
others may write to, or a key file others may read, is not used at all (the thresholds are
computed and the provenance says why).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairwash.catalogue import TESTS, check_tests
from fairwash.detect import thresholds as detect_thresholds
from fairwash.detect.context import BatteryContext
from fairwash.detect.thresholds import ReferenceThresholds, Rule, thresholds_from_draws
from fairwash.io import dumps_json, read_json
from fairwash.resume import Checkpoint, private_dir
from fairwash.store import read_thresholds, thresholds_from_json, write_thresholds

__all__ = [
    "ThresholdSettings",
    "reference_draws_resumable",
    "compute_thresholds",
    "cache_key",
    "mismatch",
    "load_matching",
    "obtain_thresholds",
    "ThresholdStore",
    "cache_secret",
    "seal",
    "CacheError",
]

#: The per-user key of the cache's checksums, in the cache folder.
KEY_FILE = ".key"


class CacheError(OSError):
    """The cache folder or its key cannot be trusted (shared, or readable by others)."""


def _owner_only(st: os.stat_result, what: str, path: Path, mask: int) -> None:
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise CacheError(f"{what} {path} belongs to another user (uid {st.st_uid})")
    if st.st_mode & mask:
        verb, mode = ("write to", "700") if mask == 0o022 else ("read", "600")
        raise CacheError(f"{what} {path} has mode {stat.S_IMODE(st.st_mode):04o}; others may {verb} it "
                         f"(chmod {mode} it to use it as a cache)")


def cache_secret(cache_dir: str | Path) -> bytes:
    """The cache's checksum key: ``<cache_dir>/.key`` (32 random bytes, created 0600 on first use).

    The folder is created 0700 (:func:`fairwash.resume.private_dir`) if missing.

    Raises
    ------
    CacheError
        The folder is writable by group or others, or belongs to another user; the key file
        is readable by group or others, belongs to another user or has not 32 bytes.
    """
    folder = private_dir(cache_dir)
    _owner_only(folder.stat(), "the cache folder", folder, 0o022)
    key_path = folder / KEY_FILE
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        fd = os.open(key_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            _owner_only(os.fstat(fd), "the cache key", key_path, 0o077)
            key = os.read(fd, 64)
        finally:
            os.close(fd)
        if len(key) != 32:
            raise CacheError(f"the cache key {key_path} has {len(key)} bytes, not 32") from None
        return key
    key = secrets.token_bytes(32)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def seal(content: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA-256 (hex) of a thresholds file's content, without its ``"hmac"`` field.

    Computed on :func:`fairwash.io.dumps_json` of the content, which reads back to the same
    text, so a file can be checked after it is parsed.
    """
    body = {k: v for k, v in content.items() if k != "hmac"}
    return hmac.new(key, dumps_json(body).encode(), hashlib.sha256).hexdigest()

#: Version of the cache's key; 2: entries are :func:`fairwash.store.write_thresholds` files
#: (version 1 nested them under ``"thresholds"``; its entries have other names, never read).
CACHE_VERSION = 2


@dataclass(frozen=True)
class ThresholdSettings:
    """How the honest draws of eq. 3 are made and turned into thresholds.

    Attributes
    ----------
    tests : tuple of str
        The tests to calibrate (those of :meth:`BatteryContext.calibrated` get draws).
    n_draws : int
        Honest samples (the paper: 100; with ``rule="quantile"`` at least
        ``level / (1 - level)``).
    level : float
        Confidence level (0.95).
    rule : {"quantile", "mean_std"}
    seed : int
        Draw ``i`` uses ``SeedSequence(seed, spawn_key=(i,))``.
    """

    tests: tuple[str, ...] = TESTS
    n_draws: int = 100
    level: float = 0.95
    rule: Rule = "quantile"
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "tests", check_tests(self.tests))
        object.__setattr__(self, "n_draws", int(self.n_draws))
        object.__setattr__(self, "level", float(self.level))
        object.__setattr__(self, "seed", int(self.seed))


def reference_draws_resumable(context: BatteryContext, m: int, *, tests: Sequence[str], n_draws: int,
                              random_state: int, checkpoint: Checkpoint | None,
                              workers: int = 1) -> dict[str, np.ndarray]:
    """:func:`fairwash.detect.thresholds.reference_draws`, one stored draw at a time.

    Draw ``i`` uses its own seed stream, so the draws read back from ``checkpoint``
    (key ``draw_<i>``) and those computed now are the draws of one uninterrupted call,
    on any number of ``workers`` threads (each finished draw is stored as it arrives, in
    order: an interruption keeps them). The MMD_A self term is computed even when every
    draw is read back, so that the thresholds built from ``context`` store it as an
    uninterrupted call would.

    Returns
    -------
    dict[str, ndarray of shape (n_draws,)]
    """
    seed = int(random_state)
    workers = detect_thresholds.check_workers(workers)
    draw = detect_thresholds.reference_draws  # looked up per call: tests interrupt it
    if checkpoint is None:
        return draw(context, int(m), tests=tests, n_draws=int(n_draws), random_state=seed, workers=workers)
    stored = {i: checkpoint.get(f"draw_{i}") for i in range(int(n_draws))}
    missing = [i for i, row in stored.items() if row is None]

    def one(i: int) -> tuple[dict[str, float], float]:
        started = time.perf_counter()
        got = draw(context, int(m), tests=tests, n_draws=1, random_state=seed, start=i)
        return {t: float(v[0]) for t, v in got.items()}, time.perf_counter() - started

    for i, (row, seconds) in zip(missing, detect_thresholds.map_draws(one, missing, workers), strict=True):
        checkpoint.put(f"draw_{i}", row, seconds=seconds)  # in the calling thread, as each arrives
        stored[i] = row
    rows = [stored[i] for i in range(int(n_draws))]
    if "MMD_A" in context.calibrated(tests):
        context.mmd_reference  # noqa: B018 -- built (and kept) on first access
    return {t: np.array([row[t] for row in rows]) for t in rows[0]}


def compute_thresholds(context: BatteryContext, m: int, settings: ThresholdSettings, *,
                       checkpoint: Checkpoint | None = None, workers: int = 1) -> ReferenceThresholds:
    r"""Reference thresholds for samples of size ``m`` (eq. 3), resumable.

    For each calibrated test ``D``, the statistics :math:`D(P_m^{(j)}, P_n)` of
    ``settings.n_draws`` honest samples (uniform, without replacement) and their
    ``level`` quantile (or mean + 1.96·std).

    Parameters
    ----------
    context : BatteryContext
        The full data and the statistics' settings.
    m : int
    settings : ThresholdSettings
    checkpoint : Checkpoint, optional
        Keeps each draw as it finishes (:func:`reference_draws_resumable`).
    workers : int
        Threads for the draws (the same bytes for any number).

    Returns
    -------
    ReferenceThresholds
        The same as :func:`fairwash.detect.thresholds.reference_thresholds` with the
        same arguments, with or without an interruption.
    """
    s = settings
    draws = reference_draws_resumable(context, int(m), tests=s.tests, n_draws=s.n_draws, random_state=s.seed,
                                      checkpoint=checkpoint, workers=workers)
    return thresholds_from_draws(context, int(m), draws, tests=s.tests, level=s.level, rule=s.rule,
                                 random_state=s.seed)


def cache_key(context: BatteryContext, m: int, settings: ThresholdSettings) -> dict[str, Any]:
    """Everything the thresholds depend on: the full data's fingerprint (a SHA-256 of its
    ``(x, s, ŷ)`` array), ``n``, ``m``, the calibrated tests, the draws, level, rule, seed and
    the statistics' settings (:meth:`BatteryContext.config`)."""
    s = settings
    return {"version": CACHE_VERSION, "fingerprint": context.fingerprint, "n": context.n, "m": int(m),
            "tests": sorted(context.calibrated(s.tests)), "draws": s.n_draws, "level": s.level,
            "rule": s.rule, "seed": s.seed, "config": context.config()}


def mismatch(thresholds: ReferenceThresholds, context: BatteryContext, m: int,
             settings: ThresholdSettings | None = None, *, tests: Sequence[str] = ()) -> str | None:
    """Why ``thresholds`` cannot serve samples of size ``m`` on ``context`` (``None``: they can).

    Without ``settings``: the full data (fingerprint), ``m`` and the statistics' settings
    must match and the draws cover the calibrated ``tests``. With ``settings``: also
    exactly its tests, draws, level, rule and seed (every field of :func:`cache_key`).
    """
    thr, ctx = thresholds, context
    theirs = {k: v for k, v in thr.config.items() if k != "random_state"}
    if thr.fingerprint != ctx.fingerprint or thr.n != ctx.n:
        return f"they were computed on other full data (n = {thr.n}, fingerprint {thr.fingerprint})"
    if thr.m != int(m):
        return f"they are for m = {thr.m}, not m = {int(m)}"
    if theirs != ctx.config():
        return f"their statistic settings {theirs} differ from {ctx.config()}"
    if any(np.isnan(v).any() for v in thr.draws.values()):
        return "a draw did not read back as a number"
    if settings is None:
        missing = [t for t in ctx.calibrated(tests) if t not in thr.draws]
        return f"they have no draws for {missing}" if missing else None
    wanted = (sorted(ctx.calibrated(settings.tests)), settings.n_draws, settings.level, settings.rule,
              settings.seed)
    have = (sorted(thr.draws), thr.n_draws, thr.level, thr.rule, thr.config.get("random_state"))
    return None if wanted == have else f"their draws, level, rule or seed {have} differ from {wanted}"


def load_matching(path: str | Path, context: BatteryContext, m: int,
                  settings: ThresholdSettings | None = None, *,
                  key: bytes | None = None) -> ReferenceThresholds | None:
    """The thresholds in ``path`` if it holds a readable file that :func:`mismatch` accepts
    (and, with ``key``, whose ``"hmac"`` field is :func:`seal` of its content)."""
    try:
        content = read_json(path)
        if key is not None and not hmac.compare_digest(str(content.get("hmac", "")), seal(content, key)):
            return None  # edited, or written without the key: recomputed and overwritten
        thr = thresholds_from_json(content)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing or damaged: recomputed and overwritten by the caller
    return thr if mismatch(thr, context, m, settings) is None else None


def obtain_thresholds(context: BatteryContext, m: int, settings: ThresholdSettings, path: str | Path | None,
                      *, checkpoint: Checkpoint | None = None, extra: Mapping[str, Any] | None = None,
                      reuse: bool = True, tolerate_unwritable: bool = False,
                      key: bytes | None = None,
                      workers: int = 1) -> tuple[ReferenceThresholds, dict[str, Any]]:
    """Compute-or-load the reference thresholds of one (full data, ``m``, settings) in ``path``.

    With ``reuse``, a file at ``path`` matching every field of :func:`cache_key` is read
    back. Otherwise the thresholds are computed (:func:`compute_thresholds`, through
    ``checkpoint``, which is cleared once they are) and written to ``path`` with
    :func:`fairwash.store.write_thresholds`, ``extra`` fields, ``seconds`` and
    ``resumed_seconds`` (the stored draws' compute time) beside them. A failed write
    raises, unless ``tolerate_unwritable`` (a cache: the thresholds are returned). With
    ``key``, the file read must carry :func:`seal`'s checksum and the file written carries it.
    ``workers``: threads for the draws (:func:`compute_thresholds`).

    Returns
    -------
    thresholds : ReferenceThresholds
    info : dict
        ``cache`` ("used", "written", "off": no ``path``, or "unwritable" with ``error``),
        ``path``, ``seconds``; ``file``: the dict written, when written.
    """
    if reuse and path is not None:
        thr = load_matching(path, context, m, settings, key=key)
        if thr is not None:
            return thr, {"cache": "used", "path": str(path), "seconds": 0.0}
    started = time.perf_counter()
    thr = compute_thresholds(context, m, settings, checkpoint=checkpoint, workers=workers)
    seconds = time.perf_counter() - started
    resumed = checkpoint.resumed_seconds if checkpoint is not None else 0.0
    if checkpoint is not None:
        checkpoint.clear()
    if path is None:
        return thr, {"cache": "off", "path": None, "seconds": seconds}
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fields = dict(extra or {}) | {"seconds": seconds, "resumed_seconds": resumed}
        if key is not None:
            fields["hmac"] = seal(json.loads(dumps_json(thr.to_dict() | fields)), key)
        written = write_thresholds(thr, path, fields)
    except OSError as exc:
        if not tolerate_unwritable:
            raise
        return thr, {"cache": "unwritable", "path": str(path), "seconds": seconds, "error": str(exc)}
    return thr, {"cache": "written", "path": str(path), "seconds": seconds, "file": written}


@dataclass
class ThresholdStore:
    """Reference thresholds by sample size for one full data set and one set of settings.

    For each ``m``, :meth:`get` uses, in order: a given file computed for ``m`` (a
    pipeline's ``reference_m<m>.json`` or an earlier cache entry; refused with the reason
    when it belongs to other data or settings: its own draws, level, rule and seed are
    used), the cache entry ``cache_dir/thresholds-<key>.json`` (key: :func:`cache_key`),
    else the honest draws, kept one by one in ``cache_dir/partial-<key>`` so an
    interrupted call goes on from the first missing draw.

    Parameters
    ----------
    context : BatteryContext
    settings : ThresholdSettings
    cache_dir : path, optional
        ``None``: neither read nor write a cache.
    files : iterable of paths
        Threshold files to use for the sizes they were computed for.
    workers : int
        Threads for the honest draws (not part of the cache key: the same bytes for any number).

    Attributes
    ----------
    provenance : dict[int, dict]
        Per ``m`` obtained: ``cache`` ("file", "used", "written", "off", "unwritable"),
        ``path``, ``seconds``.
    """

    context: BatteryContext
    settings: ThresholdSettings
    cache_dir: Path | None = None
    files: Iterable[str | Path] = ()
    provenance: dict[int, dict[str, Any]] = field(default_factory=dict)
    workers: int = 1

    def __post_init__(self) -> None:
        self._given: dict[int, tuple[Path, ReferenceThresholds]] = {}
        self._got: dict[int, ReferenceThresholds] = {}
        for f in self.files:
            try:
                thr = read_thresholds(f)
            except (ValueError, KeyError, TypeError) as exc:  # OSError (no such file) is the caller's
                msg = f"thresholds file {f} is not a reference-thresholds file ({exc!r})"
                raise ValueError(msg) from None
            self._given.setdefault(thr.m, (Path(f), thr))

    @property
    def given_sizes(self) -> tuple[int, ...]:
        """The sizes the given files were computed for."""
        return tuple(sorted(self._given))

    def get(self, m: int) -> tuple[ReferenceThresholds, dict[str, Any]]:
        """The thresholds for size ``m`` and where they came from (see the class; obtained once
        per store: later calls return the same object and its first provenance)."""
        m = int(m)
        if m in self._got:
            return self._got[m], self.provenance[m]
        if m in self._given:
            path, thr = self._given[m]
            why = mismatch(thr, self.context, m, tests=self.settings.tests)
            if why is not None:
                raise ValueError(f"thresholds file {path} does not fit this audit: {why}")
            info = {"cache": "file", "path": str(path), "seconds": 0.0}
        else:
            thr, info = self._cached(m)
            info.pop("file", None)
        self._got[m], self.provenance[m] = thr, info
        return thr, info

    def _cached(self, m: int) -> tuple[ReferenceThresholds, dict[str, Any]]:
        if not self.context.calibrated(self.settings.tests):
            # KS alone (SciPy's p-value): no honest draws to make or cache
            s = self.settings
            thr = thresholds_from_draws(self.context, m, {}, tests=s.tests, level=s.level, rule=s.rule,
                                        random_state=s.seed)
            return thr, {"cache": "none", "path": None, "seconds": 0.0}
        if self.cache_dir is None:
            return obtain_thresholds(self.context, m, self.settings, None, workers=self.workers)
        try:
            secret = cache_secret(self.cache_dir)
        except OSError as exc:  # shared or unreadable: computed, neither read nor written
            thr, info = obtain_thresholds(self.context, m, self.settings, None, workers=self.workers)
            return thr, info | {"cache": "unwritable", "path": str(self.cache_dir), "error": str(exc)}
        key_obj = cache_key(self.context, m, self.settings)
        key = hashlib.sha256(json.dumps(key_obj, sort_keys=True).encode()).hexdigest()[:24]
        path = self.cache_dir / f"thresholds-{key}.json"
        thr = load_matching(path, self.context, m, self.settings, key=secret)
        if thr is not None:
            return thr, {"cache": "used", "path": str(path), "seconds": 0.0}
        try:
            partial = Checkpoint(self.cache_dir / f"partial-{key}", {"key": key_obj}, secret=secret)
        except OSError:
            partial = None  # a read-only cache: the draws are not kept
        return obtain_thresholds(self.context, m, self.settings, path, checkpoint=partial,
                                 extra={"cache_key": key_obj}, reuse=False, tolerate_unwritable=True,
                                 key=secret, workers=self.workers)

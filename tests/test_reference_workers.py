"""Honest reference draws in threads: the same bytes for any number of workers, resumable."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from fairwash.detect import thresholds as detect_thresholds
from fairwash.detect.context import BatteryContext
from fairwash.detect.thresholds import reference_draws, reference_thresholds
from fairwash.protocol.thresholds import ThresholdSettings, compute_thresholds, reference_draws_resumable
from fairwash.resume import Checkpoint
from fairwash.store import write_thresholds

N, M, DRAWS = 300, 40, 19


@pytest.fixture(scope="module")
def full() -> np.ndarray:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(N, 2)).round(1)
    s = (rng.random(N) < 0.6).astype(float)
    y = ((x[:, 0] + s + rng.normal(0, 0.7, N)) > 0.8).astype(float)
    return np.column_stack([x, s, y])


def test_draws_are_the_same_bytes_for_any_number_of_workers(full, tmp_path):
    one = reference_draws(BatteryContext.prepare(full), M, n_draws=DRAWS, random_state=4)
    for workers in (2, 3):
        many = reference_draws(BatteryContext.prepare(full), M, n_draws=DRAWS, random_state=4,
                               workers=workers)
        assert one.keys() == many.keys()
        for t in one:
            assert one[t].tobytes() == many[t].tobytes(), t
    # the thresholds file too (a fresh context each: its lazy caches are built inside the threads' run)
    for workers in (1, 2):
        thr = reference_thresholds(full, M, n_draws=DRAWS, random_state=4, workers=workers)
        write_thresholds(thr, tmp_path / f"{workers}.json", {})
    assert (tmp_path / "1.json").read_bytes() == (tmp_path / "2.json").read_bytes()
    assert not np.array_equal(one["W_A"], reference_draws(BatteryContext.prepare(full), M, n_draws=DRAWS,
                                                          random_state=5, workers=2)["W_A"])


def test_draws_run_in_several_threads(full, monkeypatch):
    seen: set[int] = set()
    real = detect_thresholds.honest_draw

    def spy(*args, **kwargs):
        seen.add(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(detect_thresholds, "honest_draw", spy)
    reference_draws(BatteryContext.prepare(full), M, n_draws=DRAWS, random_state=4, workers=2)
    assert len(seen) >= 2


def test_bad_workers_are_refused(full):
    ctx = BatteryContext.prepare(full)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            reference_draws(ctx, M, n_draws=3, random_state=1, workers=bad)
    with pytest.raises(ValueError, match="Generator"):
        reference_draws(ctx, M, n_draws=3, random_state=np.random.default_rng(0), workers=2)


class Interrupted(Exception):
    """Stands for Ctrl-C."""


def test_resumable_draws_in_threads_keep_the_finished_draws(full, tmp_path, monkeypatch):
    settings = ThresholdSettings(n_draws=DRAWS, seed=8)
    plain = compute_thresholds(BatteryContext.prepare(full), M, settings)
    real = detect_thresholds.reference_draws

    def failing(*args, start=0, **kwargs):
        if start == 11:
            raise Interrupted
        return real(*args, start=start, **kwargs)

    ck = Checkpoint(tmp_path / "ck", {"k": 1})
    monkeypatch.setattr(detect_thresholds, "reference_draws", failing)
    with pytest.raises(Interrupted):
        reference_draws_resumable(BatteryContext.prepare(full), M, tests=settings.tests, n_draws=DRAWS,
                                  random_state=8, checkpoint=ck, workers=2)
    kept = sorted(int(p.stem.split("_")[1]) for p in (tmp_path / "ck").glob("draw_*.json"))
    assert kept == list(range(11))  # every draw before the interrupted one, in order
    monkeypatch.undo()
    calls: list[int] = []

    def counting(*args, start=0, **kwargs):
        calls.append(start)
        return real(*args, start=start, **kwargs)

    monkeypatch.setattr(detect_thresholds, "reference_draws", counting)
    resumed = compute_thresholds(BatteryContext.prepare(full), M, settings,
                                 checkpoint=Checkpoint(tmp_path / "ck", {"k": 1}), workers=3)
    assert sorted(calls) == list(range(11, DRAWS))
    assert resumed.to_dict() == plain.to_dict()

"""Interrupted audit jobs resume where they stopped and write what an uninterrupted job writes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import fairwash.pipeline.audit as stages
import fairwash.protocol.fairest as fairest_mod
from fairwash.detect import thresholds as detect_thresholds
from fairwash.pipeline.audit import detect_stages, fairest_stage, reference_stage
from fairwash.resume import Checkpoint, fingerprint


class Interrupted(Exception):
    """Stands for the job being killed."""


def _counting(monkeypatch, module, name: str, fail_at: int | None = None) -> list[int]:
    """Wrap ``module.name`` to count its calls, raising :class:`Interrupted` at call ``fail_at``."""
    real = getattr(module, name)
    calls: list[int] = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if fail_at is not None and len(calls) == fail_at:
            raise Interrupted
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def _without_timings(obj):
    if isinstance(obj, dict):
        timings = ("seconds", "method_seconds", "resumed_seconds")
        return {k: _without_timings(v) for k, v in obj.items() if k not in timings}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


@pytest.fixture(scope="module")
def staged(tmp_path_factory, toy_audit) -> dict:
    return toy_audit(tmp_path_factory.mktemp("resume"), seed=5)


# ----------------------------------------------------------------------------- the store
def test_checkpoint_roundtrip_and_fingerprint(tmp_path):
    fp = {"settings": {"seed": 1}}
    ck = Checkpoint(tmp_path / "job", fp)
    assert not ck.resumed and len(ck) == 0
    ck.put("draw_0", {"KL_A": math.inf, "W_A": 0.1 + 0.2})
    again = Checkpoint(tmp_path / "job", fp)
    assert again.resumed and "draw_0" in again and len(again) == 1
    got = again.get("draw_0")
    assert got["KL_A"] == math.inf and got["W_A"] == 0.1 + 0.2  # floats come back bit for bit
    again.put("draw_1", {"W_A": 1.0}, seconds=2.5)
    third = Checkpoint(tmp_path / "job", fp)
    assert len(third) == 2 and third.resumed_seconds == 0.0
    third.get("draw_1"), third.get("draw_0"), third.get("draw_9")
    assert third.resumed_seconds == 2.5 and third.seconds("draw_0") == 0.0  # stored without seconds
    other = Checkpoint(tmp_path / "job", {"settings": {"seed": 2}})  # other settings: start afresh
    assert not other.resumed and other.get("draw_0") is None
    with pytest.raises(ValueError, match="checkpoint key"):
        other.put("../escape", 1)
    other.clear()
    assert not (tmp_path / "job").exists()


def test_clear_removes_empty_parents_only(tmp_path):
    a = Checkpoint(tmp_path / "resume" / "reference" / "a_m10", {})
    b = Checkpoint(tmp_path / "resume" / "reference" / "b_m10", {})
    a.clear()
    assert (tmp_path / "resume" / "reference").is_dir()  # b is still running
    b.clear()
    assert not (tmp_path / "resume").exists() and tmp_path.is_dir()


def test_fingerprint_follows_file_content(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"one")
    first = fingerprint([f], {"m": 2})
    assert fingerprint([f], {"m": 2}) == first
    assert fingerprint([f], {"m": 3}) != first
    f.write_bytes(b"two")
    assert fingerprint([f], {"m": 2}) != first


# ----------------------------------------------------------------------------- reference
def _reference(staged, out: Path, *, seed: int = 2, resume_dir=None) -> dict:
    return reference_stage(audited_parquet=staged["audited"], m=40, n_draws=19, level=0.95, rule="quantile",
                           w_method="exact", subref_size=100, subref_seed=1, seed=seed, out_json=out,
                           resume_dir=resume_dir)


def test_reference_resumes_from_the_first_missing_draw(staged, tmp_path, monkeypatch):
    plain = _reference(staged, tmp_path / "plain.json")
    resume = tmp_path / "resume"
    calls = _counting(monkeypatch, detect_thresholds, "reference_draws", fail_at=8)
    with pytest.raises(Interrupted):
        _reference(staged, tmp_path / "out.json", resume_dir=resume)
    assert not (tmp_path / "out.json").exists() and len(list(resume.glob("draw_*.json"))) == 7
    assert len(list(resume.glob("draw_*.seconds"))) == 7
    monkeypatch.undo()
    calls = _counting(monkeypatch, detect_thresholds, "reference_draws")
    resumed = _reference(staged, tmp_path / "out.json", resume_dir=resume)
    assert len(calls) == 19 - 7  # the seven stored draws are read back, not recomputed
    assert not resume.exists()  # removed once the output is written
    assert _without_timings(resumed) == _without_timings(plain)
    on_disk = json.loads((tmp_path / "out.json").read_text())
    assert _without_timings(on_disk) == _without_timings(json.loads((tmp_path / "plain.json").read_text()))
    assert "mmd_self_term" in on_disk["precomputed"]
    # the job's cost includes the seven draws of the first attempt (stored with each draw)
    assert plain["resumed_seconds"] == 0.0 and on_disk["resumed_seconds"] > 0.0


def test_reference_checkpoint_of_other_settings_is_not_used(staged, tmp_path, monkeypatch):
    resume = tmp_path / "resume"
    _counting(monkeypatch, detect_thresholds, "reference_draws", fail_at=5)
    with pytest.raises(Interrupted):
        _reference(staged, tmp_path / "a.json", seed=2, resume_dir=resume)
    monkeypatch.undo()
    calls = _counting(monkeypatch, detect_thresholds, "reference_draws")
    got = _reference(staged, tmp_path / "b.json", seed=3, resume_dir=resume)
    assert len(calls) == 19
    assert _without_timings(got) == _without_timings(_reference(staged, tmp_path / "c.json", seed=3))


# ----------------------------------------------------------------------------- Table 2
def _detect(staged, d: Path, resume_dir=None) -> list[dict]:
    jobs = [{"manipulated_parquet": staged[me]["parquet"], "manipulated_json": staged[me]["json"],
             "seed": 3 + i,
             "out_parquet": d / f"{me}.parquet", "out_json": d / f"{me}.json"}
            for i, me in enumerate(("Matching", "Entropic_b"))]
    d.mkdir(exist_ok=True)
    return detect_stages(audited_parquet=staged["audited"], reference_json=staged["ref40"], m=40, n_samples=6,
                         target=0.8, jobs=jobs, resume_dir=resume_dir)


def test_detection_resumes_after_the_finished_methods(staged, tmp_path, monkeypatch):
    _detect(staged, tmp_path / "plain")
    resume = tmp_path / "resume"
    _counting(monkeypatch, stages, "detection", fail_at=2)
    with pytest.raises(Interrupted):
        _detect(staged, tmp_path / "run", resume_dir=resume)
    for me in ("Matching", "Entropic_b"):  # as Snakemake does before rerunning a job
        (tmp_path / "run" / f"{me}.parquet").unlink(missing_ok=True)
        (tmp_path / "run" / f"{me}.json").unlink(missing_ok=True)
    monkeypatch.undo()
    calls = _counting(monkeypatch, stages, "detection")
    _detect(staged, tmp_path / "run", resume_dir=resume)
    assert len(calls) == 1 and not resume.exists()
    for me in ("Matching", "Entropic_b"):
        run, plain = tmp_path / "run" / f"{me}.parquet", tmp_path / "plain" / f"{me}.parquet"
        assert run.read_bytes() == plain.read_bytes()
        a = json.loads((tmp_path / "run" / f"{me}.json").read_text())
        b = json.loads((tmp_path / "plain" / f"{me}.json").read_text())
        assert _without_timings(a) == _without_timings(b)
        assert b["resumed_seconds"] == 0.0
        # Matching finished in the first attempt: its seconds are resumed work, Entropic_b's are not
        assert a["resumed_seconds"] == (a["seconds"] if me == "Matching" else 0.0)


# ----------------------------------------------------------------------------- Tables 3, 15
def _fairest(staged, method: str, out: Path, resume_dir=None) -> dict:
    return fairest_stage(audited_parquet=staged["audited"], method=method,
                         reference_jsons={40: staged["ref40"], 80: staged["ref80"]}, model=None, options=None,
                         seed=0, start=0.95, step=0.05, n_samples=8, out_json=out, resume_dir=resume_dir)


@pytest.mark.parametrize("method", ["Matching", "Entropic_b"])  # greedy (trajectory prefixes) and not
def test_fairest_search_resumes_at_the_first_level_not_stored(staged, tmp_path, method, monkeypatch):
    plain_calls = _counting(monkeypatch, fairest_mod, "_search_level")
    plain = _fairest(staged, method, tmp_path / "plain.json")
    total = len(plain_calls)
    assert total >= 3, "the search should visit several levels for the test to mean anything"
    monkeypatch.undo()
    resume = tmp_path / "resume"
    _counting(monkeypatch, fairest_mod, "_search_level", fail_at=total - 1)
    with pytest.raises(Interrupted):
        _fairest(staged, method, tmp_path / "out.json", resume_dir=resume)
    assert len(list(resume.glob("m*_level*.json"))) == total - 2
    monkeypatch.undo()
    calls = _counting(monkeypatch, fairest_mod, "_search_level")
    resumed = _fairest(staged, method, tmp_path / "out.json", resume_dir=resume)
    assert len(calls) == 2 and not resume.exists()
    assert _without_timings(resumed) == _without_timings(plain)
    assert plain["resumed_seconds"] == 0.0 and resumed["resumed_seconds"] > 0.0

"""Issue 20, part 5: the threshold cache is checked, private, and cleaned up only where it is ours.

Before: editing one cached file changed a verdict; the cache folder and its parent were
removed when empty and recreated 0755; ``io.atomic_write`` set ``umask(0)`` process-wide,
named the temporary file on error and did not fsync.
"""

from __future__ import annotations

import json
import os
import stat

import hostile_files as hf
import numpy as np
import pytest

from fairwash.detect.context import BatteryContext
from fairwash.inputs import prepare
from fairwash.io import atomic_path, atomic_write_text
from fairwash.protocol.thresholds import KEY_FILE, ThresholdSettings, ThresholdStore, seal
from fairwash.resume import MADE_MARKER, Checkpoint

SETTINGS = ThresholdSettings(tests=("KL_P", "W_P", "MMD_P"), n_draws=19, seed=4)


@pytest.fixture(scope="module")
def ctx():
    full, _, _ = prepare(hf.decisions(300), None, sensitive="sex", s0="Female", outcome="approved")
    return BatteryContext.prepare(full.joint())


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_cache_folder_is_private_and_entries_are_sealed(ctx, tmp_path):
    cache = tmp_path / "a" / "cache"
    thr, info = ThresholdStore(ctx, SETTINGS, cache_dir=cache).get(30)
    assert info["cache"] == "written"
    assert _mode(cache) == 0o700 and _mode(tmp_path / "a") == 0o700
    assert _mode(cache / KEY_FILE) == 0o600 and len((cache / KEY_FILE).read_bytes()) == 32
    content = json.loads((cache / info["path"].split("/")[-1]).read_text())
    key = (cache / KEY_FILE).read_bytes()
    assert content["hmac"] == seal(content, key)
    again, info2 = ThresholdStore(ctx, SETTINGS, cache_dir=cache).get(30)
    assert info2["cache"] == "used" and again.thresholds == thr.thresholds


def test_an_edited_cache_entry_is_recomputed_not_trusted(ctx, tmp_path):
    thr, info = ThresholdStore(ctx, SETTINGS, cache_dir=tmp_path).get(30)
    path = info["path"]
    content = json.loads(open(path).read())
    content["thresholds"]["KL_P"] = 1e9  # a forger's threshold that no sample exceeds
    content["draws"]["KL_P"] = [0.0] * 19
    open(path, "w").write(json.dumps(content))
    got, info2 = ThresholdStore(ctx, SETTINGS, cache_dir=tmp_path).get(30)
    assert info2["cache"] == "written"  # the checksum failed: computed again and overwritten
    assert got.thresholds == thr.thresholds
    # a forger who also recomputes the checksum without the key fails the same way
    content["hmac"] = seal(content, b"\0" * 32)
    open(path, "w").write(json.dumps(content))
    assert ThresholdStore(ctx, SETTINGS, cache_dir=tmp_path).get(30)[1]["cache"] == "written"


def test_a_tampered_partial_draw_is_recomputed(ctx, tmp_path):
    ck = Checkpoint(tmp_path / "job", {"k": 1}, secret=b"k" * 32)
    ck.put("draw_0", {"W_A": 1.5})
    assert Checkpoint(tmp_path / "job", {"k": 1}, secret=b"k" * 32).get("draw_0") == {"W_A": 1.5}
    (tmp_path / "job" / "draw_0.json").write_text('{"W_A": 0.0}\n')
    assert Checkpoint(tmp_path / "job", {"k": 1}, secret=b"k" * 32).get("draw_0") is None


def test_a_shared_cache_folder_is_not_used(ctx, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    thr, info = ThresholdStore(ctx, SETTINGS, cache_dir=shared).get(30)
    assert info["cache"] == "unwritable" and "others may write" in info["error"]
    assert list(shared.iterdir()) == []  # nothing read, nothing written
    assert np.isfinite(thr.thresholds["KL_P"])


def test_a_key_readable_by_others_is_not_used(ctx, tmp_path):
    ThresholdStore(ctx, SETTINGS, cache_dir=tmp_path).get(30)
    os.chmod(tmp_path / KEY_FILE, 0o644)
    _, info = ThresholdStore(ctx, SETTINGS, cache_dir=tmp_path).get(30)
    assert info["cache"] == "unwritable" and "others may read" in info["error"]


def test_clear_never_removes_a_folder_it_did_not_create(tmp_path):
    home = tmp_path / "home"
    cache = home / ".cache" / "fairwash"
    cache.mkdir(parents=True)
    ck = Checkpoint(cache / "partial-abc", {})
    ck.put("draw_0", 1)
    ck.clear()
    assert cache.is_dir() and (home / ".cache").is_dir()  # the auditor's folders stay
    assert not (cache / "partial-abc").exists()


def test_clear_removes_the_parents_a_checkpoint_made(tmp_path):
    a = Checkpoint(tmp_path / "resume" / "rule" / "a", {})
    assert (tmp_path / "resume" / MADE_MARKER).exists()
    assert _mode(tmp_path / "resume") == 0o700
    a.clear()
    assert not (tmp_path / "resume").exists() and tmp_path.is_dir()


def test_atomic_write_keeps_the_umask_names_the_target_and_fsyncs(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    monkeypatch.setattr(os, "umask", lambda *a: pytest.fail("os.umask called"))
    target = tmp_path / "out.txt"
    atomic_write_text("hello", target)
    assert target.read_text() == "hello" and len(calls) >= 1
    assert _mode(target) == 0o666 & ~_current_umask()
    with pytest.raises(OSError) as err, atomic_path(tmp_path / "full.json") as tmp:
        raise OSError(28, "No space left on device", str(tmp))  # a disk filling up mid-write
    assert err.value.filename == str(tmp_path / "full.json") and err.value.errno == 28
    assert "writing" in str(err.value) and ".tmp" not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary file left


def _current_umask() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022

"""Shared fixtures: repository paths, the authors' files, small random data, a staged toy audit."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _authors_dir() -> Path | None:
    env = os.environ.get("FAIRWASH_AUTHORS_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "authors")
    for c in candidates:
        if (c / "Result" / "ADULT" / "original.npy").exists():
            return c
    return None


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def authors_dir() -> Path:
    """The authors' published files; tests needing them skip (by name) without them."""
    d = _authors_dir()
    if d is None:
        pytest.skip(
            "authors' files not found: set FAIRWASH_AUTHORS_DIR to a folder holding Result/ "
            "(see README, 'The paper on the authors' inputs')"
        )
    return d


def authors_adult_or_skip():
    """The authors' audited ADULT set, or skip the test (by name) when their files are absent."""
    from fairwash.data.authors import load_authors

    d = _authors_dir()
    if d is None:
        pytest.skip("authors' files not found (FAIRWASH_AUTHORS_DIR / ../shared/authors)")
    return load_authors("ADULT", cache_dir=d, download=False)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def build_toy_audit(directory: Path, seed: int, n: int = 400) -> dict:
    """A toy audited set with its Matching and Entropic_b manipulations and references (m = 40, 80).

    Returns the paths: ``audited``, ``dir``, ``{method: {"parquet", "trajectory", "json"}}``
    and ``ref40`` / ``ref80`` (19 exact draws each).
    """
    from fairwash.data.base import AuditData
    from fairwash.pipeline.audit import reference_stage
    from fairwash.pipeline.manipulate import manipulate_stage

    gen = np.random.default_rng(seed)
    x = gen.integers(0, 4, (n, 2)).astype(float)
    s = (gen.random(n) < 0.6).astype(np.int8)
    y = ((x[:, 0] + 1.2 * s + gen.normal(0, 1, n)) > 2.2).astype(np.int8)
    AuditData.from_arrays("toy", x, s, Y_hat=y).save(directory / "toy.parquet", directory / "toy.json")
    paths: dict = {"audited": directory / "toy.parquet", "dir": directory}
    for method in ("Matching", "Entropic_b"):
        out = {k: directory / f"{method}.{ext}" for k, ext in
               (("parquet", "parquet"), ("trajectory", "trajectory.parquet"), ("json", "json"))}
        manipulate_stage(audited_parquet=paths["audited"], method=method, target=0.8, model=None,
                         random_state=0, options=None, out=out)
        paths[method] = out
    for m in (40, 80):
        paths[f"ref{m}"] = directory / f"reference_m{m}.json"
        reference_stage(audited_parquet=paths["audited"], m=m, n_draws=19, level=0.95, rule="quantile",
                        w_method="exact", subref_size=100, subref_seed=1, seed=2, out_json=paths[f"ref{m}"])
    return paths


@pytest.fixture(scope="session")
def toy_audit():
    """:func:`build_toy_audit`, for module fixtures that stage their own copy."""
    return build_toy_audit

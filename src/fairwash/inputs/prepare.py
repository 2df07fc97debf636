"""From the two files to two :class:`~fairwash.data.base.AuditData` on one scale, and the report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import RESERVED_COLUMNS, AuditData, DataError
from fairwash.inputs.columns import _distinct, _fmt, _kind, _label, check_columns
from fairwash.inputs.encoding import MAX_LEVELS, Encoding, _fit_encoding
from fairwash.inputs.rules import OutcomeRule, SRule, _outcome_rule, _s_rule
from fairwash.protocol.limits import DEFAULT_READ_LIMITS
from fairwash.text import quoted, shown, shown_list

__all__ = ["InputReport", "prepare"]


@dataclass
class InputReport:
    """What :func:`prepare` read, decided and dropped (printed by the command line).

    Attributes
    ----------
    full_path, sample_path : str
    rows_full, rows_sample : int
        Rows read.
    n_full, n_sample : int
        Rows used (after ``drop_missing``).
    missing_full, missing_sample : dict[str, int]
        Missing values per used column (only columns with some).
    dropped_full, dropped_sample : int
        Rows dropped for missing values.
    s_rule : SRule
    outcome_rule : OutcomeRule
    encoding : Encoding
    groups_full, groups_sample : dict[str, int]
        Rows per group (``"S=0"``, ``"S=1"``).
    ignored_columns : list of str
        Sample columns that the full data lacks (not used).
    full_rows, sample_rows : ndarray of int
        Positions, in the files, of the rows used.
    notes : list of str
    redteam : str or None
        The red-team label (first comment line of a ``fairwash attack`` CSV) of the sample
        or the full data, shown: a deliberately manipulated file handed to an audit.
    """

    full_path: str
    sample_path: str | None
    rows_full: int
    rows_sample: int
    n_full: int
    n_sample: int
    missing_full: dict[str, int]
    missing_sample: dict[str, int]
    dropped_full: int
    dropped_sample: int
    s_rule: SRule
    outcome_rule: OutcomeRule
    encoding: Encoding
    groups_full: dict[str, int]
    groups_sample: dict[str, int]
    ignored_columns: list[str]
    full_rows: np.ndarray = field(repr=False)
    sample_rows: np.ndarray = field(repr=False)
    notes: list[str] = field(default_factory=list)
    redteam: str | None = None

    def missing_text(self) -> str:
        if not self.missing_full and not self.missing_sample:
            return "none"
        parts = []
        for label, miss, dropped in (("full data", self.missing_full, self.dropped_full),
                                     ("sample", self.missing_sample, self.dropped_sample)):
            if miss:
                cols = ", ".join(f"{shown(c, 80)} ({k})" for c, k in miss.items())
                parts.append(f"{label}: {cols}; {dropped} row(s) dropped")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data; every name from the files :func:`~fairwash.text.shown`."""
        return {
            "redteam": self.redteam,
            "full": {"path": self.full_path, "rows_read": self.rows_full, "rows_used": self.n_full,
                     "missing": self.missing_full, "dropped": self.dropped_full, "groups": self.groups_full},
            "sample": {"path": self.sample_path, "rows_read": self.rows_sample, "rows_used": self.n_sample,
                       "missing": self.missing_sample, "dropped": self.dropped_sample,
                       "groups": self.groups_sample},
            "sensitive": self.s_rule.to_dict(),
            "outcome": self.outcome_rule.to_dict(),
            "features": self.encoding.to_dict(),
            "ignored_columns": [shown(c) for c in self.ignored_columns],
            "notes": self.notes,
        }


# ----------------------------------------------------------------------------- prepare
def _align_types(full: pd.DataFrame, sample: pd.DataFrame, columns: Sequence[str], where: str,
                 categorical: Sequence[str]) -> pd.DataFrame:
    """The sample's columns converted to the full data's kinds (numeric / bool / text)."""
    out = sample.copy()
    for col in columns:
        kf, ks = _kind(full[col]), _kind(sample[col])
        if col in categorical or kf == "text":
            out[col] = sample[col].where(sample[col].isna(), sample[col].astype(str))
            if ks != "text" and kf == "text":
                # numbers read from a CSV where the full data has text: compare as text
                full_text = set(full[col].dropna().astype(str))
                conv = sample[col].dropna()
                as_int = conv.map(
                    lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                if set(as_int) <= full_text:
                    out.loc[conv.index, col] = as_int
            continue
        if kf == "numeric" and ks != "numeric":
            conv = pd.to_numeric(sample[col], errors="coerce")
            bad = sample[col][conv.isna() & sample[col].notna()]
            if len(bad):
                raise DataError(
                    f"{where}: column {quoted(col)} is numeric in the full data but the sample has "
                    f"non-numeric "
                    f"value(s) {shown_list(pd.unique(bad), 5)} ({len(bad)} row(s))"
                )
            out[col] = conv
        elif kf == "bool" and ks != "bool":
            text = sample[col].astype(str).str.strip().str.lower()
            mapping = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}
            bad = sample[col][~text.isin(mapping) & sample[col].notna()]
            if len(bad):
                raise DataError(f"{where}: column {quoted(col)} is True/False in the full data but "
                                f"the sample has "
                                f"value(s) {shown_list(pd.unique(bad), 5)}")
            out[col] = text.map(mapping).where(sample[col].notna())
    return out


def _missing(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, int]:
    """Missing values per column with some (names :func:`~fairwash.text.shown`)."""
    counts = frame[list(columns)].isna().sum()
    return {shown(c): int(k) for c, k in counts.items() if k > 0}


def _check_finite(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Refuse ``inf`` / ``-inf`` in a numeric column (the standardisation would make them NaN)."""
    for col in columns:
        if _kind(frame[col]) != "numeric":
            continue
        values = frame[col].to_numpy(dtype=np.float64, na_value=np.nan)
        inf = np.isinf(values)
        if inf.any():
            raise DataError(
                f"{where}: column {quoted(col)} has {int(inf.sum())} infinite value(s) (inf or -inf; "
                f"first at row {int(np.flatnonzero(inf)[0])}); fairwash needs finite numbers: fix the "
                f"file or leave the column out with --exclude {shown(col)}"
            )


def _redteam_label(frames: Sequence[pd.DataFrame | None]) -> str | None:
    """The first comment line naming a red-team exercise, of the first file that has one."""
    for frame in frames:
        for line in (frame.attrs.get("comments", []) if frame is not None else []):
            if "RED-TEAM" in line.upper():
                return shown(line.lstrip("# "), 300)
    return None


def _missing_error(label: str, miss: dict[str, int], n: int) -> DataError:
    cols = ", ".join(f"{shown(c, 80)} ({k} of {n} rows)" for c, k in miss.items())
    return DataError(
        f"{label}: missing values in {len(miss)} column(s): {cols}. fairwash does not fill them in: fix the "
        "file, leave those columns out with --exclude, or drop the incomplete rows with --drop-missing"
    )


def prepare(
    full_df: pd.DataFrame,
    sample_df: pd.DataFrame | None,
    *,
    sensitive: str,
    outcome: str,
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    categorical: Sequence[str] = (),
    s0: Any = None,
    s_threshold: Any = None,
    positive: Any = None,
    drop_missing: bool = False,
    max_levels: int = MAX_LEVELS,
    max_bytes: int = DEFAULT_READ_LIMITS.max_bytes,
) -> tuple[AuditData, AuditData | None, InputReport]:
    """Validate the full data and a submitted sample and put both on the battery's scale.

    Parameters
    ----------
    full_df : DataFrame
        The auditee's full data (e.g. from :func:`read_table`).
    sample_df : DataFrame or None
        The submitted sample (same columns); None to prepare the full data alone.
    sensitive : str
        The sensitive-attribute column.
    outcome : str
        The audited decision Ŷ (binary, or see ``positive``).
    features : sequence of str, optional
        Feature columns; default every other column (minus ``exclude``).
    exclude : sequence of str
        Columns left out of the features (identifiers, free text, the true label...).
    categorical : sequence of str
        Numeric columns to one-hot encode as categories (codes); text columns always are.
    s0 : scalar, optional
        The disadvantaged group's value: S = 0 where ``sensitive == s0``, 1 elsewhere.
    s_threshold : float, optional
        Numeric sensitive column: S = 1 where it is greater than the threshold, else 0.
    positive : scalar, optional
        The favourable value of ``outcome``; required unless it is 0/1 or True/False.
    drop_missing : bool
        Drop rows with a missing value in a used column (reported) instead of refusing.
    max_levels : int
        Most distinct values a text feature may have.
    max_bytes : int
        Largest in-memory size of the encoded feature matrices (one column per text level).

    Returns
    -------
    full : AuditData
        Standardised features, S and ``Y_hat`` (no true label).
    sample : AuditData or None
        The same for the sample, encoded and standardised with the full data's fit.
    report : InputReport

    Raises
    ------
    DataError
        On any problem with the files or the options, with a message naming the file,
        column and value (and close matches for a misspelt column).
    """
    full_label = _label(full_df, "full data")
    sample_label = _label(sample_df, "sample") if sample_df is not None else None
    where_full = f"full data {full_label}"
    where_sample = f"sample {sample_label}"
    feats = _feature_columns(full_df, sensitive, outcome, features, exclude, categorical, where_full)
    used = [sensitive, outcome, *feats]
    ignored: list[str] = []
    notes: list[str] = []
    redteam = _redteam_label([sample_df, full_df])
    if redteam is not None:
        notes.append(f"RED-TEAM: a file is labelled as deliberately manipulated: {redteam}")
    if sample_df is not None:
        check_columns(sample_df, used, "", where_sample)
        ignored = [c for c in sample_df.columns if c not in full_df.columns]
        if ignored:
            notes.append(f"sample columns absent from the full data, ignored: {shown_list(ignored)}")
        sample_df = _align_types(full_df, sample_df, used, where_sample, categorical)
    miss_full = _missing(full_df, used)
    miss_sample = _missing(sample_df, used) if sample_df is not None else {}
    if not drop_missing:
        if miss_full:
            raise _missing_error(where_full, miss_full, len(full_df))
        if miss_sample:
            raise _missing_error(where_sample, miss_sample, len(sample_df))
    _check_finite(full_df, used, where_full)
    if sample_df is not None:
        _check_finite(sample_df, used, where_sample)
    keep_full, f = _complete_rows(full_df, used, where_full)
    keep_sample, smp = (np.empty(0, dtype=np.int64), None) if sample_df is None else \
        _complete_rows(sample_df, used, where_sample)
    rules = (_s_rule(f[sensitive], sensitive, where_full, s0, s_threshold),
             _outcome_rule(f[outcome], outcome, where_full, positive),
             _fit_encoding(f, feats, categorical, where_full, max_levels, max_bytes))
    full = _build(f, f, (sensitive, outcome), rules, where_full, Path(full_label).stem or "full", False)
    sample = None if smp is None else _build(smp, f, (sensitive, outcome), rules, where_sample,
                                             Path(sample_label or "sample").stem, True)
    report = InputReport(
        full_path=full_label, sample_path=sample_label,
        rows_full=len(full_df), rows_sample=0 if sample_df is None else len(sample_df),
        n_full=full.n, n_sample=0 if sample is None else sample.n,
        missing_full=miss_full, missing_sample=miss_sample,
        dropped_full=len(full_df) - len(keep_full),
        dropped_sample=0 if sample_df is None else len(sample_df) - len(keep_sample),
        s_rule=rules[0], outcome_rule=rules[1], encoding=rules[2],
        groups_full=_groups(full), groups_sample=_groups(sample), ignored_columns=ignored,
        full_rows=keep_full, sample_rows=keep_sample, notes=notes, redteam=redteam,
    )
    return full, sample, report


def _feature_columns(full_df: pd.DataFrame, sensitive: str, outcome: str, features: Sequence[str] | None,
                     exclude: Sequence[str], categorical: Sequence[str], where_full: str) -> list[str]:
    """The feature columns, every named column checked to exist."""
    if sensitive == outcome:
        raise DataError(f"the sensitive column and the outcome column are the same ({quoted(sensitive)})")
    check_columns(full_df, [sensitive], "sensitive", where_full)
    check_columns(full_df, [outcome], "outcome", where_full)
    check_columns(full_df, list(exclude), "--exclude", where_full)
    check_columns(full_df, list(categorical), "--categorical", where_full)
    if features is None:
        feats = [c for c in full_df.columns if c not in (sensitive, outcome) and c not in set(exclude)]
    else:
        feats = list(dict.fromkeys(features))
        check_columns(full_df, feats, "feature", where_full)
        both = [c for c in feats if c in set(exclude)]
        if both:
            raise DataError(f"--features and --exclude both name {shown_list(both)}: say whether "
                            f"{'it is' if len(both) == 1 else 'they are'} a feature or not")
        clash = [c for c in feats if c in (sensitive, outcome)]
        if clash:
            raise DataError(f"--features must not list the sensitive or outcome column: {shown_list(clash)}")
        feats = [c for c in feats if c not in set(exclude)]
    reserved = [c for c in feats if c in RESERVED_COLUMNS]
    if reserved:
        # e.g. the true label Y of a pipeline file: a feature named S/Y/Y_hat is ambiguous
        raise DataError(
            f"{where_full}: column(s) {shown_list(reserved)} would be features but are names "
            f"fairwash reserves for "
            f"S, Y and Y_hat; leave them out with --exclude {','.join(reserved)}, or rename them"
        )
    return feats


def _complete_rows(frame: pd.DataFrame, used: Sequence[str], where: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Positions of the rows without a missing value in ``used``, and those rows."""
    keep = np.flatnonzero(frame[list(used)].notna().all(axis=1).to_numpy())
    rows = frame.iloc[keep].reset_index(drop=True)
    if len(rows) == 0:
        raise DataError(f"{where}: no complete row left after dropping missing values")
    return keep, rows


def _build(frame: pd.DataFrame, full: pd.DataFrame, columns: tuple[str, str],
           rules: tuple[SRule, OutcomeRule, Encoding], where: str, name: str,
           check_values: bool) -> AuditData:
    """One file's rows as AuditData, with the full data's rules and encoding."""
    s_rule, y_rule, enc = rules
    sensitive, outcome = columns
    if check_values:
        for col in columns:
            if col == sensitive and s_rule.kind == "threshold":
                continue  # a threshold, not a coding: any number is on one side of it
            _check_coding(frame[col], full[col], col, where)
    S = s_rule.apply(frame[sensitive], where)
    Yh = y_rule.apply(frame[outcome], where)
    if S.min() == S.max():
        raise DataError(
            f"{where}: every row is in group S = {int(S[0])} ({s_rule.describe()}); both groups are "
            "needed to compute Disparate Impact"
        )
    X = pd.DataFrame(enc.encode(frame, where), columns=list(enc.columns))
    return AuditData(name, X, S, None, Yh, meta={"path": where, "s_rule": s_rule.describe(),
                                                 "outcome_rule": y_rule.describe()})


def _check_coding(values: pd.Series, full: pd.Series, col: str, where: str) -> None:
    """Refuse a value of the sample's ``col`` that the full data's ``col`` never takes (a code 9
    where the full data has 0/1 would otherwise silently become "not S = 0")."""
    if _kind(full) == "text":
        known = np.asarray(pd.unique(full.astype(str)))
        have = values.astype(str).to_numpy()
    else:
        known = np.asarray(pd.unique(full.to_numpy(dtype=np.float64)))
        have = values.to_numpy(dtype=np.float64)
    bad = ~np.isin(have, known)
    if bad.any():
        uniq, counts = np.unique(have[bad], return_counts=True)
        order = np.argsort(-counts, kind="stable")[:5]
        listed = ", ".join(f"{_fmt(uniq[i])} ({int(counts[i])} row(s))" for i in order)
        more = f" and {len(uniq) - 5} other value(s)" if len(uniq) > 5 else ""
        raise DataError(f"{where}: column {quoted(col)} has value(s) the full data never takes: "
                        f"{listed}{more}, {int(bad.sum())} row(s) in all; its values there are "
                        f"{_distinct(full)}")


def _groups(d: AuditData | None) -> dict[str, int]:
    if d is None:
        return {}
    return {"S=0": int((d.S == 0).sum()), "S=1": int((d.S == 1).sum())}

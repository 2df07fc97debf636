"""Reading and validating an auditor's own files (the ``fairwash`` command line).

An auditor holds the auditee's **full data** (one row per individual, with the
sensitive attribute and the audited model's decision Ŷ) and a **submitted sample**
(rows claimed to be drawn uniformly from it).  Both are CSV or parquet files with
the same columns.  This module turns them into two :class:`~fairwash.data.base.AuditData`
on one scale, the rows ``(x, s, ŷ)`` the battery compares (paper, Section 4):

* the sensitive attribute becomes S in {0, 1} by an **explicit** rule, never a guess
  (``s0``: the disadvantaged group's value, S = 0 there and 1 elsewhere; or
  ``s_threshold``: S = 1 where the value exceeds it, as the paper's MOB and BAF data
  sets binarise age);
* the outcome becomes Ŷ in {0, 1} (0/1 or True/False as they are, or ``positive``
  naming the favourable value);
* the other columns (or ``features``) are the features: text columns one-hot
  encoded with the levels of the **full** data, then every feature standardised with
  the full data's mean and standard deviation, applied to both files, so identical
  rows of the two files stay byte-identical (the KL test on exact rows needs this);
* missing values are counted per column and refused, or their rows dropped on request
  (``drop_missing``), never silently.

Every problem a user can cause raises :class:`~fairwash.data.base.DataError` with a
message naming the file, the column and the value, and, for a misspelt column, the
close matches and the list of available columns.

The package: :mod:`~fairwash.inputs.read` (files), :mod:`~fairwash.inputs.columns` (column checks),
:mod:`~fairwash.inputs.rules` (S and Ŷ), :mod:`~fairwash.inputs.encoding` (features),
:mod:`~fairwash.inputs.prepare` (both files on one scale, the report).
"""

from __future__ import annotations

from fairwash.inputs.columns import check_columns
from fairwash.inputs.encoding import MAX_LEVELS, Encoding
from fairwash.inputs.prepare import InputReport, prepare
from fairwash.inputs.read import CSV_SUFFIXES, PARQUET_SUFFIXES, read_table
from fairwash.inputs.rules import OutcomeRule, SRule

__all__ = [
    "CSV_SUFFIXES",
    "PARQUET_SUFFIXES",
    "SRule",
    "OutcomeRule",
    "Encoding",
    "InputReport",
    "read_table",
    "check_columns",
    "prepare",
    "MAX_LEVELS",
]

"""The self-contained HTML audit report of ``fairwash check --report`` and ``fairwash risk --report``.

One page an auditor can hand to a committee: the verdict first, then the evidence (each test's
honest reference distribution with its threshold and the observed value, the sample's four
(s, ŷ) cells beside the full data's, the DI with its interval, the sample size that closes the
gap) and what reproduces it (command, input checksums, versions, seed). Figures are inline PNG
data URIs, the CSS is inline, there is no script: the file opens anywhere, offline.

Modules: :mod:`~fairwash.audit_report.page` (the document), :mod:`~fairwash.audit_report.sections`
(the blocks), :mod:`~fairwash.audit_report.figures` (matplotlib), :mod:`~fairwash.audit_report.provenance`,
:mod:`~fairwash.audit_report.check` and :mod:`~fairwash.audit_report.risk` (a report from a result),
:mod:`~fairwash.audit_report.browser` (headless Chromium, for the tests and the screenshots).
"""

from fairwash.audit_report.check import check_report, write_check_report
from fairwash.audit_report.provenance import Provenance, collect_provenance
from fairwash.audit_report.risk import risk_report, write_risk_report

__all__ = ["check_report", "write_check_report", "risk_report", "write_risk_report", "Provenance",
           "collect_provenance"]

"""fairwash: fairwashing attacks on Disparate Impact audits and their detection.

Replicates "Exposing the Illusion of Fairness: Auditing Vulnerabilities to
Distributional Manipulation Attacks" (Lafargue et al.) and adds the
counterfactual-twin audit.  See README.md.
"""

from __future__ import annotations

from typing import Any

from fairwash.errors import DataError

__version__ = "0.1.0"
__all__ = ["AuditData", "DataError", "FeatureSpec", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("AuditData", "FeatureSpec"):
        from fairwash.data import base  # loads pandas: only when asked for (the CLI answers at once)

        return getattr(base, name)
    raise AttributeError(f"module 'fairwash' has no attribute {name!r}")

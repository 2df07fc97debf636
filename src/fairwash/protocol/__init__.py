"""The audit protocol: what the command line and the pipeline both call.

One module per job (paper, Sections 4 and 7, Appendix 0.J):

* :mod:`~fairwash.protocol.thresholds` — the threshold store (eq. 3): compute-or-load
  reference thresholds, resumably; the pipeline's reference files and the command
  line's cache are the same function's output;
* :mod:`~fairwash.protocol.check` — :func:`check_sample`, the battery on a submitted
  sample, as a :class:`CheckReport` (``fairwash check`` renders it);
* :mod:`~fairwash.protocol.samples` — audit samples from ``Q`` and their DI;
* :mod:`~fairwash.protocol.detection_rates` — detection rates (Table 2);
* :mod:`~fairwash.protocol.levels` — ``Q`` per DI level, shared by the searches;
* :mod:`~fairwash.protocol.fairest` — the fairest undetected DI (Tables 3, 15);
* :mod:`~fairwash.protocol.sample_size` — the sample-size study and the smallest safe
  fraction (Fig. 8);
* :mod:`~fairwash.protocol.risk` — ``fairwash risk``'s two questions, on the same loop;
* :mod:`~fairwash.protocol.redteam` — ``fairwash attack``'s sample (rows: :mod:`~fairwash.protocol.rows`).

Imports go downward: cli and pipeline → protocol → detect / manipulate → data, io.
The names below are loaded on first use, so that ``fairwash --help`` (which imports
:mod:`~fairwash.protocol.rows`) does not load POT or torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the module of this package that defines it.
_EXPORTS = {
    "ThresholdSettings": "thresholds", "ThresholdStore": "thresholds", "compute_thresholds": "thresholds",
    "obtain_thresholds": "thresholds", "mismatch": "thresholds",
    "CheckReport": "check", "check_sample": "check",
    "draw_samples": "samples", "sample_di": "samples",
    "detection": "detection_rates", "detection_summary": "detection_rates",
    "empty_detection": "detection_rates",
    "ManipulationLevels": "levels",
    "FairestResult": "fairest", "search_levels": "fairest", "fairest_undetected": "fairest",
    "fairest_undetected_sets": "fairest", "fairest_by_size": "fairest",
    "FractionSearch": "sample_size", "fairest_by_fraction": "sample_size", "sample_size_study": "sample_size",
    "SafeFraction": "sample_size", "smallest_safe_fraction": "sample_size",
    "FractionRisk": "risk", "risk_at_fraction": "risk", "TargetRisk": "risk", "risk_for_target": "risk",
    "RedTeamSample": "redteam", "red_team_sample": "redteam", "attack_rows": "rows",
}

__all__ = list(_EXPORTS)

if TYPE_CHECKING:  # the static view of the lazy names below
    from fairwash.protocol.check import CheckReport, check_sample  # noqa: F401
    from fairwash.protocol.detection_rates import detection, detection_summary, empty_detection  # noqa: F401
    from fairwash.protocol.fairest import (  # noqa: F401
        FairestResult,
        fairest_by_size,
        fairest_undetected,
        fairest_undetected_sets,
        search_levels,
    )
    from fairwash.protocol.levels import ManipulationLevels  # noqa: F401
    from fairwash.protocol.redteam import RedTeamSample, red_team_sample  # noqa: F401
    from fairwash.protocol.risk import FractionRisk, TargetRisk, risk_at_fraction, risk_for_target  # noqa: F401
    from fairwash.protocol.rows import attack_rows  # noqa: F401
    from fairwash.protocol.sample_size import (  # noqa: F401
        FractionSearch,
        SafeFraction,
        fairest_by_fraction,
        sample_size_study,
        smallest_safe_fraction,
    )
    from fairwash.protocol.samples import draw_samples, sample_di  # noqa: F401
    from fairwash.protocol.thresholds import (  # noqa: F401
        ThresholdSettings,
        ThresholdStore,
        compute_thresholds,
        mismatch,
        obtain_thresholds,
    )


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562)."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"fairwash.protocol.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

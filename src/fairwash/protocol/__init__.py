"""The audit protocol: what the command line and the pipeline both call.

One module per job (paper, Sections 4 and 7, Appendix 0.J):

* :mod:`~fairwash.protocol.thresholds` — the threshold store (eq. 3): compute-or-load
  reference thresholds, resumably; the pipeline's reference files and the command
  line's cache are the same function's output;
* :mod:`~fairwash.protocol.check` — :func:`check_sample`, the battery on a submitted
  sample, as a :class:`CheckReport` (``fairwash check`` renders it);
* :mod:`~fairwash.protocol.samples` — audit samples from ``Q`` and their DI;
* :mod:`~fairwash.protocol.detection` — detection rates (Table 2);
* :mod:`~fairwash.protocol.levels` — ``Q`` per DI level, shared by the searches;
* :mod:`~fairwash.protocol.fairest` — the fairest undetected DI (Tables 3, 15);
* :mod:`~fairwash.protocol.sample_size` — the sample-size study and the smallest safe
  fraction (Fig. 8);
* :mod:`~fairwash.protocol.risk` — ``fairwash risk``'s two questions, on the same loop.

Imports go downward: cli and pipeline → protocol → detect / manipulate → data, io.
"""

from fairwash.protocol.check import CheckReport, check_sample
from fairwash.protocol.detection import detection, detection_summary
from fairwash.protocol.fairest import (
    FairestResult,
    fairest_undetected,
    fairest_undetected_sets,
    search_levels,
)
from fairwash.protocol.levels import ManipulationLevels
from fairwash.protocol.risk import FractionRisk, TargetRisk, risk_at_fraction, risk_for_target
from fairwash.protocol.sample_size import (
    FractionSearch,
    SafeFraction,
    fairest_by_fraction,
    sample_size_study,
    smallest_safe_fraction,
)
from fairwash.protocol.samples import draw_samples, sample_di
from fairwash.protocol.thresholds import (
    ThresholdSettings,
    ThresholdStore,
    compute_thresholds,
    mismatch,
    obtain_thresholds,
)

__all__ = [
    "ThresholdSettings", "ThresholdStore", "compute_thresholds", "obtain_thresholds", "mismatch",
    "CheckReport", "check_sample",
    "draw_samples", "sample_di",
    "detection", "detection_summary",
    "ManipulationLevels",
    "FairestResult", "search_levels", "fairest_undetected", "fairest_undetected_sets",
    "FractionSearch", "fairest_by_fraction", "sample_size_study", "SafeFraction", "smallest_safe_fraction",
    "FractionRisk", "risk_at_fraction", "TargetRisk", "risk_for_target",
]

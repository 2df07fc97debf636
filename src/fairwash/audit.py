"""The paper's audit protocol, under its historical name: a re-export of :mod:`fairwash.protocol`.

The protocol now lives in one module per job: detection (Table 2) in
:mod:`fairwash.protocol.detection_rates`, the fairest search (Tables 3, 15) in
:mod:`fairwash.protocol.fairest`, the sample-size study (Fig. 8) in
:mod:`fairwash.protocol.sample_size`, and the cell cap beside the cell statistics in
:mod:`fairwash.detect.cells`. New code imports from there; this module keeps old
imports (notebooks, scripts) working.
"""

from fairwash.catalogue import CELL_TESTS, COST_ORDER
from fairwash.detect.cells import cell_di_cap
from fairwash.protocol.detection_rates import detection, detection_summary
from fairwash.protocol.fairest import (
    FairestResult,
    fairest_undetected,
    fairest_undetected_sets,
    search_levels,
)
from fairwash.protocol.levels import ManipulationLevels
from fairwash.protocol.sample_size import SafeFraction, sample_size_study, smallest_safe_fraction
from fairwash.protocol.samples import draw_samples, sample_di

__all__ = [
    "COST_ORDER",
    "CELL_TESTS",
    "sample_di",
    "draw_samples",
    "detection",
    "detection_summary",
    "cell_di_cap",
    "ManipulationLevels",
    "FairestResult",
    "search_levels",
    "fairest_undetected",
    "fairest_undetected_sets",
    "sample_size_study",
    "SafeFraction",
    "smallest_safe_fraction",
]

"""The names and rules of the audit, in one place: tests, methods, 0.8, fraction → m.

Everything else (the battery, the attacks, the command line, the Snakemake rules, the
figures and tables) reads these facts from here, so a new test or a new attack is named
once. This module imports nothing heavier than the standard library: the command line's
help and a Snakemake dry run read it without loading POT or torch.

* :data:`TEST_SPECS` — the battery's seven tests (paper, Section 4; Table 2's order),
  each with its kind (``"row"``: looks at the rows ``(x, s, ŷ)``; ``"cell"``: depends on
  a sample only through its four ``(s, ŷ)`` counts), its cost rank and whether its
  threshold comes from honest reference draws (eq. 3).
* :data:`METHOD_SPECS` — the fairwashing attacks (Section 5, Appendices 0.A, 0.B) with
  their family, what they need and whether they are greedy (a trajectory whose prefixes
  give every lower target).
* :data:`COMPLIANCE_THRESHOLD` — the four-fifths rule, DI ≥ 0.8.
* :func:`sample_size` — the one rule from a sample fraction to a sample size ``m``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "COMPLIANCE_THRESHOLD",
    "REPORTED_DI_MAX",
    "TestSpec",
    "TEST_SPECS",
    "TESTS",
    "NO_MMD",
    "DISTANCE_TESTS",
    "CELL_TESTS",
    "COST_ORDER",
    "LAZY_TESTS",
    "MethodSpec",
    "METHOD_SPECS",
    "METHODS",
    "PAPER_METHODS",
    "DEFAULT_METHODS",
    "ROW_PRESERVING_METHODS",
    "check_tests",
    "check_methods",
    "options_key",
    "sample_size",
]

#: The compliance threshold τ of the four-fifths rule: a model complies if DI ≥ 0.8.
COMPLIANCE_THRESHOLD: float = 0.8
#: Table 3 (and our fairest search) reports the highest undetected DI capped at 1.
REPORTED_DI_MAX: float = 1.0


@dataclass(frozen=True)
class TestSpec:
    """One test of the battery.

    Attributes
    ----------
    name : str
        As in the paper's tables (``"KS"``, ``"KL_A"``, ...).
    distance : str
        The statistic's family (Section 4: ``"KS"``, ``"KL"``, ``"W"``, ``"MMD"``).
    kind : {"row", "cell"}
        ``"cell"``: the statistic depends on a sample only through its four (s, ŷ)
        counts (so does its DI); ``"row"``: on the rows themselves.
    cost_rank : int
        0 is the cheapest (microseconds for the cell tests, seconds for exact W_A); a
        short-circuited battery runs tests in this order.
    calibrated : bool
        Its threshold is a quantile of honest reference draws (eq. 3). KS uses SciPy's
        p-value instead (calibrated by reference draws only with
        ``ks_calibration="reference"``).
    ablation : bool
        Kept in the five-test ablation of Table 15 (which drops MMD).
    description : str
    """

    __test__ = False  # not a pytest class

    name: str
    distance: str
    kind: Literal["row", "cell"]
    cost_rank: int
    calibrated: bool
    ablation: bool
    description: str


#: The seven tests of Tables 2 and 3, in the paper's order.
TEST_SPECS: dict[str, TestSpec] = {
    s.name: s
    for s in (
        TestSpec("KS", "KS", "cell", 3, False, True,
                 "two-sample Kolmogorov-Smirnov on ŷ within each group (SciPy p-value)"),
        TestSpec("KL_A", "KL", "row", 4, True, True,
                 "Kullback-Leibler divergence on exact rows (infinite for a row not in the data)"),
        TestSpec("KL_P", "KL", "cell", 0, True, True, "Kullback-Leibler divergence on the four (s, ŷ) cells"),
        TestSpec("W_A", "W", "row", 6, True, True,
                 "Wasserstein-1 distance (exact optimal transport) on the rows"),
        TestSpec("W_P", "W", "cell", 1, True, True, "Wasserstein-1 distance on the four (s, ŷ) cells"),
        TestSpec("MMD_A", "MMD", "row", 5, True, False, "squared MMD, Gaussian kernel, on the rows"),
        TestSpec("MMD_P", "MMD", "cell", 2, True, False,
                 "squared MMD, Gaussian kernel, on the four (s, ŷ) cells"),
    )
}

#: The seven tests, in the paper's order.
TESTS: tuple[str, ...] = tuple(TEST_SPECS)
#: The five-test ablation of Table 15 (no MMD): a configuration of the same battery.
NO_MMD: tuple[str, ...] = tuple(t for t, s in TEST_SPECS.items() if s.ablation)
#: Tests calibrated by honest reference draws (eq. 3); KS uses its own p-value.
DISTANCE_TESTS: tuple[str, ...] = tuple(t for t, s in TEST_SPECS.items() if s.calibrated)
#: Calibrated tests that depend on a sample only through its four (s, ŷ) counts (the cell cap).
CELL_TESTS: tuple[str, ...] = tuple(t for t, s in TEST_SPECS.items() if s.kind == "cell" and s.calibrated)
#: The order in which a short-circuited battery evaluates the tests (cheapest first).
COST_ORDER: tuple[str, ...] = tuple(sorted(TEST_SPECS, key=lambda t: TEST_SPECS[t].cost_rank))
#: The costliest test (exact W_A: seconds a sample): Table 2 computes it only where it decides
#: evasion, and on a seeded subsample for its own rate (``battery.w_a_rate_samples``).
LAZY_TESTS: tuple[str, ...] = COST_ORDER[-1:]


@dataclass(frozen=True)
class MethodSpec:
    """One fairwashing attack (how to run it lives in :mod:`fairwash.manipulate`).

    Attributes
    ----------
    name : str
        As in the paper's tables.
    family : str
        ``"Grad"`` for the four gradient variants, else the method itself; config options
        (``method_options``) are keyed by it.
    needs_model : bool
        Moves points through the audited model (the Grad family).
    needs_y : bool
        Needs the true label Y (equality of odds), absent from the authors' sets.
    greedy : bool
        Records an ordered trajectory whose prefixes reach every lower target.
    keeps_rows : bool
        Every row of a sample from Q is a row of the full data, or the row with only its
        S or Ŷ edited; ``fairwash attack`` can write such samples in the full file's columns.
    in_paper : bool
        A column of the paper's tables (SBS: its Appendix 0.B comparison, Tables 4 and 5).
    default : bool
        Run by the pipeline unless the config names its own list.
    description : str
    offer_rank : int or None
        Position among the attacks ``fairwash attack`` and ``fairwash risk`` offer (strongest
        first); None if not offered. Only methods that keep rows and need neither a model
        nor Y can be offered.
    """

    name: str
    family: str
    needs_model: bool
    needs_y: bool
    greedy: bool
    keeps_rows: bool
    in_paper: bool
    default: bool
    description: str
    offer_rank: int | None = None

    def __post_init__(self) -> None:
        offerable = self.keeps_rows and not self.needs_model and not self.needs_y
        if self.offer_rank is not None and not offerable:
            raise ValueError(f"{self.name}: only a method that keeps rows and needs no model or Y is offered")


def _grad(name: str, text: str) -> MethodSpec:
    return MethodSpec(name, "Grad", True, False, False, False, True, True, text)


#: The attacks, in the column order of the paper's tables, then SBS and EoO Matching.
METHOD_SPECS: dict[str, MethodSpec] = {
    s.name: s
    for s in (
        _grad("Grad_p", "gradient moves of x through the model, proportional split (Thm 5.2)"),
        _grad("Grad_b", "gradient moves of x through the model, balanced split (Thm 5.2)"),
        _grad("Grad_p_1D", "Grad_p with each coordinate snapped to observed values"),
        _grad("Grad_b_1D", "Grad_b with each coordinate snapped to observed values"),
        MethodSpec("Replace", "Replace", False, False, True, True, True, True,
                   "greedy edits of s or ŷ between the (s, ŷ) bins (Alg. 1)", offer_rank=3),
        MethodSpec("Entropic_b", "Entropic_b", False, False, False, True, True, True,
                   "KL projection: exponential reweighting, balanced split (Thm 5.1)", offer_rank=1),
        MethodSpec("Entropic_p", "Entropic_p", False, False, False, True, True, True,
                   "KL projection: exponential reweighting, proportional split (Thm 5.1)", offer_rank=2),
        MethodSpec("Matching", "Matching", False, False, True, True, True, True,
                   "greedy moves onto the nearest existing (x, s, ŷ), gain / cost (eq. 11)", offer_rank=0),
        MethodSpec("SBS", "SBS", False, False, False, True, True, True,
                   "stealthily biased sampling, minimum-Wasserstein weights (Fukuchi et al.)", offer_rank=4),
        MethodSpec("Matching_EoO", "Matching_EoO", False, True, True, False, False, False,
                   "Matching for equality of odds (Appendix 0.A, eq. 12)"),
    )
}

#: Every method, in table order.
METHODS: tuple[str, ...] = tuple(METHOD_SPECS)
#: The paper's columns.
PAPER_METHODS: tuple[str, ...] = tuple(m for m, s in METHOD_SPECS.items() if s.in_paper)
#: What the pipeline runs unless the config says otherwise.
DEFAULT_METHODS: tuple[str, ...] = tuple(m for m, s in METHOD_SPECS.items() if s.default)
#: The attacks ``fairwash attack`` and ``fairwash risk`` offer: their samples are rows of the
#: full file (or rows with S / Ŷ edited), and they need neither a model nor Y; strongest first.
ROW_PRESERVING_METHODS: tuple[str, ...] = tuple(
    sorted((m for m, s in METHOD_SPECS.items() if s.offer_rank is not None),
           key=lambda m: METHOD_SPECS[m].offer_rank)
)


def _check_names(names: Iterable[str], known: Mapping[str, object], what: str) -> tuple[str, ...]:
    names = tuple(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown {what}(s) {unknown}; choose among {list(known)}")
    if not names:
        raise ValueError(f"the list of {what}s is empty")
    if len(set(names)) != len(names):
        raise ValueError(f"the list of {what}s has duplicates: {list(names)}")
    return names


def check_tests(tests: Iterable[str]) -> tuple[str, ...]:
    """``tests`` as a tuple, refusing unknown names, duplicates and an empty list.

    Raises
    ------
    ValueError
        Naming the unknown test(s) and the known ones.
    """
    return _check_names(tests, TEST_SPECS, "test")


def check_methods(methods: Iterable[str]) -> tuple[str, ...]:
    """``methods`` as a tuple, refusing unknown names, duplicates and an empty list."""
    return _check_names(methods, METHOD_SPECS, "method")


def options_key(method: str) -> str:
    """The key of ``method``'s options in a config's ``method_options`` (its family)."""
    return METHOD_SPECS[check_methods([method])[0]].family


def sample_size(fraction: float, n: int) -> int:
    """The sample size ``m`` for a sample fraction of ``n`` rows: ``max(1, round(fraction · n))``.

    The one rule used by the pipeline (Fig. 8's sizes), the sample-size study and the
    command line (``--fraction``). Python's ``round`` (half to even) is kept so that every
    cached result keeps its ``m``.

    Examples
    --------
    >>> sample_size(0.1, 5000), sample_size(0.025, 5000), sample_size(0.001, 100)
    (500, 125, 1)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"a sample fraction must lie in (0, 1], got {fraction!r}")
    if int(n) < 1:
        raise ValueError(f"n must be positive, got {n!r}")
    return max(1, int(round(float(fraction) * int(n))))

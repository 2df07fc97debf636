"""The fairwashing attacks (paper, Section 5 and Appendices 0.A, 0.B, 0.K).

Every method takes the audited set (standardised X, S, Ŷ) and a target DI and returns
a :class:`~fairwash.manipulate.base.Manipulation`.  :data:`METHODS` names them as the
paper's tables do, and :func:`run_method` runs one by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fairwash import catalogue
from fairwash.data.base import AuditData
from fairwash.manipulate.base import Manipulation, check_random_state
from fairwash.manipulate.entropic import entropic, kl_projection
from fairwash.manipulate.greedy import apply_prefix
from fairwash.manipulate.matching import eo_matching, matching
from fairwash.manipulate.replace import replace
from fairwash.manipulate.sbs import sbs

__all__ = [
    "METHODS",
    "MethodSpec",
    "Manipulation",
    "apply_prefix",
    "check_random_state",
    "entropic",
    "eo_matching",
    "grad",
    "kl_projection",
    "matching",
    "replace",
    "run_method",
    "sbs",
]


@dataclass(frozen=True)
class MethodSpec:
    """How to run one named method: its facts (:class:`fairwash.catalogue.MethodSpec`) and code."""

    info: catalogue.MethodSpec
    run: Callable[..., Manipulation]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def needs_model(self) -> bool:
        return self.info.needs_model

    @property
    def greedy(self) -> bool:
        return self.info.greedy

    @property
    def needs_y(self) -> bool:
        return self.info.needs_y

    @property
    def description(self) -> str:
        return self.info.description


def __getattr__(name: str) -> Any:
    # torch is imported only when a Grad method is used: the detection jobs never need it.
    if name == "grad":
        # torch only when a Grad method is used: the detection jobs never need it
        from fairwash.manipulate.gradient import grad

        return grad
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _grad(variant: str, snap: bool) -> Callable[..., Manipulation]:
    def run(data: AuditData, *, target: float, model: Any, random_state: Any, **opts: Any) -> Manipulation:
        # torch only when a Grad method runs
        from fairwash.manipulate.gradient import grad

        return grad(data, model, target, variant, snap=snap, random_state=random_state, **opts)  # type: ignore[arg-type]

    return run


def _no_model(fn: Callable[..., Manipulation], **fixed: Any) -> Callable[..., Manipulation]:
    def run(data: AuditData, *, target: float, model: Any = None, random_state: Any = None,
            **opts: Any) -> Manipulation:
        kwargs = {**fixed, **opts}
        if fn in (replace, sbs):
            kwargs["random_state"] = random_state
        return fn(data, target, **kwargs)

    return run


#: The code of each method of :data:`fairwash.catalogue.METHODS` (a new attack adds its facts
#: there and its runner here; tests/test_catalogue.py checks the two agree).
_RUNNERS: dict[str, Callable[..., Manipulation]] = {
    "Grad_p": _grad("proportional", False),
    "Grad_b": _grad("balanced", False),
    "Grad_p_1D": _grad("proportional", True),
    "Grad_b_1D": _grad("balanced", True),
    "Replace": _no_model(replace),
    "Entropic_b": _no_model(entropic, variant="balanced"),
    "Entropic_p": _no_model(entropic, variant="proportional"),
    "Matching": _no_model(matching),
    "SBS": _no_model(sbs),
    "Matching_EoO": _no_model(eo_matching),
}

#: The methods of the paper's tables, in their column order, plus SBS and EoO Matching.
METHODS: dict[str, MethodSpec] = {
    name: MethodSpec(info, _RUNNERS[name]) for name, info in catalogue.METHOD_SPECS.items()
}


def run_method(
    name: str,
    data: AuditData,
    *,
    target: float = catalogue.COMPLIANCE_THRESHOLD,
    model: Any = None,
    random_state: Any = 0,
    options: Mapping[str, Any] | None = None,
) -> Manipulation:
    """Run method ``name`` of :data:`METHODS` on the audited set ``data``.

    Raises
    ------
    ValueError
        Unknown method, a Grad method without a model, or a method needing Y on a
        source without true labels.
    """
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known methods: {list(METHODS)}")
    spec = METHODS[name]
    if spec.needs_model and model is None:
        raise ValueError(f"{name} moves points through the audited model, and no model is available "
                         f"for data set {data.name!r}")
    if spec.needs_y:
        data.require_y(name)
    return spec.run(data, target=target, model=model, random_state=random_state, **dict(options or {}))

"""The fairwashing attacks (paper, Section 5 and Appendices 0.A, 0.B, 0.K).

Every method takes the audited set (standardised X, S, Ŷ) and a target DI and returns
a :class:`~fairwash.manipulate.base.Manipulation`.  :data:`METHODS` names them as the
paper's tables do, and :func:`run_method` runs one by name.

A method's module is imported when the method first runs (or when its function is asked
for by name): importing this package, e.g. for :class:`Manipulation` in a detection job
or in the results store, loads neither POT (SBS) nor torch (Grad).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fairwash import catalogue
from fairwash.data.base import AuditData
from fairwash.manipulate.base import Manipulation, check_random_state

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


#: Public functions of the method modules, loaded on first use (module, attribute).
_LAZY = {
    "entropic": ("entropic", "entropic"), "kl_projection": ("entropic", "kl_projection"),
    "apply_prefix": ("greedy", "apply_prefix"), "matching": ("matching", "matching"),
    "eo_matching": ("matching", "eo_matching"), "replace": ("replace", "replace"), "sbs": ("sbs", "sbs"),
    "grad": ("gradient", "grad"),
}


def _load(module: str, attribute: str) -> Any:
    return getattr(importlib.import_module(f"fairwash.manipulate.{module}"), attribute)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return _load(*_LAZY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _grad(variant: str, snap: bool) -> Callable[..., Manipulation]:
    def run(data: AuditData, *, target: float, model: Any, random_state: Any, **opts: Any) -> Manipulation:
        grad = _load("gradient", "grad")
        return grad(data, model, target, variant, snap=snap, random_state=random_state, **opts)  # type: ignore[arg-type]

    return run


def _no_model(module: str, function: str, *, seeded: bool = False,
              **fixed: Any) -> Callable[..., Manipulation]:
    """A runner of ``fairwash.manipulate.<module>.<function>(data, target, **options)``;
    ``seeded``: it takes the ``random_state``."""

    def run(data: AuditData, *, target: float, model: Any = None, random_state: Any = None,
            **opts: Any) -> Manipulation:
        kwargs = {**fixed, **opts}
        if seeded:
            kwargs["random_state"] = random_state
        return _load(module, function)(data, target, **kwargs)

    return run


#: The code of each method of :data:`fairwash.catalogue.METHODS` (a new attack adds its facts
#: there and its runner here; tests/test_catalogue.py checks the two agree).
_RUNNERS: dict[str, Callable[..., Manipulation]] = {
    "Grad_p": _grad("proportional", False),
    "Grad_b": _grad("balanced", False),
    "Grad_p_1D": _grad("proportional", True),
    "Grad_b_1D": _grad("balanced", True),
    "Replace": _no_model("replace", "replace", seeded=True),
    "Entropic_b": _no_model("entropic", "entropic", variant="balanced"),
    "Entropic_p": _no_model("entropic", "entropic", variant="proportional"),
    "Matching": _no_model("matching", "matching"),
    "SBS": _no_model("sbs", "sbs", seeded=True),
    "Matching_EoO": _no_model("matching", "eo_matching"),
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

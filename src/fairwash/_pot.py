"""POT (``ot``) imported without the start-up cost of parts fairwash never calls.

``import ot`` runs POT's ``__init__``, which imports every submodule, and several of them
try optional extras at import time: scikit-learn (``ot.lowrank``, ``ot.gromov``: k-means
and spectral clustering for quantised Gromov-Wasserstein) and networkx (``ot.gromov``:
graph partitions), and every array backend it finds (torch, jax, tensorflow, cupy). On
this project's 2-core machine that is 2-5 s per process (issue 18, goal 4), paid by
every pipeline job that computes a distance, for none of the functions fairwash uses
(``ot.emd``, ``ot.emd2``, ``ot.dist``, ``ot.sliced``: numpy only).

:func:`load` imports ``ot`` with those extras made unimportable for the duration of the
import only (POT guards each with ``try/except ImportError`` and then disables just the
feature that needs it), and with the array backends off unless the environment says
otherwise (``POT_BACKEND_DISABLE_*``). Afterwards ``sys.modules`` and the environment are as
before, so scikit-learn, networkx and torch import normally for anyone who needs them. An
extra already imported is not hidden (there is nothing left to save).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

__all__ = ["load", "ot", "HIDDEN_EXTRAS"]

#: Optional dependencies POT tries at import time that fairwash's calls never reach.
HIDDEN_EXTRAS = ("sklearn", "networkx")
#: POT's array backends other than numpy (each is imported if installed, torch ~1 s).
_BACKENDS = ("PYTORCH", "JAX", "TENSORFLOW", "CUPY")


def load() -> ModuleType:
    """The ``ot`` module, imported once without its optional extras (see the module docstring)."""
    if "ot" in sys.modules:
        return sys.modules["ot"]
    env = [f"POT_BACKEND_DISABLE_{b}" for b in _BACKENDS if f"POT_BACKEND_DISABLE_{b}" not in os.environ]
    os.environ.update(dict.fromkeys(env, "1"))
    hidden = [name for name in HIDDEN_EXTRAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError
    try:
        import ot as module  # imported here: inside the guard that hides the optional extras
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
        for key in env:
            os.environ.pop(key, None)
    return module


ot = load()

"""Compatibility shim: the twin audit now lives in :mod:`fairwash.twins`.

Kept only because ``fairwash.cli.cmd_twins`` still imports ``fairwash.counterfactual``;
remove it when ``cmd_twins`` calls :func:`fairwash.twins.audit_model_file` /
:func:`fairwash.twins.demo_twin_audit`.  New code imports :mod:`fairwash.twins`.
"""

from fairwash.twins import *  # noqa: F403
from fairwash.twins import __all__  # noqa: F401

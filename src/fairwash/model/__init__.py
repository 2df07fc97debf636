"""The audited model: the paper's MLP, its schedule-free training and its decision threshold.

=================================  ===================================================
:mod:`fairwash.model.network`      :class:`MLP`, :class:`AuditedModel` (network and
                                   threshold), :class:`Standardizer`, state dicts
:mod:`fairwash.model.training`     :func:`train_mlp`, :func:`fit_audited_model`
:mod:`fairwash.model.storage`      :func:`save_model`, :func:`load_model` (safetensors + JSON)
=================================  ===================================================

Which model belongs to a data set (trained, the authors', the hub's) is answered by
:mod:`fairwash.models`.
"""

from fairwash.model.network import (
    MLP,
    AuditedModel,
    ModelError,
    Standardizer,
    load_state_dict_file,
    mlp_from_state_dict,
)
from fairwash.model.storage import MODEL_FORMAT, load_model, save_model
from fairwash.model.training import FitResult, fit_audited_model, train_mlp

__all__ = [
    "MLP",
    "ModelError",
    "mlp_from_state_dict",
    "load_state_dict_file",
    "Standardizer",
    "AuditedModel",
    "train_mlp",
    "FitResult",
    "fit_audited_model",
    "save_model",
    "load_model",
    "MODEL_FORMAT",
]

"""Counterfactual-twin audit: identical applicants that differ only in S.

The audit of the counterfactual-twin article (``shared/seeds/counterfactual-audit-article.txt``):
build base profiles, clone each one into an ``S = 0`` and an ``S = 1`` twin with every
other feature identical, feed both twins to the model and count the pairs whose
decisions differ.  A flip is a deterministic fact about the model, not a statistical
association: the twins have nothing else that could explain the difference.  For a
numeric feature (income) the audit also locates, by bisection on the model itself, the
value at which each twin's decision switches, and reports the gap.

What the audit measures and what it does not
--------------------------------------------
Flipping S and holding every other column fixed measures the model's **direct** use of
S.  When other columns encode S (Adult's ``relationship`` = Husband/Wife) a model can
discriminate through them while ignoring S itself; the caller names such proxy columns
(:class:`OneHotProxy`, :class:`ValueProxy`) and the audit is reported both ways
(:func:`audit_both_ways`).  When S is not an input of the model, the flip rate with
proxies fixed is 0 by construction and the result says so.

Modules, one job each (imports go downward, in this order)
----------------------------------------------------------
========================  ==========================================================
:mod:`.profiles`          base profiles, proxies, :func:`make_twins`, S in a data set
:mod:`.probe`             :class:`ModelProbe`, the one interface to any model; :func:`probe_for`
:mod:`.probes_answers`    how a decision is read from a model's answers (:class:`AnswerModel`)
:mod:`.probes_onnx`       :func:`onnx_probe`: an ONNX file (onnxruntime)
:mod:`.probes_skops`      :func:`skops_probe`: a skops file, after its trusted-types check
:mod:`.probes_callable`   :func:`callable_probe`: ``module:function``, ``file.py:function``
:mod:`.probes_cache`      the answers an endpoint already gave, on disk
:mod:`.probes_http`       :func:`http_probe`: a black-box HTTP endpoint, batched, retried, counted
:mod:`.load`              :func:`load_probe`: any model (a path, a URL, an object) to a probe
:mod:`.measures`          :func:`counterfactual_audit`, :func:`flip_rate_ci`, both ways
:mod:`.boundaries`        decision boundaries by bisection, :func:`approval_curves`
:mod:`.demo`              the article's demo: customers, poisoned tree, :func:`run_demo`
:mod:`.audit`             :func:`twin_audit`, the function ``fairwash twins`` and the rule call
:mod:`.trained`           :func:`audit_trained_model`: the pipeline's model of a data set
:mod:`.report`            the JSON payloads, the statement, the table
:mod:`.figures`           the figures
========================  ==========================================================
"""

from fairwash.twins.audit import (
    TwinAudit,
    audit_model_file,
    boundary_summary,
    check_twin_inputs,
    demo_twin_audit,
    twin_audit,
)
from fairwash.twins.boundaries import (
    approval_curves,
    decision_boundaries,
    income_boundary,
    profile_boundaries,
)
from fairwash.twins.demo import (
    CUSTOMER_INCOME_RANGE,
    DEMO_FEATURES,
    DEMO_RULE,
    GENDER_LABELS,
    DemoRun,
    demo_customers,
    demo_labels,
    run_demo,
    train_demo_model,
)
from fairwash.twins.figures import (
    plot_approval_curves,
    plot_demo_audit,
    plot_model_audit,
    plot_profile_curves,
    plot_twin_audit,
)
from fairwash.twins.load import MODEL_KINDS, load_probe, model_kind
from fairwash.twins.measures import CounterfactualResult, audit_both_ways, counterfactual_audit, flip_rate_ci
from fairwash.twins.probe import Classifier, ModelProbe, probe_for
from fairwash.twins.probes_answers import AnswerModel, read_answers
from fairwash.twins.probes_callable import callable_probe
from fairwash.twins.probes_http import EndpointError, EndpointOptions, QueryLedger, http_probe
from fairwash.twins.probes_onnx import onnx_probe
from fairwash.twins.probes_skops import skops_probe
from fairwash.twins.profiles import (
    BASE_INCOME_RANGE,
    OneHotProxy,
    Proxy,
    ValueProxy,
    base_profiles,
    make_twins,
    profiles_from_data,
    proxy_association,
    proxy_from_dict,
    representative_profile,
    resolve_sensitive_column,
)
from fairwash.twins.report import NOT_AN_INPUT, counterfactual_table, demo_payload, model_payload, statement
from fairwash.twins.trained import SPEC_KEYS, ModelAudit, audit_trained_model

__all__ = [
    "MODEL_KINDS",
    "AnswerModel",
    "EndpointError",
    "EndpointOptions",
    "QueryLedger",
    "callable_probe",
    "http_probe",
    "load_probe",
    "model_kind",
    "onnx_probe",
    "read_answers",
    "skops_probe",
    "BASE_INCOME_RANGE",
    "CUSTOMER_INCOME_RANGE",
    "DEMO_FEATURES",
    "DEMO_RULE",
    "GENDER_LABELS",
    "NOT_AN_INPUT",
    "SPEC_KEYS",
    "Classifier",
    "CounterfactualResult",
    "DemoRun",
    "ModelAudit",
    "ModelProbe",
    "OneHotProxy",
    "Proxy",
    "TwinAudit",
    "ValueProxy",
    "approval_curves",
    "audit_both_ways",
    "audit_model_file",
    "audit_trained_model",
    "base_profiles",
    "boundary_summary",
    "check_twin_inputs",
    "counterfactual_audit",
    "counterfactual_table",
    "decision_boundaries",
    "demo_customers",
    "demo_labels",
    "demo_payload",
    "demo_twin_audit",
    "flip_rate_ci",
    "income_boundary",
    "make_twins",
    "model_payload",
    "plot_approval_curves",
    "plot_demo_audit",
    "plot_model_audit",
    "plot_profile_curves",
    "plot_twin_audit",
    "probe_for",
    "profile_boundaries",
    "profiles_from_data",
    "proxy_association",
    "proxy_from_dict",
    "representative_profile",
    "resolve_sensitive_column",
    "run_demo",
    "statement",
    "train_demo_model",
    "twin_audit",
]

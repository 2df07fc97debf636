# AuditData -> trained MLP, predictions, and the audited set (standardised X, S, Y, Y_hat).
# Artefact paths come from the results store (wildcards {ds}, {method}, {m} as in its templates).
from fairwash import store



rule train_model:
    input:
        parquet=store.template("data", "parquet"),
        meta=store.template("data", "json"),
    output:
        weights=store.template("model", "weights"),
        config=store.template("model", "config"),
        metrics=store.template("model", "metrics"),
        predictions=store.template("model", "predictions"),
        audited=store.template("audited", "parquet"),
        audited_meta=store.template("audited", "json"),
    log:
        "results/logs/train_model/{ds}.log",
    params:
        model=lambda wc: dataset_spec(wc.ds)["model"],
        n_audit=lambda wc: dataset_spec(wc.ds)["n_audit"],
        seed=lambda wc: dataset_seed(wc.ds),
        progress=progress(),
    wildcard_constraints:
        ds=_alternation(TRAINED),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/train_model.py"


rule import_authors:
    # The authors' audited set already holds the decisions of their model: no training.
    input:
        parquet=store.template("data", "parquet"),
        meta=store.template("data", "json"),
    output:
        metrics=store.template("model", "metrics"),
        audited=store.template("audited", "parquet"),
        audited_meta=store.template("audited", "json"),
    log:
        "results/logs/import_authors/{ds}.log",
    wildcard_constraints:
        ds=_alternation(AUTHORS),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/import_authors.py"

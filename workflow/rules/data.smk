# Raw sources (or synthetic generators) -> one AuditData per data set.
# Artefact paths come from the results store (wildcards {ds}, {method}, {m} as in its templates).
from fairwash import store



rule load_data:
    output:
        parquet=store.template("data", "parquet"),
        meta=store.template("data", "json"),
    log:
        "results/logs/load_data/{ds}.log",
    params:
        spec=lambda wc: data_spec(wc.ds),
        seed=lambda wc: dataset_seed(wc.ds),
        cache_dir=cache_dir(),
        authors_dir=authors_dir(),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    script:
        "../../scripts/load_data.py"

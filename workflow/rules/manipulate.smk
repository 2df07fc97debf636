# Audited set (+ model for the Grad methods) -> one manipulated distribution per method.
# Artefact paths come from the results store (wildcards {ds}, {method}, {m} as in its templates).
from fairwash import store



rule manipulate:
    input:
        unpack(model_input),
        audited=store.template("audited", "parquet"),
        audited_meta=store.template("audited", "json"),
    output:
        parquet=store.template("manipulation", "parquet"),
        trajectory=store.template("manipulation", "trajectory"),
        json=store.template("manipulation", "json"),
    log:
        "results/logs/manipulate/{ds}/{method}.log",
    benchmark:
        "results/benchmarks/manipulate/{ds}_{method}.tsv"
    params:
        target=config["target_di"],
        source=lambda wc: dataset_spec(wc.ds)["source"],
        authors_name=lambda wc: dataset_spec(wc.ds)["params"].get("dataset", wc.ds),
        authors_dir=authors_dir(),
        hub_revision=config.get("hub_revision"),
        options=lambda wc: method_options(wc.ds, wc.method),
        seed=lambda wc: dataset_seed(wc.ds),
    wildcard_constraints:
        method=_alternation(METHOD_NAMES),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/manipulate.py"


rule table_shift:
    input:
        audited=expand(store.template("audited", "parquet"), ds=DATASETS),
        parquets=[store.path("manipulation", "parquet", ds=ds, method=m) for ds in DATASETS
                  for m in methods_for(ds)],
        summaries=[store.path("manipulation", "json", ds=ds, method=m) for ds in DATASETS
                   for m in methods_for(ds)],
    output:
        csv=report(store.path("table", "csv", name="shift"), caption="../report/shift.rst",
                   category="Tables 4, 13, 14: shift"),
        md=store.path("table", "md", name="shift"),
        tex=store.path("table", "tex", name="shift"),
    log:
        "results/logs/tables/shift.log",
    params:
        datasets=DATASETS,
        pairs=[(ds, m) for ds in DATASETS for m in methods_for(ds)],
        specs={ds: dataset_spec(ds) for ds in DATASETS},
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/table_shift.py"

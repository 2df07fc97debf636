# Audited set (+ model for the Grad methods) -> one manipulated distribution per method.


rule manipulate:
    input:
        unpack(model_input),
        audited="results/audited/{ds}.parquet",
        audited_meta="results/audited/{ds}.json",
    output:
        parquet="results/manipulated/{ds}/{method}.parquet",
        trajectory="results/manipulated/{ds}/{method}.trajectory.parquet",
        json="results/manipulated/{ds}/{method}.json",
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
        audited=expand("results/audited/{ds}.parquet", ds=DATASETS),
        parquets=[f"results/manipulated/{ds}/{m}.parquet" for ds in DATASETS for m in methods_for(ds)],
        summaries=[f"results/manipulated/{ds}/{m}.json" for ds in DATASETS for m in methods_for(ds)],
    output:
        csv=report("results/tables/shift.csv", caption="../report/shift.rst", category="Tables 4, 13, 14: shift"),
        md="results/tables/shift.md",
        tex="results/tables/shift.tex",
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

# Tables from cached intermediates (never reruns a method).
# Artefact paths come from the results store (wildcards {ds}, {method}, {m} as in its templates).
from fairwash import store



rule table_datasets:
    input:
        audited=expand(store.template("audited", "json"), ds=DATASETS),
        metrics=expand(store.template("model", "metrics"), ds=DATASETS),
    output:
        csv=report(
            store.path("table", "csv", name="datasets"),
            caption="../report/datasets.rst",
            category="Table 1: data sets",
        ),
        md=store.path("table", "md", name="datasets"),
        tex=store.path("table", "tex", name="datasets"),
    log:
        "results/logs/tables/datasets.log",
    params:
        datasets=DATASETS,
        specs={ds: dataset_spec(ds) for ds in DATASETS},
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/table_datasets.py"


# Targets of this file's tables beyond Table 1, for all_outputs() in common.smk (a list, not a
# function: `snakemake --lint` wants functions in common.smk).
TABLE_OUTPUTS = [store.path("table", ext, name="cost") for ext in ("csv", "md", "tex")]

rule table_cost:
    input:
        audited=expand(store.template("audited", "json"), ds=DATASETS),
        summaries=[store.path("manipulation", "json", ds=ds, method=me) for ds in DATASETS
                   for me in methods_for(ds)],
        detect=[store.path("detection", "json", ds=ds, method=me, m=m) for ds in DATASETS
                for me in methods_for(ds) for m in sizes_of(ds)],
        fairest=[store.path("fairest", "json", ds=ds, method=me) for ds in DATASETS
                 for me in fairest_methods(ds)],
    output:
        csv=report(
            store.path("table", "csv", name="cost"),
            caption="../report/cost.rst",
            category="Table 8: cost of the methods",
        ),
        md=store.path("table", "md", name="cost"),
        tex=store.path("table", "tex", name="cost"),
    log:
        "results/logs/tables/cost.log",
    params:
        datasets=DATASETS,
        pairs=[(ds, me) for ds in DATASETS for me in methods_for(ds)],
        detect_index=[(ds, me, m) for ds in DATASETS for me in methods_for(ds) for m in sizes_of(ds)],
        fairest_index=[(ds, me) for ds in DATASETS for me in fairest_methods(ds)],
        # benchmark files, read when present (not inputs: no rule makes them)
        method_benchmarks=[[f"results/benchmarks/manipulate/{ds}_{me}.tsv"] for ds in DATASETS
                           for me in methods_for(ds)],
        audit_benchmarks=[
            # one detection job per (data set, m) serves every method: its peak is shared
            [f"results/benchmarks/audit/detect/{ds}_m{m}.tsv" for m in sizes_of(ds)]
            + ([f"results/benchmarks/audit/fairest/{ds}_{me}.tsv"] if me in fairest_methods(ds) else [])
            for ds in DATASETS
            for me in methods_for(ds)
        ],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/table_cost.py"

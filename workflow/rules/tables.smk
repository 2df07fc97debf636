# Tables from cached intermediates (never reruns a method).


rule table_datasets:
    input:
        audited=expand("results/audited/{ds}.json", ds=DATASETS),
        metrics=expand("results/models/{ds}/metrics.json", ds=DATASETS),
    output:
        csv=report(
            "results/tables/datasets.csv",
            caption="../report/datasets.rst",
            category="Table 1: data sets",
        ),
        md="results/tables/datasets.md",
        tex="results/tables/datasets.tex",
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
TABLE_OUTPUTS = [f"results/tables/cost.{ext}" for ext in ("csv", "md", "tex")]

rule table_cost:
    input:
        audited=expand("results/audited/{ds}.json", ds=DATASETS),
        summaries=[f"results/manipulated/{ds}/{me}.json" for ds in DATASETS for me in methods_for(ds)],
        detect=[f"results/audit/{ds}/{me}_m{m}.json" for ds in DATASETS for me in methods_for(ds)
                for m in sizes_of(ds)],
        fairest=[f"results/audit/{ds}/fairest_{me}.json" for ds in DATASETS for me in fairest_methods(ds)],
    output:
        csv=report(
            "results/tables/cost.csv",
            caption="../report/cost.rst",
            category="Table 8: cost of the methods",
        ),
        md="results/tables/cost.md",
        tex="results/tables/cost.tex",
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

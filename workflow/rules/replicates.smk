# "Agrees with the paper" means within noise (issue 21): the fairest-undetected search (Tables 3,
# 15) rerun under K sampling seeds, sharing the main reference thresholds (they do not depend on
# the sampling seed); the reference thresholds themselves over independent sets of honest draws;
# the spread tables and one figure per data set. Settings: the `replicates` block (config/README.md).
# Paths come from the results store (wildcards {ds}, {method}, {m}, {k}, {r}).


rule fairest_replicate:
    input:
        unpack(lambda wc: audit_model_input(wc.ds, [wc.method])),
        audited="results/audited/{ds}.parquet",
        references=lambda wc: [f"results/audit/{wc.ds}/reference_m{m}.json" for m in sizes_of(wc.ds)],
    output:
        json="results/replicates/{ds}/fairest_{method}_k{k}.json",
    log:
        "results/logs/replicates/{ds}/fairest_{method}_k{k}.log",
    benchmark:
        "results/benchmarks/replicates/fairest/{ds}_{method}_k{k}.tsv"
    params:
        sizes=lambda wc: sizes_of(wc.ds),
        model=lambda wc: model_params(wc.ds),
        options=lambda wc: method_options(wc.ds, wc.method),
        seed=lambda wc: replicate_seed(wc.ds, wc.method, wc.k),
        start=lambda wc: battery(wc.ds, "start_level"),
        step=lambda wc: battery(wc.ds, "step"),
        n_samples=lambda wc: battery(wc.ds, "n_samples_fairest"),
        ablation=lambda wc: battery(wc.ds, "tests_ablation"),
        progress=progress(),
        resume="results/resume/replicates/{ds}_{method}_k{k}",
        protocols=[],  # the paper's rule only: the spread of Tables 3 and 15
    wildcard_constraints:
        ds=_alternation(DATASETS),
        method=_alternation(METHOD_NAMES),
        k=r"\d+",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        ENV
    script:
        "../../scripts/audit_fairest.py"


rule reference_replicate:
    input:
        audited="results/audited/{ds}.parquet",
    output:
        json="results/replicates/{ds}/reference_m{m}_r{r}.json",
    log:
        "results/logs/replicates/{ds}/reference_m{m}_r{r}.log",
    benchmark:
        "results/benchmarks/replicates/reference/{ds}_m{m}_r{r}.tsv"
    params:
        n_draws=lambda wc: battery(wc.ds, "n_draws"),
        level=lambda wc: battery(wc.ds, "level"),
        rule=lambda wc: battery(wc.ds, "rule"),
        w_method=lambda wc: battery(wc.ds, "w_method"),
        subref_size=lambda wc: battery(wc.ds, "subref_size"),
        subref_seed=lambda wc: audit_seed(wc.ds, "subref"),
        seed=lambda wc: reference_replicate_seed(wc.ds, wc.m, wc.r),
        resume="results/resume/replicates/{ds}_reference_m{m}_r{r}",
    wildcard_constraints:
        ds=_alternation(DATASETS),
        m=r"\d+",
        r=r"[1-9]\d*",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=600,
    conda:
        ENV
    script:
        "../../scripts/replicate_reference.py"


rule table_replicates:
    input:
        results=[f"results/replicates/{ds}/fairest_{me}_k{k}.json" for ds in replicate_datasets()
                 for me in replicate_methods(ds) for k in replicate_ks()],
        # the cell caps of the reference sets, beside each cell
        references=[reference_replicate_file(ds, m, r) for ds in reference_replicate_datasets()
                    for m in sizes_of(ds) for r in reference_replicate_rs()],
        audited=[f"results/audited/{ds}.parquet" for ds in reference_replicate_datasets()],
    output:
        csv=report("results/tables/replicates.csv", caption="../report/replicates.rst",
                   category="Within noise: replicates"),
        md="results/tables/replicates.md",
        tex="results/tables/replicates.tex",
    log:
        "results/logs/tables/replicates.log",
    params:
        index=[(ds, me, k) for ds in replicate_datasets() for me in replicate_methods(ds) for k in replicate_ks()],
        specs={ds: dataset_spec(ds) for ds in replicate_datasets()},
        n_audit={ds: n_audit(ds) for ds in replicate_datasets()},
        reference_index=[(ds, m, r) for ds in reference_replicate_datasets() for m in sizes_of(ds)
                         for r in reference_replicate_rs()],
        reference_datasets=reference_replicate_datasets(),
        ablation={ds: battery(ds, "tests_ablation") for ds in reference_replicate_datasets()},
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/table_replicates.py"


rule table_replicates_reference:
    input:
        references=[reference_replicate_file(ds, m, r) for ds in reference_replicate_datasets()
                    for m in sizes_of(ds) for r in reference_replicate_rs()],
        audited=[f"results/audited/{ds}.parquet" for ds in reference_replicate_datasets()],
    output:
        csv=report("results/tables/replicates_reference.csv", caption="../report/replicates_reference.rst",
                   category="Within noise: replicates"),
        md="results/tables/replicates_reference.md",
        tex="results/tables/replicates_reference.tex",
    log:
        "results/logs/tables/replicates_reference.log",
    params:
        index=[(ds, m, r) for ds in reference_replicate_datasets() for m in sizes_of(ds)
               for r in reference_replicate_rs()],
        datasets=reference_replicate_datasets(),
        ablation={ds: battery(ds, "tests_ablation") for ds in reference_replicate_datasets()},
        specs={ds: dataset_spec(ds) for ds in reference_replicate_datasets()},
        authors=any(ds in AUTHORS for ds in reference_replicate_datasets()),
        authors_dir=authors_dir(),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    script:
        "../../scripts/table_replicates_reference.py"


rule figure_replicates:
    input:
        results=lambda wc: [f"results/replicates/{wc.ds}/fairest_{me}_k{k}.json" for me in replicate_methods(wc.ds)
                            for k in replicate_ks()],
    output:
        png=report("results/figures/replicates_{ds}.png", caption="../report/replicates_figure.rst",
                   category="Within noise: replicates"),
        pdf="results/figures/replicates_{ds}.pdf",
    log:
        "results/logs/figures/replicates_{ds}.log",
    params:
        index=lambda wc: [(wc.ds, me, k) for me in replicate_methods(wc.ds) for k in replicate_ks()],
        specs=lambda wc: {wc.ds: dataset_spec(wc.ds)},
        n_audit=lambda wc: {wc.ds: n_audit(wc.ds)},
    wildcard_constraints:
        ds=_alternation(DATASETS),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/figure_replicates.py"


rule cap_replicates:
    # the four cell tests only (no W_A): the cell cap over independent sets of honest draws
    input:
        audited="results/audited/{ds}.parquet",
    output:
        parquet="results/replicates/{ds}/cell_caps.parquet",
    log:
        "results/logs/replicates/{ds}/cell_caps.log",
    benchmark:
        "results/benchmarks/replicates/caps/{ds}.tsv"
    params:
        sets=lambda wc: cap_replicate_sets(wc.ds),
        n_draws=lambda wc: battery(wc.ds, "n_draws"),
        level=lambda wc: battery(wc.ds, "level"),
        rule=lambda wc: battery(wc.ds, "rule"),
        ablation=lambda wc: battery(wc.ds, "tests_ablation"),
    wildcard_constraints:
        ds=_alternation(DATASETS),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    script:
        "../../scripts/cap_replicates.py"


rule table_replicates_caps:
    input:
        caps=cap_replicate_files(),
    output:
        csv=report("results/tables/replicates_caps.csv", caption="../report/replicates_caps.rst",
                   category="Within noise: replicates"),
        md="results/tables/replicates_caps.md",
        tex="results/tables/replicates_caps.tex",
    log:
        "results/logs/tables/replicates_caps.log",
    params:
        specs={ds: dataset_spec(ds) for ds in cap_replicate_datasets()},
        n_audit={ds: n_audit(ds) for ds in cap_replicate_datasets()},
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/table_replicates_caps.py"


rule figure_replicates_caps:
    input:
        caps=cap_replicate_files(),
    output:
        png=report("results/figures/replicates_caps.png", caption="../report/replicates_caps_figure.rst",
                   category="Within noise: replicates"),
        pdf="results/figures/replicates_caps.pdf",
    log:
        "results/logs/figures/replicates_caps.log",
    params:
        specs={ds: dataset_spec(ds) for ds in cap_replicate_datasets()},
        n_audit={ds: n_audit(ds) for ds in cap_replicate_datasets()},
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/figure_replicates_caps.py"

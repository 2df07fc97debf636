# The audit protocol (Section 7; Tables 2, 3, 15; Fig. 8): reference thresholds per (data set, m),
# detection per (data set, method, m), fairest undetected DI per (data set, method), Fig. 8, tables.
# Battery settings: the optional `battery` block, top level and per data set (config/README.md).


rule reference:
    input:
        audited="results/audited/{ds}.parquet",
    output:
        json="results/audit/{ds}/reference_m{m}.json",
    log:
        "results/logs/audit/{ds}/reference_m{m}.log",
    benchmark:
        "results/benchmarks/audit/reference/{ds}_m{m}.tsv"
    params:
        n_draws=lambda wc: battery(wc.ds, "n_draws"),
        level=lambda wc: battery(wc.ds, "level"),
        rule=lambda wc: battery(wc.ds, "rule"),
        w_method=lambda wc: battery(wc.ds, "w_method"),
        subref_size=lambda wc: battery(wc.ds, "subref_size"),
        subref_seed=lambda wc: audit_seed(wc.ds, "subref"),
        seed=lambda wc: audit_seed(wc.ds, "reference", wc.m),
        resume="results/resume/reference/{ds}_m{m}",
    wildcard_constraints:
        ds=_alternation(DATASETS),
        m=r"\d+",
    # the draws in threads (POT's solver releases the GIL); the same bytes for any count
    threads: 2
    resources:
        mem_mb=4000,
        # exact W_A: ~0.5 s per draw at n = 5 000, ~15 s at n = 20 000, m = 2 000
        runtime=600,  # minutes; the n = 20 000 paper sets need most of it
    conda:
        ENV
    script:
        "../../scripts/audit_reference.py"


# Table 2: by default one job per (data set, m) runs the battery on the samples of every
# method: the audited set, the thresholds and the battery's set-up are loaded once (a job per
# method spent more time starting than sampling on the small sets). `battery.detect_jobs:
# per_method` makes one job per (data set, method, m) instead, for a cluster, where the hour-long
# n = 20 000 jobs would otherwise bound the wall time. Each method keeps its own seed, so both
# layouts write the same bytes. The outputs stay one pair per method.
for _ds in DATASETS:
    for _m in sizes_of(_ds):
        for _tag, _methods in detect_groups(_ds):

            rule:
                name:
                    f"detect_{_ds}{_tag}_m{_m}"
                input:
                    audited=f"results/audited/{_ds}.parquet",
                    manipulated=[f"results/manipulated/{_ds}/{me}.parquet" for me in _methods],
                    summaries=[f"results/manipulated/{_ds}/{me}.json" for me in _methods],
                    reference=f"results/audit/{_ds}/reference_m{_m}.json",
                output:
                    parquets=[f"results/audit/{_ds}/{me}_m{_m}.parquet" for me in _methods],
                    jsons=[f"results/audit/{_ds}/{me}_m{_m}.json" for me in _methods],
                log:
                    f"results/logs/audit/{_ds}/detect{_tag}_m{_m}.log",
                benchmark:
                    f"results/benchmarks/audit/detect/{_ds}{_tag}_m{_m}.tsv"
                params:
                    m=_m,
                    n_samples=battery(_ds, "n_samples"),
                    w_a_rate_samples=battery(_ds, "w_a_rate_samples"),
                    target=config["target_di"],
                    seeds=[audit_seed(_ds, "detect", me, _m) for me in _methods],
                    resume=f"results/resume/detect/{_ds}{_tag}_m{_m}",
                threads: 1
                resources:
                    mem_mb=4000,
                    runtime=600,
                conda:
                    ENV
                script:
                    "../../scripts/audit_detect.py"


rule fairest:
    input:
        unpack(lambda wc: audit_model_input(wc.ds, [wc.method])),
        audited="results/audited/{ds}.parquet",
        references=lambda wc: [f"results/audit/{wc.ds}/reference_m{m}.json" for m in sizes_of(wc.ds)],
    output:
        json="results/audit/{ds}/fairest_{method}.json",
    log:
        "results/logs/audit/{ds}/fairest_{method}.log",
    benchmark:
        "results/benchmarks/audit/fairest/{ds}_{method}.tsv"
    params:
        sizes=lambda wc: sizes_of(wc.ds),
        model=lambda wc: model_params(wc.ds),
        options=lambda wc: method_options(wc.ds, wc.method),
        seed=lambda wc: dataset_seed(wc.ds),
        start=lambda wc: battery(wc.ds, "start_level"),
        step=lambda wc: battery(wc.ds, "step"),
        n_samples=lambda wc: battery(wc.ds, "n_samples_fairest"),
        ablation=lambda wc: battery(wc.ds, "tests_ablation"),
        protocols=lambda wc: battery(wc.ds, "fairest_protocols"),
        progress=progress(),
        resume="results/resume/fairest/{ds}_{method}",
    wildcard_constraints:
        ds=_alternation(DATASETS),
        method=_alternation(METHOD_NAMES),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        ENV
    script:
        "../../scripts/audit_fairest.py"


rule sample_size:
    input:
        unpack(lambda wc: audit_model_input(wc.ds, fig8_methods(wc.ds))),
        audited="results/audited/{ds}.parquet",
        references=lambda wc: [f"results/audit/{wc.ds}/reference_m{m}.json" for m in fig8_sizes(wc.ds)],
    output:
        parquet="results/audit/{ds}/sample_size.parquet",
        json="results/audit/{ds}/sample_size.json",
    log:
        "results/logs/audit/{ds}/sample_size.log",
    benchmark:
        "results/benchmarks/audit/sample_size/{ds}.tsv"
    params:
        sizes=lambda wc: fig8_sizes(wc.ds),
        fractions=lambda wc: battery(wc.ds, "fig8_fractions"),
        methods=lambda wc: fig8_methods(wc.ds),
        model=lambda wc: model_params(wc.ds),
        options=lambda wc: {m: method_options(wc.ds, m) for m in fig8_methods(wc.ds)},
        seed=lambda wc: dataset_seed(wc.ds),
        start=lambda wc: battery(wc.ds, "fig8_start"),
        step=lambda wc: battery(wc.ds, "step"),
        n_samples=lambda wc: battery(wc.ds, "fig8_simulations"),
        target=config["target_di"],
        progress=progress(),
    wildcard_constraints:
        ds=_alternation(DATASETS),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        ENV
    script:
        "../../scripts/audit_sample_size.py"


rule table_detection:
    input:
        summaries=[f"results/audit/{ds}/{me}_m{m}.json" for ds in DATASETS for me in methods_for(ds)
                   for m in sizes_of(ds)],
    output:
        csv=report("results/tables/detection.csv", caption="../report/detection.rst",
                   category="Table 2: detection"),
        md="results/tables/detection.md",
        tex="results/tables/detection.tex",
    log:
        "results/logs/tables/detection.log",
    params:
        index=[(ds, me, m) for ds in DATASETS for me in methods_for(ds) for m in sizes_of(ds)],
        specs={ds: dataset_spec(ds) for ds in DATASETS},
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/audit_table_detection.py"


rule table_fairest:
    input:
        results=[f"results/audit/{ds}/fairest_{me}.json" for ds in DATASETS for me in fairest_methods(ds)],
    output:
        csv=report("results/tables/fairest.csv", caption="../report/fairest.rst",
                   category="Table 3: fairest undetected DI"),
        md="results/tables/fairest.md",
        tex="results/tables/fairest.tex",
        csv15=report("results/tables/fairest_no_mmd.csv", caption="../report/fairest_no_mmd.rst",
                     category="Table 15: without MMD"),
        md15="results/tables/fairest_no_mmd.md",
        tex15="results/tables/fairest_no_mmd.tex",
    log:
        "results/logs/tables/fairest.log",
    params:
        index=[(ds, me) for ds in DATASETS for me in fairest_methods(ds)],
        specs={ds: dataset_spec(ds) for ds in DATASETS},
        n_audit={ds: int(config["datasets"][ds]["n_audit"]) for ds in DATASETS},
        authors=bool(AUTHORS),
        authors_dir=authors_dir(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/audit_table_fairest.py"


rule table_reference:
    input:
        references=[f"results/audit/{ds}/reference_m{m}.json" for ds in DATASETS for m in sizes_of(ds)],
        # the authors' sets: their code's thresholds are recomputed on our first 30 draws
        audited=[f"results/audited/{ds}.parquet" for ds in AUTHORS],
    output:
        csv=report("results/tables/reference_thresholds.csv", caption="../report/reference_thresholds.rst",
                   category="Battery thresholds"),
        md="results/tables/reference_thresholds.md",
        tex="results/tables/reference_thresholds.tex",
    log:
        "results/logs/tables/reference_thresholds.log",
    params:
        index=[(ds, m) for ds in DATASETS for m in sizes_of(ds)],
        specs={ds: dataset_spec(ds) for ds in DATASETS},
        authors=bool(AUTHORS),
        authors_sets=AUTHORS,
        authors_dir=authors_dir(),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    script:
        "../../scripts/audit_table_reference.py"


rule table_sample_size:
    input:
        parquets=[f"results/audit/{ds}/sample_size.parquet" for ds in fig8_datasets()],
        summaries=[f"results/audit/{ds}/sample_size.json" for ds in fig8_datasets()],
    output:
        csv=report("results/tables/sample_size.csv", caption="../report/sample_size.rst",
                   category="Fig. 8: sample size"),
        md="results/tables/sample_size.md",
        tex="results/tables/sample_size.tex",
    log:
        "results/logs/tables/sample_size.log",
    params:
        datasets=fig8_datasets(),
        target=config["target_di"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/audit_table_sample_size.py"

# Figures of the paper (Figs. 4, 7, 8, 9, 11) and the report's environment page.
# Every figure rule reads cached intermediates only (tables, audit parquet/json): regenerating a
# figure never reruns a method. The one new computation is Fig. 7's simulated family
# (rule shift_curve, optional `shift_curve` config block).
import importlib.metadata
import platform

# Artefact paths come from the results store (wildcards {ds}, {method}, {m} as in its templates).
from fairwash import store

# The `shift_curve` block with defaults filled in (None: no Fig. 7), and the config-wide options
# of its methods (Grad's C0 and the like). Constants, not functions: `snakemake --lint` wants
# functions in common.smk.
SHIFT_CURVE = shift_curve_spec()
SHIFT_CURVE_OPTIONS = {} if SHIFT_CURVE is None else _canonical({
    m: method_options_global(m)
    for m in SHIFT_CURVE["methods"]
})

# What the report's environment page lists (distribution names as pip knows them), and their
# versions as the Snakemake process sees them (a rerun trigger of report_environment).
REPORT_PACKAGES = [
    "fairwash", "numpy", "scipy", "pandas", "pyarrow", "POT", "torch", "schedulefree", "safetensors",
    "scikit-learn", "matplotlib", "snakemake", "folktables", "mimesis",
]
_INSTALLED = {d.metadata["Name"].lower().replace("_", "-"): d.version
              for d in importlib.metadata.distributions() if d.metadata["Name"]}
PACKAGE_VERSIONS = {"python": platform.python_version(),
                    **{name: _INSTALLED.get(name.lower()) for name in REPORT_PACKAGES}}

# Targets of the figure stage, for all_outputs() in common.smk.
FIGURE_OUTPUTS = [
    store.path("figure", ext, name=name)
    for name in [
        "fig4_shift_radar",
        "tradeoff_di_shift",
        *[f"{fig}_{ds}" for ds in DATASETS for fig in ("fig9_detection_tries", "fig11_fairest_tries")],
        *(["fig8_sample_size"] if fig8_datasets() else []),
        *(["fig7_shift_curve"] if SHIFT_CURVE else []),
    ]
    for ext in ("png", "pdf")
] + ["results/report/environment.html"]


rule figure_shift:
    # Fig. 4 (radar) and the DI-gain vs W trade-off, from the shift table
    input:
        shift=store.path("table", "csv", name="shift"),
    output:
        radar=report(store.path("figure", "png", name="fig4_shift_radar"),
                     caption="../report/fig_shift_radar.rst",
                     category="Fig. 4: distribution shift"),
        radar_pdf=store.path("figure", "pdf", name="fig4_shift_radar"),
        tradeoff=report(store.path("figure", "png", name="tradeoff_di_shift"),
                        caption="../report/fig_tradeoff.rst",
                        category="Fig. 4: distribution shift"),
        tradeoff_pdf=store.path("figure", "pdf", name="tradeoff_di_shift"),
    log:
        "results/logs/figures/shift.log",
    params:
        datasets=DATASETS,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/figure_shift.py"


rule figure_sample_size:
    # Fig. 8 from the sample-size study, with the original DI of each data set
    input:
        parquets=[store.path("sample_size", "parquet", ds=ds) for ds in fig8_datasets()],
        datasets=store.path("table", "csv", name="datasets"),
    output:
        png=report(store.path("figure", "png", name="fig8_sample_size"),
                   caption="../report/fig_sample_size.rst",
                   category="Fig. 8: sample size"),
        pdf=store.path("figure", "pdf", name="fig8_sample_size"),
    log:
        "results/logs/figures/sample_size.log",
    params:
        target=config["target_di"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/figure_sample_size.py"


rule figure_tries:
    # Figs. 9 and 11 of one data set: tries against rejection (Table 2 samples) and against
    # finding the fairest undetected sample (Table 3 search)
    input:
        verdicts=lambda wc: [store.path("detection", "parquet", ds=wc.ds, method=me, m=m)
                             for me in methods_for(wc.ds) for m in sizes_of(wc.ds)],
        fairest=lambda wc: [store.path("fairest", "json", ds=wc.ds, method=me)
                            for me in fairest_methods(wc.ds)],
    output:
        # {ds} stays a wildcard in the figure's name
        fig9=report(store.path("figure", "png", name="fig9_detection_tries_{ds}"),
                    caption="../report/fig_detection_tries.rst",
                    category="Fig. 9: tries before acceptance", labels={"data set": "{ds}"}),
        fig9_pdf=store.path("figure", "pdf", name="fig9_detection_tries_{ds}"),
        fig11=report(store.path("figure", "png", name="fig11_fairest_tries_{ds}"),
                     caption="../report/fig_fairest_tries.rst",
                     category="Fig. 11: tries for the fairest sample", labels={"data set": "{ds}"}),
        fig11_pdf=store.path("figure", "pdf", name="fig11_fairest_tries_{ds}"),
    log:
        "results/logs/figures/tries_{ds}.log",
    params:
        verdict_keys=lambda wc: [[me, m] for me in methods_for(wc.ds) for m in sizes_of(wc.ds)],
        fairest_methods=lambda wc: fairest_methods(wc.ds),
        sizes=lambda wc: sizes_of(wc.ds),
    wildcard_constraints:
        ds=_alternation(DATASETS),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/figure_tries.py"


rule shift_curve:
    # Fig. 7's compute: simulated data sets at several label DIs, a small MLP each, every method
    output:
        parquet=store.path("shift_curve", "parquet"),
        json=store.path("shift_curve", "json"),
    log:
        "results/logs/shift_curve.log",
    benchmark:
        "results/benchmarks/shift_curve.tsv"
    params:
        spec=SHIFT_CURVE,
        options=SHIFT_CURVE_OPTIONS,
        target=config["target_di"],
        seed=dataset_seed("shift_curve"),
        progress=progress(),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/shift_curve.py"


rule figure_shift_curve:
    input:
        parquet=store.path("shift_curve", "parquet"),
    output:
        png=report(store.path("figure", "png", name="fig7_shift_curve"),
                   caption="../report/fig_shift_curve.rst",
                   category="Fig. 7: simulated data"),
        pdf=store.path("figure", "pdf", name="fig7_shift_curve"),
    log:
        "results/logs/figures/shift_curve.log",
    params:
        target=config["target_di"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/figure_shift_curve.py"


rule report_environment:
    # the report's page of the configuration and package versions used
    output:
        html=report("results/report/environment.html", caption="../report/environment.rst",
                    category="Environment"),
    log:
        "results/logs/report/environment.log",
    params:
        config=_canonical(config),
        packages=REPORT_PACKAGES,
        versions=PACKAGE_VERSIONS,
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/report_environment.py"


# Seconds of work each: on a cluster they run beside the scheduler, not in the queue.
localrules:
    figure_shift,
    figure_sample_size,
    figure_tries,
    figure_shift_curve,
    report_environment,

# Beyond the paper (issue 17): the paper's battery and the optimal protocol side by side on each data
# set. Honest false alarms per size, then one table and one figure per data set from the cached
# references, Table 2's samples and the fairest searches (which search each protocol of
# `battery.fairest_protocols` on Table 3's samples).
from fairwash import store


rule protocol_honest:
    input:
        audited=store.template("audited", "parquet"),
        reference=store.template("reference", "json"),
    output:
        parquet=store.template("protocol_honest", "parquet"),
        json=store.template("protocol_honest", "json"),
    log:
        "results/logs/protocols/{ds}/honest_m{m}.log",
    benchmark:
        "results/benchmarks/protocols/honest/{ds}_m{m}.tsv"
    params:
        n_honest=lambda wc: battery(wc.ds, "n_honest"),
        n_honest_optimal=lambda wc: battery(wc.ds, "n_honest_optimal"),
        seed=lambda wc: audit_seed(wc.ds, "honest", wc.m),
    wildcard_constraints:
        ds=_alternation(DATASETS),
        m=r"\d+",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        ENV
    script:
        "../../scripts/protocols_honest.py"


PROTOCOL_OUTPUTS = [out for ds in DATASETS for out in (
    store.path("table", "csv", name=f"protocols_{ds}"), store.path("table", "md", name=f"protocols_{ds}"),
    store.path("figure", "png", name=f"protocols_{ds}"))]


rule table_protocols:
    input:
        audited=store.template("audited", "parquet"),
        references=lambda wc: [store.path("reference", "json", ds=wc.ds, m=m)
                               for m in protocol_reference_sizes(wc.ds)],
        honest=lambda wc: [store.path("protocol_honest", "json", ds=wc.ds, m=m) for m in sizes_of(wc.ds)],
        fairest=lambda wc: [store.path("fairest", "json", ds=wc.ds, method=me) for me in fairest_methods(wc.ds)],
        detections=lambda wc: [j[k] for j in protocol_detections(wc.ds) for k in ("parquet", "manipulated", "summary")],
    output:
        csv=report("results/tables/protocols_{ds}.csv", caption="../report/protocols.rst",
                   category="Beyond the paper: protocols"),
        md="results/tables/protocols_{ds}.md",
        png=report("results/figures/protocols_{ds}.png", caption="../report/protocols.rst",
                   category="Beyond the paper: protocols"),
    log:
        "results/logs/protocols/{ds}/comparison.log",
    benchmark:
        "results/benchmarks/protocols/comparison/{ds}.tsv"
    params:
        sizes=lambda wc: protocol_reference_sizes(wc.ds),
        methods=lambda wc: fairest_methods(wc.ds),
        jobs=lambda wc: protocol_detections(wc.ds),
        tau=target_di(),
        grid_points=lambda wc: battery(wc.ds, "cap_grid_points"),
    wildcard_constraints:
        ds=_alternation(DATASETS),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/table_protocols.py"

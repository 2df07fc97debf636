"""Rules fairest and fairest_replicate: fairest undetected DI of one method at every size, 7 tests and
ablation (Tables 3, 15), under the rule's seed."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.audit import fairest_stage, model_for

p = snakemake.params
model = model_for([snakemake.wildcards.method], model_config=snakemake.input.get("config"), **p.model)
out = fairest_stage(
    audited_parquet=snakemake.input.audited,
    method=snakemake.wildcards.method,
    reference_jsons=dict(zip(p.sizes, snakemake.input.references, strict=True)),
    model=model, options=p.options, seed=p.seed, start=p.start, step=p.step, n_samples=p.n_samples,
    ablation=p.ablation, progress=p.progress, out_json=snakemake.output.json, resume_dir=p.resume,
    model_files=[snakemake.input[k] for k in ("weights", "config") if k in snakemake.input.keys()],
    model_params=p.model, protocols=p.protocols,
)
print({m: {k: v["best_di"] for k, v in r.items()} for m, r in out["sizes"].items()}, file=sys.stderr)

"""Rules detect_<ds>_m<m>: the battery on repeated samples from every manipulation (Table 2)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.audit import detect_stages

inp, out, p = snakemake.input, snakemake.output, snakemake.params
jobs = [
    {"manipulated_parquet": mp, "manipulated_json": mj, "seed": seed, "out_parquet": op, "out_json": oj}
    for mp, mj, seed, op, oj in zip(
        inp.manipulated, inp.summaries, p.seeds, out.parquets, out.jsons, strict=True
    )
]
for summary in detect_stages(audited_parquet=inp.audited, reference_json=inp.reference, m=p.m,
                             n_samples=p.n_samples, target=p.target, jobs=jobs, resume_dir=p.resume,
                             w_a_rate_samples=p.w_a_rate_samples):
    print(summary, file=sys.stderr)

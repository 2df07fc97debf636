"""Rule table_sample_size: the table of Fig. 8 (fairest undetected DI vs sample fraction)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from fairwash.io import read_json
from fairwash.tables import write_table

study = pd.concat([pd.read_parquet(p) for p in snakemake.input.parquets], ignore_index=True)
summaries = [read_json(p) for p in snakemake.input.summaries]
notes = [f"{s['dataset']}: {s['message']}." for s in summaries]
o = snakemake.output
write_table(study, csv=o.csv, md=o.md, tex=o.tex, digits=3,
            title="Fig. 8. Fairest undetected DI vs sample fraction — " + " ".join(notes))
print(notes, file=sys.stderr)

"""Rule report_environment: the report's page of the configuration and package versions."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.report import environment_stage

versions = environment_stage(config=snakemake.params.config, packages=snakemake.params.packages,
                             scheduler_versions=snakemake.params.versions, out_html=snakemake.output.html)
print(versions, file=sys.stderr)

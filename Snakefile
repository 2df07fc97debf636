# fairwash: replicate "Exposing the Illusion of Fairness" end to end.
#   snakemake --cores 2                              # embedded offline default
#   snakemake --cores 2 --configfile config/paper.yaml
#   snakemake --workflow-profile workflow/profiles/slurm ...
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/manipulate.smk"
include: "workflow/rules/audit.smk"
include: "workflow/rules/counterfactual.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/protocols.smk"
include: "workflow/rules/replicates.smk"


# Table rules are seconds of work: on a cluster they run beside the scheduler, not in the queue.
localrules:
    all,
    table_datasets,
    table_shift,
    table_counterfactual,
    table_cost,


rule all:
    input:
        all_outputs(),
    default_target: True

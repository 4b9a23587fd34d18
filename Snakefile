# glowtts-pipeline: Glow-TTS from corpus to evaluation. See README.md.
import json
import sys

from snakemake.utils import min_version, update_config, validate

sys.path.insert(0, workflow.basedir)  # the glowtts package of this checkout, installed or not

from glowtts.config import typed_overrides  # noqa: E402
from glowtts.config import validate as validate_config  # noqa: E402

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


# `--config 'model={hidden_channels: 32}'` leaves nested values as strings: read them as YAML.
update_config(config, typed_overrides(workflow.config_settings.overwrite_config))

# Our validator first: every problem at once, each naming the field, the value and what is
# allowed; then Snakemake's, which fills in the schema's defaults.
CFG = validate_config(config, source="the workflow config")  # the typed config every rule reads
validate(config, "config/schema.yaml", set_default=True)


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/mas.smk"
include: "rules/features.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/export.smk"


rule all:
    default_target: True
    input:
        f"{OUT}/config.yaml",
        f"{OUT}/features/store",
        MAS_STAMP,
        f"{OUT}/train/glowtts.pt",
        f"{OUT}/eval/metrics.json",

"""Rule resolved_config: the run's whole config, defaults filled in, next to its outputs."""

from _workflow import start

from glowtts.config import write_yaml

cfg = start(snakemake)
write_yaml(cfg, snakemake.output.config)

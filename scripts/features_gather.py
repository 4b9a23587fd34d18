"""Rule features: gather the shards into the memory-mapped feature store."""

from _workflow import start

from glowtts.data.features import gather_shards

cfg = start(snakemake)
gather_shards(snakemake.input.shards, snakemake.output.store, cfg)

"""Rule features_shard: log-mels and token ids of one shard of the filelists' utterances."""

from _workflow import start

from glowtts.data.features import compute_shard_job

cfg = start(snakemake)
compute_shard_job(
    snakemake.input.filelists,
    snakemake.wildcards.scatteritem,
    cfg,
    snakemake.output.shard,
    num_threads=snakemake.threads,
)

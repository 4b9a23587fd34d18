"""Rule features_shard: log-mels and token ids of one shard of the filelists' utterances."""

from _workflow import start

from glowtts.data.features import compute_shard, shard_rows
from glowtts.data.manifest import read_manifest

cfg = start(snakemake)
k, n = (int(x) for x in snakemake.wildcards.scatteritem.split("-of-"))
rows = [u for path in snakemake.input.filelists for u in read_manifest(path)]
compute_shard(
    shard_rows(rows, n, k - 1), cfg, snakemake.output.shard, num_threads=snakemake.threads
)

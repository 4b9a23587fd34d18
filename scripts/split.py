"""Rule split: deterministic train/val/test filelists."""

from _workflow import start

from glowtts.data.prepare import prepare_split

cfg = start(snakemake)
out = snakemake.output
prepare_split(cfg, snakemake.input.manifest, {k: out[k] for k in ("train", "val", "test")})

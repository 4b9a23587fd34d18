"""Rule split: deterministic train/val/test filelists."""

from _workflow import start

from glowtts.data.prepare import prepare_split

cfg = start(snakemake)  # noqa: F821 (snakemake is injected by the script directive)
out = snakemake.output  # noqa: F821
prepare_split(cfg, snakemake.input.manifest, {k: out[k] for k in ("train", "val", "test")})

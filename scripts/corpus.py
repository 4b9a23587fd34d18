"""Rule corpus: validate the corpus folder and write its manifest and report."""

from _workflow import start

from glowtts.data.prepare import prepare_corpus

cfg = start(snakemake)  # noqa: F821 (snakemake is injected by the script directive)
out = snakemake.output  # noqa: F821
prepare_corpus(cfg, snakemake.input.folder, out.manifest, out.report)  # noqa: F821

"""Rule corpus: validate the corpus folder and write its manifest and report."""

from _workflow import start

from glowtts.data.prepare import prepare_corpus

cfg = start(snakemake)
out = snakemake.output
prepare_corpus(cfg, snakemake.input.folder, out.manifest, out.report)

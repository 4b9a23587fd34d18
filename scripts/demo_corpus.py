"""Rule demo_corpus: the offline demo corpus, generated from the seed."""

from _workflow import start

from glowtts.data.demo import generate_demo_corpus

cfg = start(snakemake)
generate_demo_corpus(snakemake.output.folder, cfg.dataset.demo, cfg.audio, cfg.seed)

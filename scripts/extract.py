"""Rule extract_ljspeech: streaming, path-checked extraction of the archive."""

from _workflow import start

from glowtts.data.download import extract_tar

start(snakemake)
extract_tar(snakemake.input.archive, snakemake.output.folder)

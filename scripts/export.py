"""Rule export: the trained voice as ONNX, its metadata beside it."""

from _workflow import start

from glowtts.export import export_onnx

start(snakemake)
export_onnx(snakemake.input.checkpoint, snakemake.output.onnx)

"""Rule export: the trained voice as ONNX, its metadata (and vocoder, dictionary) beside it."""

from _workflow import start

from glowtts.export import SYNTHESIS_DEFAULTS, export_onnx

cfg = start(snakemake)
inp = snakemake.input
export_onnx(
    inp.checkpoint,
    snakemake.output.onnx,
    # Namedlist: `in` would test the paths, keys() tests the names
    hifigan=inp.hifigan if "hifigan" in inp.keys() else None,  # noqa: SIM118
    hifigan_preset=cfg.synthesis.hifigan_preset,
    # the run's synthesis: section, not the checkpoint's (training records none)
    synthesis={key: getattr(cfg.synthesis, key) for key in SYNTHESIS_DEFAULTS},
)

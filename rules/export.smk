# Export (optional, not in the default target): the trained voice as ONNX for onnxruntime, with
# the HiFi-GAN generator when synthesis.vocoder is hifigan; voice.json carries the run's
# synthesis defaults (scales, batch size, Griffin-Lim iterations).
#   snakemake --cores 1 export


rule export:
    input:
        checkpoint=rules.train.output.checkpoint,
        **export_inputs(),
        # shipped beside the model; checked against the one the voice was trained with
        **dictionary_input(),
    output:
        onnx=f"{OUT}/export/voice.onnx",
        metadata=f"{OUT}/export/voice.json",
        **export_outputs(),
    params:
        # the runtime's defaults (voice.json) and the vocoder exported with the voice
        config=view(
            "synthesis.vocoder",
            "synthesis.hifigan_preset",
            "synthesis.noise_scale",
            "synthesis.length_scale",
            "synthesis.batch_size",
            "synthesis.griffin_lim_iters",
        ),
    log:
        f"{LOGS}/export.log",
    benchmark:
        f"{BENCH}/export.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/export.py"

# Export (optional, not in the default target): the trained voice as ONNX for onnxruntime, with
# the HiFi-GAN generator when synthesis.vocoder is hifigan.
#   snakemake --cores 1 export


rule export:
    input:
        checkpoint=rules.train.output.checkpoint,
        **export_inputs(),
    output:
        onnx=f"{OUT}/export/voice.onnx",
        metadata=f"{OUT}/export/voice.json",
        **export_outputs(),
    params:
        config=view("synthesis.vocoder", "synthesis.hifigan_preset"),
    log:
        f"{LOGS}/export.log",
    benchmark:
        f"{BENCH}/export.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/export.py"

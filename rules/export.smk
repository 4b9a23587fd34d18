# Export (optional, not in the default target): the trained voice as ONNX for onnxruntime.
#   snakemake --cores 1 export


rule export:
    input:
        checkpoint=rules.train.output.checkpoint,
    output:
        onnx=f"{OUT}/export/voice.onnx",
        metadata=f"{OUT}/export/voice.json",
    params:
        config=view(),  # everything comes from the checkpoint
    log:
        f"{LOGS}/export.log",
    benchmark:
        f"{BENCH}/export.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/export.py"

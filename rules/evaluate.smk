# Evaluation: synthesise the test split and the extra sentences, score, plot, and write the
# report's pages. Its params carry only seed and synthesis: editing synthesis: reruns this
# stage alone (and the resolved config, which records every value).

EVAL = f"{OUT}/eval"


rule evaluate:
    input:
        checkpoint=rules.train.output.checkpoint,
        store=ancient(f"{OUT}/features/store"),
        **{name: f"{OUT}/filelists/{name}.tsv" for name in SPLITS},
        **demo_truth(),
        # the HiFi-GAN generator when synthesis.vocoder is hifigan: a new file reruns this stage
        **export_inputs(),
    output:
        metrics=f"{EVAL}/metrics.json",
        utterances=f"{EVAL}/utterances.tsv",
        wavs=directory(f"{EVAL}/wavs"),
        # figures of every test utterance; the report shows the first few (eval/report/)
        mels=directory(f"{EVAL}/mels"),
        alignments=directory(f"{EVAL}/alignments"),
        report_mels=report(
            directory(f"{EVAL}/report/mels"),
            patterns=["{id}.png"],
            caption="../report/mels.rst",
            category="4. Synthesis",
            labels={"utterance": "{id}", "figure": "recorded vs generated mel"},
        ),
        report_alignments=report(
            directory(f"{EVAL}/report/alignments"),
            patterns=["{id}.png"],
            caption="../report/alignments.rst",
            category="3. Alignment",
            labels={"utterance": "{id}", "figure": "MAS alignment"},
        ),
        metrics_page=report(
            f"{EVAL}/metrics.html",
            caption="../report/metrics.rst",
            category="1. Data and metrics",
            labels={"page": "metrics"},
        ),
        data_page=report(
            f"{EVAL}/data.html",
            caption="../report/data.rst",
            category="1. Data and metrics",
            labels={"page": "data"},
        ),
        lengths=report(
            f"{EVAL}/lengths.png",
            caption="../report/lengths.rst",
            category="1. Data and metrics",
            labels={"page": "clip durations"},
        ),
        loss_curves=report(
            f"{EVAL}/loss_curves.png",
            caption="../report/loss_curves.rst",
            category="2. Training",
            labels={"figure": "loss curves"},
        ),
        audio=report(
            directory(f"{EVAL}/audio"),
            patterns=["{id}.html"],
            caption="../report/audio.rst",
            category="4. Synthesis",
            labels={"utterance": "{id}", "figure": "audio"},
        ),
    params:
        config=view("seed", "synthesis"),
        # written by training beside its checkpoint; read for the loss curves only
        tensorboard=f"{OUT}/train/tensorboard",
    log:
        f"{LOGS}/evaluate.log",
    benchmark:
        f"{BENCH}/evaluate.tsv"
    conda:
        ENV
    threads: 2
    script:
        "../scripts/evaluate.py"

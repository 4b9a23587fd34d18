# Corpus stage: a demo corpus, LJSpeech, or a user's folder -> validated manifest -> split.


rule download_ljspeech:
    output:
        archive=f"{LJSPEECH_ROOT}/LJSpeech-1.1.tar.bz2",
    params:
        # What identifies the file; url, retries and timeout (read from the config) do not.
        sha256=CFG.dataset.ljspeech.sha256,
        size_bytes=CFG.dataset.ljspeech.size_bytes,
    log:
        f"{LJSPEECH_ROOT}/logs/download.log",
    benchmark:
        f"{LJSPEECH_ROOT}/logs/download.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        downloads=1,
    retries: 0
    script:
        "../scripts/download.py"


rule extract_ljspeech:
    input:
        archive=rules.download_ljspeech.output.archive,
    output:
        folder=directory(f"{LJSPEECH_ROOT}/extracted"),
    log:
        f"{LJSPEECH_ROOT}/logs/extract.log",
    benchmark:
        f"{LJSPEECH_ROOT}/logs/extract.benchmark.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/extract.py"


rule demo_corpus:
    output:
        folder=directory(f"{OUT}/demo_corpus"),
    params:
        seed=CFG.seed,
        demo=section("dataset")["demo"],
        audio=section("audio", "sample_rate", "hop_length", "fmax"),
    log:
        f"{LOGS}/demo_corpus.log",
    benchmark:
        f"{BENCH}/demo_corpus.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/demo_corpus.py"


rule corpus:
    input:
        **corpus_inputs(),
    output:
        manifest=f"{OUT}/corpus/metadata.tsv",
        report=f"{OUT}/corpus/report.json",
    params:
        dataset=section("dataset", "min_seconds", "max_seconds", "on_rate_mismatch"),
        sample_rate=CFG.audio.sample_rate,
        text=section("text"),
    log:
        f"{LOGS}/corpus.log",
    benchmark:
        f"{BENCH}/corpus.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/corpus.py"


rule split:
    input:
        manifest=rules.corpus.output.manifest,
        filelists=user_filelists(),
    output:
        **{name: f"{OUT}/filelists/{name}.tsv" for name in SPLITS},
    params:
        seed=CFG.seed,
        split=section("split"),
    log:
        f"{LOGS}/split.log",
    benchmark:
        f"{BENCH}/split.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/split.py"


rule resolved_config:
    output:
        config=f"{OUT}/config.yaml",
    params:
        config=glowtts.config.to_dict(CFG),
    log:
        f"{LOGS}/resolved_config.log",
    benchmark:
        f"{BENCH}/resolved_config.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/resolved_config.py"

# Corpus stage: a demo corpus, LJSpeech, or a user's folder -> validated manifest -> split.


rule download_ljspeech:
    output:
        archive=f"{LJSPEECH_ROOT}/LJSpeech-1.1.tar.bz2",
    params:
        # What identifies the file; the script reads url, retries and timeout untracked.
        config=view("dataset.ljspeech.sha256", "dataset.ljspeech.size_bytes"),
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
    params:
        config=view(),
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
        config=view("seed", "dataset.demo", "audio.sample_rate", "audio.hop_length", "audio.fmax"),
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
        **dictionary_input(),
    output:
        manifest=f"{OUT}/corpus/metadata.tsv",
        report=f"{OUT}/corpus/report.json",
    params:
        config=view(
            "dataset.min_seconds",
            "dataset.max_seconds",
            "dataset.on_rate_mismatch",
            "audio.sample_rate",
            "text",
        ),
        wavs=corpus_fingerprint_param(),
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
        config=view("seed", "split"),
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
        config=view(*glowtts.config.to_dict(CFG)),
    log:
        f"{LOGS}/resolved_config.log",
    benchmark:
        f"{BENCH}/resolved_config.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/resolved_config.py"

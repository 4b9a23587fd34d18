# Log-mel features: scatter the utterances of the three filelists over N shard jobs, gather one store.


scattergather:
    features=N_SHARDS,


rule features_shard:
    input:
        filelists=expand("{out}/filelists/{split}.tsv", out=OUT, split=SPLITS),
        **dictionary_input(),
    output:
        shard=f"{OUT}/features/shards/{{scatteritem}}.npz",
    params:
        config=view("seed", "audio", "text", "dataset.on_rate_mismatch"),
    log:
        f"{LOGS}/features_shard/{{scatteritem}}.log",
    benchmark:
        f"{BENCH}/features_shard/{{scatteritem}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,  # one shard of LJSpeech mels (1.2 GB at 2 shards) plus torch
    script:
        "../scripts/features_shard.py"


rule features:
    input:
        shards=gather.features(f"{OUT}/features/shards/{{scatteritem}}.npz"),
        **dictionary_input(),
    output:
        store=directory(f"{OUT}/features/store"),
    params:
        config=view("seed", "audio", "text", "features.dtype", "dataset.on_rate_mismatch"),
    log:
        f"{LOGS}/features.log",
    benchmark:
        f"{BENCH}/features.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/features_gather.py"

# Paths, config access and wildcard constraints shared by every rule; no logic beyond lookups.
import os

import glowtts.config
from glowtts.data.split import SPLITS

# Builds the typed config: the schema's cross-field rules fail here, before any job starts.
CFG = glowtts.config.from_dict(config, source="the workflow config")
RUN = CFG.run
OUT = f"results/{RUN}"
LOGS = f"{OUT}/logs"
BENCH = f"{OUT}/benchmarks"
ENV = "../envs/glowtts.yaml"
MAS_STAMP = "monotonic_align/build.json"
LJSPEECH_ROOT = "resources/ljspeech"
# Feature shards: features.shards, or one per core given to Snakemake. Name it explicitly to
# keep the shard files when rerunning with another --cores.
N_SHARDS = CFG.features.shards or workflow.cores or os.cpu_count() or 1


def section(name):
    """One config section as a plain dict (defaults filled in), for a rule's params."""
    return glowtts.config.to_dict(getattr(CFG, name))


def corpus_folder():
    """The LJSpeech-format folder the corpus stage reads, by dataset.kind."""
    kind = CFG.dataset.kind
    if kind == "demo":
        return f"{OUT}/demo_corpus"
    if kind == "ljspeech":
        return f"{LJSPEECH_ROOT}/extracted"
    return os.path.expanduser(CFG.dataset.folder.path)


def user_filelists():
    """The user's split filelists, when the config names them."""
    if not CFG.split.from_filelists:
        return []
    return [CFG.split.train_filelist, CFG.split.val_filelist, CFG.split.test_filelist]

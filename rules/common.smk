# Paths, config access and wildcard constraints shared by every rule; no logic beyond lookups.
import os

import glowtts.config
from glowtts.data.corpus import find_corpus_root
from glowtts.data.manifest import SPLITS

# CFG, the typed config, was built (and validated) by the Snakefile before any rule.
RUN = CFG.run
OUT = f"results/{RUN}"
LOGS = f"{OUT}/logs"
BENCH = f"{OUT}/benchmarks"
ENV = "../envs/glowtts.yaml"
MAS_STAMP = "monotonic_align/build.json"
LJSPEECH_ROOT = "resources/ljspeech"
# A fixed number of feature shards (not one per --cores), so the DAG is the same wherever the
# Snakefile is parsed: dry runs, other --cores, cluster nodes.
N_SHARDS = CFG.features.shards


def section(name, *keys):
    """A config section (or some of its keys) as a plain dict with defaults, for params.

    Scripts read the whole typed config; a rule's params name exactly the values its outputs
    depend on, so editing anything else does not rerun it.
    """
    values = glowtts.config.to_dict(getattr(CFG, name))
    return {k: values[k] for k in keys} if keys else values


def corpus_inputs():
    """The LJSpeech-format folder the corpus stage reads, by dataset.kind; a user's folder is
    tracked by its metadata.csv (a folder's own mtime misses edits of the files in it)."""
    kind = CFG.dataset.kind
    if kind == "demo":
        return {"folder": f"{OUT}/demo_corpus"}
    if kind == "ljspeech":
        return {"folder": f"{LJSPEECH_ROOT}/extracted"}
    root = find_corpus_root(os.path.expanduser(CFG.dataset.folder.path))
    return {"folder": str(root), "metadata": str(root / "metadata.csv")}


def user_filelists():
    """The user's split filelists, when the config names them."""
    if not CFG.split.from_filelists:
        return []
    return [CFG.split.train_filelist, CFG.split.val_filelist, CFG.split.test_filelist]

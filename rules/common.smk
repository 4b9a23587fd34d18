# Paths, config access and wildcard constraints shared by every rule; no logic beyond lookups.
import os

import glowtts.config
from glowtts.config import LJSPEECH_CLIPS
from glowtts.data.corpus import corpus_fingerprint, find_corpus_root
from glowtts.data.manifest import SPLITS

# CFG, the typed config, was built (and validated) by the Snakefile before any rule.
RUN = CFG.run
OUT = f"results/{RUN}"
LOGS = f"{OUT}/logs"
BENCH = f"{OUT}/benchmarks"
ENV = "../envs/glowtts.yaml"
MAS_STAMP = "monotonic_align/build.json"
LJSPEECH_ROOT = "resources/ljspeech"
USER_FOLDER = (
    find_corpus_root(os.path.expanduser(CFG.dataset.folder.path))
    if CFG.dataset.kind == "folder"
    else None
)


wildcard_constraints:
    scatteritem=r"\d+-of-\d+",


def view(*paths):
    """The named config values (dotted paths or whole sections) for a rule's params.

    The contract: a rule's params carry exactly the config values its outputs depend on, and
    its script sees only those (scripts/_workflow.py), so editing anything else does not
    rerun it, and a script cannot read a value whose edits would not rerun it.
    """
    return glowtts.config.params_view(CFG, *paths)


def n_clips():
    """Clips the corpus will have, known at parse time (sizes features.shards: null)."""
    if CFG.dataset.kind == "demo":
        return CFG.dataset.demo.n_clips
    if CFG.dataset.kind == "ljspeech":
        return LJSPEECH_CLIPS
    with open(USER_FOLDER / "metadata.csv", "rb") as fh:
        return sum(1 for line in fh if line.strip())


# A fixed number of feature shards (not one per --cores), so the DAG is the same wherever the
# Snakefile is parsed: dry runs, other --cores, cluster nodes.
N_SHARDS = CFG.features.shards_for(n_clips())


def corpus_inputs():
    """The LJSpeech-format folder the corpus stage reads, by dataset.kind; a user's folder is
    tracked by its metadata.csv and, through params, by the fingerprint of its wavs."""
    kind = CFG.dataset.kind
    if kind == "demo":
        return {"folder": f"{OUT}/demo_corpus"}
    if kind == "ljspeech":
        return {"folder": f"{LJSPEECH_ROOT}/extracted"}
    return {"folder": str(USER_FOLDER), "metadata": str(USER_FOLDER / "metadata.csv")}


def corpus_fingerprint_param():
    """Size + mtime of every wav of a user's folder (stat only): a changed, added or removed
    wav reruns the corpus stage. The demo and LJSpeech folders are outputs of rules."""
    return corpus_fingerprint(USER_FOLDER) if USER_FOLDER is not None else ""


def dictionary_input():
    """The pronouncing dictionary file, when text.dictionary names one (its edits rerun)."""
    if CFG.text.cmudict and CFG.text.dictionary:
        return {"dictionary": os.path.expanduser(CFG.text.dictionary)}
    return {}


def user_filelists():
    """The user's split filelists, when the config names them."""
    if not CFG.split.from_filelists:
        return []
    return [CFG.split.train_filelist, CFG.split.val_filelist, CFG.split.test_filelist]


def demo_truth():
    """The demo corpus (its durations.tsv is the alignment truth the evaluation scores)."""
    return {"demo": f"{OUT}/demo_corpus"} if CFG.dataset.kind == "demo" else {}


def init_from_input():
    """The checkpoint a fine-tuning run starts from (train.init_from), tracked as an input."""
    path = CFG.train.init_from
    return {"init_from": os.path.expanduser(path)} if path else {}


def export_inputs():
    """The HiFi-GAN generator the voice exports with, when synthesis.vocoder names one."""
    synth = CFG.synthesis
    if synth.vocoder == "hifigan" and synth.hifigan_checkpoint:
        return {"hifigan": os.path.expanduser(synth.hifigan_checkpoint)}
    return {}


def export_outputs():
    """The files beside voice.onnx: the vocoder, and the dictionary a CMUdict voice reads."""
    extra = {}
    if export_inputs():
        extra["vocoder"] = f"{OUT}/export/voice.vocoder.onnx"
    if CFG.text.cmudict and CFG.text.dictionary:
        extra["dictionary"] = f"{OUT}/export/voice.dict"
    return extra

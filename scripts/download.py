"""Rule download_ljspeech: resumable, verified download of LJSpeech-1.1."""

from _workflow import start

from glowtts.data.download import download

cfg = start(
    snakemake,
    untracked=("dataset.ljspeech.url", "dataset.ljspeech.retries", "dataset.ljspeech.timeout_s"),
).dataset.ljspeech
download(
    cfg.url,
    snakemake.output.archive,
    sha256=cfg.sha256,
    size=cfg.size_bytes,
    retries=cfg.retries,
    timeout=cfg.timeout_s,
)

"""The evaluation stage: synthesise the test split and extra sentences, plot, and score.

Writes into one folder::

    wavs/<id>.wav, wavs/sentence_<k>.wav      generated speech (the configured vocoder)
    plots/<id>_generated_vs_target.png        target vs generated log-mel (first few utterances)
    plots/<id>_alignment.png                  the MAS alignment of the recording
    metrics.json                              flat keys with units

Metrics: the test split's MLE and duration losses (nats per mel value; squared log-duration
error per token), real-time factors of the acoustic model and of the vocoder measured apart
(compute seconds per second of audio), and on the demo corpus, whose true durations are
known, the alignment scores of :mod:`glowtts.metrics.alignment` for the MAS alignment of the
recordings and for the predicted durations.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from glowtts.checkpoint import load_checkpoint
from glowtts.config import Config
from glowtts.data.dataset import collate
from glowtts.data.manifest import read_manifest
from glowtts.data.store import FeatureStore
from glowtts.metrics import aggregate, alignment_scores, merge_blanks
from glowtts.model.losses import LossTotals

__all__ = ["EvalPaths", "evaluate"]

log = logging.getLogger(__name__)

PLOTTED_UTTERANCES = 8  # plots for the first few test utterances (the report shows them)


@dataclass(frozen=True)
class EvalPaths:
    """Inputs and the output folder of the evaluation.

    Attributes:
        checkpoint: the trained voice; store: the feature store; test_list: the test filelist.
        durations: a demo corpus's durations.tsv (true frames per symbol), or None.
        out: the evaluation folder (wavs/, plots/, metrics.json).
    """

    checkpoint: Path
    store: Path
    test_list: Path
    durations: Path | None
    out: Path


def evaluate(cfg: Config, paths: EvalPaths) -> dict[str, Any]:
    """Run the evaluation (``cfg.seed`` and ``cfg.synthesis`` are read); return the metrics."""
    from glowtts.checkpoint import build_model
    from glowtts.synthesis import Synthesizer, build_vocoder, write_wav

    ckpt = load_checkpoint(paths.checkpoint)
    audio, synth = ckpt.config.audio, cfg.synthesis
    store = FeatureStore(paths.store, audio=audio)
    ids = [u.id for u in read_manifest(paths.test_list)]
    model = build_model(ckpt).eval()
    vocoder = build_vocoder(
        synth.vocoder,
        audio,
        griffin_lim_iters=synth.griffin_lim_iters,
        hifigan_checkpoint=synth.hifigan_checkpoint,
        hifigan_preset=synth.hifigan_preset,
    )
    truth = _true_durations(paths.durations)
    from glowtts.text import BLANK_ID

    blank_id = BLANK_ID if ckpt.config.text.add_blank else None
    wav_dir, plot_dir = paths.out / "wavs", paths.out / "plots"
    wav_dir.mkdir(parents=True, exist_ok=True)
    plot_dir.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(cfg.seed)
    totals = LossTotals()
    timing = {"acoustic_s": 0.0, "vocoder_s": 0.0, "audio_s": 0.0}
    mas_scores: list[dict[str, float]] = []
    pred_scores: list[dict[str, float]] = []
    for start in range(0, len(ids), synth.batch_size):
        chunk = ids[start : start + synth.batch_size]
        batch = collate([store.get(u) for u in chunk])
        with torch.no_grad():
            out = model(batch.x, batch.x_lengths, batch.y, batch.y_lengths)
            totals.add(out)
            t0 = time.perf_counter()
            gen = model.infer(
                batch.x,
                batch.x_lengths,
                noise_scale=synth.noise_scale,
                length_scale=synth.length_scale,
                generator=generator,
            )
            t1 = time.perf_counter()
            wavs = vocoder(gen.mel)  # [B, 1, T_y * hop]
            t2 = time.perf_counter()
        timing["acoustic_s"] += t1 - t0
        timing["vocoder_s"] += t2 - t1
        for row, uid in enumerate(chunk):
            n_x, n_y = int(batch.x_lengths[row]), int(gen.y_lengths[row])
            timing["audio_s"] += n_y * audio.hop_length / audio.sample_rate
            write_wav(
                wav_dir / f"{uid}.wav",
                wavs[row, 0, : n_y * audio.hop_length].numpy(),
                audio.sample_rate,
            )
            mas = out.durations[row, 0, :n_x].numpy()
            pred = gen.durations[row, :n_x].numpy()
            if uid in truth:
                tokens = batch.x[row, :n_x].numpy()
                mas_scores.append(alignment_scores(truth[uid], _per_symbol(mas, tokens, blank_id)))
                pred_scores.append(
                    alignment_scores(truth[uid], _per_symbol(pred, tokens, blank_id))
                )
            if start + row < PLOTTED_UTTERANCES:
                _plot(plot_dir, uid, batch, out, gen, row, audio.hop_length / audio.sample_rate)

    sentences = Synthesizer(ckpt, vocoder=vocoder)(
        list(synth.sentences),
        noise_scale=synth.noise_scale,
        length_scale=synth.length_scale,
        batch_size=synth.batch_size,
        seed=cfg.seed,
    )
    for k, result in enumerate(sentences, start=1):
        assert result.wav is not None
        write_wav(wav_dir / f"sentence_{k:02d}.wav", result.wav, audio.sample_rate)

    metrics: dict[str, Any] = {
        "test_utterances": len(ids),
        "test_loss_mle_nats": totals.mean_mle,
        "test_loss_duration": totals.mean_duration,
        "rtf_acoustic": timing["acoustic_s"] / timing["audio_s"],
        "rtf_vocoder": timing["vocoder_s"] / timing["audio_s"],
        "vocoder": vocoder.name,
        "noise_scale": synth.noise_scale,
        "length_scale": synth.length_scale,
    }
    for name, scores in (("mas", mas_scores), ("predicted", pred_scores)):
        if scores:
            agg = aggregate(scores)
            metrics[f"align_{name}_frames_exact"] = agg["frames_exact"]
            metrics[f"align_{name}_frames_within_1"] = agg["frames_within_1"]
            metrics[f"align_{name}_duration_mae_frames"] = agg["duration_mae_frames"]
    from glowtts.atomic import write_text

    write_text(paths.out / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    for key, value in sorted(metrics.items()):
        log.info("%-40s %s", key, f"{value:.4g}" if isinstance(value, float) else value)
    return metrics


def _true_durations(path: Path | None) -> dict[str, np.ndarray]:
    """id -> true frames per symbol from a demo corpus's durations.tsv ({} without one)."""
    if path is None:
        return {}
    from glowtts.data.demo import read_durations

    return {uid: np.asarray(frames) for uid, (_, frames) in read_durations(path).items()}


def _per_symbol(durations: np.ndarray, tokens: np.ndarray, blank_id: int | None) -> np.ndarray:
    """Frames per symbol: blanks' frames merged into their neighbours (glowtts.metrics)."""
    rounded = np.rint(durations).astype(np.int64)
    if blank_id is None:
        return rounded
    return merge_blanks(rounded, tokens == blank_id)


def _plot(folder: Path, uid: str, batch: Any, out: Any, gen: Any, row: int, hop_s: float) -> None:
    from glowtts.plots import alignment_figure, mel_figure

    folder.mkdir(parents=True, exist_ok=True)
    n_y, n_x = int(batch.y_lengths[row]), int(batch.x_lengths[row])
    n_gen, n_mas = int(gen.y_lengths[row]), int(out.y_lengths[row])
    mels = {
        f"{uid}: recording": batch.y[row, :, :n_y].numpy(),
        f"{uid}: generated": gen.mel[row, :, :n_gen].numpy(),
    }
    fig = mel_figure(mels, hop_seconds=hop_s)
    fig.savefig(folder / f"{uid}_generated_vs_target.png")
    fig = alignment_figure(out.indices[row, :n_mas].numpy(), n_x, title=f"{uid}: MAS alignment")
    fig.savefig(folder / f"{uid}_alignment.png")

"""The evaluation stage: synthesise the test split and extra sentences, plot, score, and write
the pages of the report.

Writes into one folder::

    metrics.json            flat keys with units (glowtts.report.METRIC_DESCRIPTIONS)
    utterances.tsv          the per-utterance scores behind the means
    wavs/<id>.wav           generated speech of every test utterance (the configured vocoder)
    wavs/sentence_<k>.wav   the extra sentences of ``synthesis.sentences``
    mels/<id>.png           recorded vs generated log-mel (every test utterance)
    alignments/<id>.png     MAS alignment of the recording (every test utterance)
    report/mels/<id>.png, report/alignments/<id>.png
                            the first few of them again (hard links), for the report: a
                            report of a thousand figures would be too large to open
    loss_curves.png         training and validation losses from the run's TensorBoard logs
    lengths.png             clip durations per split
    audio/<id>.html         audio players: recording and generated (first few), extra sentences
    metrics.html, data.html pages for the Snakemake report

Metrics (see ``glowtts.metrics`` for the definitions): the MLE and duration losses of the
validation and the test split; MCD-DTW, log-F0 RMSE and voicing error of the generated speech against the recordings,
after the vocoder, as a listener hears it; real-time factors of the acoustic model and of the
vocoder, timed apart; and, on the demo corpus, whose true durations are known, alignment scores
for the MAS alignment of the recordings and for the predicted durations.

Predicted durations are scored for where they put the boundaries, at the recording's tempo:
the duration predictor's frames per token ``exp(logw)`` are stretched to the recording's frame
count (one factor per utterance, as a length scale would), then boundaries go at the rounded
running sum. The tempo itself, predicted frames over recorded frames, is a metric of its own
(``align_predicted_tempo``): without the stretch, a tempo off by 3 % moves every later boundary
and hides how well the predictor places them. Rounding each token up, as synthesis does, would
add half a frame per symbol; that is a choice of the synthesiser, not an error of prediction.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from glowtts.checkpoint import load_checkpoint
from glowtts.config import AudioConfig, Config
from glowtts.data.dataset import collate
from glowtts.data.manifest import Utterance, read_manifest
from glowtts.data.store import FeatureStore
from glowtts.model.losses import LossTotals

__all__ = ["EvalPaths", "evaluate", "predicted_frames"]

log = logging.getLogger(__name__)

SHOWN_UTTERANCES = 8  # test utterances in the report, with figures and audio players


@dataclass(frozen=True)
class EvalPaths:
    """Inputs and the output folder of the evaluation.

    Attributes:
        checkpoint: the trained voice; store: the feature store.
        filelists: split name -> filelist; "test" is synthesised, all are summarised.
        durations: a demo corpus's durations.tsv (true frames per symbol), or None.
        tensorboard: the training run's TensorBoard folder (loss curves), or None.
        out: the evaluation folder.
    """

    checkpoint: Path
    store: Path
    filelists: Mapping[str, Path]
    durations: Path | None
    tensorboard: Path | None
    out: Path


@dataclass
class _Timing:
    acoustic_s: float = 0.0
    vocoder_s: float = 0.0
    audio_s: float = 0.0


def predicted_frames(logw: np.ndarray, total: float | None = None) -> np.ndarray:
    """Whole frames per token from predicted log-durations ``[T_x]``: boundaries at the rounded
    running sum of ``exp(logw)`` (stretched to sum to ``total`` frames when given), so rounding
    never accumulates."""
    w = np.exp(np.asarray(logw, dtype=np.float64))
    if total is not None and w.sum() > 0:
        w = w * (total / w.sum())
    ends = np.rint(np.cumsum(w))
    return np.diff(np.concatenate([[0.0], ends])).astype(np.int64)


def evaluate(cfg: Config, paths: EvalPaths) -> dict[str, Any]:
    """Run the evaluation (``cfg.seed`` and ``cfg.synthesis`` are read); return the metrics."""
    from glowtts.atomic import write_text
    from glowtts.checkpoint import build_model
    from glowtts.noise import batch_seed
    from glowtts.synthesis import Synthesizer, build_vocoder, silent_padding

    ckpt = load_checkpoint(paths.checkpoint)
    audio, synth = ckpt.config.audio, cfg.synthesis
    store = FeatureStore(paths.store, audio=audio)
    splits = {name: read_manifest(path) for name, path in paths.filelists.items()}
    test = splits["test"]
    model = build_model(ckpt).eval()  # losses and MAS, as in training
    vocoder = build_vocoder(
        synth.vocoder,
        audio,
        griffin_lim_iters=synth.griffin_lim_iters,
        hifigan_checkpoint=synth.hifigan_checkpoint,
        hifigan_preset=synth.hifigan_preset,
    )
    voice = Synthesizer(ckpt, vocoder=vocoder)  # weight norm folded, as a user synthesises
    for text in synth.sentences:  # a sentence the voice cannot read fails before the work
        voice.encode_with_speed(text)
    for sub in ("wavs", "mels", "alignments", "audio", "report/mels", "report/alignments"):
        (paths.out / sub).mkdir(parents=True, exist_ok=True)
    scorer = _Scorer(audio, _true_durations(paths.durations), ckpt.config.text.add_blank)
    shown_ids = {u.id for u in test[:SHOWN_UTTERANCES]}
    shown: dict[str, tuple[Utterance, np.ndarray, np.ndarray]] = {}
    totals, timing = LossTotals(), _Timing()
    # batches of similar length (little padding to time); outputs do not depend on the order
    by_length = sorted(test, key=lambda u: -int(store.n_frames[store.index_of(u.id)]))
    _warm_up(voice, vocoder, store.get(by_length[-1].id)[0] if test else None)
    for start in range(0, len(by_length), synth.batch_size):
        chunk = by_length[start : start + synth.batch_size]
        batch = collate([store.get(u.id) for u in chunk])
        with torch.no_grad():
            out = model(batch.x, batch.x_lengths, batch.y, batch.y_lengths)
            totals.add(out)
            t0 = time.perf_counter()
            gen = voice.model.infer(
                batch.x,
                batch.x_lengths,
                noise_scale=synth.noise_scale,
                length_scale=synth.length_scale,
                seed=batch_seed(cfg.seed, start),  # the noise of one batch of them all
            )
            t1 = time.perf_counter()
            wavs = vocoder(silent_padding(gen.mel, gen.y_mask))  # [B, 1, T_y * hop]
            timing.vocoder_s += time.perf_counter() - t1
        timing.acoustic_s += t1 - t0
        for row, utt in enumerate(chunk):
            n_x, n_y = int(batch.x_lengths[row]), int(gen.y_lengths[row])
            timing.audio_s += n_y * audio.hop_length / audio.sample_rate
            wav = wavs[row, 0, : n_y * audio.hop_length].numpy()
            _write_wav(paths.out / "wavs" / f"{utt.id}.wav", wav, audio.sample_rate)
            heard = np.clip(wav, -1.0, 1.0)  # as written to the file
            recording = scorer.score(utt, heard, batch.x[row, :n_x].numpy(), out, row)
            _plot_utterance(paths.out, utt.id, batch, out, gen, row, audio)
            if utt.id in shown_ids:
                shown[utt.id] = (utt, recording, heard)
                for kind in ("mels", "alignments"):
                    _link(paths.out / kind / f"{utt.id}.png", paths.out / "report" / kind)

    sentence_wavs = _synthesize_sentences(cfg, voice, paths.out / "wavs")
    val = _losses(model, store, splits.get("val", []), synth.batch_size)
    metrics: dict[str, Any] = {
        "step": ckpt.step if ckpt.step is not None else "n/a",
        "test_utterances": len(test),
        "val_loss_mle_nats": val.mean_mle if val.tokens else math.nan,
        "val_loss_duration": val.mean_duration if val.tokens else math.nan,
        "test_loss_mle_nats": totals.mean_mle,
        "test_loss_duration": totals.mean_duration,
        "rtf_acoustic": timing.acoustic_s / timing.audio_s,
        "rtf_vocoder": timing.vocoder_s / timing.audio_s,
        "rtf_threads": torch.get_num_threads(),
        "vocoder": vocoder.name,
        "noise_scale": synth.noise_scale,
        "length_scale": synth.length_scale,
        **scorer.summary(),
    }
    metrics = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in metrics.items()}
    write_text(paths.out / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    write_text(paths.out / "utterances.tsv", scorer.table())
    ordered = [shown[u.id] for u in test if u.id in shown]
    _write_pages(paths, metrics, splits, ordered, sentence_wavs, list(synth.sentences), audio)
    for key, value in sorted(metrics.items()):
        log.info("%-38s %s", key, f"{value:.4g}" if isinstance(value, float) else value)
    return metrics


def _losses(model: Any, store: FeatureStore, utts: list[Utterance], batch_size: int) -> LossTotals:
    """The training losses (in eval mode) over ``utts``, exact means over the split."""
    totals = LossTotals()
    for start in range(0, len(utts), batch_size):
        batch = collate([store.get(u.id) for u in utts[start : start + batch_size]])
        with torch.no_grad():
            totals.add(model(batch.x, batch.x_lengths, batch.y, batch.y_lengths))
    return totals


def _link(path: Path, folder: Path) -> None:
    """``path`` also in ``folder``: a hard link (a copy where the file system has none)."""
    import os
    import shutil

    target = folder / path.name
    target.unlink(missing_ok=True)
    try:
        os.link(path, target)
    except OSError:
        shutil.copyfile(path, target)


def _warm_up(voice: Any, vocoder: Any, tokens: torch.Tensor | None) -> None:
    """One untimed pass, so lazy initialisation is not timed as synthesis."""
    if tokens is None:
        return
    with torch.no_grad():
        gen = voice.model.infer(tokens[None], torch.tensor([tokens.numel()]), noise_scale=0.0)
        vocoder(gen.mel)


class _Scorer:
    """Per-utterance scores of the test split: spectral and pitch against the recording,
    alignment against the true durations when there are any."""

    def __init__(self, audio: AudioConfig, truth: dict[str, np.ndarray], add_blank: bool) -> None:
        from glowtts.audio import MelSpectrogram
        from glowtts.text import BLANK_ID

        self.audio = dataclasses.replace(audio, dither=False)
        self.mel = MelSpectrogram(audio)
        self.truth = truth
        self.blank_id = BLANK_ID if add_blank else None
        self.rows: list[dict[str, Any]] = []
        self.alignment: dict[str, list[dict[str, float]]] = {"mas": [], "predicted": []}
        self.tempo = [0.0, 0.0]  # predicted frames, recorded frames (demo corpus)
        self.warned = False

    def score(
        self, utt: Utterance, wav: np.ndarray, tokens: np.ndarray, out: Any, row: int
    ) -> np.ndarray:
        """Score one generated waveform; return the recording (for the audio page)."""
        from glowtts.audio import load_wav
        from glowtts.metrics import f0_errors, f0_track, mcd_dtw, mel_cepstrum

        recording = load_wav(utt.wav, self.audio, utt_id=utt.id).wav
        with torch.no_grad():
            ref_mel = self.mel(torch.from_numpy(recording)).numpy()  # [n_mels, T_ref]
            gen_mel = self.mel(torch.from_numpy(wav.astype(np.float32))).numpy()
        mcd = mcd_dtw(mel_cepstrum(ref_mel), mel_cepstrum(gen_mel))
        kw = {"hop_length": self.audio.hop_length}
        f0 = f0_errors(
            f0_track(recording, self.audio.sample_rate, **kw),
            f0_track(wav, self.audio.sample_rate, **kw),
            mcd.path,
        )
        record: dict[str, Any] = {
            "id": utt.id,
            "seconds": utt.seconds,
            "mcd_dtw_db": mcd.mcd_db,
            "log_f0_rmse_cents": f0["log_f0_rmse_cents"],
            "voicing_error": f0["voicing_error"],
            "_pairs": f0["pairs"],
            "_voiced_pairs": f0["voiced_pairs"],
        }
        if utt.id in self.truth and self._readable(self.truth[utt.id], tokens):
            n_x, truth = tokens.size, self.truth[utt.id]
            mas = out.durations[row, :n_x].numpy()
            logw = out.logw[row, 0, :n_x].numpy()
            pred = predicted_frames(logw, total=float(truth.sum()))
            self.tempo[0] += float(np.exp(logw.astype(np.float64)).sum())
            self.tempo[1] += float(truth.sum())
            for name, frames in (("mas", mas), ("predicted", pred)):
                scores = self._alignment(truth, frames, tokens, utt.id)
                self.alignment[name].append(scores)
                record[f"align_{name}_frames_exact"] = scores["frames_exact"]
        self.rows.append(record)
        return recording

    def _readable(self, truth: np.ndarray, tokens: np.ndarray) -> bool:
        """Whether the model reads the demo's symbols one token each (letters, not phones)."""
        symbols = tokens.size if self.blank_id is None else int((tokens != self.blank_id).sum())
        if symbols == truth.size:
            return True
        if not self.warned:
            log.warning(
                "alignment scores skipped: the model reads %d tokens where the demo rendered %d "
                "symbols (text.cmudict reads phones; the demo's truth is per letter)",
                symbols,
                truth.size,
            )
            self.warned = True
        return False

    def _alignment(
        self, truth: np.ndarray, frames: np.ndarray, tokens: np.ndarray, uid: str
    ) -> dict[str, float]:
        from glowtts.metrics import alignment_scores, merge_blanks

        per_token = np.rint(frames).astype(np.int64)
        if self.blank_id is not None:
            per_token = merge_blanks(per_token, tokens == self.blank_id)
        return alignment_scores(truth, per_token)

    def summary(self) -> dict[str, float]:
        """Corpus means: MCD per utterance, F0 RMSE over all voiced pairs, voicing over all
        pairs; alignment scores over all frames / symbols (glowtts.metrics.aggregate)."""
        from glowtts.metrics import aggregate

        pairs = np.array([r["_pairs"] for r in self.rows])
        voiced = np.array([r["_voiced_pairs"] for r in self.rows])
        rmse = np.array([r["log_f0_rmse_cents"] for r in self.rows])
        has = voiced > 0
        out = {
            "mcd_dtw_db": float(np.mean([r["mcd_dtw_db"] for r in self.rows])),
            "log_f0_rmse_cents": (
                float(np.sqrt(np.sum(voiced[has] * rmse[has] ** 2) / voiced[has].sum()))
                if has.any()
                else math.nan
            ),
            "voicing_error": float(
                np.sum(pairs * np.array([r["voicing_error"] for r in self.rows])) / pairs.sum()
            ),
        }
        for name, scores in self.alignment.items():
            if scores:
                agg = aggregate(scores)
                for key in (
                    "frames_exact",
                    "frames_within_1",
                    "duration_mae_frames",
                    "boundary_mae_frames",
                ):
                    out[f"align_{name}_{key}"] = agg[key]
        if self.tempo[1]:
            out["align_predicted_tempo"] = self.tempo[0] / self.tempo[1]
        return out

    def table(self) -> str:
        """utterances.tsv: one row per test utterance."""
        keys = list(dict.fromkeys(k for r in self.rows for k in r if not k.startswith("_")))
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
        writer.writerow(keys or ["id"])
        for r in self.rows:
            cells = [r.get(k, "") for k in keys]
            writer.writerow([f"{c:.6g}" if isinstance(c, float) else c for c in cells])
        return buffer.getvalue()


def _true_durations(path: Path | None) -> dict[str, np.ndarray]:
    """id -> true frames per symbol from a demo corpus's durations.tsv ({} without one)."""
    if path is None:
        return {}
    from glowtts.data.demo import read_durations

    return {uid: np.asarray(frames) for uid, (_, frames) in read_durations(path).items()}


def _write_wav(path: Path, wav: np.ndarray, sample_rate: int) -> None:
    from glowtts.synthesis import write_wav

    write_wav(path, wav, sample_rate)


def _synthesize_sentences(cfg: Config, voice: Any, folder: Path) -> list[np.ndarray]:
    from glowtts.synthesis import write_wav

    synth = cfg.synthesis
    results = voice(
        list(synth.sentences),
        noise_scale=synth.noise_scale,
        length_scale=synth.length_scale,
        batch_size=synth.batch_size,
        seed=cfg.seed,
    )
    wavs = []
    for k, result in enumerate(results, start=1):
        assert result.wav is not None
        write_wav(folder / f"sentence_{k:02d}.wav", result.wav, voice.audio.sample_rate)
        wavs.append(np.clip(result.wav, -1.0, 1.0))
    return wavs


def _plot_utterance(
    folder: Path, uid: str, batch: Any, out: Any, gen: Any, row: int, audio: AudioConfig
) -> None:
    from glowtts.plots import alignment_figure, mel_figure

    n_y, n_x = int(batch.y_lengths[row]), int(batch.x_lengths[row])
    n_gen, n_mas = int(gen.y_lengths[row]), int(out.y_lengths[row])
    mels = {
        f"{uid}: recording": batch.y[row, :, :n_y].numpy(),
        f"{uid}: generated": gen.mel[row, :, :n_gen].numpy(),
    }
    hop_s = audio.hop_length / audio.sample_rate
    mel_figure(mels, hop_seconds=hop_s).savefig(folder / "mels" / f"{uid}.png")
    fig = alignment_figure(out.indices[row, :n_mas].numpy(), n_x, title=f"{uid}: MAS alignment")
    fig.savefig(folder / "alignments" / f"{uid}.png")


def _write_pages(
    paths: EvalPaths,
    metrics: dict[str, Any],
    splits: dict[str, list[Utterance]],
    shown: list[tuple[Utterance, np.ndarray, np.ndarray]],
    sentence_wavs: list[np.ndarray],
    sentences: list[str],
    audio: AudioConfig,
) -> None:
    from glowtts.plots import lengths_figure, loss_curves_figure
    from glowtts.report import AudioItem, audio_page, metrics_page, table_page, write_page
    from glowtts.train.observe import read_scalars

    out = paths.out
    write_page(
        out / "metrics.html",
        metrics_page(
            "Evaluation metrics",
            f"Checkpoint {paths.checkpoint.name}, step {metrics['step']}, on the "
            f"{metrics['test_utterances']} test utterances.",
            metrics,
        ),
    )
    rows = []
    for name, utts in splits.items():
        seconds = np.array([u.seconds for u in utts]) if utts else np.zeros(1)
        rows.append(
            (name, len(utts), seconds.sum() / 3600, seconds.mean(), seconds.min(), seconds.max())
        )
    write_page(
        out / "data.html",
        table_page(
            "Data",
            f"Clips per split at {audio.sample_rate} Hz (after the corpus stage's checks).",
            ("split", "clips", "hours", "mean s", "shortest s", "longest s"),
            rows,
        ),
    )
    lengths_figure({n: [u.seconds for u in utts] for n, utts in splits.items()}).savefig(
        out / "lengths.png"
    )
    scalars = read_scalars(paths.tensorboard) if paths.tensorboard is not None else {}
    if not scalars:
        log.warning(
            "no training scalars in %s: the loss curves are empty (was the run trained "
            "elsewhere, or its tensorboard folder moved?)",
            paths.tensorboard,
        )
    loss_curves_figure(scalars).savefig(out / "loss_curves.png")
    settings = (
        f"vocoder {metrics['vocoder']}, noise scale {metrics['noise_scale']}, length scale "
        f"{metrics['length_scale']}"
    )
    pages = [
        (utt.id, AudioItem(utt.id, utt.text, [("recording", rec), ("generated", gen)]))
        for utt, rec, gen in shown
    ]
    pages += [
        (f"sentence_{k:02d}", AudioItem(f"sentence {k:02d}", text, [("generated", wav)]))
        for k, (text, wav) in enumerate(zip(sentences, sentence_wavs, strict=True), start=1)
    ]
    for name, item in pages:
        intro = f"{'Test utterance' if item.wavs[0][0] == 'recording' else 'Extra sentence'}; {settings}."
        write_page(
            out / "audio" / f"{name}.html", audio_page(item.title, intro, [item], audio.sample_rate)
        )

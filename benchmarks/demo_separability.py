"""How separable the demo corpus's symbol boundaries are in the log-mels, with no model.

    python benchmarks/demo_separability.py --out benchmarks/results/demo_separability.json \
        [--seeds 1234 1235 1236] [--noise-dbfs -80 -60 -50 -45]

For every seed and noise floor it generates the demo corpus (``dataset.demo`` of
config/config.yaml with that ``noise_dbfs``), computes the log-mels of every clip with the
pipeline's own mel, takes each symbol's mean log-mel over the first 320 clips (inner frames of
the true durations), and aligns the last 40 clips with MAS on the mels alone: each frame scored
by ``-|mel_t - mean(symbol)|^2``. The scores (frames exact, within one frame, duration error per
symbol) bound what an aligner can reach on that corpus. The 1024-sample analysis window mixes a
neighbour's chord into the frames at a boundary. The noise floor decides how loud that leak reads
in log-mel. About 10 s per corpus on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from glowtts.align import maximum_path  # noqa: E402
from glowtts.audio import MelSpectrogram, load_wav  # noqa: E402
from glowtts.config import AudioConfig, load  # noqa: E402
from glowtts.data.demo import generate_demo_corpus, read_durations  # noqa: E402
from glowtts.metrics import aggregate, alignment_scores  # noqa: E402

N_MEANS = 320  # clips (in id order) whose truth gives the symbols' mean log-mels
N_SCORED = 40  # the last clips, aligned and scored


def separability(folder: Path, audio: AudioConfig) -> dict[str, float]:
    """Mel-only MAS scores of the last ``N_SCORED`` clips of a generated demo corpus."""
    truth = read_durations(folder / "durations.tsv")
    ids = sorted(truth)
    mel_of = MelSpectrogram(audio)
    mels: dict[str, torch.Tensor] = {}
    for uid in ids[:N_MEANS] + ids[-N_SCORED:]:
        wav = load_wav(folder / "wavs" / f"{uid}.wav", audio, utt_id=uid).wav
        with torch.no_grad():
            mels[uid] = mel_of(torch.from_numpy(wav))  # [n_mels, T]
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}
    for uid in ids[:N_MEANS]:
        end = 0
        for sym, d in zip(*truth[uid], strict=True):
            a, b = (end + 1, end + d - 1) if d > 2 else (end, end + d)
            sums[sym] = sums.get(sym, torch.zeros(audio.n_mels)) + mels[uid][:, a:b].sum(1)
            counts[sym] = counts.get(sym, 0) + b - a
            end += d
    means = {sym: total / counts[sym] for sym, total in sums.items()}
    scores = []
    for uid in ids[-N_SCORED:]:
        symbols, frames = truth[uid]
        mel = mels[uid][:, : sum(frames)]
        mu = torch.stack([means[s] for s in symbols], 1)  # [n_mels, N]
        log_p = -0.5 * ((mel[:, :, None] - mu[:, None, :]) ** 2).sum(0)  # [T, N]
        T, N = log_p.shape
        idx = maximum_path(log_p[None].contiguous(), torch.ones(1, 1, N), torch.ones(1, 1, T))
        found = np.bincount(idx[0].numpy(), minlength=N)
        scores.append(alignment_scores(np.asarray(frames), found))
    agg = aggregate(scores)
    return {k: agg[k] for k in ("frames_exact", "frames_within_1", "duration_mae_frames")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1234, 1235, 1236])
    parser.add_argument("--noise-dbfs", type=float, nargs="+", default=[-80.0, -60.0, -50.0, -45.0])
    args = parser.parse_args()
    cfg = load(REPO / "config" / "config.yaml")
    rows: list[dict[str, Any]] = []
    for noise in args.noise_dbfs:
        demo = dataclasses.replace(cfg.dataset.demo, noise_dbfs=noise)
        for seed in args.seeds:
            with tempfile.TemporaryDirectory(prefix="separability_") as tmp:
                generate_demo_corpus(Path(tmp) / "demo", demo, cfg.audio, seed)
                result = separability(Path(tmp) / "demo", cfg.audio)
            rows.append({"noise_dbfs": noise, "seed": seed, **result})
            print(
                f"noise {noise:6.1f} dBFS  seed {seed}  exact {100 * result['frames_exact']:.1f} %"
                f"  within one {100 * result['frames_within_1']:.1f} %"
                f"  error {result['duration_mae_frames']:.2f}",
                flush=True,
            )
    out = {
        "benchmark": "demo_separability",
        "machine": {"python": platform.python_version()},
        "clips_for_means": N_MEANS,
        "clips_scored": N_SCORED,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Where the demo voice puts symbol boundaries: shifts against the truth, by the parity of the frame.

    python benchmarks/demo_boundaries.py --run results/demo --out benchmarks/results/demo_boundaries.json

Reads a trained demo run (README command 1): its newest checkpoint (or ``--checkpoint``), feature
store, filelists and the demo corpus's true durations. For every inner symbol boundary of the
chosen splits it takes the signed shift (frames) of the MAS alignment and of the predicted
durations (at the recording's tempo, as the evaluation scores them) and counts the shifts apart
for true boundaries on even and on odd frames. The decoder squeezes frame pairs (``model.n_sqz``
2), so a boundary between the two frames of a pair is where the alignment goals are lost; the
table shows how much. Also lists the symbol pairs whose boundary is most often two or more frames
off. Seconds on 2 cores (40 clips through the model with MAS).

A third row, ``mel_only``, needs no model: MAS on the recorded log-mels alone, each frame scored
by its distance to the symbols' mean log-mels (from the training clips' truth). It shows how
separable the corpus's boundaries are in the features themselves: the analysis window (1024
samples, four hops) mixes both neighbours into the frames at a boundary.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from glowtts.checkpoint import build_model, load_checkpoint  # noqa: E402
from glowtts.data.dataset import collate  # noqa: E402
from glowtts.data.demo import read_durations  # noqa: E402
from glowtts.data.manifest import read_manifest  # noqa: E402
from glowtts.data.store import FeatureStore  # noqa: E402
from glowtts.evaluate import predicted_frames  # noqa: E402
from glowtts.metrics import aggregate, alignment_scores, boundary_shifts  # noqa: E402
from glowtts.train.state import latest_checkpoint  # noqa: E402

BATCH = 16


def _symbol_means(
    store: FeatureStore, truth: dict[str, Any], utts: list[Any]
) -> dict[str, torch.Tensor]:
    """Mean log-mel [n_mels] of every symbol over the training clips' inner frames (the truth's
    frames, one frame off each edge where the symbol is long enough)."""
    sums: dict[str, torch.Tensor] = {}
    counts: Counter[str] = Counter()
    for utt in utts:
        symbols, frames = truth[utt.id]
        mel = store.get(utt.id)[1]  # [n_mels, T]
        end = 0
        for sym, d in zip(symbols, frames, strict=True):
            a, b = (end + 1, end + d - 1) if d > 2 else (end, end + d)
            sums[sym] = sums.get(sym, torch.zeros(mel.size(0))) + mel[:, a:b].sum(1)
            counts[sym] += b - a
            end += d
    return {sym: total / counts[sym] for sym, total in sums.items()}


def _mel_only(mel: torch.Tensor, symbols: str, means: dict[str, torch.Tensor]) -> np.ndarray:
    """Frames per symbol from MAS on the mels alone: score -|mel_t - mean(symbol)|^2 with the
    symbols' mean log-mels, no model; what the recordings allow without learning."""
    from glowtts.align import maximum_path

    mu = torch.stack([means[s] for s in symbols], 1)  # [n_mels, N]
    log_p = -0.5 * ((mel[:, :, None] - mu[:, None, :]) ** 2).sum(0)  # [T, N]
    T, N = log_p.shape
    indices = maximum_path(log_p[None].contiguous(), torch.ones(1, 1, N), torch.ones(1, 1, T))
    return np.bincount(indices[0].numpy(), minlength=N)


def _noise_dbfs(run: Path) -> float | None:
    """The demo corpus's noise floor, from the run's resolved config (None if absent)."""
    import yaml

    resolved = run / "config.yaml"
    if not resolved.is_file():
        return None
    data = yaml.safe_load(resolved.read_text(encoding="utf-8")) or {}
    return data.get("dataset", {}).get("demo", {}).get("noise_dbfs")


def measure(run: Path, checkpoint: Path, splits: list[str]) -> dict[str, Any]:
    ckpt = load_checkpoint(checkpoint)
    if ckpt.config.text.add_blank:
        raise SystemExit(
            f"{checkpoint}: a model with blanks; this table is for the demo (no blanks)"
        )
    model = build_model(ckpt).eval()
    store = FeatureStore(run / "features" / "store", audio=ckpt.config.audio)
    truth = read_durations(run / "demo_corpus" / "durations.tsv")
    utts = [u for s in splits for u in read_manifest(run / "filelists" / f"{s}.tsv")]
    kinds = ("mas", "predicted", "mel_only")
    shifts: dict[str, dict[str, Counter[int]]] = {
        k: {"even": Counter(), "odd": Counter()} for k in kinds
    }
    off_pairs: dict[str, Counter[str]] = {k: Counter() for k in kinds}
    scores: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    means = _symbol_means(store, truth, read_manifest(run / "filelists" / "train.tsv"))
    for start in range(0, len(utts), BATCH):
        chunk = utts[start : start + BATCH]
        batch = collate([store.get(u.id) for u in chunk])
        with torch.no_grad():
            out = model(batch.x, batch.x_lengths, batch.y, batch.y_lengths)
        for row, utt in enumerate(chunk):
            n_x = int(batch.x_lengths[row])
            symbols, frames = truth[utt.id]
            true_d = np.asarray(frames)
            found = {
                "mas": out.durations[row, :n_x].numpy(),
                "predicted": predicted_frames(
                    out.logw[row, 0, :n_x].numpy(), total=float(true_d.sum())
                ),
                "mel_only": _mel_only(batch.y[row, :, : int(true_d.sum())], symbols, means),
            }
            ends = np.cumsum(true_d)[:-1]  # [N - 1] true boundary frames
            for name, durations in found.items():
                scores[name].append(alignment_scores(true_d, np.rint(durations).astype(np.int64)))
                moved = boundary_shifts(true_d, np.rint(durations).astype(np.int64))
                for i, (end, shift) in enumerate(zip(ends, moved, strict=True)):
                    shifts[name]["odd" if end % 2 else "even"][int(shift)] += 1
                    if abs(shift) >= 2:
                        off_pairs[name][f"{symbols[i]}|{symbols[i + 1]}"] += 1

    def summary(counts: Counter[int]) -> dict[str, Any]:
        total = sum(counts.values())
        return {
            "boundaries": total,
            "exact": counts[0] / total if total else None,
            "within_1": sum(v for k, v in counts.items() if abs(k) <= 1) / total if total else None,
            "shifts": {str(k): v for k, v in sorted(counts.items())},
        }

    return {
        "checkpoint": str(checkpoint),
        "step": ckpt.step,
        "seed": ckpt.config.seed,
        "noise_dbfs": _noise_dbfs(run),
        "splits": splits,
        "utterances": len(utts),
        **{
            name: {
                "frames": aggregate(scores[name]),  # the evaluation's alignment scores
                **{parity: summary(c) for parity, c in by_parity.items()},
                "pairs_off_by_2_or_more": dict(off_pairs[name].most_common(10)),
            }
            for name, by_parity in shifts.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=REPO / "results" / "demo")
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--splits", nargs="+", default=["test", "val"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    checkpoint = args.checkpoint or latest_checkpoint(args.run / "train" / "checkpoints")
    if checkpoint is None:
        raise SystemExit(f"no checkpoint under {args.run / 'train' / 'checkpoints'}: train first")
    result = {
        "benchmark": "demo_boundaries",
        "machine": {"python": platform.python_version()},
        **measure(args.run, checkpoint, args.splits),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("| alignment | true boundary on | boundaries | exact | within one frame |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name in ("mas", "predicted", "mel_only"):
        for parity in ("even", "odd"):
            s = result[name][parity]
            if s["boundaries"]:
                print(
                    f"| {name} | {parity} frame | {s['boundaries']} | {100 * s['exact']:.1f} % "
                    f"| {100 * s['within_1']:.1f} % |"
                )
    for name in ("mas", "predicted", "mel_only"):
        f = result[name]["frames"]
        print(
            f"{name}: frames exact {100 * f['frames_exact']:.1f} %, within one "
            f"{100 * f['frames_within_1']:.1f} %, duration error {f['duration_mae_frames']:.2f}; "
            f"pairs off by 2+ frames: {result[name]['pairs_off_by_2_or_more']}"
        )


if __name__ == "__main__":
    main()

"""The evaluation stage on a tiny voice: wavs, plots, pages, metrics with the demo's durations."""

from __future__ import annotations

import base64
import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from train_helpers import paths_in, tiny_config

from glowtts.evaluate import EvalPaths, evaluate, predicted_frames
from glowtts.train import train


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("voice")
    return train(tiny_config(steps=2, checkpoint_every=2), paths_in(data_dir, out))


@pytest.fixture(scope="module")
def evaluated(
    voice: Path, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("eval")
    paths = EvalPaths(
        checkpoint=voice,
        store=data_dir / "store",
        filelists={s: data_dir / f"{s}.tsv" for s in ("train", "val", "test")},
        durations=data_dir / "corpus" / "durations.tsv",
        tensorboard=voice.parent / "tensorboard",
        out=out,
    )
    return out, evaluate(tiny_config(), paths)


def test_metrics_json_holds_every_score(evaluated: tuple[Path, dict[str, object]]) -> None:
    out, metrics = evaluated
    assert json.loads((out / "metrics.json").read_text()) == pytest.approx(metrics)
    assert metrics["test_utterances"] == 4 and metrics["step"] == 2
    for key in (
        "align_mas_frames_exact",
        "align_predicted_frames_within_1",
        "align_mas_duration_mae_frames",
        "align_predicted_tempo",
        "rtf_acoustic",
        "rtf_vocoder",
        "mcd_dtw_db",
        "voicing_error",
        "log_f0_rmse_cents",
    ):
        value = metrics[key]
        assert isinstance(value, float) and 0 <= value < math.inf, key
    assert metrics["rtf_acoustic"] > 0 and metrics["rtf_vocoder"] > 0  # timed, not assumed
    assert metrics["mcd_dtw_db"] > 0  # an untrained voice is not its recording
    with (out / "utterances.tsv").open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 4 and {"id", "mcd_dtw_db", "align_mas_frames_exact"} <= rows[0].keys()
    assert float(np.mean([float(r["mcd_dtw_db"]) for r in rows])) == pytest.approx(
        metrics["mcd_dtw_db"], rel=1e-5
    )


def test_wavs_plots_and_pages(evaluated: tuple[Path, dict[str, object]]) -> None:
    out, _ = evaluated
    cfg = tiny_config()
    wavs = sorted(p.name for p in (out / "wavs").iterdir())
    assert len(wavs) == 4 + len(cfg.synthesis.sentences) and "sentence_01.wav" in wavs
    assert sf.info(str(out / "wavs" / wavs[0])).samplerate == cfg.audio.sample_rate
    for folder in ("mels", "alignments"):
        assert len(list((out / folder).glob("*.png"))) == 4, folder  # every test utterance
        shown = sorted(p.name for p in (out / "report" / folder).glob("*.png"))
        assert shown == sorted(p.name for p in (out / folder).glob("*.png"))  # 4 <= 8 shown
    for name in ("loss_curves.png", "lengths.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    pages = sorted((out / "audio").glob("*.html"))
    assert len(pages) == 4 + len(cfg.synthesis.sentences)  # one per utterance
    players = [
        uri
        for page in pages
        for uri in re.findall(
            r'<audio controls preload="none" src="data:audio/mpeg;base64,([^"]+)"',
            page.read_text(),
        )
    ]
    assert len(players) == 2 * 4 + len(cfg.synthesis.sentences)  # recording + generated
    first = base64.b64decode(players[0])
    assert first[:3] == b"ID3" or first[0] == 0xFF  # an MP3 stream (tag or frame sync)
    assert max(p.stat().st_size for p in pages) < 1_500_000  # under browsers' data-URI cap
    assert "test_loss_mle_nats" in (out / "metrics.html").read_text()
    data = (out / "data.html").read_text()
    assert all(f"<td>{s}</td>" in data for s in ("train", "val", "test"))


def test_validation_losses_are_the_models_losses_over_the_val_split(
    evaluated: tuple[Path, dict[str, object]], voice: Path, data_dir: Path
) -> None:
    import torch

    from glowtts.checkpoint import build_model, load_checkpoint
    from glowtts.data.dataset import collate
    from glowtts.data.manifest import read_manifest
    from glowtts.data.store import FeatureStore
    from glowtts.model.losses import glowtts_losses

    _, metrics = evaluated
    ckpt = load_checkpoint(voice)
    model = build_model(ckpt).eval()
    store = FeatureStore(data_dir / "store", audio=ckpt.config.audio)
    batch = collate([store.get(u.id) for u in read_manifest(data_dir / "val.tsv")])
    with torch.no_grad():  # the whole split in one batch: its losses are the split's means
        losses = glowtts_losses(model(batch.x, batch.x_lengths, batch.y, batch.y_lengths))
    assert metrics["val_loss_mle_nats"] == pytest.approx(float(losses.mle), rel=1e-4)
    assert metrics["val_loss_duration"] == pytest.approx(float(losses.duration), rel=1e-4)
    assert metrics["val_loss_mle_nats"] != pytest.approx(metrics["test_loss_mle_nats"])


def test_predicted_frames_round_the_running_sum() -> None:
    # 1.4 + 1.4 + 1.4: rounding each gives 3 frames, the running sum 4 (as many as spoken)
    frames = predicted_frames(np.log(np.array([1.4, 1.4, 1.4])))
    assert frames.tolist() == [1, 2, 1] and frames.sum() == 4


def test_predicted_frames_at_the_recordings_tempo() -> None:
    # durations 1, 2, 1 stretched to 8 frames: 2, 4, 2
    assert predicted_frames(np.log(np.array([1.0, 2.0, 1.0])), total=8).tolist() == [2, 4, 2]


def test_the_synthesize_command_speaks_with_a_trained_voice(
    voice: Path, tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    from glowtts.checkpoint import load_checkpoint, save_checkpoint
    from glowtts.cli import main
    from glowtts.synthesis import Synthesizer

    # as the workflow's train rule writes it: the config values training used, no synthesis:
    trained = save_checkpoint(
        tmp_path / "voice.pt",
        dataclasses.replace(load_checkpoint(voice), known=["seed", "model", "audio", "text"]),
    )
    args = ["synthesize", "Hello there.", "--checkpoint", str(trained), "--seed", "1"]
    assert main([*args, "-o", str(tmp_path / "a.wav")]) == 0
    assert "does not record synthesis settings" in capsys.readouterr().err  # main logs to stderr
    wav, rate = sf.read(str(tmp_path / "a.wav"))
    synth = Synthesizer.from_file(voice)
    (ref,) = synth(["Hello there."], noise_scale=0.667, seed=1)
    assert rate == 22050 and len(wav) == ref.mel.shape[1] * 256 > 0
    run = tmp_path / "run.yaml"  # the run's synthesis: section gives the defaults
    run.write_text("synthesis:\n  length_scale: 2.0\n")
    configs = ["--configfile", str(repo_root / "config/config.yaml"), "--configfile", str(run)]
    assert main([*args, *configs, "-o", str(tmp_path / "slow.wav")]) == 0
    slow, _ = sf.read(str(tmp_path / "slow.wav"))
    (ref_slow,) = synth(["Hello there."], noise_scale=0.667, length_scale=2.0, seed=1)
    assert len(slow) == ref_slow.mel.shape[1] * 256 > 1.5 * len(wav)
    assert main([*args, *configs, "--length-scale", "1", "-o", str(tmp_path / "b.wav")]) == 0
    assert len(sf.read(str(tmp_path / "b.wav"))[0]) == len(wav)  # a flag beats the file

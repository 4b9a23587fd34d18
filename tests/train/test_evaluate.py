"""The evaluation stage on a tiny voice: wavs, plots, metrics with the demo's true durations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from train_helpers import paths_in, tiny_config

from glowtts.evaluate import EvalPaths, evaluate
from glowtts.train import train


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("voice")
    return train(tiny_config(steps=2, checkpoint_every=2), paths_in(data_dir, out))


def test_evaluation_writes_wavs_plots_and_metrics(
    voice: Path, data_dir: Path, tmp_path: Path
) -> None:
    cfg = tiny_config()
    paths = EvalPaths(
        checkpoint=voice,
        store=data_dir / "store",
        test_list=data_dir / "test.tsv",
        durations=data_dir / "corpus" / "durations.tsv",
        out=tmp_path / "eval",
    )
    metrics = evaluate(cfg, paths)
    on_disk = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert on_disk == pytest.approx(metrics)
    assert metrics["test_utterances"] == 4
    for key in ("align_mas_frames_exact", "align_predicted_frames_within_1", "rtf_vocoder"):
        assert 0 <= metrics[key] < float("inf"), key
    wavs = sorted(p.name for p in (tmp_path / "eval" / "wavs").iterdir())
    assert len(wavs) == 4 + len(cfg.synthesis.sentences) and "sentence_01.wav" in wavs
    plots = list((tmp_path / "eval" / "plots").glob("*_generated_vs_target.png"))
    assert len(plots) == 4 and len(list((tmp_path / "eval" / "plots").glob("*_alignment.png"))) == 4

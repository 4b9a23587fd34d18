"""glowtts.summary: corpus summary numbers and the text report, with and without a store."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from glowtts.config import Config, TextConfig
from glowtts.data.features import compute_shard, gather_shards
from glowtts.data.manifest import Utterance, write_manifest
from glowtts.summary import describe, format_summary, summarize

TEXT = TextConfig(cleaners="basic_cleaners", cmudict=False)  # letters only: easy counts


def _rows(tmp: Path) -> list[Utterance]:
    texts = ["hello there.", "a much longer sentence, with commas.", "caf\u00e9 \u2603 ok", "hi"]
    seconds = [0.5, 1.25, 0.75, 0.3]
    rows = []
    for k, (text, s) in enumerate(zip(texts, seconds, strict=True)):
        path = tmp / f"c{k}.wav"
        n = round(s * 22050)
        sf.write(str(path), 0.2 * np.sin(np.arange(n) * 0.05 * (k + 1)), 22050, subtype="PCM_16")
        rows.append(Utterance(f"c{k}", text, text, path, n / 22050, 22050))
    return rows


def test_summary_numbers_without_a_store(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    manifest = tmp_path / "m.tsv"
    write_manifest(manifest, rows)
    s = summarize(manifest, text=TEXT, bins=4)
    assert s["clips"] == 4 and s["hours"] == pytest.approx(2.8 / 3600)
    assert s["sample_rates"] == {"22050": 4}
    assert s["seconds"]["max"] == pytest.approx(1.25, abs=1e-4) and s["seconds"]["longest"] == "c1"
    assert s["characters"]["max"] == len(rows[1].normalized_text)
    assert sum(n for _, _, n in s["seconds"]["histogram"]) == 4
    assert len(s["seconds"]["histogram"]) == 4
    # letters only: one token per character; "é" and the snowman are dropped
    assert s["tokens"]["max"] == len(rows[1].normalized_text) and s["tokens"]["min"] == 2
    assert s["frames"]["max"] == 1 + round(1.25 * 22050) // 256
    assert s["frames"]["source"] == "estimated from seconds"
    assert s["unknown_characters"] == [
        {"char": "\u00e9", "count": 1, "utt_ids": ["c2"]},
        {"char": "\u2603", "count": 1, "utt_ids": ["c2"]},
    ]
    json.dumps(s)  # plain data


def test_summary_reads_counts_from_the_store(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    manifest = tmp_path / "m.tsv"
    write_manifest(manifest, rows)
    cfg = dataclasses.replace(Config(), text=TEXT)
    shard = compute_shard(rows[:3], cfg, tmp_path / "s.npz")
    gather_shards([shard], tmp_path / "store", cfg)
    s = summarize(manifest, tmp_path / "store", text=TEXT)
    assert s["store"]["missing"] == ["c3"] and s["store"]["utterances"] == 3
    assert s["frames"]["source"] == "store" and s["frames"]["count"] == 3
    assert s["frames"]["max"] == 1 + round(1.25 * 22050) // 256
    assert s["tokens"]["longest"] == "c1"
    report = describe(manifest, tmp_path / "store", text=TEXT)
    assert "1 manifest clip(s) missing: c3" in report
    assert "frames (store): min" in report


def test_report_text(tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    manifest = tmp_path / "m.tsv"
    write_manifest(manifest, rows)
    report = format_summary(summarize(manifest, text=TEXT, bins=3))
    assert "clips: 4  hours: 0.00  sample rates: 22050 Hz x4" in report
    assert "seconds: min 0.30 mean 0.70 max 1.25 s (longest: c1)" in report
    assert "'\u2603' (U+2603) x1 in c2" in report
    bars = [line for line in report.splitlines() if line.endswith("#")]
    assert max(len(b.split()[-1]) for b in bars) == 40  # the fullest bin gets the full bar
    empty = tmp_path / "empty.tsv"
    write_manifest(empty, [])
    assert "seconds: none" in describe(empty, text=TEXT)

"""The demo corpus: reproducible bytes, exact frame counts, distinct symbol sounds."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from glowtts.config import AudioConfig, DemoConfig
from glowtts.data.corpus import read_corpus
from glowtts.data.demo import DEMO_SYMBOLS, generate_demo_corpus, read_durations, symbol_voices

SMALL = DemoConfig(n_clips=12)
AUDIO = AudioConfig()


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "corpus"
    generate_demo_corpus(out, SMALL, AUDIO, seed=1234)
    return out


def test_same_seed_same_bytes_other_seed_differs(demo: Path, tmp_path: Path) -> None:
    generate_demo_corpus(tmp_path / "again", SMALL, AUDIO, seed=1234)
    generate_demo_corpus(tmp_path / "other", SMALL, AUDIO, seed=4321)
    assert _digest(tmp_path / "again") == _digest(demo)
    assert _digest(tmp_path / "other") != _digest(demo)


def test_durations_sum_to_each_clips_frame_count(demo: Path) -> None:
    truth = read_durations(demo / "durations.tsv")
    assert len(truth) == SMALL.n_clips
    for uid, (symbols, frames) in truth.items():
        samples = sf.info(str(demo / "wavs" / f"{uid}.wav")).frames
        n_frames = 1 + samples // AUDIO.hop_length  # a centre-padded STFT
        assert sum(frames) == n_frames, uid
        assert n_frames % 2 == 0, uid
        assert len(frames) == len(symbols)
        assert all(SMALL.min_symbol_frames <= d <= SMALL.max_symbol_frames for d in frames)


def test_it_is_a_valid_ljspeech_format_corpus_of_english_sentences(demo: Path) -> None:
    rows, report = read_corpus(demo, sample_rate=AUDIO.sample_rate)
    assert report.kept == SMALL.n_clips
    truth = read_durations(demo / "durations.tsv")
    for u in rows:
        assert u.text[0].isupper() and u.text.endswith(".")
        assert 3 <= len(u.text.rstrip(".").split()) <= 8
        assert truth[u.id][0] == u.text.lower()
        assert set(u.text.lower()) <= set(DEMO_SYMBOLS)


def test_each_symbol_sounds_at_its_own_frequencies(demo: Path) -> None:
    """The spectrum of a symbol's frames peaks at that symbol's partials, not another's."""
    voices = symbol_voices(SMALL, AUDIO, seed=1234)
    sets = {s: v.freqs_hz for s, v in voices.items()}
    assert len(set(sets.values())) == len(DEMO_SYMBOLS)  # all chords distinct
    uid, (symbols, frames) = next(iter(read_durations(demo / "durations.tsv").items()))
    wav, sr = sf.read(str(demo / "wavs" / f"{uid}.wav"))
    hop, start = AUDIO.hop_length, 0
    freqs = np.fft.rfftfreq(1 << 15, 1 / sr)
    for sym, d in zip(symbols, frames, strict=True):
        a, b = max(0, start * hop - hop // 2), (start + d) * hop - hop // 2
        seg = wav[a + 64 : b - 64]  # skip the edge fades
        spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n=1 << 15))
        energy = lambda fs, spec=spec: sum(spec[np.abs(freqs - f) < 40].sum() for f in fs)  # noqa: E731
        own = energy(sets[sym])
        others = [energy(v) for s, v in sets.items() if s != sym]
        assert own > 2 * max(others), (uid, sym)  # chords share at most one of three partials
        start += d


def test_equal_loudness_and_noise_floor(demo: Path) -> None:
    wav, _ = sf.read(str(next((demo / "wavs").glob("*.wav"))))
    assert 0.05 < np.sqrt(np.mean(wav**2)) < 0.15  # symbols at -20 dBFS
    assert np.max(np.abs(wav)) < 1.0


def test_odd_totals_are_made_even_within_limits(tmp_path: Path) -> None:
    cfg = replace(SMALL, n_clips=30, min_symbol_frames=3, max_symbol_frames=4)
    generate_demo_corpus(tmp_path / "c", cfg, AUDIO, seed=7)
    for _, (_symbols, frames) in read_durations(tmp_path / "c" / "durations.tsv").items():
        assert sum(frames) % 2 == 0
        assert all(3 <= d <= 4 for d in frames)


def test_all_symbols_one_odd_duration_is_refused(tmp_path: Path) -> None:
    cfg = replace(SMALL, n_clips=30, min_symbol_frames=3, max_symbol_frames=3)
    with pytest.raises(ValueError, match="min_symbol_frames = max_symbol_frames = 3"):
        generate_demo_corpus(tmp_path / "c", cfg, AUDIO, seed=7)
    assert not (tmp_path / "c").exists() and not (tmp_path / "c.partial").exists()


def test_durations_file_errors_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "d.tsv").write_text("a\tab\t1 2\nb\tabc\t1 2\n")
    with pytest.raises(ValueError, match=r"d\.tsv:2: 3 symbols but 2 durations"):
        read_durations(tmp_path / "d.tsv")


@pytest.mark.parametrize("seed", [0, 1234, 99])
def test_chords_share_at_most_one_partial(seed: int) -> None:
    voices = list(symbol_voices(SMALL, AUDIO, seed).values())
    for i, a in enumerate(voices):
        for b in voices[i + 1 :]:
            assert len(set(a.freqs_hz) & set(b.freqs_hz)) <= 1


def test_the_demo_config_tokenises_one_token_per_rendered_symbol(demo: Path) -> None:
    """With the demo's text config, token i of a clip is exactly the symbol whose frames are known."""
    from glowtts.config import load
    from glowtts.text import SYMBOLS, TextFrontend

    repo = Path(__file__).resolve().parents[2]
    frontend = TextFrontend(load(repo / "config" / "config.yaml").text)
    for _, (symbols, _frames) in read_durations(demo / "durations.tsv").items():
        ids = frontend.encode(symbols.capitalize())
        assert [SYMBOLS[i] for i in ids] == list(symbols)


def test_context_lengthens_word_ends_and_shortens_word_middles() -> None:
    from glowtts.data.demo import context_shift

    text = "a cat, sat."
    # a: one-letter word (ends before a space) +1; c: word-initial 0; a: middle -1; t: end +1
    assert [context_shift(text, i) for i in range(len(text))] == [
        1, 0, 0, -1, 1, 0, 0, 0, -1, 1, 0,
    ]  # fmt: skip


def test_durations_are_a_function_of_the_text(demo: Path) -> None:
    """Every symbol in the same context has the same duration (except the one symbol per clip
    that may be stretched to make the frame count even)."""
    from glowtts.data.demo import context_shift

    voices = symbol_voices(SMALL, AUDIO, seed=1234)
    for uid, (symbols, frames) in read_durations(demo / "durations.tsv").items():
        expected = [
            int(np.clip(voices[s].mean_frames + context_shift(symbols, i), 2, 13))
            for i, s in enumerate(symbols)
        ]
        differ = [i for i, (a, b) in enumerate(zip(frames, expected, strict=True)) if a != b]
        assert len(differ) <= 1 and all(abs(frames[i] - expected[i]) == 1 for i in differ), uid

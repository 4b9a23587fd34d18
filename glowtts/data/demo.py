"""The offline demo corpus: real English sentences rendered as synthetic, learnable sounds.

Each symbol of the cleaned text (letters, space, punctuation) has its own spectral signature
(a chord of partials on a mel-spaced grid, equal loudness) and its own typical duration in mel
frames, which its neighbours lengthen or shorten by one frame (the end of a word is longer, its
middle shorter: :func:`context_shift`). Durations are thus a function of the text, as a duration
predictor assumes, not random. Because the rendering is frame-exact, the corpus ships the
ground-truth frames per symbol of every clip, so a trained model's alignment and its predicted
durations can both be scored against the truth.

Frame-exact rendering: with a centre-padded STFT of hop ``h``, a clip of ``T*h - h/2`` samples has
exactly ``T`` frames, and the symbol covering frames ``[s, s+d)`` is rendered into samples
``[(s - 1/2) h, (s + d - 1/2) h)``. ``T`` is even because the decoder squeezes frames by two.

Output folder (LJSpeech format plus the truth)::

    metadata.csv      id|Text as written.|text as written.
    wavs/<id>.wav     16-bit PCM mono at the config's sample rate
    durations.tsv     id<TAB>symbols<TAB>frames per symbol (space-separated)
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glowtts.config import AudioConfig, DemoConfig
from glowtts.errors import UserValueError

__all__ = [
    "DemoClip",
    "SymbolVoice",
    "generate_demo_corpus",
    "make_sentences",
    "read_durations",
    "render_clip",
]

log = logging.getLogger(__name__)

# Everything a demo sentence can contain after lowercasing.
DEMO_SYMBOLS = " ,.abcdefghijklmnopqrstuvwxyz"
SYMBOL_RMS = 0.1  # every symbol at -20 dBFS: equal loudness makes boundaries learnable
N_PARTIALS = 3
EDGE_FADE_S = 0.002  # raised-cosine fades at symbol edges, to avoid clicks
GRID_POINTS = 48  # mel-spaced candidate partial frequencies
GRID_LOW_HZ = 150.0  # lowest candidate partial
GRID_TOP = 0.9  # highest candidate, as a fraction of min(fmax, Nyquist)
COMPOUND_P = 0.3  # share of 7- and 8-word sentences made of two clauses (", and")

# A small grammar of common words: determiner (adjective) noun verb (adverbs | preposition phrase),
# or two short clauses joined by ", and".
_DETERMINERS = ["the", "a", "my", "your", "this", "that", "our", "one"]
_ADJECTIVES = [
    "old",
    "young",
    "small",
    "big",
    "quiet",
    "happy",
    "red",
    "green",
    "cold",
    "warm",
    "bright",
    "dark",
    "little",
    "good",
    "new",
    "kind",
    "brave",
    "slow",
    "quick",
    "tired",
]
_NOUNS = [
    "dog",
    "cat",
    "man",
    "woman",
    "child",
    "bird",
    "horse",
    "boat",
    "train",
    "farmer",
    "teacher",
    "river",
    "wind",
    "king",
    "girl",
    "boy",
    "friend",
    "doctor",
    "sailor",
    "baker",
]
_VERBS = [
    "runs",
    "walks",
    "sings",
    "sleeps",
    "waits",
    "works",
    "smiles",
    "stops",
    "turns",
    "falls",
    "reads",
    "plays",
    "jumps",
    "rests",
    "talks",
    "listens",
    "moves",
    "laughs",
    "calls",
    "stays",
]
_MANNER = ["slowly", "quickly", "quietly", "alone", "well", "hard", "softly", "gladly"]
_TIMES = ["today", "again", "early", "tonight", "often", "now", "later", "once"]
_PREPOSITIONS = [
    "near",
    "by",
    "under",
    "over",
    "behind",
    "past",
    "into",
    "across",
    "along",
    "beside",
]
_PLACES = [
    "house",
    "bridge",
    "tree",
    "road",
    "market",
    "garden",
    "station",
    "window",
    "hill",
    "wall",
]


@dataclass(frozen=True)
class SymbolVoice:
    """How one symbol sounds and how long it usually lasts."""

    freqs_hz: tuple[float, ...]
    mean_frames: int


@dataclass(frozen=True)
class DemoClip:
    """One generated clip: its text, symbols and ground-truth frames per symbol."""

    id: str
    text: str  # as written (capitalised, with a full stop)
    symbols: str  # what is rendered: the lowercased text, one symbol per character
    frames: tuple[int, ...]  # ground-truth frames per symbol; sum is even


def _sentence(rng: np.random.Generator, n_words: int) -> str:
    """A grammatical sentence of exactly ``n_words`` common words."""

    def pick(words: list[str]) -> str:
        return words[int(rng.integers(len(words)))]

    def clause(adjective: bool) -> list[str]:
        head = [pick(_DETERMINERS), pick(_ADJECTIVES)] if adjective else [pick(_DETERMINERS)]
        return [*head, pick(_NOUNS), pick(_VERBS)]

    if n_words in (7, 8) and rng.random() < COMPOUND_P:  # two clauses: commas get learnt too
        first = clause(adjective=n_words == 8)
        first[-1] += ","
        words = [*first, "and", *clause(adjective=False)]
    else:
        words = clause(adjective=n_words >= 4)
        rest = n_words - len(words)
        if rest == 1:
            words.append(pick(_MANNER + _TIMES))
        elif rest == 2:
            words += [pick(_MANNER), pick(_TIMES)]
        elif rest >= 3:
            words += [pick(_PREPOSITIONS), pick(_DETERMINERS)]
            words += [pick(_ADJECTIVES) for _ in range(rest - 3)]
            words.append(pick(_PLACES))
        words = words[:n_words]  # only when min_words < 3
    sentence = " ".join(words)
    return sentence[0].upper() + sentence[1:] + "."


def make_sentences(cfg: DemoConfig, seed: int) -> list[str]:
    """``cfg.n_clips`` sentences of ``min_words``..``max_words`` words, deterministic in ``seed``."""
    rng = np.random.default_rng([seed, 1])
    return [
        _sentence(rng, int(rng.integers(cfg.min_words, cfg.max_words + 1)))
        for _ in range(cfg.n_clips)
    ]


def symbol_voices(cfg: DemoConfig, audio: AudioConfig, seed: int) -> dict[str, SymbolVoice]:
    """A distinct chord and a typical duration for every demo symbol."""
    rng = np.random.default_rng([seed, 2])
    top = min(audio.fmax, audio.sample_rate / 2) * GRID_TOP
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    grid_mel = np.linspace(mel(GRID_LOW_HZ), mel(top), GRID_POINTS)
    grid = 700.0 * (10.0 ** (grid_mel / 2595.0) - 1.0)  # mel-spaced candidate frequencies
    used: set[tuple[int, ...]] = set()
    lo = cfg.min_symbol_frames + (1 if cfg.max_symbol_frames - cfg.min_symbol_frames >= 2 else 0)
    hi = cfg.max_symbol_frames - (1 if cfg.max_symbol_frames - cfg.min_symbol_frames >= 2 else 0)
    voices: dict[str, SymbolVoice] = {}
    for sym in DEMO_SYMBOLS:
        while True:
            idx = tuple(sorted(rng.choice(len(grid), N_PARTIALS, replace=False).tolist()))
            # partials two grid steps apart; any two symbols share at most one partial
            if min(np.diff(idx)) >= 2 and all(len(set(idx) & set(u)) <= 1 for u in used):
                used.add(idx)
                break
        voices[sym] = SymbolVoice(tuple(float(grid[i]) for i in idx), int(rng.integers(lo, hi + 1)))
    return voices


def _durations(symbols: str, voices: dict[str, SymbolVoice], cfg: DemoConfig) -> list[int]:
    frames = [
        int(
            np.clip(
                voices[s].mean_frames + context_shift(symbols, i),
                cfg.min_symbol_frames,
                cfg.max_symbol_frames,
            )
        )
        for i, s in enumerate(symbols)
    ]
    if sum(frames) % 2:  # make T even: lengthen the last symbol that may grow, else shorten one
        grow = [i for i, d in enumerate(frames) if d < cfg.max_symbol_frames]
        shrink = [i for i, d in enumerate(frames) if d > cfg.min_symbol_frames]
        if grow:
            frames[grow[-1]] += 1
        elif shrink:
            frames[shrink[-1]] -= 1
        else:
            raise UserValueError(
                f"dataset.demo.min_symbol_frames = max_symbol_frames = {cfg.min_symbol_frames} (odd) "
                f"gives {symbols!r} an odd number of frames; the decoder needs an even count: "
                "allow a range of durations or make them even"
            )
    return frames


def context_shift(symbols: str, i: int) -> int:
    """Frames added to symbol ``i``'s typical duration by its neighbours, as speech lengthens
    the end of a word and shortens its middle: +1 for a letter before a space, punctuation or
    the end; -1 for a letter between two letters; 0 otherwise (word-initial letters, spaces,
    punctuation). A function of the text, so a duration predictor that reads one symbol of
    context on each side can learn every duration exactly."""
    if not symbols[i].isalpha():
        return 0
    before = symbols[i - 1] if i > 0 else " "
    after = symbols[i + 1] if i + 1 < len(symbols) else " "
    if not after.isalpha():
        return 1
    return -1 if before.isalpha() else 0


def render_clip(
    symbols: str,
    frames: list[int],
    voices: dict[str, SymbolVoice],
    audio: AudioConfig,
    noise_dbfs: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Float waveform in [-1, 1] with exactly ``sum(frames)`` centre-padded STFT frames."""
    hop, sr = audio.hop_length, audio.sample_rate
    total = sum(frames)
    n = total * hop - hop // 2
    wav = np.zeros(n, dtype=np.float64)
    fade = max(1, int(EDGE_FADE_S * sr))
    start_frame = 0
    for sym, d in zip(symbols, frames, strict=True):
        a = max(0, start_frame * hop - hop // 2)
        b = (start_frame + d) * hop - hop // 2
        t = np.arange(b - a) / sr
        phases = rng.uniform(0, 2 * np.pi, N_PARTIALS)
        seg = sum(
            np.sin(2 * np.pi * f * t + p) for f, p in zip(voices[sym].freqs_hz, phases, strict=True)
        )
        seg *= SYMBOL_RMS / np.sqrt(np.mean(seg**2))
        k = min(fade, len(seg) // 2)
        if k > 0:
            ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
            seg[:k] *= ramp
            seg[-k:] *= ramp[::-1]
        wav[a:b] = seg
        start_frame += d
    wav += rng.normal(0.0, 10.0 ** (noise_dbfs / 20.0), n)
    return np.clip(wav, -1.0, 32767 / 32768)


def generate_demo_corpus(
    out_dir: str | Path, cfg: DemoConfig, audio: AudioConfig, seed: int
) -> list[DemoClip]:
    """Write the demo corpus folder (see the module docstring) atomically; return its clips."""
    import soundfile as sf

    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "wavs").mkdir(parents=True)
    voices = symbol_voices(cfg, audio, seed)
    clips: list[DemoClip] = []
    try:
        for i, text in enumerate(make_sentences(cfg, seed)):
            rng = np.random.default_rng([seed, 3, i])
            symbols = text.lower()
            frames = _durations(symbols, voices, cfg)
            wav = render_clip(symbols, frames, voices, audio, cfg.noise_dbfs, rng)
            uid = f"DEMO-{i:05d}"
            pcm = np.round(wav * 32768.0).astype(np.int16)
            sf.write(str(tmp / "wavs" / f"{uid}.wav"), pcm, audio.sample_rate, subtype="PCM_16")
            clips.append(DemoClip(uid, text, symbols, tuple(frames)))
        with (tmp / "metadata.csv").open("w", encoding="utf-8") as fh:
            fh.writelines(f"{c.id}|{c.text}|{c.text}\n" for c in clips)
        with (tmp / "durations.tsv").open("w", encoding="utf-8") as fh:
            fh.writelines(f"{c.id}\t{c.symbols}\t{' '.join(map(str, c.frames))}\n" for c in clips)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = (
        sum(sum(c.frames) * audio.hop_length - audio.hop_length // 2 for c in clips)
        / audio.sample_rate
    )
    log.info("demo corpus=%s clips=%d minutes=%.2f", out_dir, len(clips), seconds / 60)
    return clips


def read_durations(path: str | Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """id -> (symbols, frames per symbol) from a demo corpus's durations.tsv."""
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                raise UserValueError(
                    f"{path}:{lineno}: expected id<TAB>symbols<TAB>frames, got {len(parts)} fields"
                )
            frames = tuple(int(x) for x in parts[2].split())
            if len(frames) != len(parts[1]):
                raise UserValueError(
                    f"{path}:{lineno}: {len(parts[1])} symbols but {len(frames)} durations"
                )
            out[parts[0]] = (parts[1], frames)
    return out

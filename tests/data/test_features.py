"""glowtts.data.features / store: sharding, determinism, atomic writes, the memory-mapped store."""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from glowtts.audio import MelSpectrogram, SilentAudioError, load_wav
from glowtts.config import Config
from glowtts.data.features import (
    compute_shard,
    compute_shard_job,
    gather_shards,
    read_shard,
    shard_rows,
)
from glowtts.data.manifest import Utterance, write_manifest
from glowtts.data.store import FeatureStore

STORE_FILES = ("mels.npy", "tokens.npy", "index.tsv", "store.json")


class CharEncoder:
    """A stand-in text frontend: one id per character (1 + ord % 40)."""

    n_vocab = 41

    def encode(self, text: str, *, utt_id: str | None = None) -> list[int]:
        return [1 + ord(c) % 40 for c in text]


def _utt(tmp: Path, uid: str, seconds: float, sr: int = 22050, seed: int = 0) -> Utterance:
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * (150 + 50 * seed) * t) + 0.02 * rng.standard_normal(n)
    path = tmp / f"{uid}.wav"
    sf.write(str(path), x, sr, subtype="PCM_16")
    text = f"utterance number {seed} says hello"
    return Utterance(uid, text, text, path, n / sr, sr)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Utterance]:
    tmp = tmp_path_factory.mktemp("wavs")
    lengths = [0.35, 0.9, 0.2, 0.6, 0.45, 0.8, 0.25]
    rows = [_utt(tmp, f"U{k:03d}", s, seed=k) for k, s in enumerate(lengths)]
    rows.append(_utt(tmp, "U900", 0.5, sr=16000, seed=9))  # resampled on load
    return rows


def _cfg(**features: object) -> Config:
    cfg = Config(seed=77)
    return dataclasses.replace(cfg, features=dataclasses.replace(cfg.features, **features))


def _build(rows: list[Utterance], out: Path, n_shards: int, cfg: Config) -> list[Path]:
    paths = []
    for k in range(n_shards):
        path = out / f"shard_{k:03d}.npz"
        compute_shard(shard_rows(rows, n_shards, k), cfg, path, encoder=CharEncoder())
        paths.append(path)
    gather_shards(paths, out / "store", cfg)
    return paths


# ----------------------------------------------------------------------------- sharding


def test_shard_rows_partitions_balances_and_ignores_order(corpus: list[Utterance]) -> None:
    n = 3
    shards = [shard_rows(corpus, n, k) for k in range(n)]
    ids = [u.id for s in shards for u in s]
    assert sorted(ids) == sorted(u.id for u in corpus)  # every row exactly once
    totals = [sum(u.seconds for u in s) for s in shards]
    assert max(totals) - min(totals) <= max(u.seconds for u in corpus) + 1e-9
    reversed_rows = list(reversed(corpus))
    for k in range(n):
        assert {u.id for u in shard_rows(reversed_rows, n, k)} == {u.id for u in shards[k]}
    assert [u.id for u in shards[0]] == [u.id for u in corpus if u in shards[0]]  # input order
    assert shard_rows(corpus, 1, 0) == corpus
    assert sum(len(shard_rows(corpus, 20, k)) for k in range(20)) == len(corpus)


def test_shard_rows_rejects_bad_arguments(corpus: list[Utterance]) -> None:
    with pytest.raises(ValueError, match="n_shards must be >= 1"):
        shard_rows(corpus, 0, 0)
    with pytest.raises(ValueError, match=r"shard must be in \[0, 2\), got 2"):
        shard_rows(corpus, 2, 2)
    with pytest.raises(ValueError, match="duplicate utterance id 'U000'"):
        shard_rows([*corpus, corpus[0]], 2, 0)


def test_shard_job_reads_filelists_and_picks_its_scatter_item(
    corpus: list[Utterance], tmp_path: Path
) -> None:
    cfg = _cfg()
    lists = [tmp_path / "train.tsv", tmp_path / "val.tsv"]
    write_manifest(lists[0], corpus[:5])
    write_manifest(lists[1], corpus[5:])
    for k in (1, 2):
        job = compute_shard_job(
            lists, f"{k}-of-2", cfg, tmp_path / f"job{k}.npz", encoder=CharEncoder()
        )
        direct = compute_shard(
            shard_rows(corpus, 2, k - 1), cfg, tmp_path / f"direct{k}.npz", encoder=CharEncoder()
        )
        assert job.read_bytes() == direct.read_bytes()


@pytest.mark.parametrize("item", ["0-of-2", "3-of-2", "1-of-0", "1of2", "a-of-b", "", "2-of-2-x"])
def test_shard_job_refuses_a_malformed_scatter_item(
    corpus: list[Utterance], tmp_path: Path, item: str
) -> None:
    write_manifest(tmp_path / "train.tsv", corpus[:2])
    with pytest.raises(ValueError, match=rf"scatter item '{item}': expected '<k>-of-<n>'"):
        compute_shard_job([tmp_path / "train.tsv"], item, _cfg(), tmp_path / "s.npz")
    assert not (tmp_path / "s.npz").exists()


# ----------------------------------------------------------------------------- the store


def test_sharded_store_equals_single_process(corpus: list[Utterance], tmp_path: Path) -> None:
    cfg = _cfg()
    _build(corpus, tmp_path / "one", 1, cfg)
    _build(corpus, tmp_path / "three", 3, cfg)
    for name in STORE_FILES:
        one = (tmp_path / "one" / "store" / name).read_bytes()
        assert one == (tmp_path / "three" / "store" / name).read_bytes(), name


def test_rerunning_a_deleted_shard_is_byte_identical(
    corpus: list[Utterance], tmp_path: Path
) -> None:
    cfg = _cfg()
    paths = _build(corpus, tmp_path, 3, cfg)
    before = {p.name: p.read_bytes() for p in [*paths, *(tmp_path / "store").iterdir()]}
    paths[1].unlink()
    compute_shard(shard_rows(corpus, 3, 1), cfg, paths[1], encoder=CharEncoder())
    assert paths[1].read_bytes() == before[paths[1].name]
    gather_shards(paths, tmp_path / "store", cfg)  # over an existing store
    for name in STORE_FILES:
        assert (tmp_path / "store" / name).read_bytes() == before[name], name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*(p.name for p in paths), "store"]
    )  # no temporary files or folders left behind


def test_store_contents_match_direct_computation(corpus: list[Utterance], tmp_path: Path) -> None:
    cfg = _cfg()
    _build(corpus, tmp_path, 2, cfg)
    store = FeatureStore(tmp_path / "store", audio=cfg.audio, text=cfg.text)
    assert len(store) == len(corpus) and store.ids == sorted(u.id for u in corpus)
    mel_fn = MelSpectrogram(cfg.audio)
    for u in corpus:
        wav = load_wav(u.wav, cfg.audio, utt_id=u.id, seed=cfg.seed).wav
        tokens, mel = store.get(u.id)
        i = store.index_of(u.id)
        assert tokens.dtype == torch.long and mel.dtype == torch.float32
        assert tokens.tolist() == CharEncoder().encode(u.normalized_text)
        assert mel.shape == (80, 1 + wav.size // 256) == (80, store.n_frames[i])
        assert torch.equal(mel, mel_fn(torch.from_numpy(wav)))
        assert store.n_tokens[i] == len(u.normalized_text)
        assert store.seconds[i] == pytest.approx(wav.size / 22050)
    assert store.seconds[store.index_of("U900")] == pytest.approx(0.5)  # 16 kHz resampled
    meta = json.loads((tmp_path / "store" / "store.json").read_text())
    assert meta["n_utterances"] == len(corpus) and meta["n_vocab"] == 41
    assert meta["n_frames"] == int(store.n_frames.sum()) and meta["dtype"] == "float32"
    with pytest.raises(KeyError, match="'nope' is not in the feature store"):
        store.index_of("nope")
    with pytest.raises(IndexError):
        store[len(store)]
    assert torch.equal(store[-1][1], store[len(store) - 1][1])


def test_float16_store_and_pickling(corpus: list[Utterance], tmp_path: Path) -> None:
    cfg32, cfg16 = _cfg(), _cfg(dtype="float16")
    _build(corpus[:3], tmp_path / "a", 1, cfg32)
    _build(corpus[:3], tmp_path / "b", 1, cfg16)
    s32, s16 = FeatureStore(tmp_path / "a" / "store"), FeatureStore(tmp_path / "b" / "store")
    assert np.load(tmp_path / "b" / "store" / "mels.npy", mmap_mode="r").dtype == np.float16
    for i in range(len(s32)):
        mel16 = s16[i][1]
        assert mel16.dtype == torch.float32
        torch.testing.assert_close(mel16, s32[i][1], atol=1e-2, rtol=1e-3)
    clone = pickle.loads(pickle.dumps(s16))
    assert torch.equal(clone[1][1], s16[1][1]) and clone.ids == s16.ids
    assert len(pickle.dumps(s16)) < 4096  # the memory maps are not pickled


def test_store_refuses_other_parameters(corpus: list[Utterance], tmp_path: Path) -> None:
    cfg = _cfg()
    paths = _build(corpus[:2], tmp_path, 1, cfg)
    other_audio = dataclasses.replace(cfg.audio, n_mels=64)
    with pytest.raises(ValueError, match=r"audio\.n_mels: stored 80, expected 64"):
        FeatureStore(tmp_path / "store", audio=other_audio)
    other_text = dataclasses.replace(cfg.text, add_blank=True)
    with pytest.raises(ValueError, match=r"text\.add_blank: stored False, expected True"):
        FeatureStore(tmp_path / "store", text=other_text)
    with pytest.raises(ValueError, match=r"(?s)shard_000\.npz: .*seed: stored 77, expected 78"):
        gather_shards(paths, tmp_path / "other", dataclasses.replace(cfg, seed=78))
    assert not (tmp_path / "other").exists()
    with pytest.raises(FileNotFoundError, match="is not a feature store"):
        FeatureStore(tmp_path)


def test_gather_refuses_duplicates_and_missing_shards(
    corpus: list[Utterance], tmp_path: Path
) -> None:
    cfg = _cfg()
    a = compute_shard(corpus[:2], cfg, tmp_path / "a.npz", encoder=CharEncoder())
    b = compute_shard(corpus[1:3], cfg, tmp_path / "b.npz", encoder=CharEncoder())
    with pytest.raises(ValueError, match=r"b\.npz: utterance 'U001' is also in shard .*a\.npz"):
        gather_shards([a, b], tmp_path / "store", cfg)
    with pytest.raises(FileNotFoundError, match=r"c\.npz does not exist"):
        gather_shards([a, tmp_path / "c.npz"], tmp_path / "store", cfg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]


def test_empty_shard_is_valid(corpus: list[Utterance], tmp_path: Path) -> None:
    cfg = _cfg()
    empty = compute_shard([], cfg, tmp_path / "empty.npz", encoder=CharEncoder())
    full = compute_shard(corpus[:2], cfg, tmp_path / "full.npz", encoder=CharEncoder())
    assert read_shard(empty)["mels"].shape == (0, 80)
    gather_shards([empty, full], tmp_path / "store", cfg)
    assert FeatureStore(tmp_path / "store").ids == ["U000", "U001"]


# ----------------------------------------------------------------------------- bad input


def test_bad_wav_fails_the_shard_and_writes_nothing(
    corpus: list[Utterance], tmp_path: Path
) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros(5000, dtype=np.int16), 22050, subtype="PCM_16")
    bad = Utterance("BAD", "x", "x", silent, 5000 / 22050, 22050)
    out = tmp_path / "out" / "shard.npz"
    with pytest.raises(SilentAudioError, match=r"silent\.wav"):
        compute_shard([corpus[0], bad], _cfg(), out, encoder=CharEncoder())
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_clipped_clip_is_logged_and_recorded(
    corpus: list[Utterance], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    t = np.arange(11025) / 22050
    path = tmp_path / "hot.wav"
    sf.write(str(path), np.clip(3 * np.sin(2 * np.pi * 300 * t), -1, 1), 22050, subtype="PCM_16")
    hot = Utterance("HOT", "loud", "loud", path, 0.5, 22050)
    cfg = _cfg()
    with caplog.at_level(logging.WARNING, logger="glowtts.data.features"):
        shard = compute_shard([corpus[0], hot], cfg, tmp_path / "s.npz", encoder=CharEncoder())
    clipped = [r.getMessage() for r in caplog.records if "utterance=HOT" in r.getMessage()]
    assert len(clipped) == 1 and "hot.wav" in clipped[0] and "at full scale" in clipped[0]
    assert not any("utterance=U000" in r.getMessage() for r in caplog.records)
    gather_shards([shard], tmp_path / "store", cfg)
    assert FeatureStore(tmp_path / "store").meta["clipped"] == ["HOT"]


def test_transcript_without_tokens_is_an_error(corpus: list[Utterance], tmp_path: Path) -> None:
    row = dataclasses.replace(corpus[0], normalized_text="")
    with pytest.raises(ValueError, match="'U000': normalized_text '' encodes to no tokens"):
        compute_shard([row], _cfg(), tmp_path / "s.npz", encoder=CharEncoder())


def test_transcript_of_dropped_characters_with_blanks_is_an_error(
    corpus: list[Utterance], tmp_path: Path
) -> None:
    """With blanks, a transcript whose every character is dropped encodes to [blank] alone."""
    cfg = _cfg()
    cfg = dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, add_blank=True))
    row = dataclasses.replace(corpus[0], normalized_text="\u2603\u2603")  # snowmen: not symbols
    with pytest.raises(ValueError, match="encodes to no tokens"):
        compute_shard([row], cfg, tmp_path / "s.npz")
    assert not (tmp_path / "s.npz").exists()


def test_default_encoder_is_the_text_frontend(corpus: list[Utterance], tmp_path: Path) -> None:
    from glowtts.text import TextFrontend

    cfg = _cfg()
    cfg = dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, add_blank=True))
    shard = compute_shard(corpus[:2], cfg, tmp_path / "s.npz")
    gather_shards([shard], tmp_path / "store", cfg)
    store = FeatureStore(tmp_path / "store", audio=cfg.audio, text=cfg.text)
    frontend = TextFrontend(cfg.text)
    assert store.meta["n_vocab"] == frontend.n_vocab == 149
    for u in corpus[:2]:
        expected = frontend.encode(u.normalized_text, utt_id=u.id)
        assert store.get(u.id)[0].tolist() == expected
        assert len(expected) % 2 == 1 and expected[0] == 148  # blanks interspersed


def test_thread_count_does_not_change_the_shard(corpus: list[Utterance], tmp_path: Path) -> None:
    cfg, before = _cfg(), torch.get_num_threads()
    one = compute_shard(corpus, cfg, tmp_path / "t1.npz", encoder=CharEncoder(), num_threads=1)
    assert torch.get_num_threads() == before  # restored
    two = compute_shard(corpus, cfg, tmp_path / "t2.npz", encoder=CharEncoder(), num_threads=2)
    assert one.read_bytes() == two.read_bytes()


def test_wrong_manifest_durations_do_not_change_the_shard(
    corpus: list[Utterance], tmp_path: Path
) -> None:
    """The frame buffer is sized from the manifest's seconds and grows when they are short."""
    cfg = _cfg()
    short = [dataclasses.replace(u, seconds=0.0) for u in corpus]
    a = compute_shard(corpus, cfg, tmp_path / "a.npz", encoder=CharEncoder())
    b = compute_shard(short, cfg, tmp_path / "b.npz", encoder=CharEncoder())
    assert a.read_bytes() == b.read_bytes()

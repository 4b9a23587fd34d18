"""ONNX export: onnxruntime gives torch's output on shapes the trace never saw, and the runtime
path speaks without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from glowtts.checkpoint import Checkpoint, build_model, load_checkpoint, save_checkpoint
from glowtts.cli import main
from glowtts.config import load
from glowtts.export import export_onnx, metadata_path
from glowtts.model import GlowTTS


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """A tiny voice with every weight perturbed (no identity couplings), demo text settings."""
    cfg = load(repo_root / "config/config.yaml", repo_root / ".test/config.yaml")
    torch.manual_seed(0)
    model = GlowTTS(cfg.model, 148, cfg.audio.n_mels)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path_factory.mktemp("voice") / "voice.pt"
    return save_checkpoint(
        path, Checkpoint(config=cfg, n_vocab=148, n_mels=80, model=model.state_dict())
    )


@pytest.fixture(scope="module")
def exported(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_onnx(checkpoint, tmp_path_factory.mktemp("onnx") / "voice.onnx")


def _batch(lengths: list[int], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    tokens = np.zeros((len(lengths), max(lengths)), dtype=np.int64)
    speed = np.ones(tokens.shape, dtype=np.float32)
    for row, n in enumerate(lengths):
        tokens[row, :n] = rng.integers(12, 64, n)
        speed[row, :n] = rng.uniform(0.5, 2.0, n)
    return tokens, np.array(lengths, dtype=np.int64), speed


@pytest.mark.parametrize(
    ("lengths", "noise_scale", "length_scale"),
    [
        ([1], 0.0, 1.0),
        ([7], 0.667, 1.0),
        ([300], 0.667, 1.3),
        ([23, 5, 61], 0.5, 0.8),  # batch 3 with padding
        ([3, 300, 40], 1.0, 1.0),
    ],
)
def test_onnxruntime_equals_torch_on_unseen_shapes(
    checkpoint: Path, exported: Path, lengths: list[int], noise_scale: float, length_scale: float
) -> None:
    import onnxruntime as ort

    model = build_model(load_checkpoint(checkpoint)).prepare_for_inference()
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    tokens, token_lengths, speed = _batch(lengths, seed=len(lengths) * 1000 + lengths[0])
    feeds = {
        "tokens": tokens,
        "token_lengths": token_lengths,
        "noise_scale": np.array(noise_scale, np.float32),
        "length_scale": np.array(length_scale, np.float32),
        "seed": np.array(42, np.int64),
        "duration_scale": speed,
    }
    mel, mel_lengths = session.run(["mel", "mel_lengths"], feeds)
    with torch.no_grad():
        ref_mel, ref_lengths, _ = model.generate(
            *(torch.from_numpy(feeds[k]) for k in ("tokens", "token_lengths")),
            torch.tensor(noise_scale),
            torch.tensor(length_scale),
            torch.tensor(42),
            torch.from_numpy(speed),
        )
    np.testing.assert_array_equal(mel_lengths, ref_lengths.numpy())
    assert mel.shape == tuple(ref_mel.shape)
    assert np.abs(mel - ref_mel.numpy()).max() < 1e-4


def test_metadata_holds_what_a_runtime_needs(exported: Path) -> None:
    meta = json.loads(metadata_path(exported).read_text())
    assert meta["format"] == "glowtts-onnx" and meta["n_vocab"] == 148
    assert meta["audio"]["sample_rate"] == 22050 and meta["audio"]["hop_length"] == 256
    assert meta["text"]["cleaners"] == "english_cleaners" and meta["blank_id"] is None
    assert len(meta["symbols"]) == 148 and meta["synthesis"]["noise_scale"] == 0.667


def test_the_runtime_speaks_without_torch(exported: Path, tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    code = (
        "import sys\n"
        "from glowtts.cli import main\n"
        f"rc = main(['synthesize', 'Hello, [slow|2] world.', '--onnx', {str(exported)!r}, "
        f"'-o', {str(out)!r}, '--seed', '3'])\n"
        "assert rc == 0, rc\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "from glowtts.onnx_voice import OnnxVoice\n"
        f"v = OnnxVoice({str(exported)!r})\n"
        "[(ids, mel)] = v.mels(['Hello, [slow|2] world.'], seed=3)\n"
        "print(len(ids), mel.shape[1])\n"
        "assert 'torch' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    n_ids, n_frames = (int(v) for v in proc.stdout.split())
    wav, rate = sf.read(out)
    assert rate == 22050 and len(wav) == n_frames * 256 and n_ids == len("hello, slow world.")


def test_the_runtime_mel_is_the_checkpoints(checkpoint: Path, exported: Path) -> None:
    from glowtts.onnx_voice import OnnxVoice
    from glowtts.synthesis import Synthesizer

    voice = OnnxVoice(exported)
    [(ids, mel)] = voice.mels(["A [quiet|1.5] test."], noise_scale=0.3, length_scale=1.1, seed=9)
    synth = Synthesizer.from_file(checkpoint)
    ids_torch, speed = synth.encode_with_speed("A [quiet|1.5] test.")
    assert ids == ids_torch
    with torch.no_grad():
        ref, lengths, _ = synth.model.generate(
            torch.tensor([ids]), torch.tensor([len(ids)]), torch.tensor(0.3),
            torch.tensor(1.1), torch.tensor(9), torch.tensor([speed]),
        )  # fmt: skip
    assert mel.shape[1] == int(lengths[0])
    assert np.abs(mel - ref[0, :, : mel.shape[1]].numpy()).max() < 1e-4


def test_the_same_seed_gives_the_same_speech_from_torch_and_onnx(
    checkpoint: Path, exported: Path
) -> None:
    from glowtts.onnx_voice import OnnxVoice
    from glowtts.synthesis import Synthesizer

    texts = ["Medium length one.", "Hi.", "A much [longer|1.3] sentence than the others.", "Ok."]
    synth = Synthesizer.from_file(checkpoint)  # packed convolutions, batches of two
    torch_out = synth(texts, noise_scale=0.667, length_scale=1.0, batch_size=2, seed=21)
    onnx_out = OnnxVoice(exported)(texts, noise_scale=0.667, seed=21, batch_size=3,
                                   griffin_lim_iters=1)  # fmt: skip
    for t, o in zip(torch_out, onnx_out, strict=True):
        assert t.text == o.text and t.ids == o.ids
        assert t.mel.shape == o.mel.shape
        assert np.abs(t.mel - o.mel).max() < 1e-4, t.text
    other = synth(texts, noise_scale=0.667, batch_size=2, seed=22)
    assert np.abs(other[0].mel - torch_out[0].mel).max() > 0.01  # the seed matters


def test_cli_export_and_named_errors(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "-o", str(out)]) == 0
    assert out.is_file() and metadata_path(out).is_file()
    metadata_path(out).unlink()
    args = ["synthesize", "Hi.", "--onnx", str(out), "-o", str(tmp_path / "x.wav")]
    assert main(args) == 1
    assert "v.json does not exist: export the voice with glowtts export" in capsys.readouterr().err
    assert main(["export", "--checkpoint", str(checkpoint), "-o", str(tmp_path / "v.bin")]) == 1
    assert "must end in .onnx" in capsys.readouterr().err
    both = ["synthesize", "Hi.", "--onnx", str(out), "--checkpoint", str(checkpoint), "-o", "x"]
    assert main(both) == 1
    assert "--checkpoint CKPT, or --onnx" in capsys.readouterr().err


def test_the_pronouncing_dictionary_travels_with_the_voice(
    repo_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import dataclasses
    import shutil

    from glowtts.onnx_voice import OnnxVoice
    from glowtts.text import PronouncingDictionary

    words = tmp_path / "src" / "my_dictionary"
    words.parent.mkdir()
    words.write_text("HELLO  HH AH0 L OW1\nWORLD  W ER1 L D\n")
    cfg = load(repo_root / "config/config.yaml", repo_root / ".test/config.yaml")
    cfg = dataclasses.replace(
        cfg, text=dataclasses.replace(cfg.text, cmudict=True, dictionary=str(words))
    )
    identity = PronouncingDictionary.from_file(words).identity
    model = GlowTTS(cfg.model, 148, 80)
    ckpt = save_checkpoint(
        tmp_path / "v.pt",
        Checkpoint(config=cfg, n_vocab=148, n_mels=80, model=model.state_dict(),
                   pronunciations=identity),
    )  # fmt: skip
    out = export_onnx(ckpt, tmp_path / "export" / "voice.onnx")
    assert json.loads(metadata_path(out).read_text())["dictionary_file"] == "voice.dict"
    moved = tmp_path / "elsewhere"
    shutil.copytree(out.parent, moved)
    shutil.rmtree(words.parent)  # the original dictionary is gone
    voice = OnnxVoice(moved / "voice.onnx")
    ids, _ = voice.encode("hello world")
    assert voice.frontend.decode(ids) == "{HH AH0 L OW1} {W ER1 L D}"
    assert "differs from the one the voice was trained with" not in caplog.text


def test_runtime_batches_keep_the_input_order_and_a_frameless_text_is_silence(
    exported: Path,
) -> None:
    from glowtts.onnx_voice import OnnxVoice

    voice = OnnxVoice(exported)
    texts = ["A much longer sentence than the others.", "Hi.", "Medium length one."]
    together = voice(texts, seed=2, batch_size=2, griffin_lim_iters=2)
    assert [r.text for r in together] == texts
    one_batch = voice(texts, seed=2, batch_size=8, griffin_lim_iters=2)
    for r, same in zip(together, one_batch, strict=True):  # the noise does not depend on batching
        assert np.abs(r.mel - same.mel).max() < 1e-4
    [short] = voice(["a"], length_scale=0.01, griffin_lim_iters=2)
    assert short.mel.shape[1] == 0 and short.wav is not None and short.wav.size == 0


def test_foreign_metadata_is_named(exported: Path, tmp_path: Path) -> None:
    import shutil

    from glowtts.errors import UserError
    from glowtts.onnx_voice import OnnxVoice

    copy = tmp_path / "voice.onnx"
    shutil.copy(exported, copy)
    copy.with_suffix(".json").write_text("[1, 2]")
    with pytest.raises(UserError, match=r"voice.json: not the metadata of a glowtts-onnx v1"):
        OnnxVoice(copy)
    copy.with_suffix(".json").write_text("{not json")
    with pytest.raises(UserError, match=r"voice.json: not a JSON file"):
        OnnxVoice(copy)


def test_a_hifigan_vocoder_exports_so_text_becomes_a_waveform_in_onnxruntime(
    checkpoint: Path, tmp_path: Path
) -> None:
    import onnxruntime as ort

    from glowtts.onnx_voice import OnnxVoice
    from glowtts.vocoder import HiFiGAN, hifigan_preset, load_hifigan

    torch.manual_seed(1)
    generator = HiFiGAN(hifigan_preset("v3"))
    torch.save({"generator": generator.state_dict()}, tmp_path / "g_v3")
    args = ["export", "--checkpoint", str(checkpoint), "-o", str(tmp_path / "v.onnx")]
    assert main([*args, "--hifigan", str(tmp_path / "g_v3"), "--hifigan-preset", "v3"]) == 0
    assert json.loads((tmp_path / "v.json").read_text())["vocoder"]["file"] == "v.vocoder.onnx"

    torch_vocoder = load_hifigan(tmp_path / "g_v3", "v3")
    torch_vocoder.remove_weight_norm()
    mel = torch.randn(2, 80, 37) - 4  # a batch and a length the trace never saw
    session = ort.InferenceSession(str(tmp_path / "v.vocoder.onnx"))
    (wav,) = session.run(["wav"], {"mel": mel.numpy()})
    with torch.no_grad():
        expected = torch_vocoder(mel).numpy()
    assert wav.shape == expected.shape == (2, 1, 37 * 256)
    assert np.abs(wav - expected).max() < 1e-4

    voice = OnnxVoice(tmp_path / "v.onnx")
    [spoken] = voice(["Hello there."], seed=4)
    assert spoken.wav is not None and spoken.wav.size == spoken.mel.shape[1] * 256
    (direct,) = session.run(["wav"], {"mel": spoken.mel[None]})
    np.testing.assert_allclose(spoken.wav, direct[0, 0], atol=1e-6)  # HiFi-GAN, not Griffin-Lim


@pytest.mark.parametrize("length_scale", [-1.0, 0.0, float("nan"), float("inf")])
def test_a_bad_length_scale_is_named(exported: Path, checkpoint: Path, length_scale: float) -> None:
    from glowtts.errors import UserError
    from glowtts.onnx_voice import OnnxVoice
    from glowtts.synthesis import Synthesizer

    with pytest.raises(UserError, match="length scale .*: use a finite number > 0"):
        OnnxVoice(exported)(["Hello."], length_scale=length_scale)
    with pytest.raises(UserError, match="length scale .*: use a finite number > 0"):
        Synthesizer.from_file(checkpoint)(["Hello."], noise_scale=0.0, length_scale=length_scale)


def test_the_runs_synthesis_defaults_go_into_the_metadata(
    checkpoint: Path, repo_root: Path, tmp_path: Path
) -> None:
    out = export_onnx(
        checkpoint, tmp_path / "v.onnx", synthesis={"noise_scale": 0.4, "batch_size": 3}
    )
    defaults = json.loads(metadata_path(out).read_text())["synthesis"]
    assert defaults["noise_scale"] == 0.4 and defaults["batch_size"] == 3
    assert defaults["length_scale"] == 1.0  # the rest from the checkpoint
    with pytest.raises(ValueError, match=r"unknown synthesis default\(s\) \['noise'\]"):
        export_onnx(checkpoint, tmp_path / "w.onnx", synthesis={"noise": 0.1})
    run_config = tmp_path / "run.yaml"
    run_config.write_text("synthesis:\n  length_scale: 1.25\n  griffin_lim_iters: 7\n")
    args = ["export", "--checkpoint", str(checkpoint), "-o", str(out)]
    assert (
        main(
            [
                *args,
                "--configfile",
                str(repo_root / "config/config.yaml"),
                "--configfile",
                str(run_config),
            ]
        )
        == 0
    )
    defaults = json.loads(metadata_path(out).read_text())["synthesis"]
    assert defaults["length_scale"] == 1.25 and defaults["griffin_lim_iters"] == 7


def test_a_failed_export_leaves_the_old_voice_whole_and_stale_files_go(
    checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glowtts import export
    from glowtts.vocoder import HiFiGAN, hifigan_preset

    torch.save({"generator": HiFiGAN(hifigan_preset("v3")).state_dict()}, tmp_path / "g_v3")
    out = export_onnx(checkpoint, tmp_path / "v.onnx", hifigan=tmp_path / "g_v3",
                      hifigan_preset="v3")  # fmt: skip
    before = {p.name: p.read_bytes() for p in tmp_path.glob("v.*")}
    assert set(before) == {"v.onnx", "v.json", "v.vocoder.onnx"}

    def broken(vocoder: object, ckpt: object, target: Path) -> None:
        target.write_bytes(b"half a model")  # fails after it began writing
        raise RuntimeError("the exporter fell over")

    monkeypatch.setattr(export, "_export_hifigan", broken)
    with pytest.raises(RuntimeError, match="fell over"):
        export_onnx(checkpoint, out, hifigan=tmp_path / "g_v3", hifigan_preset="v3")
    assert {p.name: p.read_bytes() for p in tmp_path.glob("v.*")} == before  # untouched
    assert not list(tmp_path.glob(".v.*"))  # no staged file left behind
    monkeypatch.undo()
    export_onnx(checkpoint, out)  # without a vocoder: the old one must not be picked up
    assert not (tmp_path / "v.vocoder.onnx").exists()
    assert "vocoder" not in json.loads(metadata_path(out).read_text())


def test_an_export_refuses_another_dictionary_than_the_trained_one(
    repo_root: Path, tmp_path: Path
) -> None:
    import dataclasses

    from glowtts.errors import UserError
    from glowtts.text import PronouncingDictionary

    words = tmp_path / "my_dictionary"
    words.write_text("HELLO  HH AH0 L OW1\n")
    identity = PronouncingDictionary.from_file(words).identity
    words.write_text("HELLO  HH EH0 L OW1\n")  # edited after training
    cfg = load(repo_root / "config/config.yaml", repo_root / ".test/config.yaml")
    cfg = dataclasses.replace(
        cfg, text=dataclasses.replace(cfg.text, cmudict=True, dictionary=str(words))
    )
    ckpt = Checkpoint(config=cfg, n_vocab=148, n_mels=80,
                      model=GlowTTS(cfg.model, 148, 80).state_dict(), pronunciations=identity)  # fmt: skip
    with pytest.raises(UserError, match=r"my_dictionary: not the pronouncing dictionary the voice"):
        export_onnx(ckpt, tmp_path / "v.onnx")
    assert not list(tmp_path.glob("v.*"))


def test_damaged_metadata_and_models_are_named(exported: Path, tmp_path: Path) -> None:
    import shutil

    from glowtts.errors import UserError
    from glowtts.onnx_voice import OnnxVoice

    copy = tmp_path / "voice.onnx"
    shutil.copy(exported, copy)
    meta = json.loads(metadata_path(exported).read_text())
    for field, value, message in (
        ("symbols", None, r"voice.json: field 'symbols' is None, expected a list"),
        ("synthesis", [], r"voice.json: field 'synthesis' is \[\], expected a dict"),
        ("audio", {**meta["audio"], "hop": 3}, r"(?s)voice.json \(fields audio and text\).*'hop'"),
        ("audio", {**meta["audio"], "hop_length": "x"}, r"(?s)voice.json.*audio.hop_length"),
        ("synthesis", {"length_scale": 1.0}, r"voice.json: field 'synthesis'.*lacks valid"),
        ("pronunciations", "cmudict", r"voice.json: field 'pronunciations' is 'cmudict'"),
    ):
        copy.with_suffix(".json").write_text(json.dumps({**meta, field: value}))
        with pytest.raises(UserError, match=message):
            OnnxVoice(copy)
    copy.with_suffix(".json").write_text(json.dumps(meta))
    copy.write_bytes(b"not a model at all")
    with pytest.raises(UserError, match=r"voice.onnx: onnxruntime cannot load it"):
        OnnxVoice(copy)


def test_onnx_synthesis_refuses_torch_only_options_and_honours_griffin_lim(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from glowtts.vocoder import HiFiGAN, hifigan_preset

    torch.save({"generator": HiFiGAN(hifigan_preset("v3")).state_dict()}, tmp_path / "g_v3")
    out = tmp_path / "v.onnx"
    export_onnx(checkpoint, out, hifigan=tmp_path / "g_v3", hifigan_preset="v3")
    base = ["synthesize", "Hello there.", "--onnx", str(out), "--seed", "3"]
    for extra, flag in (
        (["--hifigan-preset", "v1"], "--hifigan-preset"),
        (["--device", "cuda"], "--device cuda"),
        (["--configfile", "x.yaml"], "--configfile"),
    ):
        assert main([*base, *extra, "-o", str(tmp_path / "x.wav")]) == 1
        assert f"{flag}: not for --onnx" in capsys.readouterr().err
    assert main([*base, "-o", str(tmp_path / "hifi.wav")]) == 0
    assert main([*base, "--vocoder", "griffin_lim", "-o", str(tmp_path / "gl.wav")]) == 0
    hifi, _ = sf.read(str(tmp_path / "hifi.wav"))
    gl, _ = sf.read(str(tmp_path / "gl.wav"))
    assert hifi.shape == gl.shape and np.abs(hifi - gl).max() > 1e-3  # another vocoder spoke

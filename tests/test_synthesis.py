"""Synthesis with a checkpoint: batched equals single, wav lengths, the CLI, named errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import soundfile as sf
import torch

from glowtts.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from glowtts.cli import main
from glowtts.config import load
from glowtts.errors import UserError
from glowtts.model import GlowTTS
from glowtts.synthesis import Synthesizer

HOP = 256


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """An untrained tiny voice with the demo's text and audio settings (letters, 148 ids)."""
    cfg = load(repo_root / "config/config.yaml", repo_root / ".test/config.yaml")
    torch.manual_seed(0)
    model = GlowTTS(cfg.model, 148, cfg.audio.n_mels)
    path = tmp_path_factory.mktemp("voice") / "voice.pt"
    return save_checkpoint(
        path, Checkpoint(config=cfg, n_vocab=148, n_mels=80, model=model.state_dict())
    )


def test_batched_synthesis_equals_one_at_a_time(checkpoint: Path) -> None:
    synth = Synthesizer.from_file(checkpoint)
    texts = ["Hello there.", "A much longer sentence, with a comma.", "Why?"]
    together = synth(texts, noise_scale=0.0, batch_size=3)
    assert [r.text for r in together] == texts  # input order, although sorted for batching
    for text, batched in zip(texts, together, strict=True):
        (alone,) = synth([text], noise_scale=0.0)
        assert batched.mel.shape == alone.mel.shape
        torch.testing.assert_close(
            torch.from_numpy(batched.mel), torch.from_numpy(alone.mel), atol=1e-4, rtol=1e-4
        )
        assert batched.durations.shape == (len(batched.ids),)


def test_the_command_writes_a_wav_of_the_generated_length(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    args = ["synthesize", "Hello world.", "--checkpoint", str(checkpoint), "-o", str(out)]
    assert main([*args, "--noise-scale", "0", "--device", "cpu"]) == 0
    wav, rate = sf.read(out)
    (expected,) = Synthesizer.from_file(checkpoint)(["Hello world."], noise_scale=0.0)
    assert rate == 22050 and len(wav) == expected.mel.shape[1] * HOP


def test_the_command_speaks_a_text_file_in_batches(checkpoint: Path, tmp_path: Path) -> None:
    lines = tmp_path / "lines.txt"
    lines.write_text("First line.\n\nSecond, longer line of text.\nThird!\n")
    out = tmp_path / "wavs"
    args = ["synthesize", "--text-file", str(lines), "--checkpoint", str(checkpoint)]
    assert main([*args, "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["0001.wav", "0002.wav", "0003.wav"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "empty text"),
        ("mail me # now", r"'#' \(U\+0023\)"),
        ("\u200b\u200b", "leaves no letter or phone"),  # zero-width spaces: a blank once cleaned
        ("?! ...", "leaves no letter or phone"),
    ],
)
def test_bad_text_is_named(checkpoint: Path, text: str, message: str) -> None:
    synth = Synthesizer.from_file(checkpoint)
    with pytest.raises(UserError, match=message):
        synth([text], noise_scale=0.0)


def test_missing_or_incompatible_checkpoint_is_one_line(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.wav")
    assert main(["synthesize", "Hi.", "--checkpoint", str(tmp_path / "nope.pt"), "-o", out]) == 1
    assert "nope.pt does not exist" in capsys.readouterr().err
    blank = load_checkpoint(checkpoint)
    cfg = dataclasses.replace(
        blank.config, text=dataclasses.replace(blank.config.text, add_blank=True)
    )
    other = save_checkpoint(tmp_path / "other.pt", dataclasses.replace(blank, config=cfg))
    assert main(["synthesize", "Hi.", "--checkpoint", str(other), "-o", out]) == 1
    err = capsys.readouterr().err
    assert "148 symbols but its text settings give 149" in err and "Traceback" not in err


def test_a_converted_reference_checkpoint_speaks(shared_fixtures: Path, tmp_path: Path) -> None:
    """The reference's small model (blanks, 149 symbols), converted, through the command."""
    import json

    ref = torch.load(shared_fixtures / "glowtts_reference_small.pt", weights_only=True)
    torch.save({"model": ref["state_dict"], "iteration": 1}, tmp_path / "G_1.pth")
    data = {"add_blank": True, "n_mel_channels": 80, "text_cleaners": ["english_cleaners"]}
    (tmp_path / "config.json").write_text(json.dumps({"model": ref["hparams"], "data": data}))
    ckpt = tmp_path / "converted.pt"
    assert (
        main(["convert", str(tmp_path / "G_1.pth"), str(tmp_path / "config.json"), "-o", str(ckpt)])
        == 0
    )
    out = tmp_path / "ref.wav"
    assert main(["synthesize", "It speaks.", "--checkpoint", str(ckpt), "-o", str(out)]) == 0
    wav, rate = sf.read(out)
    assert rate == 22050 and len(wav) > 0 and len(wav) % HOP == 0


def test_per_word_speed_lengthens_only_the_marked_words(checkpoint: Path) -> None:
    synth = Synthesizer.from_file(checkpoint)
    plain_ids, plain_speed = synth.encode_with_speed("Say hello now.")
    ids, speed = synth.encode_with_speed("Say [hello|2] now.")
    assert ids == plain_ids and plain_speed == [1.0] * len(ids)
    marked = [i for i, f in enumerate(speed) if f != 1.0]
    assert synth.frontend.decode([ids[i] for i in marked]) == "hello" and {
        speed[i] for i in marked
    } == {2.0}
    (plain,) = synth(["Say hello now."], noise_scale=0.0)
    (slow,) = synth(["Say [hello|2] now."], noise_scale=0.0)
    word = slice(marked[0], marked[-1] + 1)
    # predicted durations are ceil(w * factor): the marked tokens about double, others unchanged
    assert (slow.durations[word] >= 2 * plain.durations[word] - 1).all()
    others = [i for i in range(len(ids)) if i not in marked]
    assert (slow.durations[others] == plain.durations[others]).all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Say [hello| now.", r"per-word speed is written \[words\|factor\]"),
        ("Say [hello now.", r"'\[' \(U\+005B\) not in the symbol table"),  # no markup
        ("Say [hello|0] now.", "the factor must be a positive number"),
        ("a [b|x] c", r"per-word speed is written"),
    ],
)
def test_malformed_speed_markup_is_named(checkpoint: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        Synthesizer.from_file(checkpoint)([text], noise_scale=0.0)


@pytest.mark.parametrize("cmudict", [False, True])
def test_speed_markup_keeps_the_texts_ids(cmudict: bool) -> None:
    from glowtts.config import TextConfig
    from glowtts.text import TextFrontend

    frontend = TextFrontend(TextConfig(cmudict=cmudict))
    for marked, plain in [
        ("Say it [ very|2] now", "Say it very now"),  # spaces inside the span's edges
        ("Say [it |2] now", "Say it now"),
        ("[Say|0.5] it", "Say it"),
        ("We paid [$45.50|1.3] today.", "We paid $45.50 today."),  # a number inside a span
    ]:
        ids, speed = frontend.encode_with_speed(marked)
        assert ids == frontend.encode(plain), marked
        assert len(speed) == len(ids) and {round(f, 3) for f in speed} - {1.0}, marked
    if not cmudict:  # no space at the borders: none is added (CMUdict would look up parts)
        ids, _ = frontend.encode_with_speed("Say it[very|2]now")
        assert ids == frontend.encode("Say itverynow")


def test_speed_factors_follow_the_blanks() -> None:
    from glowtts.config import TextConfig
    from glowtts.text import BLANK_ID, TextFrontend

    frontend = TextFrontend(TextConfig(cmudict=False, add_blank=True))
    ids, speed = frontend.encode_with_speed("ab [cd|3]")
    assert ids == frontend.encode("ab cd") and ids[0::2] == [BLANK_ID] * 6
    # _ a _ b _ ' ' _ c _ d _  : a blank takes the factor of the token before it
    assert speed == [1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3]


def test_batch_padding_is_silent_for_the_vocoder() -> None:
    """A short mel padded in a batch ends as quietly as alone (0-padding is loud speech)."""
    from glowtts.config import AudioConfig
    from glowtts.model.masks import sequence_mask
    from glowtts.synthesis import silent_padding
    from glowtts.vocoder import GriffinLim

    audio = AudioConfig()
    mel = torch.full((2, 80, 200), -6.0)
    mel[0, :, 80:] = 0.0  # what infer leaves on the short utterance's padding
    y_mask = sequence_mask(torch.tensor([80, 200]), 200).float()  # [B, 1, T_y]
    assert y_mask.shape == (2, 1, 200)
    vocoder = GriffinLim(audio, n_iter=8)
    tail = slice(79 * HOP - 512, 80 * HOP)  # the short utterance's last samples

    def tail_rms(wav: torch.Tensor) -> float:
        return float(wav[0, 0, tail].pow(2).mean().sqrt())

    alone = tail_rms(vocoder(mel[:1, :, :80]))
    assert tail_rms(vocoder(silent_padding(mel, y_mask))) < 3 * alone + 1e-3
    assert tail_rms(vocoder(mel)) > 10 * alone  # the burst silent_padding prevents

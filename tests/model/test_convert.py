"""Reference checkpoint conversion: names and shapes at base size, errors, CLI, round trips."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import torch

from glowtts.checkpoint import CHECKPOINT_FORMAT, build_model, load_checkpoint
from glowtts.cli import main
from glowtts.config import ModelConfig
from glowtts.convert import (
    convert_reference_checkpoint,
    hparams_to_config,
    to_reference_state_dict,
)
from glowtts.model import GlowTTS

# configs/base.json "model" section of the reference (n_split, sigmoid_scale left out there)
BASE_JSON_MODEL = {
    "hidden_channels": 192,
    "filter_channels": 768,
    "filter_channels_dp": 256,
    "kernel_size": 3,
    "p_dropout": 0.1,
    "n_blocks_dec": 12,
    "n_layers_enc": 6,
    "n_heads": 2,
    "p_dropout_dec": 0.05,
    "dilation_rate": 1,
    "kernel_size_dec": 5,
    "n_block_layers": 4,
    "n_sqz": 2,
    "prenet": True,
    "mean_only": True,
    "hidden_channels_enc": 192,
    "hidden_channels_dec": 192,
    "window_size": 4,
}


def reference_shapes(hp: dict[str, Any], n_vocab: int, n_mels: int) -> dict[str, tuple[int, ...]]:
    """Every key and shape of the reference FlowGenerator's state_dict, derived from its
    architecture (models.py / modules.py / attentions.py), independently of our model."""
    h, f, fdp, k = hp["hidden_channels"], hp["filter_channels"], hp["filter_channels_dp"], 3
    d = h // hp["n_heads"]
    s: dict[str, tuple[int, ...]] = {"encoder.emb.weight": (n_vocab, h)}
    for i in range(3):
        s[f"encoder.pre.conv_layers.{i}.weight"] = (h, h, 5)
        s[f"encoder.pre.conv_layers.{i}.bias"] = (h,)
        s[f"encoder.pre.norm_layers.{i}.gamma"] = (h,)
        s[f"encoder.pre.norm_layers.{i}.beta"] = (h,)
    s["encoder.pre.proj.weight"], s["encoder.pre.proj.bias"] = (h, h, 1), (h,)
    for i in range(hp["n_layers_enc"]):
        p = f"encoder.encoder.attn_layers.{i}."
        s[p + "emb_rel_k"] = s[p + "emb_rel_v"] = (1, 2 * hp["window_size"] + 1, d)
        for c in "qkvo":
            s[p + f"conv_{c}.weight"], s[p + f"conv_{c}.bias"] = (h, h, 1), (h,)
        for n in (1, 2):
            s[f"encoder.encoder.norm_layers_{n}.{i}.gamma"] = (h,)
            s[f"encoder.encoder.norm_layers_{n}.{i}.beta"] = (h,)
        p = f"encoder.encoder.ffn_layers.{i}."
        s[p + "conv_1.weight"], s[p + "conv_1.bias"] = (f, h, k), (f,)
        s[p + "conv_2.weight"], s[p + "conv_2.bias"] = (h, f, k), (h,)
    s["encoder.proj_m.weight"], s["encoder.proj_m.bias"] = (n_mels, h, 1), (n_mels,)
    p = "encoder.proj_w."
    s[p + "conv_1.weight"], s[p + "conv_1.bias"] = (fdp, h, k), (fdp,)
    s[p + "conv_2.weight"], s[p + "conv_2.bias"] = (fdp, fdp, k), (fdp,)
    for n in (1, 2):
        s[p + f"norm_{n}.gamma"] = s[p + f"norm_{n}.beta"] = (fdp,)
    s[p + "proj.weight"], s[p + "proj.bias"] = (1, fdp, 1), (1,)
    c = n_mels * hp["n_sqz"]
    L, kd = hp["n_block_layers"], hp["kernel_size_dec"]
    for b in range(hp["n_blocks_dec"]):
        a, inv, cp = (f"decoder.flows.{3 * b + j}." for j in range(3))
        s[a + "logs"] = s[a + "bias"] = (1, c, 1)
        s[inv + "weight"] = (hp["n_split"], hp["n_split"])
        s[cp + "start.bias"], s[cp + "start.weight_g"] = (h,), (h, 1, 1)
        s[cp + "start.weight_v"] = (h, c // 2, 1)
        s[cp + "end.weight"], s[cp + "end.bias"] = (c, h, 1), (c,)
        for j in range(L):
            q = cp + f"wn.in_layers.{j}."
            s[q + "bias"], s[q + "weight_g"], s[q + "weight_v"] = (
                (2 * h,),
                (2 * h, 1, 1),
                (2 * h, h, kd),
            )
            out = 2 * h if j < L - 1 else h
            q = cp + f"wn.res_skip_layers.{j}."
            s[q + "bias"], s[q + "weight_g"], s[q + "weight_v"] = (out,), (out, 1, 1), (out, h, 1)
    return s


def _numel(shapes: dict[str, tuple[int, ...]], pred: Any) -> int:
    return sum(torch.Size(v).numel() for k, v in shapes.items() if pred(k))


def test_shape_generator_agrees_with_the_fixture_key_list(shared_fixtures: Path) -> None:
    listed = {}
    for line in (shared_fixtures / "glowtts_reference_small_keys.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            key, shape, _ = line.split("\t")
            listed[key] = tuple(json.loads(shape))
    hp = torch.load(shared_fixtures / "glowtts_reference_small.pt", weights_only=True)["hparams"]
    assert reference_shapes(hp, 149, 80) == listed


@pytest.mark.parametrize("n_vocab,total", [(148, 28_623_889), (149, 28_624_081)])
def test_base_size_names_shapes_and_part_counts(n_vocab: int, total: int) -> None:
    torch.manual_seed(0)
    ours = GlowTTS(ModelConfig(), n_vocab, 80)
    assert sum(p.numel() for p in ours.parameters()) == total
    ref_sd = to_reference_state_dict(ours.state_dict())
    hp = {**BASE_JSON_MODEL, "n_split": 4}
    expected = reference_shapes(hp, n_vocab, 80)
    assert {k: tuple(v.shape) for k, v in ref_sd.items()} == expected
    # the reference's per-part parameter counts (configs/base.json)
    assert _numel(expected, lambda k: k == "encoder.emb.weight") == 28_416 + (n_vocab - 148) * 192
    assert _numel(expected, lambda k: k.startswith("encoder.pre.")) == 591_744
    assert _numel(expected, lambda k: k.startswith("encoder.encoder.")) == 6_218_496
    assert _numel(expected, lambda k: k.startswith("encoder.proj_m.")) == 15_440
    assert _numel(expected, lambda k: k.startswith("encoder.proj_w.")) == 345_857
    assert _numel(expected, lambda k: k.startswith("decoder.flows.2.")) == 1_784_992
    actnorm = re.compile(r"^decoder\.flows\.(\d+)\.(logs|bias)$")
    assert _numel(expected, lambda k: bool(actnorm.match(k))) == 3_840
    assert _numel(expected, lambda k: bool(re.match(r"^decoder\.flows\.\d+\.weight$", k))) == 192
    assert _numel(expected, lambda k: k.startswith("decoder.")) == 21_423_936
    assert _numel(expected, lambda k: k.endswith("weight_g")) == 36_864
    # and back: converting the reference-named weights reproduces ours exactly
    cfg, nv, nm, sd = convert_reference_checkpoint({"model": ref_sd}, {"model": BASE_JSON_MODEL})
    assert (cfg, nv, nm) == (ModelConfig(), n_vocab, 80)
    assert sd.keys() == ours.state_dict().keys()
    assert all(torch.equal(sd[k], v) for k, v in ours.state_dict().items())
    GlowTTS(cfg, nv, nm).load_state_dict(sd, strict=True)


def test_base_json_maps_to_the_paper_config() -> None:
    assert hparams_to_config({"model": BASE_JSON_MODEL, "data": {}}) == ModelConfig()


@pytest.mark.parametrize(
    "change,match",
    [
        ({"block_length": 8}, "block_length"),
        ({"n_speakers": 10, "gin_channels": 256}, "multi-speaker"),
        ({"hidden_channels_dec": 128}, "hidden_channels_dec"),
        ({"dropout_typo": 0.1}, "unknown model key"),
    ],
)
def test_unsupported_or_unknown_hparams_are_named(change: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        hparams_to_config({**BASE_JSON_MODEL, **change}, source="config.json")


def test_missing_hparams_key_is_named() -> None:
    hp = dict(BASE_JSON_MODEL)
    del hp["filter_channels_dp"]
    with pytest.raises(ValueError, match="filter_channels_dp"):
        hparams_to_config(hp)


@pytest.fixture(scope="module")
def small() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    hp = {**BASE_JSON_MODEL, "hidden_channels": 16, "filter_channels": 32}
    hp.update(filter_channels_dp=16, n_blocks_dec=2, n_block_layers=2, n_layers_enc=1)
    hp.update(hidden_channels_enc=None, hidden_channels_dec=None)
    torch.manual_seed(0)
    model = GlowTTS(hparams_to_config(hp), 20, 8)
    return hp, to_reference_state_dict(model.state_dict())


def test_missing_extra_and_misshaped_keys_are_named(small: Any) -> None:
    hp, ref = small
    missing = {k: v for k, v in ref.items() if k != "decoder.flows.1.weight"}
    with pytest.raises(ValueError, match=r"missing \['decoder\.flows\.1\.weight'\]"):
        convert_reference_checkpoint(missing, hp)
    extra = {**ref, "encoder.proj_s.weight": torch.zeros(8, 16, 1)}
    with pytest.raises(ValueError, match=r"text_encoder\.proj_log_std\.weight"):
        convert_reference_checkpoint(extra, hp)
    unknown = {**ref, "encoder.something.weight": torch.zeros(1)}
    with pytest.raises(ValueError, match="encoder.something.weight"):
        convert_reference_checkpoint(unknown, hp)
    bad = {**ref, "decoder.flows.2.end.bias": torch.zeros(5)}
    with pytest.raises(ValueError, match=r"decoder\.flows\.2\.end\.bias: reference gives \(5,\)"):
        convert_reference_checkpoint(bad, hp)
    with pytest.raises(ValueError, match="n_vocab=21"):
        convert_reference_checkpoint(ref, {**hp, "n_vocab": 21})


def test_removed_weight_norm_checkpoint_converts_to_the_same_weights(small: Any) -> None:
    hp, ref = small
    folded = {}
    for k, v in ref.items():
        if k.endswith("weight_g"):
            continue
        if k.endswith("weight_v"):
            g = ref[k[: -len("weight_v")] + "weight_g"]
            folded[k[: -len("_v")]] = g * v / v.norm(dim=(1, 2), keepdim=True)
        else:
            folded[k] = v
    _, _, _, a = convert_reference_checkpoint(ref, hp)
    _, _, _, b = convert_reference_checkpoint({"module." + k: v for k, v in folded.items()}, hp)
    torch.manual_seed(1)
    x, xl = torch.randint(1, 20, (2, 5)), torch.tensor([5, 3])
    outs = []
    for sd in (a, b):
        m = GlowTTS(hparams_to_config(hp), 20, 8).eval()
        m.load_state_dict(sd, strict=True)
        outs.append(m.infer(x, xl, noise_scale=0.0).mel)
    assert torch.allclose(outs[0], outs[1], atol=1e-5)


def test_cli_writes_our_checkpoint_with_the_reference_settings(
    small: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hp, ref = small
    ckpt = {"model": ref, "iteration": 7, "learning_rate": 1.0, "optimizer": {}}
    torch.save(ckpt, tmp_path / "G_7.pth")
    data = {"n_mel_channels": 8, "sampling_rate": 16000, "hop_length": 200, "mel_fmax": None}
    data |= {"add_blank": True, "cmudict_path": "data/cmu_dictionary", "add_noise": False}
    (tmp_path / "config.json").write_text(
        json.dumps({"model": hp, "data": data, "train": {"seed": 7}})
    )
    out = tmp_path / "out" / "converted.pt"
    args = [str(tmp_path / "G_7.pth"), str(tmp_path / "config.json"), "-o", str(out)]
    assert main(["-v", "convert", *args]) == 0
    raw = torch.load(out, weights_only=True)
    assert raw["format"] == CHECKPOINT_FORMAT and raw["n_vocab"] == 20 and raw["n_mels"] == 8
    loaded = load_checkpoint(out)
    audio, text = loaded.config.audio, loaded.config.text
    assert (audio.sample_rate, audio.hop_length, audio.n_mels, audio.fmax) == (16000, 200, 8, 8000)
    assert not audio.dither and text.add_blank and text.cmudict and loaded.config.seed == 7
    assert loaded.pronunciations is not None and loaded.pronunciations["sha256"]
    back = to_reference_state_dict(build_model(loaded).state_dict())
    assert back.keys() == ref.keys()
    assert all(torch.equal(back[k], ref[k]) for k in ref)

    # A missing file is one line naming it, exit status 1, no traceback.
    capsys.readouterr()
    assert (
        main(["convert", str(tmp_path / "G_7.pth"), str(tmp_path / "nope.json"), "-o", str(out)])
        == 1
    )
    err = capsys.readouterr().err
    assert "nope.json does not exist" in err and "Traceback" not in err


def test_no_relative_window_converts(small: Any) -> None:
    hp, _ = small
    hp = {**hp, "window_size": None}
    model = GlowTTS(hparams_to_config(hp), 20, 8)
    ref = to_reference_state_dict(model.state_dict())
    assert not any("emb_rel" in k for k in ref)
    cfg, _, _, sd = convert_reference_checkpoint(ref, hp)
    assert cfg.window_size is None
    assert all(torch.equal(sd[k], v) for k, v in model.state_dict().items())

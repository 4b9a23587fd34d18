"""HiFi-GAN generator: preset sizes, output length, loading old/new/bare files, strict errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from glowtts.config import AudioConfig
from glowtts.errors import InputNotFoundError, UserValueError
from glowtts.vocoder import (
    HIFIGAN_PRESETS,
    HiFiGAN,
    HiFiGANConfig,
    check_vocoder_fits,
    hifigan_preset,
    load_hifigan,
)

N_MELS, T_Y, HOP = 80, 20, 256
NEW_G, NEW_V = ".parametrizations.weight.original0", ".parametrizations.weight.original1"


def _model(preset: str, seed: int = 0) -> HiFiGAN:
    """A generator whose gains and biases are moved off their init, so outputs are not tiny."""
    torch.manual_seed(seed)
    model = HiFiGAN(hifigan_preset(preset))
    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(NEW_G):
                p.mul_(torch.empty(p.shape).uniform_(1.0, 3.0, generator=g))
            elif name.endswith("bias"):
                p.add_(0.1 * torch.randn(p.shape, generator=g))
    return model.eval()


def _mel(B: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, N_MELS, T_Y, generator=g) - 4.0  # [B, n_mels, T_y], log-mel-like


def _old_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Parametrization names -> the deprecated hook API's ``weight_g``/``weight_v``."""
    out = {}
    for key, value in state.items():
        key = key.replace(NEW_G, ".weight_g").replace(NEW_V, ".weight_v")
        out[key] = value
    return out


@pytest.fixture(scope="module")
def v3() -> HiFiGAN:
    return _model("V3")


@pytest.mark.parametrize(
    ("preset", "n_params"), [("V1", 13_936_130), ("V2", 928_514), ("V3", 1_464_322)]
)
def test_parameter_counts_with_weight_norm(preset: str, n_params: int) -> None:
    with torch.device("meta"):
        model = HiFiGAN(hifigan_preset(preset))
    assert sum(p.numel() for p in model.parameters()) == n_params


def test_presets_match_the_public_configs() -> None:
    v1, v2, v3 = (HIFIGAN_PRESETS[n] for n in ("V1", "V2", "V3"))
    assert (v1.resblock, v1.upsample_rates, v1.upsample_kernel_sizes) == (
        "1",
        (8, 8, 2, 2),
        (16, 16, 4, 4),
    )
    assert v1.upsample_initial_channel == 512
    assert v1.resblock_kernel_sizes == (3, 7, 11)
    assert v1.resblock_dilation_sizes == ((1, 3, 5),) * 3
    assert v2 == HiFiGANConfig(**{**v1.__dict__, "name": "V2", "upsample_initial_channel": 128})
    assert (v3.resblock, v3.upsample_rates, v3.upsample_kernel_sizes) == (
        "2",
        (8, 8, 4),
        (16, 16, 8),
    )
    assert v3.upsample_initial_channel == 256
    assert v3.resblock_kernel_sizes == (3, 5, 7)
    assert v3.resblock_dilation_sizes == ((1, 2), (2, 6), (3, 12))
    for cfg in (v1, v2, v3):
        assert (cfg.hop_length, cfg.n_mels, cfg.sample_rate) == (HOP, 80, 22050)


@pytest.mark.parametrize("preset", ["V1", "V2", "V3"])
@pytest.mark.parametrize("B", [1, 3])
def test_output_is_hop_samples_per_frame(preset: str, B: int) -> None:
    torch.manual_seed(0)
    model = HiFiGAN(hifigan_preset(preset)).eval()
    with torch.no_grad():
        wav = model(_mel(B))
    assert wav.shape == (B, 1, T_Y * HOP)
    assert torch.isfinite(wav).all() and wav.abs().max() <= 1.0
    assert (model.name, model.hop_length, model.sample_rate) == (
        f"hifigan_{preset.lower()}",
        HOP,
        22050,
    )


def test_batch_items_are_independent(v3: HiFiGAN) -> None:
    mel = _mel(3)
    with torch.no_grad():
        batched = v3(mel)
        single = v3(mel[1:2])
    torch.testing.assert_close(batched[1:2], single, rtol=1e-5, atol=1e-6)


def test_old_names_have_the_public_weight_norm_shapes(v3: HiFiGAN) -> None:
    """The deprecated weight_norm (what the public files were saved with) gives these shapes."""
    old = _old_names(v3.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        up = nn.utils.weight_norm(nn.ConvTranspose1d(256, 128, 16, 8, padding=4))
        pre = nn.utils.weight_norm(nn.Conv1d(80, 256, 7, padding=3))
    for prefix, ref in (("ups.0", up), ("conv_pre", pre)):
        ref_shapes = {k: v.shape for k, v in ref.state_dict().items()}
        ours = {k[len(prefix) + 1 :]: v.shape for k, v in old.items() if k.startswith(prefix + ".")}
        assert ours == ref_shapes
    assert old["ups.0.weight_g"].shape == (256, 1, 1)  # ConvTranspose1d: dim 0 is in_channels
    assert old["conv_pre.weight_g"].shape == (256, 1, 1)  # Conv1d: dim 0 is out_channels


@pytest.mark.parametrize("names", ["old", "new", "bare"])
def test_checkpoint_loads_and_gives_identical_output(
    v3: HiFiGAN, tmp_path: Path, names: str
) -> None:
    state = {k: v.clone() for k, v in v3.state_dict().items()}
    if names == "old":
        state = _old_names(state)
    path = tmp_path / "generator_v3"
    torch.save(state if names == "bare" else {"generator": state}, path)
    loaded = load_hifigan(path, "V3")
    assert not loaded.training
    mel = _mel(3)
    with torch.no_grad():
        assert torch.equal(loaded(mel), v3(mel))


def test_config_object_and_lowercase_preset_load(v3: HiFiGAN, tmp_path: Path) -> None:
    path = tmp_path / "g.pt"
    torch.save({"generator": v3.state_dict()}, path)
    assert load_hifigan(path, HIFIGAN_PRESETS["V3"]).cfg == load_hifigan(path, "v3").cfg


@pytest.mark.parametrize(("saved", "asked"), [("V2", "V1"), ("V3", "V1"), ("V1", "V3")])
def test_wrong_preset_names_file_key_and_fitting_preset(
    tmp_path: Path, saved: str, asked: str
) -> None:
    torch.manual_seed(0)
    path = tmp_path / f"generator_{saved}"
    torch.save({"generator": _old_names(HiFiGAN(hifigan_preset(saved)).state_dict())}, path)
    with pytest.raises(UserValueError) as info:
        load_hifigan(path, asked)
    msg = str(info.value)
    assert str(path) in msg
    c_saved = HIFIGAN_PRESETS[saved].upsample_initial_channel
    c_asked = HIFIGAN_PRESETS[asked].upsample_initial_channel
    assert f"'conv_pre.bias': file shape ({c_saved},) vs model ({c_asked},)" in msg
    assert f"fits preset {saved.lower()!r}" in msg  # as synthesis.hifigan_preset spells it


def test_first_mismatch_is_reported_under_the_files_old_name(v3: HiFiGAN, tmp_path: Path) -> None:
    state = _old_names(v3.state_dict())
    state["ups.1.weight_v"] = state["ups.1.weight_v"][:, :, :-1]  # [128, 64, 15]
    path = tmp_path / "g.pt"
    torch.save({"generator": state}, path)
    with pytest.raises(
        UserValueError,
        match=r"'ups\.1\.weight_v': file shape \(128, 64, 15\) vs model \(128, 64, 16\)",
    ) as info:
        load_hifigan(path, "V3")
    assert "fits none of the presets" in str(info.value)


def test_missing_and_unexpected_keys_are_named(v3: HiFiGAN, tmp_path: Path) -> None:
    state = dict(v3.state_dict())
    del state["conv_post.bias"]
    path = tmp_path / "missing.pt"
    torch.save(state, path)
    with pytest.raises(
        UserValueError, match=r"missing\.pt.*missing key 'conv_post\.bias' \(model shape \(1,\)\)"
    ):
        load_hifigan(path, "V3")
    state = _old_names(v3.state_dict())  # a file with old weight-norm names: named so
    del state["ups.0.weight_g"]
    torch.save(state, path)
    with pytest.raises(UserValueError, match=r"missing key 'ups\.0\.weight_g' \(model shape"):
        load_hifigan(path, "V3")
    state = dict(v3.state_dict())
    state["mpd.weight"] = torch.zeros(2)
    path = tmp_path / "extra.pt"
    torch.save(state, path)
    with pytest.raises(
        UserValueError, match=r"extra\.pt.*unexpected key 'mpd\.weight' \(file shape \(2,\)\)"
    ):
        load_hifigan(path, "V3")


def test_custom_config_fits_no_preset(tmp_path: Path) -> None:
    cfg = HiFiGANConfig(
        name="tiny",
        resblock="2",
        upsample_rates=(4, 4),
        upsample_kernel_sizes=(8, 8),
        upsample_initial_channel=16,
        resblock_kernel_sizes=(3,),
        resblock_dilation_sizes=((1, 2),),
        n_mels=N_MELS,
    )
    torch.manual_seed(0)
    model = HiFiGAN(cfg).eval()
    path = tmp_path / "tiny.pt"
    torch.save({"generator": model.state_dict()}, path)
    loaded = load_hifigan(path, cfg)
    with torch.no_grad():
        assert loaded(_mel(1)).shape == (1, 1, T_Y * 16)
    with pytest.raises(UserValueError, match="fits none of the presets v1, v2, v3"):
        load_hifigan(path, "V2")


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "generator_v1"
    with pytest.raises(InputNotFoundError, match=str(path)):
        load_hifigan(path, "V1")


@pytest.mark.parametrize("content", [b"not a torch file", b""])
def test_junk_file_is_named(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(content)
    with pytest.raises(UserValueError, match=r"junk\.bin: not a PyTorch checkpoint"):
        load_hifigan(path, "V1")


def test_file_without_a_state_dict_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), path)
    with pytest.raises(UserValueError, match=r"tensor\.pt: holds no HiFi-GAN generator"):
        load_hifigan(path, "V1")


def test_remove_weight_norm_keeps_the_output() -> None:
    model = _model("V2")
    mel = _mel(3)
    with torch.no_grad():
        before = model(mel)
        n_convs = 1 + 4 + 4 * 3 * 6 + 1  # conv_pre, ups, 12 ResBlock1 x 6 convs, conv_post
        assert model.remove_weight_norm() == n_convs
        after = model(mel)
    assert not any("parametrizations" in k for k in model.state_dict())
    assert before.abs().max() > 1e-2  # the comparison is not between near-zero outputs
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-6)


def test_bad_inputs_and_configs_are_rejected(v3: HiFiGAN) -> None:
    with pytest.raises(UserValueError, match="expected a log-mel"):
        v3(torch.zeros(1, 40, T_Y))
    with pytest.raises(UserValueError, match="choose one of V1, V2, V3"):
        hifigan_preset("V4")
    with pytest.raises(UserValueError, match="kernel - rate even"):
        HiFiGANConfig("bad", "1", (8,), (15,), 64, (3,), ((1, 3, 5),))
    with pytest.raises(UserValueError, match="takes 2 dilations"):
        HiFiGANConfig("bad", "2", (8,), (16,), 64, (3,), ((1, 3, 5),))


def test_check_vocoder_fits(v3: HiFiGAN) -> None:
    check_vocoder_fits(v3, AudioConfig())
    with pytest.raises(
        UserValueError, match="cfg.yaml: audio.hop_length is 200 but vocoder hifigan_v3 takes 256"
    ):
        check_vocoder_fits(v3, AudioConfig(hop_length=200), source="cfg.yaml")

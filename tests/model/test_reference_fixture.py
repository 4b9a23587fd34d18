"""The converted reference checkpoint computes what the reference computed (shared fixture)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from model_helpers import reference_model

from glowtts.model import GlowTTS, glowtts_losses

ATOL = 1e-4  # outputs
LOGDET_ATOL = 2.5e-4  # log-dets near -3500: ~1 float32 ulp (2.44e-4), fixtures/README.md


@pytest.fixture()
def model(reference: dict[str, Any]) -> GlowTTS:
    return reference_model(reference)


def _close(name: str, ours: torch.Tensor, ref: torch.Tensor, atol: float = ATOL) -> None:
    assert ours.shape == ref.shape, f"{name}: shape {tuple(ours.shape)} vs {tuple(ref.shape)}"
    err = (ours.double() - ref.double()).abs().max().item()
    assert err <= atol, f"{name}: max abs error {err:.3g} > {atol}"


def _dense(indices: torch.Tensor, T_x: int, y_mask: torch.Tensor) -> torch.Tensor:
    """Per-frame token indices [B, T_y] -> 0/1 alignment [B, 1, T_x, T_y] (computed here)."""
    onehot = torch.nn.functional.one_hot(indices, T_x).transpose(1, 2).float()  # [B, T_x, T_y]
    return (onehot * y_mask).unsqueeze(1)


def _hook_outputs(model: GlowTTS) -> tuple[dict[str, Any], list[Any]]:
    """Record each flow's (output, log-det [B], or None in reverse) and the prenet/transformer
    outputs."""
    seen: dict[str, Any] = {}
    handles = []
    for i, flow in enumerate(model.decoder.flows):
        name = f"flow{i:02d}_{type(flow).__name__}"
        inner = flow.transform

        def transform(*args: Any, name: str = name, inner: Any = inner, **kw: Any) -> Any:
            y, ld = inner(*args, **kw)
            seen[name] = (y, ld.sum(dim=1))
            return y, ld

        inner_inverse = flow.inverse

        def inverse(*args: Any, name: str = name, inner: Any = inner_inverse, **kw: Any) -> Any:
            x = inner(*args, **kw)
            seen[name] = (x, None)  # the reverse pass computes no log-det
            return x

        flow.transform = transform  # type: ignore[method-assign]
        flow.inverse = inverse  # type: ignore[method-assign]
        handles.append(_Restore(flow))
    for attr in ("prenet", "transformer"):
        module = getattr(model.text_encoder, attr)

        def hook2(_m: Any, _inp: Any, out: Any, attr: str = attr) -> None:
            seen[attr] = out

        handles.append(module.register_forward_hook(hook2))
    return seen, handles


class _Restore:
    def __init__(self, flow: Any) -> None:
        self.flow = flow

    def remove(self) -> None:
        del self.flow.transform
        del self.flow.inverse


_REF_FLOW_NAMES = {"InvConvNear": "InvConvNear", "AffineCoupling": "CouplingBlock"}


def _ref_name(ours: str) -> str:
    idx, kind = ours.split("_", 1)
    return f"{idx}_{_REF_FLOW_NAMES.get(kind, kind)}"


def test_training_forward_matches_reference(model: GlowTTS, reference: dict[str, Any]) -> None:
    inp, ref, dbg = reference["inputs"], reference["train_outputs"], reference["train_debug"]
    seen, handles = _hook_outputs(model)
    with torch.no_grad():  # padded decoder: per-flow values comparable item by item
        padded = model(inp["x"], inp["x_lengths"], inp["y"], inp["y_lengths"], packed=False)
        emb = model.text_encoder.embedding(inp["x"])
    for h in handles:
        h.remove()
    with torch.no_grad():  # the default on CPU: decoder on packed frames
        out = model(inp["x"], inp["x_lengths"], inp["y"], inp["y_lengths"])
        losses = glowtts_losses(out)
    _close("packed z", out.z, padded.z, 1e-5)
    _close("packed logdet", out.logdet, padded.logdet, 1e-3)

    _close("enc_emb", emb, dbg["enc_emb"])
    _close("enc_prenet_out", seen["prenet"], dbg["enc_prenet_out"])
    _close("enc_transformer_out", seen["transformer"], dbg["enc_transformer_out"])
    assert torch.equal(out.y_lengths, dbg["pre_out_y_lengths"])
    for name, (h, ld) in ((k, v) for k, v in seen.items() if k.startswith("flow")):
        _close(name, h, dbg[_ref_name(name)])
        _close(name + "_logdet", ld, dbg[_ref_name(name) + "_logdet"], LOGDET_ATOL)

    for ours, theirs in [
        (out.z, "z"),
        (out.z_m, "z_m"),
        (out.z_logs, "z_logs"),
        (out.x_m, "x_m"),
        (out.x_logs, "x_logs"),
        (out.logw, "logw"),
        (out.logw_target, "logw_"),
    ]:
        _close(theirs, ours, ref[theirs])
    _close("logdet", out.logdet, ref["logdet"], LOGDET_ATOL)
    assert torch.equal(out.y_mask, ref["z_mask"])
    assert torch.equal(out.x_mask, ref["x_mask"])
    assert torch.equal(_dense(out.indices, inp["x"].size(1), out.y_mask), ref["attn"])
    # MAS input in our [B, T_y, T_x] layout; compare where the reference's mask is on
    mas_mask = ref["mas_mask"]
    log_p = out.log_p.transpose(1, 2) * mas_mask
    err = ((log_p - ref["logp"] * mas_mask).abs() / (1 + ref["logp"].abs())).max().item()
    assert err < 1e-6, f"log_p relative error {err}"
    assert losses.mle.item() == pytest.approx(ref["mle_loss"], abs=ATOL)
    assert losses.duration.item() == pytest.approx(ref["duration_loss"], abs=ATOL)


@pytest.mark.parametrize("case", ["infer_outputs", "infer_noise"])
def test_inference_matches_reference(model: GlowTTS, reference: dict[str, Any], case: str) -> None:
    inp, ref = reference["inputs"], reference[case]
    noise = ref.get("noise")
    if noise is None:  # noise_scale 0: the noise is irrelevant, but must not be NaN
        noise = torch.zeros_like(ref["z_m"])
    seen, handles = _hook_outputs(model)
    out = model.infer(
        inp["x"],
        inp["x_lengths"],
        noise_scale=ref["noise_scale"],
        length_scale=ref["length_scale"],
        noise=noise,
        packed=False,  # padded: per-flow values comparable with the reference's
    )
    for h in handles:
        h.remove()
    assert torch.equal(out.y_lengths, ref["y_lengths_gen"])
    assert torch.equal(out.durations.sum(1).long(), ref["y_lengths_before_sqz_floor"])
    assert torch.equal(out.y_mask, ref["z_mask"])
    assert torch.equal(_dense(out.indices, inp["x"].size(1), out.y_mask), ref["attn_gen"])
    _close("y_gen", out.mel, ref["y_gen"])
    _close("z_m", out.z_m, ref["z_m"])
    _close("z_logs", out.z_logs, ref["z_logs"])
    _close("logw", out.logw, ref["logw"])
    _close("x_m", out.x_m, ref["x_m"])
    packed = model.infer(
        inp["x"],
        inp["x_lengths"],
        noise_scale=ref["noise_scale"],
        length_scale=ref["length_scale"],
        noise=noise,
        packed=True,
    )
    _close("packed y_gen", packed.mel, ref["y_gen"])
    if case == "infer_outputs":
        for name, value in reference["infer_debug"].items():
            if name.startswith("flow"):
                ours = next(k for k in seen if k.startswith("flow") and _ref_name(k) == name)
                _close(name, seen[ours][0], value)


def test_prepared_for_inference_gives_same_mel(model: GlowTTS, reference: dict[str, Any]) -> None:
    inp, ref = reference["inputs"], reference["infer_noise"]
    model.prepare_for_inference()
    assert not any("parametrizations" in k for k in model.state_dict())
    out = model.infer(
        inp["x"], inp["x_lengths"], noise_scale=0.667, length_scale=1.3, noise=ref["noise"]
    )
    _close("y_gen", out.mel, ref["y_gen"])

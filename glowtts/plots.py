"""Figures of mels and alignments (matplotlib, headless); each function returns a Figure.

Used by training (TensorBoard images) and by evaluation (PNG files). Arrays in, figure out:
the caller saves or logs it and closes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["alignment_figure", "lengths_figure", "loss_curves_figure", "mel_figure"]


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")  # no pyplot state


def mel_figure(mels: dict[str, np.ndarray], hop_seconds: float | None = None) -> Figure:
    """One panel per named log-mel ``[n_mels, T_y]`` (e.g. target and generated), shared scale.

    Args:
        mels: title -> log-mel.
        hop_seconds: seconds per frame, to label the time axis in seconds (else frames).
    """
    fig = _figure(10, 2.6 * len(mels))
    axes = fig.subplots(len(mels), 1, squeeze=False)[:, 0]
    lo = min(float(m.min()) for m in mels.values())
    hi = max(float(m.max()) for m in mels.values())
    for ax, (title, mel) in zip(axes, mels.items(), strict=True):
        extent = None
        if hop_seconds is not None:
            extent = (0.0, mel.shape[1] * hop_seconds, 0.0, float(mel.shape[0]))
        image = ax.imshow(
            mel,
            origin="lower",
            aspect="auto",
            interpolation="none",
            vmin=lo,
            vmax=hi,
            extent=extent,
        )
        ax.set_title(title)
        ax.set_ylabel("mel channel")
        fig.colorbar(image, ax=ax, label="log magnitude")
    axes[-1].set_xlabel("seconds" if hop_seconds is not None else "frame")
    return fig


def alignment_figure(
    indices: np.ndarray, n_tokens: int, title: str = "alignment", labels: list[str] | None = None
) -> Figure:
    """The frame-to-token alignment: token index of each frame ``[T_y]`` as a 0/1 image.

    Args:
        indices: [T_y] token index per (valid) frame.
        n_tokens: T_x, the number of (valid) tokens.
        labels: optional symbol per token for the y axis.
    """
    path = np.zeros((n_tokens, indices.shape[0]), dtype=np.float32)  # [T_x, T_y]
    path[indices, np.arange(indices.shape[0])] = 1.0
    fig = _figure(10, max(3.0, min(12.0, n_tokens * 0.12)))
    ax = fig.subplots()
    ax.imshow(path, origin="lower", aspect="auto", interpolation="none", cmap="Greys")
    ax.set_title(title)
    ax.set_xlabel("frame")
    ax.set_ylabel("token")
    if labels is not None and len(labels) == n_tokens and n_tokens <= 120:
        ax.set_yticks(range(n_tokens), labels, fontsize=6)
    return fig


def loss_curves_figure(scalars: dict[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """Training and validation losses against the step, one panel per loss.

    Args:
        scalars: tag -> (steps, values), as ``glowtts.train.observe.read_scalars`` returns;
            ``loss/<name>`` (training) and ``val/loss/<name>`` (validation) are drawn, the
            learning rate ``lr`` in a last panel when present.
    """
    names = sorted({t.split("/")[-1] for t in scalars if t.startswith(("loss/", "val/loss/"))})
    panels = [*names, "lr"] if "lr" in scalars else names
    fig = _figure(10, 2.4 * max(1, len(panels)))
    axes = fig.subplots(max(1, len(panels)), 1, squeeze=False, sharex=True)[:, 0]
    for ax, name in zip(axes, panels, strict=False):
        if name == "lr":
            steps, values = scalars["lr"]
            ax.plot(steps, values, color="0.3")
            ax.set_ylabel("learning rate")
            continue
        for tag, label, style in (
            (f"loss/{name}", "training", "-"),
            (f"val/loss/{name}", "validation", "o-"),
        ):
            if tag in scalars:
                steps, values = scalars[tag]
                ax.plot(steps, values, style, label=label, markersize=3)
        ax.set_ylabel(f"{name} loss")
        ax.legend(loc="upper right")
    if not panels:
        axes[0].text(0.5, 0.5, "no training scalars were logged", ha="center", va="center")
    axes[-1].set_xlabel("step")
    return fig


def lengths_figure(seconds: dict[str, list[float]]) -> Figure:
    """Histogram of clip durations, one series per split (shared bins)."""
    fig = _figure(8, 3.2)
    ax = fig.subplots()
    values = [v for vs in seconds.values() for v in vs]
    if values:
        bins = np.linspace(min(values), max(values) + 1e-6, 31).tolist()
        for name, vs in seconds.items():
            ax.hist(vs, bins=bins, histtype="step", label=f"{name} ({len(vs)})")
        ax.legend(loc="upper right")
    ax.set_xlabel("seconds")
    ax.set_ylabel("clips")
    ax.set_title("clip durations per split")
    return fig

"""Corpus report for ``glowtts inspect``: hours, clips, length histograms, unknown characters.

:func:`summarize` returns a plain dict (JSON-serialisable), :func:`format_summary` turns it
into text, :func:`describe` does both. Token and frame counts come from a feature store when
one is given; otherwise tokens come from the text frontend and frames are estimated from
each clip's duration (``1 + samples // hop``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glowtts.config import AudioConfig, TextConfig
from glowtts.data.manifest import read_manifest

__all__ = ["describe", "format_summary", "summarize"]

BAR_WIDTH = 40  # characters of the longest histogram bar
MAX_UNKNOWN_SHOWN = 20  # unknown characters listed in the text report


def _stats(ids: Sequence[str], values: Sequence[float], bins: int) -> dict[str, Any]:
    """min/mean/max, the longest item and an equal-width histogram of ``values``."""
    if not values:
        return {"count": 0}
    array = np.asarray(values, dtype=np.float64)
    counts, edges = np.histogram(array, bins=bins)
    longest = int(np.argmax(array))
    return {
        "count": len(values),
        "min": float(array.min()),
        "mean": float(array.mean()),
        "max": float(array.max()),
        "longest": ids[longest],
        "histogram": [
            [float(lo), float(hi), int(n)]
            for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)
        ],
    }


def summarize(
    manifest_path: str | Path,
    store_path: str | Path | None = None,
    *,
    text: TextConfig | None = None,
    audio: AudioConfig | None = None,
    bins: int = 10,
) -> dict[str, Any]:
    """Describe a manifest (and optionally its feature store) as a dict.

    Args:
        manifest_path: a manifest or filelist (``glowtts.data.manifest`` format).
        store_path: a feature store directory; its token and frame counts are used.
        text: text frontend config (default ``TextConfig()``); unknown characters are those
            its ``encode`` would drop or refuse.
        audio: sample rate and hop for estimated frame counts (default ``AudioConfig()``).
        bins: histogram bins.
    """
    from glowtts.text import TextFrontend

    rows = read_manifest(manifest_path)
    text = text if text is not None else TextConfig()
    audio = audio if audio is not None else AudioConfig()
    # Counting, never refusing: the report lists the characters an "error" config would reject.
    frontend = TextFrontend(dataclasses.replace(text, on_unknown_char="drop"))
    ids = [u.id for u in rows]
    summary: dict[str, Any] = {
        "manifest": str(manifest_path),
        "clips": len(rows),
        "hours": sum(u.seconds for u in rows) / 3600.0,
        "sample_rates": {
            str(r): n for r, n in sorted(Counter(u.sample_rate for u in rows).items())
        },
        "seconds": _stats(ids, [u.seconds for u in rows], bins),
        "characters": _stats(ids, [len(u.normalized_text) for u in rows], bins),
    }
    unknown = frontend.unknown_characters((u.id, u.normalized_text) for u in rows)
    summary["unknown_characters"] = [
        {"char": c.char, "count": c.count, "utt_ids": list(c.utt_ids)}
        for c in sorted(unknown.values(), key=lambda c: (-c.count, c.char))
    ]
    if store_path is not None:
        from glowtts.data.store import FeatureStore

        store = FeatureStore(store_path)
        present = [u.id for u in rows if u.id in store]
        where = [store.index_of(i) for i in present]
        summary["store"] = {
            "path": str(store_path),
            "dtype": store.dtype,
            "utterances": len(store),
            "missing": [u.id for u in rows if u.id not in store],
        }
        tokens = [int(store.n_tokens[i]) for i in where]
        frames = [int(store.n_frames[i]) for i in where]
        summary["tokens"] = _stats(present, tokens, bins) | {"source": "store"}
        summary["frames"] = _stats(present, frames, bins) | {"source": "store"}
    else:
        tokens = [len(frontend.encode(u.normalized_text, utt_id=u.id)) for u in rows]
        frames = [1 + round(u.seconds * audio.sample_rate) // audio.hop_length for u in rows]
        summary["tokens"] = _stats(ids, tokens, bins) | {"source": "text frontend"}
        summary["frames"] = _stats(ids, frames, bins) | {"source": "estimated from seconds"}
    return summary


def _format_stats(title: str, stats: dict[str, Any], unit: str, fmt: str) -> list[str]:
    if stats.get("count", 0) == 0:
        return [f"{title}: none"]
    source = f" ({stats['source']})" if "source" in stats else ""
    lines = [
        f"{title}{source}: min {stats['min']:{fmt}} mean {stats['mean']:{fmt}} "
        f"max {stats['max']:{fmt}} {unit} (longest: {stats['longest']})"
    ]
    peak = max(n for _, _, n in stats["histogram"]) or 1
    for lo, hi, n in stats["histogram"]:
        bar = "#" * round(BAR_WIDTH * n / peak)
        lines.append(f"  {lo:>9{fmt}} - {hi:<9{fmt}} {n:>7d} {bar}")
    return lines


def format_summary(summary: dict[str, Any]) -> str:
    """The text report of a :func:`summarize` dict."""
    rates = ", ".join(f"{r} Hz x{n}" for r, n in summary["sample_rates"].items()) or "none"
    lines = [
        f"manifest: {summary['manifest']}",
        f"clips: {summary['clips']}  hours: {summary['hours']:.2f}  sample rates: {rates}",
    ]
    if "store" in summary:
        store = summary["store"]
        missing = store["missing"]
        lines.append(
            f"feature store: {store['path']} ({store['utterances']} utterances, {store['dtype']}); "
            f"{len(missing)} manifest clip(s) missing"
            + (f": {', '.join(missing[:5])}" if missing else "")
        )
    lines += _format_stats("seconds", summary["seconds"], "s", ".2f")
    lines += _format_stats("characters (normalized text)", summary["characters"], "chars", ".0f")
    lines += _format_stats("tokens", summary["tokens"], "tokens", ".0f")
    lines += _format_stats("frames", summary["frames"], "frames", ".0f")
    unknown = summary["unknown_characters"]
    if not unknown:
        lines.append("unknown characters: none")
    else:
        lines.append(
            f"unknown characters ({len(unknown)}; dropped or refused by the text frontend):"
        )
        for u in unknown[:MAX_UNKNOWN_SHOWN]:
            code = f"U+{ord(u['char']):04X}" if len(u["char"]) == 1 else "inline"
            lines.append(f"  {u['char']!r} ({code}) x{u['count']} in {', '.join(u['utt_ids'])}")
        if len(unknown) > MAX_UNKNOWN_SHOWN:
            lines.append(f"  ... and {len(unknown) - MAX_UNKNOWN_SHOWN} more")
    return "\n".join(lines) + "\n"


def describe(
    manifest_path: str | Path,
    store_path: str | Path | None = None,
    *,
    text: TextConfig | None = None,
    audio: AudioConfig | None = None,
) -> str:
    """``format_summary(summarize(...))``: the text that ``glowtts inspect`` prints."""
    return format_summary(summarize(manifest_path, store_path, text=text, audio=audio))

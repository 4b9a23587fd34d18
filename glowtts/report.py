"""Self-contained HTML pages for the evaluation (audio players, metric and data tables).

Snakemake's report previews images and HTML but only offers a wav for download, so the audio is
embedded in HTML pages as ``data:`` URIs (MP3, base64: every browser plays it, at a tenth of
the size of PCM), one small page per utterance: the report shows each page through a data
URI of its own, and browsers cap those at about 2 MB. Every page stands alone: no scripts,
styles inline, nothing fetched.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "METRIC_DESCRIPTIONS",
    "AudioItem",
    "audio_data_uri",
    "audio_page",
    "compare_runs",
    "describe_metric",
    "metrics_page",
    "read_metrics",
    "table_page",
    "write_page",
]

# What each key of metrics.json means, with its unit (the pages and `glowtts metrics` show it).
METRIC_DESCRIPTIONS: dict[str, str] = {
    "test_utterances": "utterances of the test split that were synthesised and scored",
    "val_loss_mle_nats": "validation negative log-likelihood of the mels (nats per mel value)",
    "val_loss_duration": "validation duration loss (mean squared log-duration error per token)",
    "test_loss_mle_nats": "test negative log-likelihood of the mels (nats per mel value)",
    "test_loss_duration": "test duration loss (mean squared log-duration error per token)",
    "mcd_dtw_db": "mel-cepstral distortion after DTW, generated vs recorded (dB, c1..c24)",
    "log_f0_rmse_cents": "log-F0 RMSE over DTW-paired frames voiced in both (cents)",
    "voicing_error": "fraction of DTW-paired frames voiced in one signal only",
    "rtf_acoustic": "acoustic model seconds per second of generated audio",
    "rtf_vocoder": "vocoder seconds per second of generated audio",
    "rtf_threads": "CPU threads torch used while the real-time factors were timed",
    "align_mas_frames_exact": "frames MAS gives to the true symbol (fraction)",
    "align_mas_frames_within_1": "frames MAS gives to the true symbol or a neighbour's (fraction)",
    "align_mas_duration_mae_frames": "MAS duration error (frames per symbol)",
    "align_mas_boundary_mae_frames": "MAS boundary shift (frames per boundary)",
    "align_predicted_frames_exact": "frames the predicted durations, at the recording's "
    "tempo, give to the true symbol (fraction)",
    "align_predicted_frames_within_1": "frames the predicted durations, at the recording's "
    "tempo, give to the true symbol or a neighbour's (fraction)",
    "align_predicted_tempo": "predicted frames per recorded frame (1 = the recording's tempo)",
    "align_predicted_duration_mae_frames": "predicted duration error (frames per symbol)",
    "align_predicted_boundary_mae_frames": "predicted boundary shift (frames per boundary)",
    "vocoder": "vocoder of the generated speech",
    "noise_scale": "std multiplier of the sampled latents",
    "length_scale": "duration multiplier (> 1 is slower)",
    "step": "training step of the evaluated checkpoint",
}


def describe_metric(key: str) -> str:
    """The description of a metrics.json key ('' for keys this version does not know)."""
    return METRIC_DESCRIPTIONS.get(key, "")


@dataclass(frozen=True)
class AudioItem:
    """One row of an audio page: a title, an optional text, and one or more named waveforms."""

    title: str
    text: str
    wavs: Sequence[tuple[str, np.ndarray]]  # (label, [T] float waveform in [-1, 1])


def audio_data_uri(wav: np.ndarray, sample_rate: int) -> str:
    """A ``data:audio/mpeg;base64,...`` URI of a float waveform in [-1, 1] (MP3)."""
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(
        buffer,
        np.clip(np.asarray(wav, dtype=np.float32), -1.0, 1.0),
        sample_rate,
        format="MP3",
        subtype="MPEG_LAYER_III",
    )
    return "data:audio/mpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_STYLE = (
    "body{font-family:sans-serif;margin:1.5em;max-width:70em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}.text{color:#444;font-size:.9em}"
)


def _page(title: str, intro: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(intro)}</p>\n{body}\n</body></html>\n"
    )


def audio_page(title: str, intro: str, items: Sequence[AudioItem], sample_rate: int) -> str:
    """An HTML page with one ``<audio controls>`` player per waveform, embedded."""
    rows = []
    for item in items:
        players = "".join(
            f'<div>{html.escape(label)}<br><audio controls preload="none" '
            f'src="{audio_data_uri(wav, sample_rate)}"></audio></div>'
            for label, wav in item.wavs
        )
        rows.append(
            f'<tr><td>{html.escape(item.title)}<div class="text">{html.escape(item.text)}'
            f"</div></td><td>{players}</td></tr>"
        )
    body = "<table><tr><th>utterance</th><th>audio</th></tr>\n" + "\n".join(rows) + "</table>"
    return _page(title, intro, body)


def _cell(value: object) -> str:
    if value is None:  # metrics.json writes a NaN as null
        return '<td class="num">n/a</td>'
    if isinstance(value, float):
        text = "n/a" if math.isnan(value) else f"{value:.4g}"
        return f'<td class="num">{text}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def table_page(
    title: str, intro: str, header: Sequence[str], rows: Sequence[Sequence[object]]
) -> str:
    """An HTML page holding one table (floats to 4 significant digits, NaN and None as n/a)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    lines = ["<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows]
    return _page(title, intro, f"<table><tr>{head}</tr>\n" + "\n".join(lines) + "</table>")


def metrics_page(title: str, intro: str, metrics: Mapping[str, object]) -> str:
    """metrics.json as a table: key, value, what it means."""
    rows = [(key, value, describe_metric(key)) for key, value in sorted(metrics.items())]
    return table_page(title, intro, ("metric", "value", "meaning"), rows)


def read_metrics(path: str | Path) -> dict[str, object]:
    """A run's metrics.json (a flat JSON object); named errors for a missing or other file."""
    import json

    from glowtts.errors import InputNotFoundError, UserValueError

    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(
            f"{path} does not exist: run the evaluation first (snakemake ... evaluate)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserValueError(f"{path}: not a metrics.json file ({exc})") from None
    if not isinstance(data, dict) or any(isinstance(v, dict | list) for v in data.values()):
        raise UserValueError(f"{path}: expected a flat JSON object of metrics")
    return data


def compare_runs(runs: Mapping[str, Mapping[str, object]], describe: bool = False) -> str:
    """A plain-text table: one row per metric (the known ones first, in their order), one
    column per run; '-' where a run lacks a metric, 'n/a' where it is null or NaN (undefined,
    such as an F0 error with no voiced frame); floats to 4 significant digits."""
    known = [k for k in METRIC_DESCRIPTIONS if any(k in m for m in runs.values())]
    other = sorted({k for m in runs.values() for k in m} - set(known))
    keys = known + other

    absent = object()

    def fmt(value: object) -> str:
        if value is absent:
            return "-"
        if value is None:
            return "n/a"
        if isinstance(value, float):
            return "n/a" if math.isnan(value) else f"{value:.4g}"
        return str(value)

    header = ["metric", *runs]
    rows = [[k, *(fmt(m.get(k, absent)) for m in runs.values())] for k in keys]
    if describe:
        header.append("meaning")
        for row in rows:
            row.append(describe_metric(row[0]))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(r[1 : len(runs) + 1], widths[1:], strict=False)]
        cells += r[len(runs) + 1 :]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def write_page(path: str | Path, page: str) -> Path:
    """Write a page atomically (UTF-8)."""
    from glowtts.atomic import write_text

    write_text(Path(path), page)
    return Path(path)

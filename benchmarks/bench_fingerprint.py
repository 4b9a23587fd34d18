"""Benchmark corpus_fingerprint on an LJSpeech-sized folder: 13,100 wavs, a 1.3 MB metadata.csv.

    python benchmarks/bench_fingerprint.py --out benchmarks/results/fingerprint.json

The fingerprint only stats the wavs, so their size does not matter: the folder holds empty
``wavs/LJxxx-xxxx.wav`` files and a metadata.csv of LJSpeech's size and row shape. Times are
the median of ``--repeats`` calls with the directory entries and inodes in the page cache
(as when Snakemake builds its DAG again soon after); ``first_call_ms`` is the call right
after building the folder, also warm. A cold cache (after a reboot) costs disk reads on top.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

N_WAVS = 13_100  # LJSpeech-1.1
METADATA_BYTES = 1_300_000  # about LJSpeech's metadata.csv (id|text|normalised text)
CHAPTERS = 50  # LJ001..LJ050, as LJSpeech names its clips


def _ids(n: int) -> list[str]:
    per = -(-n // CHAPTERS)
    return [f"LJ{1 + i // per:03d}-{1 + i % per:04d}" for i in range(n)]


def build_folder(root: Path, n: int = N_WAVS) -> Path:
    """An LJSpeech-shaped corpus folder of ``n`` empty wavs; returns it."""
    wavs = root / "wavs"
    wavs.mkdir(parents=True)
    ids = _ids(n)
    # A row is "<id>|<text>|<text>\n": two text columns of this many characters.
    text_chars = max((METADATA_BYTES // n - len(ids[0]) - 3) // 2, 1)
    sentence = ("printing, in the only sense with which we are at present concerned " * 4)[
        :text_chars
    ]
    lines = [f"{uid}|{sentence}|{sentence}\n" for uid in ids]
    (root / "metadata.csv").write_text("".join(lines), encoding="utf-8")
    for uid in ids:
        (wavs / f"{uid}.wav").touch()
    return root


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--wavs", type=int, default=N_WAVS)
    args = parser.parse_args()

    from glowtts.data.corpus import corpus_fingerprint

    with tempfile.TemporaryDirectory(prefix="bench_fingerprint-") as tmp:
        start = time.perf_counter()
        root = build_folder(Path(tmp) / "LJSpeech-1.1", args.wavs)
        build_s = time.perf_counter() - start
        first_s = _time(lambda: corpus_fingerprint(root))
        times = [_time(lambda: corpus_fingerprint(root)) for _ in range(args.repeats)]
        metadata_bytes = (root / "metadata.csv").stat().st_size
        digest = corpus_fingerprint(root)

    results = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_avg_1m": os.getloadavg()[0],
            "tmp_dir": tempfile.gettempdir(),
        },
        "wavs": args.wavs,
        "metadata_bytes": metadata_bytes,
        "repeats": args.repeats,
        "build_folder_s": build_s,
        "first_call_ms": 1e3 * first_s,
        "warm_median_ms": 1e3 * statistics.median(times),
        "warm_min_ms": 1e3 * min(times),
        "warm_max_ms": 1e3 * max(times),
        "us_per_wav": 1e6 * statistics.median(times) / args.wavs,
        "digest_hex_chars": len(digest),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

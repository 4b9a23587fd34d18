"""The LJSpeech preset at full scale: corpus -> split -> features on an LJSpeech-sized synthetic corpus.

Writes an LJSpeech-format folder of 13,100 clips whose lengths follow LJSpeech's (1.1-10.1 s,
86,117 s in all) and whose transcripts are LJSpeech-like (about 100 characters, with numbers,
abbreviations and punctuation), then runs the real workflow on it with config/ljspeech.yaml and
`dataset.kind: folder`, and records each stage's wall time from Snakemake's benchmark files.

    python benchmarks/bench_ljspeech_scale.py --work /tmp/ljscale --out benchmarks/results/ljspeech_scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
N_CLIPS = 13_100
TOTAL_SECONDS = 86_117.0
SR = 22_050
TEMPLATES = [
    "On {month} {day}, {year}, Mr. {name} paid ${dollars}.{cents:02d} for {n} copies of the report.",
    "The commission heard {n} witnesses between {year} and {year2}; Dr. {name} testified twice.",
    "He said that the {ordinal} floor window, about {n} feet above Elm St., was open at {hour}:{minute:02d}.",
    "In {year} the printing office employed {big:,} people, and nearly {pct}% of them were apprentices.",
]
NAMES = ["Oswald", "Brennan", "Fritz", "Hoover", "Curry", "Truly", "Baker", "Whaley"]
MONTHS = ["January", "March", "May", "July", "September", "November"]
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth"]


def _lengths(rng: np.random.Generator) -> np.ndarray:
    seconds = np.clip(rng.normal(6.9, 2.3, N_CLIPS), 1.1, 10.1)
    return seconds * (TOTAL_SECONDS / seconds.sum())


def _sentence(rng: np.random.Generator) -> str:
    t = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    r = lambda a, b: int(rng.integers(a, b))  # noqa: E731
    return t.format(
        month=MONTHS[r(0, 6)],
        day=r(1, 29),
        year=r(1900, 1965),
        year2=r(1965, 1990),
        name=NAMES[r(0, 8)],
        dollars=r(1, 500),
        cents=r(0, 100),
        n=r(2, 90),
        ordinal=ORDINALS[r(0, 6)],
        hour=r(1, 13),
        minute=r(0, 60),
        big=r(1000, 90000),
        pct=r(2, 60),
    )


def make_corpus(folder: Path, seed: int = 0) -> float:
    """Write the corpus; return the seconds of audio written."""
    rng = np.random.default_rng(seed)
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    lengths = _lengths(rng)
    rows = []
    for i, seconds in enumerate(lengths):
        uid = f"LJ{i // 1000:03d}-{i % 1000:04d}"
        n = int(seconds * SR)
        t = np.arange(n, dtype=np.float32) / SR
        envelope = 0.5 + 0.5 * np.sin(
            2 * np.pi * 3.0 * t + rng.uniform(0, 6.28)
        )  # syllable-rate AM
        noise = rng.standard_normal(n, dtype=np.float32) * 0.05 * envelope
        sf.write(
            str(folder / "wavs" / f"{uid}.wav"),
            (noise * 32767).astype(np.int16),
            SR,
            subtype="PCM_16",
        )
        text = _sentence(rng)
        rows.append(f"{uid}|{text}|{text}\n")
    (folder / "metadata.csv").write_text("".join(rows), encoding="utf-8")
    return float(lengths.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (needs ~8 GB)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/ljspeech_scale.json")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()

    corpus = args.work / "LJSpeech-synthetic"
    t0 = time.perf_counter()
    if not (corpus / "metadata.csv").is_file():
        audio_seconds = make_corpus(corpus)
    else:
        audio_seconds = sum(sf.info(str(p)).duration for p in (corpus / "wavs").glob("*.wav"))
    generate_s = time.perf_counter() - t0

    run = "ljspeech-scale"
    cfg = args.work / "scale.yaml"
    cfg.write_text(
        f"run: {run}\ndataset: {{kind: folder, folder: {{path: '{corpus}'}}}}\nfeatures: {{shards: {args.cores}}}\n"
    )
    shutil.rmtree(REPO / "results" / run, ignore_errors=True)
    target = f"results/{run}/features/store"
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            target,
            "--cores",
            str(args.cores),
            "--configfile",
            "config/ljspeech.yaml",
            str(cfg),
        ],
        cwd=REPO,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    workflow_s = time.perf_counter() - t0

    bench = REPO / "results" / run / "benchmarks"
    stages = {}
    for tsv in sorted(bench.rglob("*.tsv")):
        header, values = tsv.read_text().splitlines()[:2]
        row = dict(zip(header.split("\t"), values.split("\t"), strict=True))
        stages[str(tsv.relative_to(bench).with_suffix(""))] = {
            "wall_s": float(row["s"]),
            "cpu_s": float(row["cpu_time"]),
            "max_rss_mb": float(row["max_rss"]),
        }
    store = json.loads((REPO / target / "store.json").read_text())
    result = {
        "clips": N_CLIPS,
        "audio_seconds": round(audio_seconds, 1),
        "cores": args.cores,
        "generate_corpus_s": round(generate_s, 1),
        "workflow_wall_s": round(workflow_s, 1),
        "stages": stages,
        "store": {k: store[k] for k in store if k not in ("audio", "text")},
        "load_avg_after": os.getloadavg(),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

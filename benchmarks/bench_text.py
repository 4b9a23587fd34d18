"""Benchmark the text frontend: import and first-use costs, clean and encode speed per sentence.

    python benchmarks/bench_text.py --out benchmarks/results/text.json

Sentences are LJSpeech-like (about 100 characters, some numbers, abbreviations, quotes), so
the per-sentence times scale to a 13,100-clip corpus. Each figure is the median of
``--repeats`` passes over the sentences, in a fresh frontend after a warm-up pass (so number
words are memoised; ``english_clean_cold_us_per_sentence`` measures a fresh normaliser).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SENTENCES = [
    "Printing, in the only sense with which we are at present concerned, differs from most arts.",
    "On November 22, 1963, President Kennedy was shot in Dallas while riding in a motorcade.",
    "Mr. Smith paid $3.50 for the paper at 10:30 and left for St. Paul with Dr. Jones.",
    "The commission received 13,100 letters in the 1960s, about 21% of them by the 3rd week.",
    'He said, "I will be there by the 21st," and then he walked slowly out of the room.',
    "The prisoners were taken from Newgate to the gallows, a distance of nearly 2 miles.",
    "In 1829 the police force of the metropolis was reorganized under Sir Robert Peel.",
    "Temperatures rose to 20°C on 5/12/2020, and the price fell to £100 from £120.",
    "The Secret Service had 3.5 agents per mile along the route, according to the report.",
    "Lee Harvey Oswald was arrested in the Texas Theatre shortly after 1:50 p.m. that day.",
]


def _median_us(fn, texts: list[str], repeats: int) -> float:
    for t in texts:  # warm-up: imports, dictionary, regex caches
        fn(t)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for t in texts:
            fn(t)
        times.append((time.perf_counter() - start) / len(texts) * 1e6)
    return statistics.median(times)


def _import_seconds(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    from glowtts.config import TextConfig
    from glowtts.text import (
        NumberNormalizer,
        PronouncingDictionary,
        TextFrontend,
        english_cleaners,
    )

    results: dict[str, object] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_1m_at_start": os.getloadavg()[0],
        },
        "n_sentences": len(SENTENCES),
        "mean_chars": statistics.mean(len(s) for s in SENTENCES),
        "repeats": args.repeats,
    }
    results["import_glowtts_text_s"] = _import_seconds("import glowtts.text")
    results["first_clean_s"] = _import_seconds(
        "from glowtts.text import english_cleaners; english_cleaners('1')"
    )
    start = time.perf_counter()
    n_words = len(PronouncingDictionary())
    results["cmudict_load_s"] = time.perf_counter() - start
    results["cmudict_words"] = n_words

    fe = TextFrontend(TextConfig(cmudict=False))
    results["english_clean_us_per_sentence"] = _median_us(fe.clean, SENTENCES, args.repeats)
    cold = []  # a fresh normaliser per pass: no memoised number words
    for _ in range(args.repeats):
        numbers = NumberNormalizer()
        start = time.perf_counter()
        for s in SENTENCES:
            english_cleaners(s, numbers)
        cold.append((time.perf_counter() - start) / len(SENTENCES) * 1e6)
    results["english_clean_cold_us_per_sentence"] = statistics.median(cold)
    configs = {
        "letters": TextConfig(cmudict=False),
        "letters_blank": TextConfig(cmudict=False, add_blank=True),
        "cmudict": TextConfig(cmudict=True),
        "cmudict_blank": TextConfig(cmudict=True, add_blank=True),
    }
    encode: dict[str, dict[str, float]] = {}
    for name, cfg in configs.items():
        fe = TextFrontend(cfg)
        us = _median_us(fe.encode, SENTENCES, args.repeats)
        tokens = statistics.mean(len(fe.encode(s)) for s in SENTENCES)
        encode[name] = {
            "us_per_sentence": us,
            "mean_tokens": tokens,
            "ljspeech_13100_clips_s": us * 13_100 / 1e6,
        }
    results["encode"] = encode
    fe = TextFrontend(TextConfig(cmudict=False))
    rows = [(f"s{i}", s) for i, s in enumerate(SENTENCES)]
    results["unknown_characters_us_per_sentence"] = _median_us(
        lambda _: fe.unknown_characters(rows), ["x"], args.repeats
    ) / len(rows)
    results["machine"]["load_avg_1m_at_end"] = os.getloadavg()[0]  # type: ignore[index]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

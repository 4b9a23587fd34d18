"""The ``glowtts`` command: inspect a corpus and its features, convert reference checkpoints.

Each subcommand is a thin wrapper around one package function; heavy imports happen only
inside the subcommand that needs them, so ``glowtts --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _inspect(args: argparse.Namespace) -> int:
    from glowtts.config import load
    from glowtts.summary import format_summary, summarize

    cfg = load(*args.config) if args.config else None
    summary = summarize(
        args.manifest,
        args.store,
        text=cfg.text if cfg else None,
        audio=cfg.audio if cfg else None,
    )
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def _convert(argv: Sequence[str]) -> int:
    from glowtts.model.convert import main as convert_main

    return convert_main(argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glowtts", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="corpus and feature statistics (hours, lengths, characters)")
    p.add_argument(
        "manifest", type=Path, help="a manifest or filelist, e.g. results/demo/corpus/metadata.tsv"
    )
    p.add_argument("--store", type=Path, help="the feature store, e.g. results/demo/features/store")
    p.add_argument(
        "--config", type=Path, nargs="+", help="config file(s) whose text/audio settings to use"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_inspect)

    # Listed for --help; its arguments are parsed by glowtts.model.convert (main() hands them on).
    sub.add_parser("convert", help="convert a jaywalnut310/glow-tts checkpoint to ours")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glowtts`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["convert"]:
        return _convert(argv[1:])
    args = _parser().parse_args(argv)
    from glowtts.logs import setup_logging

    setup_logging(level=logging.DEBUG if args.verbose else logging.INFO)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

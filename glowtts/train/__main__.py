"""``python -m glowtts.train``: train Glow-TTS, alone or as one of torchrun's processes.

The workflow's train rule runs (see rules/train.smk)::

    torchrun --nproc_per_node N -m glowtts.train --params-json '{...}' --store STORE \\
        --train-list train.tsv --val-list val.tsv --folder results/RUN/train \\
        --output results/RUN/train/glowtts.pt

By hand, give the run's config files instead of ``--params-json``::

    torchrun --standalone --nproc_per_node 2 -m glowtts.train --config config/config.yaml ...
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m glowtts.train", description=__doc__.splitlines()[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--config", type=Path, nargs="+", help="config YAML file(s), merged in order"
    )
    source.add_argument(
        "--params-json",
        help="the config values the workflow's train rule carries (JSON); nothing else is read",
    )
    p.add_argument("--store", type=Path, required=True, help="the feature store directory")
    p.add_argument("--train-list", type=Path, required=True, help="the training filelist")
    p.add_argument("--val-list", type=Path, required=True, help="the validation filelist")
    p.add_argument(
        "--folder", type=Path, required=True, help="checkpoints/ and tensorboard/ go here"
    )
    p.add_argument("--output", type=Path, required=True, help="the final checkpoint to write")
    p.add_argument("--log-file", type=Path, help="log file (rank 0 writes it)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from glowtts.config import from_params, load
    from glowtts.logs import setup_logging
    from glowtts.train.loop import TrainPaths, train

    setup_logging(args.log_file)
    if args.params_json is not None:
        cfg = from_params(json.loads(args.params_json), "train")
    else:
        cfg = load(*args.config)
    paths = TrainPaths(
        store=args.store,
        train_list=args.train_list,
        val_list=args.val_list,
        folder=args.folder,
        output=args.output,
    )
    train(cfg, paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())

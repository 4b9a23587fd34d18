"""Shared start of every Snakemake script: this checkout's glowtts, logging, the rule's config.

Snakemake puts scripts/ on a script's sys.path; this module puts the checkout itself first, so
rules run the workflow's own package under --use-conda or on a cluster node, installed or not.
"""

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glowtts.config import Config, from_dict, from_params, merge, params_view
from glowtts.logs import setup_logging


def start(smk: object, untracked: Sequence[str] = ()) -> Config:
    """Log into the rule's log file; return the config the rule's params carry.

    The script sees exactly the values in ``params.config`` (see rules/common.smk ``view``);
    reading any other field raises, naming it. ``untracked`` names values a script may read
    although its outputs do not depend on them (a download's URL: a mirror gives the same
    checksummed file), so editing them reruns nothing.
    """
    setup_logging(smk.log[0])  # type: ignore[attr-defined]
    rule = smk.rule  # type: ignore[attr-defined]
    view = smk.params.config  # type: ignore[attr-defined]
    if untracked:
        full = from_dict(smk.config, source=f"config of rule {rule}")  # type: ignore[attr-defined]
        view = merge(view, params_view(full, *untracked))
    return from_params(view, rule)

"""Shared start of every Snakemake script: this checkout's glowtts, logging, the typed config.

Snakemake puts scripts/ on a script's sys.path; this module puts the checkout itself first, so
rules run the workflow's own package under --use-conda or on a cluster node, installed or not.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glowtts.config import Config, from_dict
from glowtts.logs import setup_logging


def start(smk: object) -> Config:
    """Log into the rule's log file; return the whole run config, typed and validated.

    The rule's params name the values its outputs depend on (they decide reruns); the
    script reads them from this config.
    """
    setup_logging(smk.log[0])  # type: ignore[attr-defined]
    return from_dict(smk.config, source=f"config of rule {smk.rule}")  # type: ignore[attr-defined]

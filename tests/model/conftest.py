"""The shared reference fixture: what jaywalnut310/glow-tts computed on its own small model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch


@pytest.fixture(scope="module")
def reference(shared_fixtures: Path) -> dict[str, Any]:
    return torch.load(shared_fixtures / "glowtts_reference_small.pt", weights_only=True)

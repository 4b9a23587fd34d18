"""envs/*.yaml parse as conda environments and pin exactly what pyproject.toml pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ENVS = sorted((REPO / "envs").glob("*.yaml"))
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[a-z,]+\])?==([0-9][0-9A-Za-z.+-]*)$")


def _pins(requirements: list[str], where: str) -> dict[str, str]:
    out = {}
    for req in requirements:
        m = PIN.match(req.replace(" ", ""))
        assert m, f"{where}: {req!r} is not pinned exactly (name==version)"
        out[m.group(1).lower().replace("_", "-") + (m.group(2) or "")] = m.group(3)
    return out


def test_there_is_an_env() -> None:
    assert [p.name for p in ENVS] == ["glowtts.yaml"]


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_env_parses_and_agrees_with_pyproject(env: Path) -> None:
    spec = yaml.safe_load(env.read_text())
    assert set(spec) <= {"name", "channels", "dependencies"}, set(spec)
    assert spec["channels"][0] == "conda-forge"
    conda = [d for d in spec["dependencies"] if isinstance(d, str)]
    pip_sections = [d["pip"] for d in spec["dependencies"] if isinstance(d, dict)]
    assert len(pip_sections) == 1 and "pip" in conda
    assert "python=3.11" in conda
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert _pins(pip_sections[0], env.name) == _pins(project["dependencies"], "pyproject.toml")

"""The in-place build of the Cython kernel: stamp, OpenMP probe, serial fallback, CLI."""

from __future__ import annotations

import importlib.util
import json
import sysconfig

import pytest
import torch

from glowtts.align import maximum_path_torch
from monotonic_align import build


def test_stamp_describes_the_extension(mas_core):
    import Cython

    stamp = json.loads(build.DEFAULT_STAMP.read_text())
    assert stamp["extension"] == mas_core.__file__
    assert stamp["openmp"] is mas_core.OPENMP
    assert ("-fopenmp" in stamp["compile_args"]) is stamp["openmp"]
    assert stamp["cython"] == Cython.__version__
    assert stamp["source_sha256"] == build.source_sha256()
    assert not build.needs_build()


def _compiler():
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    compiler = new_compiler()
    customize_compiler(compiler)
    return compiler


def test_openmp_probe(tmp_path):
    assert not build._probe_openmp(_compiler(), tmp_path, ["-fno-such-openmp"], [])
    if sysconfig.get_config_var("CC") and "gcc" in sysconfig.get_config_var("CC"):
        assert build._probe_openmp(_compiler(), tmp_path, ["-fopenmp"], ["-fopenmp"])


def _load_extension(path):
    spec = importlib.util.spec_from_file_location("monotonic_align._core", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_serial_build_works_and_says_so(tmp_path):
    stamp_path = tmp_path / "stamp.json"
    stamp = build.build(stamp_path, openmp=False, out_dir=tmp_path)
    assert stamp["openmp"] is False and "-fopenmp" not in stamp["compile_args"]
    assert json.loads(stamp_path.read_text()) == stamp
    serial = _load_extension(stamp["extension"])
    assert serial.OPENMP is False
    g = torch.Generator().manual_seed(0)
    x_len, y_len = torch.tensor([7, 3, 12]), torch.tensor([20, 3, 30])
    log_p = torch.randn(3, 30, 12, generator=g)
    x_mask = (torch.arange(12) < x_len[:, None]).unsqueeze(1).float()
    y_mask = (torch.arange(30) < y_len[:, None]).unsqueeze(1).float()
    out = torch.zeros(3, 30, dtype=torch.long)
    order = torch.arange(3)
    serial.maximum_path(log_p.numpy(), out.numpy(), x_len.numpy(), y_len.numpy(), order.numpy(), 2)
    assert torch.equal(out, maximum_path_torch(log_p, x_mask, y_mask))


@pytest.mark.slow
def test_cli_builds_in_place_and_writes_the_stamp(tmp_path, capsys):
    stamp_path = tmp_path / "nested" / "build_mas.json"
    assert build.main(["--stamp", str(stamp_path)]) == 0
    stamp = json.loads(stamp_path.read_text())
    assert stamp == json.loads(capsys.readouterr().out)
    assert stamp == json.loads(build.DEFAULT_STAMP.read_text())
    assert stamp["extension"] == str(build.built_extension())
    assert not build.needs_build()

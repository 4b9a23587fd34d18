"""Compile the Cython MAS kernel in place: ``python -m monotonic_align.build [--stamp PATH]``.

Cython writes its C file into a temporary directory, the C compiler builds there, and the
finished extension is moved into this folder (``monotonic_align/_core*.so``) with one
``os.replace``, so a fresh clone builds with this one command and a half-written extension
is never importable. OpenMP is used when a probe program compiles and links with the
compiler's OpenMP flag; otherwise the kernel builds serially and the stamp says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from glowtts.atomic import atomic_path, write_text

__all__ = [
    "DEFAULT_STAMP",
    "PACKAGE_DIR",
    "SOURCE",
    "build",
    "built_extension",
    "main",
    "needs_build",
    "source_sha256",
]

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE = PACKAGE_DIR / "core.pyx"
DEFAULT_STAMP = PACKAGE_DIR / "build.json"
EXTENSION_NAME = "monotonic_align._core"

# Per compiler family: (optimisation flags, OpenMP compile flags, OpenMP link flags).
# No -march=native: the extension may run on a different node than the one that built it.
_FLAGS = {
    "msvc": (["/O2"], ["/openmp"], []),
    "unix": (["-O3"], ["-fopenmp"], ["-fopenmp"]),
}
_CYTHON_DIRECTIVES = {"language_level": 3, "boundscheck": False, "wraparound": False}
_OPENMP_PROBE = """\
#include <omp.h>
int main(void) {
    int n = 0;
#pragma omp parallel reduction(+:n)
    n += 1;
    return (n > 0 && omp_get_max_threads() > 0) ? 0 : 1;
}
"""


def source_sha256() -> str:
    """SHA-256 of ``core.pyx``, recorded in the stamp to detect a stale extension."""
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def _extension_filename() -> str:
    """``_core`` plus this interpreter's extension suffix, e.g. ``_core.cpython-311-....so``."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    return "_core" + suffix


def built_extension() -> Path | None:
    """Path of the compiled extension for this interpreter, or None when it is not built."""
    path = PACKAGE_DIR / _extension_filename()
    return path if path.is_file() else None


def needs_build() -> bool:
    """True when the extension or its stamp is missing, or ``core.pyx`` changed since."""
    if built_extension() is None or not DEFAULT_STAMP.is_file():
        return True
    try:
        stamp = json.loads(DEFAULT_STAMP.read_text())
    except (OSError, json.JSONDecodeError):
        return True
    return stamp.get("source_sha256") != source_sha256()


def _probe_openmp(
    compiler: Any, workdir: Path, compile_args: list[str], link_args: list[str]
) -> bool:
    """True when a tiny OpenMP program compiles and links with these flags."""
    from setuptools._distutils.errors import CCompilerError as _VendoredError
    from setuptools.errors import CCompilerError

    # setuptools can load its vendored distutils under two module names, each with its own
    # error classes; the compiler may raise either.
    compiler_errors = (CCompilerError, _VendoredError)
    src = workdir / "openmp_probe.c"
    src.write_text(_OPENMP_PROBE)
    try:
        objects = compiler.compile([str(src)], output_dir=str(workdir), extra_postargs=compile_args)
        compiler.link_executable(
            objects, "openmp_probe", output_dir=str(workdir), extra_postargs=link_args
        )
    except compiler_errors as err:
        log.info("openmp probe failed (%s): building the kernel serially", err)
        return False
    return True


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")


def build(
    stamp: Path | str | None = None, *, openmp: bool = True, out_dir: Path | str | None = None
) -> dict[str, Any]:
    """Compile ``core.pyx`` into ``monotonic_align/_core*.so`` and write the build stamp.

    Args:
        stamp: extra path for the JSON stamp (the Snakemake rule's output); an in-place
            build always also writes ``monotonic_align/build.json``.
        openmp: try OpenMP (False forces a serial build, e.g. to test that path).
        out_dir: put the extension here instead of in place (tests); then only ``stamp``
            is written.

    Returns:
        The stamp: extension path, openmp flag, compile/link flags, Cython version, ...
    """
    import Cython
    from Cython.Build import cythonize
    from setuptools.command.build_ext import build_ext
    from setuptools.dist import Distribution
    from setuptools.extension import Extension

    result: dict[str, Any] = {"source_sha256": source_sha256()}  # of what is compiled

    class _BuildExt(build_ext):
        """build_ext that picks flags for the compiler it finds, probing OpenMP first."""

        def build_extensions(self) -> None:
            family = "msvc" if self.compiler.compiler_type == "msvc" else "unix"
            opt, omp_compile, omp_link = _FLAGS[family]
            use_openmp = openmp and _probe_openmp(
                self.compiler, Path(self.build_temp), omp_compile, omp_link
            )
            compile_args = opt + (omp_compile if use_openmp else [])
            link_args = omp_link if use_openmp else []
            for ext in self.extensions:
                ext.extra_compile_args = compile_args
                ext.extra_link_args = link_args
            compiler_cmd = getattr(self.compiler, "compiler_so", None)
            result.update(
                openmp=use_openmp,
                compile_args=compile_args,
                link_args=link_args,
                compiler=" ".join(compiler_cmd) if compiler_cmd else self.compiler.compiler_type,
            )
            super().build_extensions()

    with tempfile.TemporaryDirectory(prefix="mas_build_") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "temp").mkdir()
        ext = Extension(EXTENSION_NAME, [str(SOURCE)])
        modules = cythonize(
            [ext],
            build_dir=str(tmp / "c"),
            compiler_directives=_CYTHON_DIRECTIVES,
            force=True,
            quiet=True,
        )
        dist = Distribution({"name": "monotonic_align", "ext_modules": modules})
        cmd = _BuildExt(dist)
        cmd.build_lib = str(tmp / "lib")
        cmd.build_temp = str(tmp / "temp")
        cmd.ensure_finalized()
        cmd.run()
        built = Path(cmd.get_ext_fullpath(EXTENSION_NAME))
        target = Path(out_dir or PACKAGE_DIR).resolve() / built.name
        with atomic_path(target) as staged:
            shutil.copyfile(built, staged)

    result.update(
        extension=str(target),
        cython=Cython.__version__,
        python=sys.version.split()[0],
        source=str(SOURCE),
    )
    if target.parent == PACKAGE_DIR:
        _write_json_atomic(DEFAULT_STAMP, result)
    if stamp is not None and Path(stamp).resolve() != DEFAULT_STAMP:
        _write_json_atomic(Path(stamp), result)
    log.info(
        "built %s (openmp=%s, flags=%s)", target, result["openmp"], " ".join(result["compile_args"])
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints the stamp."""
    parser = argparse.ArgumentParser(
        prog="python -m monotonic_align.build", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--stamp",
        type=Path,
        default=None,
        help=f"also write the JSON build stamp here (always written to {DEFAULT_STAMP})",
    )
    parser.add_argument(
        "--no-openmp", action="store_true", help="build serially even if OpenMP is available"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    stamp = build(args.stamp, openmp=not args.no_openmp)
    if not stamp["openmp"]:
        log.warning("built WITHOUT OpenMP: the kernel runs on one thread")
    print(json.dumps(stamp, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

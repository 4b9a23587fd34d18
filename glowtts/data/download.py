"""Resumable, checksummed downloads and safe, streaming archive extraction.

``download()`` fetches a URL into ``<dest>.part``, resuming with an HTTP Range request after
an interrupted transfer (and starting over when the server ignores Range), retries a bounded
number of times, then checks size and sha256 before renaming the file to ``dest``: a partial or
corrupt archive never appears under its final name. ``extract_tar()`` streams a tar archive
(no seeking, so .tar.bz2 is read once) into a temporary folder, refusing any member that would
land outside the target, and renames the folder into place when every member is written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.client import HTTPException
from pathlib import Path, PurePosixPath

from glowtts.errors import UserError, UserValueError

__all__ = [
    "ChecksumError",
    "DownloadError",
    "UnsafeArchiveError",
    "download",
    "extract_tar",
    "sha256sum",
]

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # waits between retries; the last one repeats


class DownloadError(UserError, RuntimeError):
    """The transfer failed after every retry."""


class ChecksumError(UserValueError):
    """The downloaded file's size or sha256 differs from the expected one."""


class UnsafeArchiveError(UserValueError):
    """An archive member would be written outside the target folder."""


def sha256sum(path: str | Path, chunk: int = CHUNK_BYTES) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class _Progress:
    """tqdm on a terminal, a log line every 10% otherwise.

    ``action`` names the work in the log (``download=<desc>``, ``extract=<desc>``); ``update``
    takes the bytes done since the last call and, optionally, counters to log with them.
    """

    def __init__(self, total: int | None, start: int, desc: str, action: str = "download") -> None:
        self.total, self.done, self.desc, self.action = total, start, desc, action
        self._next_pct = 10
        self._start = time.monotonic()
        self._bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=start, unit="B", unit_scale=True, desc=desc)

    def update(self, n: int, **counts: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            if counts:
                self._bar.set_postfix(counts, refresh=False)
        elif self.total:
            pct = 100 * self.done // self.total
            if pct >= self._next_pct:
                extra = "".join(f" {k}={v}" for k, v in counts.items())
                log.info(
                    "%s=%s bytes=%d/%d (%d%%)%s elapsed_s=%.1f",
                    self.action,
                    self.desc,
                    self.done,
                    self.total,
                    pct,
                    extra,
                    time.monotonic() - self._start,
                )
                self._next_pct = pct - pct % 10 + 10

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _fetch_once(url: str, part: Path, expected_size: int | None, timeout: float) -> None:
    """One attempt: resume ``part`` from its current size; raises on a network error."""
    have = part.stat().st_size if part.exists() else 0
    if expected_size is not None and have > expected_size:
        log.warning(
            "%s is larger than expected (%d > %d bytes); starting over", part, have, expected_size
        )
        part.unlink()
        have = 0
    if expected_size is not None and have == expected_size:
        return
    request = urllib.request.Request(url, headers={"User-Agent": "glowtts-pipeline"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        status = getattr(response, "status", None)
        if have and status != 206:
            # The server ignored the Range header and sends the whole file: start over.
            log.warning("server ignored the Range request (status %s); restarting %s", status, url)
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else expected_size
        progress = _Progress(total, have, part.name.removesuffix(".part"))
        try:
            with part.open("ab" if have else "wb") as fh:
                while block := response.read(CHUNK_BYTES):
                    fh.write(block)
                    progress.update(len(block))
        finally:
            progress.close()
        got = part.stat().st_size
        want = have + int(length) if length is not None else expected_size
        if want is not None and got < want:  # closed early: raise, so the retry loop resumes
            raise DownloadError(f"connection closed after {got} of {want} bytes")


def download(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None,
    size: int | None = None,
    retries: int = 5,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Download ``url`` to ``dest``, resuming and retrying; verify size and sha256.

    Args:
        url: http(s) or file URL.
        dest: final path; the transfer is written to ``dest.part`` until it is verified.
        sha256: expected hex digest, or None to skip the check (never for a pipeline input).
        size: expected size in bytes, or None.
        retries: attempts after the first one that failed with a network error.
        timeout: seconds per connection attempt.
        sleep: waits between retries (tests pass a no-op).

    Raises:
        DownloadError: every attempt failed.
        ChecksumError: the complete file has the wrong size or digest (it is deleted).
    """
    dest = Path(dest)
    if dest.exists():
        log.info("%s already present; verifying it", dest)
        _verify(dest, sha256, size, delete_on_error=False)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    errors: list[str] = []
    for attempt in range(retries + 1):
        try:
            _fetch_once(url, part, size, timeout)
            break
        except urllib.error.HTTPError as exc:
            if (
                exc.code == 416 and part.exists()
            ):  # range beyond end: the part is complete or bigger
                break
            if 400 <= exc.code < 500:
                raise DownloadError(
                    f"{url}: HTTP {exc.code} {exc.reason}; check dataset.ljspeech.url"
                ) from None
            errors.append(f"attempt {attempt + 1}: HTTP {exc.code}")
        except (urllib.error.URLError, HTTPException, OSError, DownloadError) as exc:
            errors.append(f"attempt {attempt + 1}: {exc}")
        if attempt < retries:
            wait = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            have = part.stat().st_size if part.exists() else 0
            log.warning(
                "download of %s failed (%s); resuming from byte %d in %.0f s",
                url,
                errors[-1],
                have,
                wait,
            )
            sleep(wait)
    else:
        raise DownloadError(
            f"could not download {url} after {retries + 1} attempts ({'; '.join(errors)}). "
            f"The partial file {part} is kept: rerun to resume, or set dataset.ljspeech.url to a mirror."
        )
    _verify(part, sha256, size, delete_on_error=True)
    os.replace(part, dest)
    return dest


def _verify(path: Path, sha256: str | None, size: int | None, *, delete_on_error: bool) -> None:
    actual_size = path.stat().st_size
    problem = None
    if size is not None and actual_size != size:
        problem = f"size {actual_size} bytes, expected {size}"
    elif sha256 is not None and (digest := sha256sum(path)) != sha256.lower():
        problem = f"sha256 {digest}, expected {sha256.lower()}"
    if problem is None:
        return
    if delete_on_error:
        path.unlink()
        action = "it was deleted. Rerun to download it again (the transfer may have been corrupted)"
    else:
        action = "delete it and rerun to download it again"
    raise ChecksumError(
        f"{path}: {problem}; {action}. If it fails again, check dataset.ljspeech.sha256 and "
        "dataset.ljspeech.size_bytes in your config: they must be those of the file at "
        "dataset.ljspeech.url"
    )


def _check_member(member: tarfile.TarInfo, root: Path) -> None:
    """Refuse absolute paths, '..', links escaping ``root``, and device or fifo members."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or member.name.startswith(("/", "\\")) or ".." in name.parts:
        raise UnsafeArchiveError(
            f"archive member {member.name!r} has an absolute path or '..'; refused"
        )
    target = (root / name).resolve()
    if not target.is_relative_to(root):
        raise UnsafeArchiveError(
            f"archive member {member.name!r} would be written outside {root}; refused"
        )
    if member.issym() or member.islnk():
        link = PurePosixPath(member.linkname)
        base = root if member.islnk() else (root / name).parent
        resolved = (base / link).resolve()
        if link.is_absolute() or not resolved.is_relative_to(root):
            raise UnsafeArchiveError(
                f"archive member {member.name!r} links to {member.linkname!r} outside {root}; refused"
            )
    elif not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(
            f"archive member {member.name!r} is a device, fifo or other special file; refused"
        )


def extract_tar(archive: str | Path, dest: str | Path) -> Path:
    """Extract ``archive`` (any tar compression) into ``dest`` by streaming, safely and atomically.

    Every member is checked before it is written (see :class:`UnsafeArchiveError`). Members go
    to ``dest`` + ``.partial`` which is renamed to ``dest`` at the end; on error it is removed.
    Progress (share of the archive read, files and bytes extracted, elapsed time) is shown
    as the download's is: a tqdm bar on a terminal, a log line every 10% otherwise.
    """
    archive, dest = Path(archive), Path(dest)
    if dest.exists():
        raise FileExistsError(f"{dest} already exists; delete it to extract {archive} again")
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    root = tmp.resolve()
    files = extracted = 0
    start = time.monotonic()
    progress = _Progress(archive.stat().st_size, 0, archive.name, action="extract")
    try:
        # "|": a stream, read once, no seeking; the raw file's position is the share read.
        with archive.open("rb") as raw, tarfile.open(fileobj=raw, mode="r|*") as tar:
            for member in tar:
                _check_member(member, root)
                tar.extract(member, root, filter="data")
                if member.isfile():
                    files += 1
                    extracted += member.size
                progress.update(raw.tell() - progress.done, files=files, bytes_out=extracted)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        progress.close()
    log.info(
        "extracted archive=%s files=%d bytes_out=%d into=%s elapsed_s=%.1f",
        archive,
        files,
        extracted,
        dest,
        time.monotonic() - start,
    )
    return dest

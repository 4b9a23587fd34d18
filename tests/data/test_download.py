"""Download and extraction against a local HTTP server on 127.0.0.1 serving an archive we build."""

from __future__ import annotations

import hashlib
import http.server
import io
import logging
import re
import sys
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from glowtts.data.download import (
    ChecksumError,
    DownloadError,
    UnsafeArchiveError,
    download,
    extract_tar,
)


@dataclass
class ServerState:
    payload: bytes = b""
    honour_range: bool = True
    cut_after: int | None = None  # close the connection after this many body bytes, once
    send_length: bool = True  # False: the body is delimited by closing the connection
    fail_status: int | None = None
    requests: list[str | None] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[tuple[str, ServerState]]:
    state = ServerState()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:
            rng = self.headers.get("Range")
            state.requests.append(rng)
            if state.fail_status is not None:
                self.send_error(state.fail_status)
                return
            body, start = state.payload, 0
            if rng and state.honour_range:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            chunk = body[start:]
            if state.send_length:
                self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            if state.cut_after is not None:
                self.wfile.write(chunk[: state.cut_after])
                state.cut_after = None
                self.wfile.flush()
                self.connection.close()
                return
            self.wfile.write(chunk)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/LJSpeech-1.1.tar.bz2", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def _no_sleep(_: float) -> None:
    pass


def test_whole_download_then_extract(
    tmp_path: Path, server: tuple[str, ServerState], make_ljspeech_archive: Callable[..., bytes]
) -> None:
    url, state = server
    state.payload = make_ljspeech_archive(tmp_path / "src.tar.bz2")
    digest = hashlib.sha256(state.payload).hexdigest()
    dest = download(
        url, tmp_path / "dl" / "LJ.tar.bz2", sha256=digest, size=len(state.payload), sleep=_no_sleep
    )
    assert dest.read_bytes() == state.payload
    assert not (tmp_path / "dl" / "LJ.tar.bz2.part").exists()
    out = extract_tar(dest, tmp_path / "extracted")
    assert (out / "LJSpeech-1.1" / "metadata.csv").read_text().count("\n") == 4
    assert len(list((out / "LJSpeech-1.1" / "wavs").glob("*.wav"))) == 4
    # A second call finds the verified file and does not fetch again.
    n = len(state.requests)
    download(url, dest, sha256=digest, size=len(state.payload), sleep=_no_sleep)
    assert len(state.requests) == n


def test_cut_transfer_resumes_with_range(
    tmp_path: Path, server: tuple[str, ServerState], make_ljspeech_archive: Callable[..., bytes]
) -> None:
    url, state = server
    state.payload = make_ljspeech_archive(tmp_path / "src.tar.bz2")
    state.cut_after = len(state.payload) // 3
    digest = hashlib.sha256(state.payload).hexdigest()
    dest = download(
        url, tmp_path / "LJ.tar.bz2", sha256=digest, size=len(state.payload), sleep=_no_sleep
    )
    assert dest.read_bytes() == state.payload
    assert state.requests == [None, f"bytes={len(state.payload) // 3}-"]


def test_cut_transfer_without_content_length_resumes(
    tmp_path: Path, server: tuple[str, ServerState], make_ljspeech_archive: Callable[..., bytes]
) -> None:
    url, state = server
    state.payload = make_ljspeech_archive(tmp_path / "src.tar.bz2")
    state.send_length = False
    state.cut_after = 1000
    digest = hashlib.sha256(state.payload).hexdigest()
    dest = download(
        url, tmp_path / "LJ.tar.bz2", sha256=digest, size=len(state.payload), sleep=_no_sleep
    )
    assert dest.read_bytes() == state.payload
    assert state.requests == [None, "bytes=1000-"]


def test_resume_from_a_partial_file_left_by_an_earlier_run(
    tmp_path: Path, server: tuple[str, ServerState], make_ljspeech_archive: Callable[..., bytes]
) -> None:
    url, state = server
    state.payload = make_ljspeech_archive(tmp_path / "src.tar.bz2")
    (tmp_path / "LJ.tar.bz2.part").write_bytes(state.payload[:1000])
    digest = hashlib.sha256(state.payload).hexdigest()
    download(url, tmp_path / "LJ.tar.bz2", sha256=digest, size=len(state.payload), sleep=_no_sleep)
    assert state.requests == ["bytes=1000-"]
    assert (tmp_path / "LJ.tar.bz2").read_bytes() == state.payload


def test_server_ignoring_range_restarts_cleanly(
    tmp_path: Path, server: tuple[str, ServerState], make_ljspeech_archive: Callable[..., bytes]
) -> None:
    url, state = server
    state.payload = make_ljspeech_archive(tmp_path / "src.tar.bz2")
    state.honour_range = False
    state.cut_after = len(state.payload) // 2
    digest = hashlib.sha256(state.payload).hexdigest()
    dest = download(
        url, tmp_path / "LJ.tar.bz2", sha256=digest, size=len(state.payload), sleep=_no_sleep
    )
    # The second request asked for a range, got the whole file, and did not append it to the part.
    assert len(state.requests) == 2 and state.requests[1] is not None
    assert dest.read_bytes() == state.payload


def test_checksum_mismatch_is_clear_and_file_not_kept(
    tmp_path: Path, server: tuple[str, ServerState], make_ljspeech_archive: Callable[..., bytes]
) -> None:
    url, state = server
    state.payload = make_ljspeech_archive(tmp_path / "src.tar.bz2")
    with pytest.raises(
        ChecksumError,
        match=r"sha256 [0-9a-f]{64}, expected 0{64}.*deleted\. Rerun to download it again.*"
        r"If it fails again, check dataset\.ljspeech\.sha256 and dataset\.ljspeech\.size_bytes "
        r"in your config",
    ):
        download(
            url, tmp_path / "LJ.tar.bz2", sha256="0" * 64, size=len(state.payload), sleep=_no_sleep
        )
    assert list(tmp_path.glob("LJ.tar.bz2*")) == []


def test_present_file_with_a_wrong_checksum_names_the_config(tmp_path: Path) -> None:
    (tmp_path / "LJ.tar.bz2").write_bytes(b"not the archive")
    with pytest.raises(
        ChecksumError,
        match=r"size 15 bytes, expected 16; delete it and rerun.*check dataset\.ljspeech\.sha256 "
        r"and dataset\.ljspeech\.size_bytes",
    ):
        download("http://unused", tmp_path / "LJ.tar.bz2", sha256=None, size=16, sleep=_no_sleep)
    assert (tmp_path / "LJ.tar.bz2").exists()  # not ours to delete


def test_wrong_size_is_refused(
    tmp_path: Path, server: tuple[str, ServerState], make_ljspeech_archive: Callable[..., bytes]
) -> None:
    url, state = server
    state.payload = b"x" * 100
    with pytest.raises(ChecksumError, match="size 100 bytes, expected 101"):
        download(url, tmp_path / "f", sha256=None, size=101, retries=0, sleep=_no_sleep)
    assert list(tmp_path.iterdir()) == []


def test_retries_are_bounded_and_partial_kept(
    tmp_path: Path, server: tuple[str, ServerState]
) -> None:
    url, state = server
    state.fail_status = 503
    with pytest.raises(DownloadError, match="after 3 attempts"):
        download(url, tmp_path / "f", sha256=None, retries=2, sleep=_no_sleep)
    assert len(state.requests) == 3


def test_client_error_is_not_retried(
    tmp_path: Path, server: tuple[str, ServerState], make_ljspeech_archive: Callable[..., bytes]
) -> None:
    url, state = server
    state.fail_status = 404
    with pytest.raises(DownloadError, match="HTTP 404.*dataset.ljspeech.url"):
        download(url, tmp_path / "f", sha256=None, retries=5, sleep=_no_sleep)
    assert len(state.requests) == 1


def test_file_url_works_as_a_local_copy(
    tmp_path: Path, make_ljspeech_archive: Callable[..., bytes]
) -> None:
    payload = make_ljspeech_archive(tmp_path / "src.tar.bz2")
    dest = download(
        (tmp_path / "src.tar.bz2").as_uri(),
        tmp_path / "copy.tar.bz2",
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        sleep=_no_sleep,
    )
    assert dest.read_bytes() == payload


def _archive_with(
    tmp_path: Path, members: list[tarfile.TarInfo], name: str = "bad.tar.bz2"
) -> Path:
    path = tmp_path / name
    with tarfile.open(path, mode="w:bz2") as tar:
        ok = tarfile.TarInfo("corpus/metadata.csv")
        ok.size = 3
        tar.addfile(ok, io.BytesIO(b"a|b"))
        for m in members:
            tar.addfile(m, io.BytesIO(b"evil") if m.isfile() else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 4
    return info


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_file("../evil"), r"'\.\./evil' has an absolute path or '\.\.'"),
        (_file("corpus/../../evil"), r"has an absolute path or '\.\.'"),
        (_file("/tmp/evil"), "absolute path"),
        (
            _link("corpus/escape", "../../outside"),
            r"'corpus/escape' links to '\.\./\.\./outside' outside",
        ),
        (_link("corpus/abs", "/etc/passwd"), "links to '/etc/passwd' outside"),
        (_link("corpus/hard", "../outside", tarfile.LNKTYPE), "links to"),
    ],
)
def test_unsafe_members_are_refused_and_nothing_written(
    tmp_path: Path, member: tarfile.TarInfo, message: str
) -> None:
    archive = _archive_with(tmp_path, [member])
    target = tmp_path / "sandbox" / "extracted"
    target.parent.mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(UnsafeArchiveError, match=message):
        extract_tar(archive, target)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no partial folder, no escapee
    assert not (tmp_path / "evil").exists() and not (tmp_path / "outside").exists()


def test_symlink_inside_the_target_is_allowed(tmp_path: Path) -> None:
    archive = _archive_with(tmp_path, [_link("corpus/alias.csv", "metadata.csv")])
    out = extract_tar(archive, tmp_path / "x")
    assert (out / "corpus" / "alias.csv").read_text() == "a|b"


def test_extract_logs_progress_like_the_download(
    tmp_path: Path,
    make_ljspeech_archive: Callable[..., bytes],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: log lines, no bar
    make_ljspeech_archive(tmp_path / "LJ.tar.bz2")
    caplog.set_level(logging.INFO, logger="glowtts.data.download")
    extract_tar(tmp_path / "LJ.tar.bz2", tmp_path / "x")
    lines = [r.getMessage() for r in caplog.records]
    progress = [m for m in lines if m.startswith("extract=LJ.tar.bz2 ")]
    assert progress, lines
    shape = re.compile(r"bytes=\d+/\d+ \((\d+)%\) files=\d+ bytes_out=\d+ elapsed_s=\d+\.\d$")
    matches = [shape.search(m) for m in progress]
    percents = [int(m.group(1)) for m in matches if m is not None]
    assert len(percents) == len(progress), progress
    assert percents == sorted(set(percents)) and all(p >= 10 for p in percents)
    out_bytes = sum(p.stat().st_size for p in (tmp_path / "x").rglob("*") if p.is_file())
    assert re.search(
        rf"extracted archive=\S*LJ\.tar\.bz2 files=6 bytes_out={out_bytes} ", lines[-1]
    )


def test_extract_refuses_to_overwrite(tmp_path: Path) -> None:
    archive = _archive_with(tmp_path, [])
    (tmp_path / "x").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        extract_tar(archive, tmp_path / "x")

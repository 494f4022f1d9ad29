"""hfx.interfaces.io.hepdata.download against a local HTTP server on 127.0.0.1.

The archives are built here from the shared ATLAS workspace; the malicious ones try
path traversal, absolute names, links, device files, decompression bombs and truncation.
Every failure must raise a clear error and leave neither the target nor a temporary
directory behind.
"""

from __future__ import annotations

import bz2
import gzip
import http.server
import io
import json
import lzma
import os
import shutil
import socket
import ssl
import stat
import subprocess
import tarfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonpatch
import pytest

import hfx
from hfx.interfaces.io.archive import ArchiveError, Limits, _Writer, extract, member_parts
from hfx.interfaces.io.hepdata import DownloadError, download
from tests.conftest import ATLAS_WS

MiB = 1 << 20
BKG_NAME = "2018-31_BkgOnlyA"


# -- a tiny web server -------------------------------------------------------------------


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None  # Content-Length to announce; -1 announces none


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: Any = self.server
        server.seen.append((self.path, dict(self.headers)))
        route = server.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(route.status)
        for key, value in route.headers.items():
            self.send_header(key, value)
        length = len(route.body) if route.length is None else route.length
        if length >= 0:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(http.server.HTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up early (size limits) are expected here


class ArchiveServer:
    """An HTTP(S) server on 127.0.0.1 (own thread) that serves registered byte strings."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.httpd: Any = _QuietServer(("127.0.0.1", 0), _Handler)
        self.scheme = "http"
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.httpd.routes = {}
        self.httpd.seen = []
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def seen(self) -> list[tuple[str, dict[str, str]]]:
        return self.httpd.seen

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_port}{path}"

    def add(self, path: str, body: bytes, **kwargs: Any) -> str:
        self.httpd.routes[path] = Route(body, **kwargs)
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def server():
    srv = ArchiveServer()
    try:
        yield srv
    finally:
        srv.close()


# -- archives ----------------------------------------------------------------------------


def pallet_files() -> dict[str, bytes]:
    """What a HEPData pallet holds: background-only workspace, signal patch, README."""
    if not ATLAS_WS.is_dir():
        pytest.skip("../shared/data not present")
    return {
        "BkgOnly.json": (ATLAS_WS / f"{BKG_NAME}.json").read_bytes(),
        "signal.json": (ATLAS_WS / f"{BKG_NAME}.signal.json").read_bytes(),
        "README.md": b"ATLAS 2018-31 likelihoods (test copy)\n",
    }


def file_member(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 1_600_000_000
    return info, data


def special_member(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, b""


def make_tar(members: list[tuple[tarfile.TarInfo, bytes]], compression: str = "gz") -> bytes:
    buffer = io.BytesIO()
    mode = f"w:{compression}" if compression else "w"
    options = {"compresslevel": 1} if compression in ("gz", "bz2") else {}
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.PAX_FORMAT, **options) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def make_zip(files: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def pallet_tar(compression: str = "gz") -> bytes:
    return make_tar([file_member(n, d) for n, d in pallet_files().items()], compression)


def assert_only(parent: Path, *names: str) -> None:
    """``parent`` holds exactly ``names``: no target left behind, no temporary directory."""
    assert sorted(os.listdir(parent)) == sorted(names)


def assert_pallet(directory: Path) -> None:
    assert sorted(os.listdir(directory)) == ["BkgOnly.json", "README.md", "signal.json"]
    ws = hfx.load(directory / "BkgOnly.json")
    patch = json.loads((directory / "signal.json").read_text())
    signal = hfx.Workspace(jsonpatch.apply_patch(ws.to_dict(), patch))
    assert "signal" in {s["name"] for c in signal.to_dict()["channels"] for s in c["samples"]}


# -- good archives -----------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["gz", "", "bz2", "xz"])
def test_tar_pallet_unpacks_and_loads(server, tmp_path, compression):
    url = server.add("/record/pallet.tar.gz", pallet_tar(compression))
    target = tmp_path / "pallet"
    assert download(url, target, progress=False) == target
    assert_pallet(target)
    assert_only(tmp_path, "pallet")
    assert oct((target / "README.md").stat().st_mode & 0o777) == oct(0o644)
    assert (target / "README.md").stat().st_mtime == 1_600_000_000
    # HEPData's content negotiation needs the archive types in Accept.
    path, headers = server.seen[-1]
    assert path == "/record/pallet.tar.gz"
    assert "application/x-tar" in headers["Accept"] and "application/zip" in headers["Accept"]


def test_zip_with_one_top_directory_unpacks_its_contents(server, tmp_path):
    files = {f"2018-31/{name}": data for name, data in pallet_files().items()}
    files["__MACOSX/2018-31/._BkgOnly.json"] = b"resource fork"
    url = server.add("/pallet.zip", make_zip(files))
    download(url, tmp_path / "out", progress=False)
    assert_pallet(tmp_path / "out")
    assert_only(tmp_path, "out")


def test_zip_with_files_at_the_top_unpacks_as_is(server, tmp_path):
    files = {**pallet_files(), "extra/notes.txt": b"x"}
    url = server.add("/flat.zip", make_zip(files))
    download(url, tmp_path / "out", progress=False)
    assert sorted(os.listdir(tmp_path / "out")) == [
        "BkgOnly.json",
        "README.md",
        "extra",
        "signal.json",
    ]


def test_tar_with_directories_and_dot_names(server, tmp_path):
    d = tarfile.TarInfo("./sub")
    d.type = tarfile.DIRTYPE
    members = [(d, b""), file_member("./sub/a.json", b"{}"), file_member("run.sh", b"#!", 0o755)]
    url = server.add("/dirs.tgz", make_tar(members))
    download(url, tmp_path / "out", progress=False)
    assert (tmp_path / "out" / "sub" / "a.json").read_bytes() == b"{}"
    assert os.access(tmp_path / "out" / "run.sh", os.X_OK)


def test_redirects_are_followed(server, tmp_path):
    server.add("/final.tar.gz", pallet_tar())
    url = server.add("/doi", b"", status=302, headers={"Location": server.url("/final.tar.gz")})
    download(url, tmp_path / "out", progress=False)
    assert_pallet(tmp_path / "out")
    assert [p for p, _ in server.seen] == ["/doi", "/final.tar.gz"]
    assert "application/zip" in server.seen[-1][1]["Accept"]


def test_missing_parents_are_created(server, tmp_path):
    url = server.add("/p.tgz", pallet_tar())
    download(url, tmp_path / "a" / "b" / "out", progress=False)
    assert_pallet(tmp_path / "a" / "b" / "out")


def test_an_empty_target_directory_is_filled(server, tmp_path):
    (tmp_path / "out").mkdir()
    download(server.add("/p.tgz", pallet_tar()), tmp_path / "out", progress=False)
    assert_pallet(tmp_path / "out")
    assert_only(tmp_path, "out")


def test_compress_keeps_the_checked_archive(server, tmp_path):
    body = pallet_tar()
    download(server.add("/p.tgz", body), tmp_path / "p.tar.gz", compress=True, progress=False)
    assert (tmp_path / "p.tar.gz").read_bytes() == body
    assert_only(tmp_path, "p.tar.gz")


def test_progress_bar_is_drawn_on_stderr(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats stderr as a terminal
    download(server.add("/pallet.tgz", pallet_tar()), tmp_path / "out", progress=True)
    assert_pallet(tmp_path / "out")
    captured = capsys.readouterr()
    assert "pallet.tgz" in captured.err
    assert captured.out == ""


# -- existing targets --------------------------------------------------------------------


def test_non_empty_target_is_kept_without_force(server, tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    url = server.add("/p.tgz", pallet_tar())
    with pytest.raises(DownloadError, match=r"out: is not empty; use force"):
        download(url, target, progress=False)
    assert os.listdir(target) == ["mine.txt"]
    assert server.seen == []  # refused before downloading anything
    download(url, target, force=True, progress=False)
    assert_pallet(target)
    assert_only(tmp_path, "out")


def test_existing_file_is_kept_without_force(server, tmp_path):
    (tmp_path / "out").write_text("a file")
    url = server.add("/p.tgz", pallet_tar())
    with pytest.raises(DownloadError, match="out: exists; use force"):
        download(url, tmp_path / "out", progress=False)
    download(url, tmp_path / "out", force=True, progress=False)
    assert_pallet(tmp_path / "out")


def test_failed_forced_download_keeps_the_old_directory(server, tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    url = server.add("/evil.tgz", make_tar([file_member("../evil", b"x")]))
    with pytest.raises(ArchiveError):
        download(url, target, force=True, progress=False)
    assert (target / "mine.txt").read_text() == "keep me"
    assert_only(tmp_path, "out")


@pytest.mark.parametrize("target", [".", "sub/..", "..", "/"])
def test_the_current_directory_is_never_replaced(server, tmp_path, monkeypatch, target):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub" if target == ".." else tmp_path)
    url = server.add("/p.tgz", pallet_tar())
    with pytest.raises(DownloadError, match="refusing to replace the current directory"):
        download(url, target, force=True, progress=False)
    assert_only(tmp_path, "sub")
    assert server.seen == []


# -- malicious archives ------------------------------------------------------------------

_LINK_ESCAPES = [
    special_member("link", tarfile.SYMTYPE, "/etc"),
    file_member("link/evil", b"x"),
]
MALICIOUS = {
    "traversal": (make_tar([file_member("../evil", b"x")]), "'../evil'"),
    "nested-traversal": (make_tar([file_member("a/../../evil", b"x")]), "'a/../../evil'"),
    "absolute": (make_tar([file_member("/tmp/hfx-evil", b"x")]), "absolute path"),
    "symlink": (make_tar(_LINK_ESCAPES), "symbolic link (to '/etc')"),
    "hardlink": (make_tar([special_member("h", tarfile.LNKTYPE, "../../x")]), "hard link"),
    "device": (make_tar([special_member("dev", tarfile.CHRTYPE)]), "'dev' is a device"),
    "fifo": (make_tar([special_member("pipe", tarfile.FIFOTYPE)]), "'pipe' is a device"),
    "zip-traversal": (make_zip({"ok.json": b"{}", "../evil": b"x"}), "'../evil'"),
    "zip-backslash": (make_zip({"..\\evil": b"x"}), "'..\\\\evil'"),
    "zip-absolute": (make_zip({"/tmp/hfx-evil": b"x"}), "absolute path"),
    "zip-drive": (make_zip({"C:/evil": b"x"}), "absolute path"),
    "zip-symlink": (make_zip({"a.json": b"{}"}, symlinks={"link": "/etc"}), "'link' is a symb"),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_malicious_archive_is_refused(server, tmp_path, case):
    body, expected = MALICIOUS[case]
    url = server.add(f"/{case}", body)
    target = tmp_path / "deep" / "out"
    with pytest.raises(ArchiveError) as info:
        download(url, target, progress=False)
    message = str(info.value)
    assert message.startswith(f"{url}: "), message
    assert expected in message, message
    assert_only(tmp_path)  # not even the parents we created
    assert not Path("/tmp/hfx-evil").exists()


def test_symlink_to_inside_is_refused_too(server, tmp_path):
    body = make_tar([file_member("a.json", b"{}"), special_member("b.json", tarfile.SYMTYPE, "a")])
    with pytest.raises(ArchiveError, match=r"'b\.json' is a symbolic link"):
        download(server.add("/x", body), tmp_path / "out", progress=False)
    assert_only(tmp_path)


def test_huge_member_is_refused(server, tmp_path):
    body = make_tar([file_member("small.json", b"{}"), file_member("bomb.bin", bytes(4 * MiB))])
    assert len(body) < MiB // 4  # small on the wire, large when unpacked
    url = server.add("/bomb.tgz", body)
    with pytest.raises(ArchiveError, match=r"'bomb.bin' \(4.0 MiB\).*size limit of 1.0 MiB"):
        download(url, tmp_path / "out", max_bytes=MiB, progress=False)
    assert_only(tmp_path)


def test_huge_zip_member_is_refused_before_unpacking(server, tmp_path):
    url = server.add("/bomb.zip", make_zip({"a.json": b"{}", "bomb.bin": bytes(4 * MiB)}))
    with pytest.raises(ArchiveError, match=r"largest member 'bomb\.bin', 4\.0 MiB"):
        download(url, tmp_path / "out", max_bytes=MiB, progress=False)
    assert_only(tmp_path)


def test_many_small_members_add_up_to_the_limit(server, tmp_path):
    members = [file_member(f"part{i}.bin", bytes(300_000)) for i in range(5)]
    url = server.add("/parts.tgz", make_tar(members))
    with pytest.raises(ArchiveError, match=r"'part3\.bin'.*size limit"):
        download(url, tmp_path / "out", max_bytes=MiB, progress=False)
    assert_only(tmp_path)


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_too_many_members_are_refused(server, tmp_path, kind):
    files = {f"f{i}.json": b"{}" for i in range(5)}
    members = [file_member(name, data) for name, data in files.items()]
    body = make_zip(files) if kind == "zip" else make_tar(members)
    with pytest.raises(ArchiveError, match=r"more than (the limit of )?3"):
        download(server.add("/many", body), tmp_path / "out", max_members=3, progress=False)
    assert_only(tmp_path)


def test_zip_member_lying_about_its_size_is_refused(server, tmp_path):
    data = b"0123456789" * 1000
    body = bytearray(make_zip({"liar.json": data}))
    declared = len(data).to_bytes(4, "little")
    smaller = (100).to_bytes(4, "little")
    assert body.count(declared) == 2  # local header and central directory
    url = server.add("/liar.zip", bytes(body.replace(declared, smaller)))
    with pytest.raises(ArchiveError, match=r"liar\.json"):
        download(url, tmp_path / "out", progress=False)
    assert_only(tmp_path)


def test_gzip_bomb_in_a_tar_header_is_refused(server, tmp_path):
    info, data = file_member("a.json", b"{}")
    info.pax_headers = {"comment": "x" * (20 * MiB)}
    body = make_tar([(info, data)])
    with pytest.raises(ArchiveError, match="header of"):
        download(server.add("/pax.tgz", body), tmp_path / "out", progress=False)
    assert_only(tmp_path)


def _plain_tar_without_end_marker() -> bytes:
    body = make_tar([file_member("a.json", b"{}"), file_member("b.json", b"[]")], "")
    return body[: 4 * 512]  # two headers and two data blocks; no end-of-archive blocks


TRUNCATED = {
    "tar.gz-half": lambda: pallet_tar()[: len(pallet_tar()) // 2],
    "tar.gz-no-trailer": lambda: pallet_tar()[:-4],
    "tar-mid-member": lambda: pallet_tar("")[:5000],
    "tar-no-end-marker": _plain_tar_without_end_marker,
    "tar.xz-half": lambda: pallet_tar("xz")[:5000],
    "zip-half": lambda: make_zip(pallet_files())[:5000],
}


@pytest.mark.parametrize("case", sorted(TRUNCATED))
def test_truncated_archive_is_refused(server, tmp_path, case):
    url = server.add("/cut", TRUNCATED[case]())
    with pytest.raises(ArchiveError, match=r"truncated|corrupt") as info:
        download(url, tmp_path / "out", progress=False)
    assert str(info.value).startswith(f"{url}: ")
    assert_only(tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (gzip.compress(b'{"not": "a tar"}'), "truncated or corrupt"),
        (bz2.compress(b"\0" * 100), "truncated|corrupt"),
        (lzma.compress(b"nothing"), "truncated or corrupt"),
        (make_tar([]), "contains no files"),
        (make_zip({}), "contains no files"),
    ],
)
def test_not_an_archive(server, tmp_path, body, message):
    with pytest.raises(ArchiveError, match=message):
        download(server.add("/page", body), tmp_path / "out", progress=False)
    assert_only(tmp_path)


def test_a_web_page_is_not_an_archive(server, tmp_path):
    page = b"<html><body>HEPData record</body></html>"
    url = server.add("/record/90607", page, headers={"Content-Type": "text/html; charset=utf-8"})
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "out", progress=False)
    assert str(info.value) == (
        f"{url}: the server sent text/html; charset=utf-8, not a tar, tar.gz or zip archive; "
        "is this the URL of the archive itself?"
    )
    assert_only(tmp_path)


# -- the network -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/pallet.tar.gz",
        "ftp://127.0.0.1/pallet.tar.gz",
        "file:///etc/passwd",
        "https:///no-host",
        "pallet.tar.gz",
    ],
)
def test_only_https_urls_are_fetched(tmp_path, url):
    with pytest.raises(DownloadError, match="only https:// URLs"):
        download(url, tmp_path / "out", progress=False)
    assert_only(tmp_path)


def test_redirect_to_plain_http_is_refused(server, tmp_path):
    url = server.add("/doi", b"", status=302, headers={"Location": "http://example.org/p.tgz"})
    with pytest.raises(DownloadError, match=r"http://example.org/p.tgz: only https://"):
        download(url, tmp_path / "out", progress=False)
    assert_only(tmp_path)


@pytest.mark.parametrize(("status", "text"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500")])
def test_http_errors(server, tmp_path, status, text):
    if status != 404:
        server.add("/broken", b"oops", status=status)
    url = server.url("/broken")
    with pytest.raises(DownloadError, match=text) as info:
        download(url, tmp_path / "out", progress=False)
    assert str(info.value).startswith(f"{url}: ")
    assert_only(tmp_path)


def test_announced_size_over_the_limit_is_refused_before_reading(server, tmp_path):
    url = server.add("/big.tgz", pallet_tar())
    with pytest.raises(DownloadError, match=r"more than the download limit of 1\.0 KiB"):
        download(url, tmp_path / "out", max_bytes=1024, progress=False)
    assert_only(tmp_path)


def test_unannounced_size_over_the_limit_is_refused(server, tmp_path):
    url = server.add("/big.tgz", pallet_tar(), length=-1)
    with pytest.raises(DownloadError, match="larger than the download limit"):
        download(url, tmp_path / "out", max_bytes=1024, progress=False)
    assert_only(tmp_path)


def test_short_response_is_refused(server, tmp_path):
    body = pallet_tar()
    url = server.add("/short.tgz", body, length=len(body) + 1000)
    with pytest.raises(DownloadError, match=f"incomplete: got {len(body)} of {len(body) + 1000}"):
        download(url, tmp_path / "out", progress=False)
    assert_only(tmp_path)


def test_connection_refused(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="cannot connect"):
        download(f"http://127.0.0.1:{port}/p.tgz", tmp_path / "out", progress=False)
    assert_only(tmp_path)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Path:
    """A self-signed certificate (and key, in the same file) for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not available to make a test certificate")
    pem = tmp_path_factory.mktemp("tls") / "localhost.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"]
    command += ["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(pem), "-out", str(pem)]
    subprocess.run(command, check=True, capture_output=True)
    return pem


@pytest.fixture
def tls_server(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate)
    srv = ArchiveServer(tls=context)
    try:
        yield srv
    finally:
        srv.close()


def test_https_certificates_are_verified(tls_server, tmp_path):
    url = tls_server.add("/p.tgz", pallet_tar())
    assert url.startswith("https://127.0.0.1:")
    with pytest.raises(DownloadError, match=r"cannot connect: .*CERTIFICATE_VERIFY_FAILED"):
        download(url, tmp_path / "out", progress=False)
    assert_only(tmp_path)


def test_https_download_with_a_trusted_certificate(tls_server, tmp_path, monkeypatch, certificate):
    plain = ssl.create_default_context

    def trusting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = plain(*args, **kwargs)
        context.load_verify_locations(certificate)
        return context

    monkeypatch.setattr(ssl, "create_default_context", trusting)
    download(tls_server.add("/p.tgz", pallet_tar()), tmp_path / "out", progress=False)
    assert_pallet(tmp_path / "out")


# -- the extraction checks on their own --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parts"),
    [("a/b.json", ("a", "b.json")), ("./a//b/", ("a", "b")), ("a\\b", ("a", "b")), (".", ())],
)
def test_member_parts(name, parts):
    assert member_parts(name, None) == parts


@pytest.mark.parametrize("name", ["../x", "a/../../x", "..\\x", "/x", "\\x", "C:x", "a\0b"])
def test_member_parts_refuses(name):
    with pytest.raises(ArchiveError):
        member_parts(name, "archive.tar")


def test_bytes_beyond_the_declared_size_are_refused(tmp_path):
    writer = _Writer(tmp_path, "pallet.zip", Limits(MiB, 10))
    with pytest.raises(ArchiveError, match=r"'a\.json' holds more bytes than it declares"):
        writer.file("a.json", ("a.json",), io.BytesIO(b"x" * 100), 10, 0o644, None)


def test_extract_names_the_source(tmp_path):
    (tmp_path / "a.tar").write_bytes(make_tar([file_member("../x", b"")], ""))
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError, match=r"^pallet.tar: member '../x'"):
        extract(tmp_path / "a.tar", tmp_path / "out", limits=Limits(MiB, 10), source="pallet.tar")

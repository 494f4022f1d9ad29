"""``hfx contrib download`` through click's CliRunner, against a local HTTP server."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from hfx.interfaces.cli.contrib import ByteSize
from hfx.interfaces.cli.main import cli
from tests.cli.helpers import assert_one_line_error, stderr_lines
from tests.io.test_download import (
    ArchiveServer,
    assert_only,
    assert_pallet,
    file_member,
    make_tar,
    make_zip,
    pallet_files,
    pallet_tar,
)


@pytest.fixture
def web():
    srv = ArchiveServer()
    try:
        yield srv
    finally:
        srv.close()


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_download_unpacks_and_reports_on_stderr(web, tmp_path):
    url = web.add("/pallet.tar.gz", pallet_tar())
    result = run("contrib", "download", url, tmp_path / "pallet")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    (line,) = stderr_lines(result)
    assert line.startswith(f"hfx: {url}: wrote 3 files (")
    assert line.endswith(f"to {tmp_path / 'pallet'}")
    assert_pallet(tmp_path / "pallet")
    assert_only(tmp_path, "pallet")


def test_verbose_lists_the_files_like_pyhf(web, tmp_path):
    files = {f"top/{name}": data for name, data in pallet_files().items()}
    url = web.add("/pallet.zip", make_zip(files))
    target = tmp_path / "1Lbb-likelihoods"
    result = run("contrib", "download", "--verbose", url, target)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        str(target / name) for name in ("BkgOnly.json", "README.md", "signal.json")
    ]


def test_compress_keeps_the_archive(web, tmp_path):
    body = pallet_tar()
    url = web.add("/pallet.tar.gz", body)
    result = run("contrib", "download", "-c", url, tmp_path / "pallet.tar.gz")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pallet.tar.gz").read_bytes() == body
    assert "wrote archive" in result.stderr


def test_force_replaces_a_non_empty_directory(web, tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    url = web.add("/p.tgz", pallet_tar())
    line = assert_one_line_error(run("contrib", "download", url, target))
    assert line == f"hfx: error: {target}: is not empty; use force (--force) to replace it"
    assert os.listdir(target) == ["old.txt"]
    result = run("contrib", "download", "--force", url, target)
    assert result.exit_code == 0, result.output
    assert_pallet(target)


@pytest.mark.parametrize(
    ("body", "options", "contains"),
    [
        (make_tar([file_member("../evil", b"x")]), (), "member '../evil' has a '..' component"),
        (make_tar([file_member("a.bin", bytes(1 << 20))]), ("--max-size", "100K"), "size limit"),
        (make_zip({"a": b"", "b": b""}), ("--max-files", "1"), "more than the limit of 1"),
        (b"<html></html>", (), "not a tar, tar.gz or zip archive"),
    ],
)
def test_bad_archives_fail_with_one_line(web, tmp_path, body, options, contains):
    url = web.add("/bad", body)
    result = run("contrib", "download", *options, url, tmp_path / "out")
    assert_one_line_error(result, names=url, contains=contains)
    assert_only(tmp_path)


def test_http_error_fails_with_one_line(web, tmp_path):
    url = web.url("/missing.tar.gz")
    result = run("contrib", "download", url, tmp_path / "out")
    assert_one_line_error(result, names=url, contains="HTTP 404")
    assert_only(tmp_path)


def test_plain_http_elsewhere_is_refused(tmp_path):
    result = run("contrib", "download", "http://www.hepdata.net/x", tmp_path / "out")
    assert_one_line_error(result, names="http://www.hepdata.net/x", contains="only https://")


def test_bad_max_size_is_a_usage_error(tmp_path):
    result = run("contrib", "download", "--max-size", "lots", "https://x.org/a", tmp_path / "o")
    assert_one_line_error(result, contains="'lots' is not a size")


@pytest.mark.parametrize(
    ("text", "value"),
    [("100", 100), ("1K", 1024), ("1.5MiB", 3 << 19), ("2G", 2 << 30), ("3GB", 3 * 10**9)],
)
def test_byte_sizes(text, value):
    assert ByteSize().convert(text, None, None) == value


def test_help_names_the_command():
    result = run("contrib", "download", "--help")
    assert result.exit_code == 0
    assert "Usage: hfx contrib download [OPTIONS] URL DIR" in result.stdout

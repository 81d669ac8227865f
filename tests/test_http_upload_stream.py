"""The streamed multipart body parses like any browser upload and reads in bounded pieces."""

import io
import os

import pytest
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.test import override_settings

from wagtail_kollus.api.upload_stream import MultipartFileStream


def _parse(stream: MultipartFileStream):
    body = b""
    while piece := stream.read(8192):
        body += piece
    assert len(body) == len(stream)
    meta = {"CONTENT_TYPE": stream.content_type, "CONTENT_LENGTH": str(len(body))}
    with override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=10**9, DATA_UPLOAD_MAX_MEMORY_SIZE=None):
        return MultiPartParser(meta, io.BytesIO(body), [MemoryFileUploadHandler()], "utf-8").parse()


def test_fields_and_file_round_trip(tmp_path):
    path = tmp_path / "clip.mp4"
    content = os.urandom(300_000)
    path.write_bytes(content)
    post, files = _parse(
        MultipartFileStream(path, fields={"accept": "application/json", "disable_alert": "1"})
    )
    assert post["accept"] == "application/json"
    assert post["disable_alert"] == "1"
    upload = files["upload-file"]
    assert upload.name == "clip.mp4"
    assert upload.read() == content


def test_filename_override_with_quotes_cannot_break_the_header(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    _, files = _parse(MultipartFileStream(path, filename='evil".mp4'))
    assert files["upload-file"].read() == b"abc"
    assert '"' not in files["upload-file"].name.replace("%22", "")


def test_reads_are_bounded_and_progress_reports_file_bytes(tmp_path):
    path = tmp_path / "big.bin"
    size = 5 * 1024 * 1024 + 123
    with open(path, "wb") as handle:
        handle.truncate(size)  # sparse: no need to write 5 MiB
    calls = []
    stream = MultipartFileStream(
        path, chunk_size=1024 * 1024, progress=lambda s, t: calls.append((s, t))
    )
    pieces = []
    while piece := stream.read(16384):
        pieces.append(len(piece))
    assert max(pieces) <= 1024 * 1024
    assert sum(pieces) == len(stream)
    assert calls[-1] == (size, size)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_rewind_restarts_the_body(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"0123456789")
    stream = MultipartFileStream(path)
    first = b"".join(iter(lambda: stream.read(7), b""))
    assert stream.tell() == len(stream)
    stream.seek(0)
    assert b"".join(iter(lambda: stream.read(7), b"")) == first
    with pytest.raises(OSError):
        stream.seek(5)


def test_requests_sends_it_with_content_length_not_chunked(tmp_path):
    import requests

    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 1000)
    stream = MultipartFileStream(path)
    prepared = requests.Request(
        "POST",
        "http://upload.example/x",
        data=stream,
        headers={"Content-Type": stream.content_type},
    ).prepare()
    assert prepared.headers["Content-Length"] == str(len(stream))
    assert "Transfer-Encoding" not in prepared.headers

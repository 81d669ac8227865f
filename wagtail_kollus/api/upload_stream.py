"""A multipart/form-data body that streams a file from disk in constant memory.

``requests``' ``files=`` builds the whole body in memory, which for a multi-gigabyte video
means a multi-gigabyte process. This object is file-like with a known length: requests sends
it with a ``Content-Length`` (no chunked encoding, which upload servers often refuse) and
urllib3 pulls it piece by piece through :meth:`read`. Only one chunk is in memory at a time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

CHUNK_SIZE = 1024 * 1024  # bytes read from disk per read(); big enough for full-speed sends

ProgressCallback = Callable[[int, int], None]


def _quote_filename(name: str) -> str:
    # Quotes and line breaks would end the header early; browsers escape them the same way.
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartFileStream:
    """``fields`` (text form fields) followed by one file part named ``file_field``.

    ``progress(bytes_sent, total)`` is called with file bytes (not envelope bytes) after each
    chunk. :meth:`seek` supports only rewinding to 0, which is what a retry needs.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        file_field: str = "upload-file",
        filename: str | None = None,
        fields: Mapping[str, str] | None = None,
        content_type: str = "application/octet-stream",
        progress: ProgressCallback | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.path = Path(path)
        self.file_size = self.path.stat().st_size
        self.boundary = uuid.uuid4().hex
        self.progress = progress
        self.chunk_size = chunk_size
        name = _quote_filename(filename or self.path.name)
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
            for key, value in (fields or {}).items()
        )
        head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{file_field}"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._head = head
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = len(head) + self.file_size + len(self._tail)
        self._file = None
        self._position = 0
        self._file_sent = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self.length

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset != 0 or whence != 0:
            raise OSError("MultipartFileStream can only be rewound to the start.")
        self.close()
        self._position = 0
        self._file_sent = 0
        return 0

    def read(self, size: int = -1) -> bytes:
        """The next piece of the body; b"" at the end.

        Returns at most one of head / file chunk / tail per call, and file chunks of
        ``max(size, chunk_size)`` bytes: a larger piece than asked is fine for urllib3 (it
        ``sendall``s whatever it gets) and keeps the per-chunk Python overhead low.
        """
        head_len = len(self._head)
        if self._position < head_len:
            piece = self._head[self._position :]
        elif self._file_sent < self.file_size:
            if self._file is None:
                self._file = open(self.path, "rb")  # noqa: SIM115 - closed at end / close()
                self._file.seek(self._file_sent)
            piece = self._file.read(max(size, self.chunk_size))
            if not piece:
                raise OSError(f"{self.path.name} shrank while it was being uploaded.")
            self._file_sent += len(piece)
            if self.progress is not None:
                self.progress(self._file_sent, self.file_size)
        else:
            offset = self._position - head_len - self.file_size
            piece = self._tail[offset:]
            self.close()
        self._position += len(piece)
        return piece

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> MultipartFileStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

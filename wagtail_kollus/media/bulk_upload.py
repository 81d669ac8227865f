"""Server-side uploads of local files (``manage.py kollus_upload``), in constant memory.

The file is read twice, both times in fixed-size chunks: once for its sha256 (so a file that
is already in the library is skipped, whatever its name) and once streamed to the upload URL
by ``KollusClient.upload_file``. Nothing ever holds the whole file in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from ..accounts import KollusAccount
from ..api.errors import KollusAPIError
from ..availability import apply_media
from ..conf import kollus_settings
from ..messages import Message, assign
from ..models import KollusMedia, MediaState
from .explain import explain

CHUNK_SIZE = 1024 * 1024


def file_sha256(path: Path, chunk_size: int = CHUNK_SIZE) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def expand_paths(paths: list[str]) -> Iterator[Path]:
    """Files as given; directories are walked (sorted, hidden files skipped)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not child.name.startswith("."):
                    yield child
        else:
            yield path


def already_uploaded(checksum: str) -> KollusMedia | None:
    """A live row with the same content (failed or deleted uploads may be retried)."""
    return (
        KollusMedia.objects.filter(checksum_sha256=checksum)
        .exclude(state__in=(MediaState.FAILED, MediaState.DELETED))
        .first()
    )


@dataclass
class UploadOutcome:
    path: Path
    status: str  # "uploaded", "skipped", "failed"
    media: KollusMedia | None = None
    message: str = ""


@dataclass
class UploadSummary:
    outcomes: list[UploadOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def upload_one(
    path: Path,
    *,
    client: Any,
    account: KollusAccount | None = None,
    title: str | None = None,
    category_key: str | None = None,
    is_encryption_upload: bool | None = None,
    is_audio_upload: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> UploadOutcome:
    """Upload one file unless its content is already in the library.

    ``client`` is a client of ``account`` (default: the settings' account), whose category
    the file goes to unless ``category_key`` names another.
    """
    if not path.is_file():
        return UploadOutcome(path, "failed", message="not a readable file")
    checksum = file_sha256(path)
    existing = already_uploaded(checksum)
    if existing is not None:
        return UploadOutcome(path, "skipped", existing, f"already uploaded as #{existing.pk}")
    options = {
        "title": (title or path.stem)[:255],
        "category_key": category_key
        or (account or KollusAccount.from_settings()).kollus_category_key
        or None,
        "is_encryption_upload": bool(
            kollus_settings.UPLOAD_ENCRYPTION if is_encryption_upload is None else is_encryption_upload
        ),
        "is_audio_upload": bool(
            kollus_settings.UPLOAD_AUDIO if is_audio_upload is None else is_audio_upload
        ),
        "expire_time": int(kollus_settings.UPLOAD_EXPIRE_TIME),
    }
    # The row first, as in the admin: an interrupted upload stays visible.
    media = KollusMedia.objects.create(
        title=options["title"],
        category_key=options["category_key"] or "",
        state=MediaState.UPLOADING,
        use_encryption=options["is_encryption_upload"],
        is_audio=options["is_audio_upload"],
        original_file_name=path.name,
        original_file_size=path.stat().st_size,
        checksum_sha256=checksum,
    )
    try:
        ticket = client.create_upload_url(**options)
    except KollusAPIError as error:
        # The same words as the admin's upload form, untranslated like the rest of the command.
        return _failed(
            path,
            media,
            Message.gettext("Kollus did not give an upload URL: %(reason)s", reason=explain(error)),
        )
    media.upload_file_key = ticket.upload_file_key
    media.save(update_fields=["upload_file_key", "updated_at"])
    try:
        client.upload_file(ticket.upload_url, path, filename=path.name, progress=progress)
    except KollusAPIError as error:
        return _failed(
            path,
            media,
            Message.gettext("The upload to Kollus failed: %(reason)s", reason=explain(error)),
        )
    except OSError as error:
        return _failed(
            path, media, Message.gettext("The file could not be read: %(reason)s", reason=error)
        )
    except KeyboardInterrupt:
        # Ctrl-C mid-file: the row must not stay "uploading" with the file's checksum, or
        # the re-run the command suggests would skip the file as already uploaded.
        _failed(path, media, Message.gettext("The upload was interrupted. Upload it again."))
        raise
    return UploadOutcome(path, "uploaded", media)


def _failed(path: Path, media: KollusMedia, message: Message) -> UploadOutcome:
    # Stored for the library's editors, shown in each one's language; the command prints
    # (and the outcome keeps) the English.
    media.state = MediaState.FAILED
    stored = assign(media, "error_message", message)
    with transaction.atomic():
        media.save(update_fields=["state", *stored, "updated_at"])
        # Someone may have chosen the upload meanwhile: its video stays withdrawn.
        apply_media(media)
    return UploadOutcome(path, "failed", media, message.english())

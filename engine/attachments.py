"""Attachments: files joined to a dossier, stored once by content (sha256) in the ``blob`` table.

A form field of ``format: attachment`` holds ``sha256:<hex>``; the ``attachment`` row links that
content to one dossier with its file name, media type and who uploaded it. The media type is
read from the file's first bytes, never trusted from the browser, and must be one of
:data:`ALLOWED_TYPES`; the size must not exceed :data:`MAX_BYTES`. The stored file name keeps no
control or format character (a right-to-left override would show ``x\u202efdp.exe`` as
``xexe.pdf``). A form field may name only an attachment of its own dossier: the ``complete`` command refuses
any other value (:func:`foreign_paths`), whoever sends it (page, API, CLI or simulator).
"""

from __future__ import annotations

import hashlib
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import PurePath

from sqlalchemy import select

from .errors import Invalid, NotFound
from .forms import attachment_values
from .persistence.models import Attachment, Blob

MAX_BYTES = 10 * 1024 * 1024
PREFIX = "sha256:"

#: media type → file extensions accepted for it
ALLOWED_TYPES = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
}
_ODF_TYPES = frozenset(t for t in ALLOWED_TYPES if t.startswith("application/vnd.oasis.opendocument."))
_MAX_MIMETYPE = 100


@dataclass(frozen=True)
class AttachmentInfo:
    ref: str  # "sha256:<hex>", the value a form field holds
    filename: str
    media_type: str
    size: int
    uploaded_by: str
    uploaded_at: datetime

    @property
    def sha256(self) -> str:
        return self.ref[len(PREFIX) :]


def sniff(content: bytes) -> str | None:
    """The media type the content really has (among the allowed ones), or None."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(content)) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    # An OpenDocument file names its type in its first entry; read a bounded
                    # prefix (a crafted archive could inflate it), and accept only ODF types.
                    with archive.open("mimetype") as entry:
                        raw = entry.read(_MAX_MIMETYPE + 1)
                    declared = raw.decode("ascii", "replace").strip()
                    return declared if len(raw) <= _MAX_MIMETYPE and declared in _ODF_TYPES else None
                if "word/document.xml" in names:
                    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                if "xl/workbook.xml" in names:
                    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, zlib.error):
            return None  # unreadable, encrypted or an unknown compression: refused, not a crash
    return None


def check(filename: str, content: bytes, max_bytes: int = MAX_BYTES) -> str:
    """The media type of an acceptable upload; :class:`Invalid` says what is wrong otherwise."""
    if not content:
        raise Invalid("Le fichier est vide.", code="attachment.empty", errors={"": ["Le fichier est vide."]})
    if len(content) > max_bytes:
        limit = f"{max_bytes // (1024 * 1024)} Mo" if max_bytes >= 1024 * 1024 else f"{max_bytes} octets"
        raise Invalid(
            f"Le fichier dépasse {limit} : réduisez-le ou compressez-le.",
            code="attachment.too_large", params={"limit": limit},
            errors={"": ["fichier trop volumineux"]},
        )
    media_type = sniff(content)
    suffix = PurePath(filename or "").suffix.lower()
    if media_type is None or suffix not in ALLOWED_TYPES[media_type]:
        raise Invalid(
            "Type de fichier refusé : déposez un PDF, une image PNG ou JPEG, ou un document "
            "ODT, ODS, DOCX ou XLSX (extension conforme au contenu).", code="attachment.type_refused",
            errors={"": ["type de fichier refusé"]},
        )
    return media_type


def clean_filename(filename: str) -> str:
    """The file name to store: its last path segment, without control or format characters
    (Unicode categories Cc and Cf: C0/C1 controls, bidirectional overrides and isolates,
    zero-width characters), at most 255 characters."""
    text = "".join(
        ch for ch in unicodedata.normalize("NFC", filename or "") if unicodedata.category(ch) not in ("Cc", "Cf")
    )
    return PurePath(text.replace("\\", "/")).name[:255]


def _info(row: Attachment) -> AttachmentInfo:
    return AttachmentInfo(PREFIX + row.sha256, row.filename, row.media_type, row.size, row.uploaded_by, row.uploaded_at)


@dataclass(frozen=True)
class Upload:
    """A file checked and hashed by :meth:`AttachmentStore.prepare`, to store with others."""

    filename: str
    media_type: str
    sha256: str
    content: bytes

    @property
    def ref(self) -> str:
        return PREFIX + self.sha256


class AttachmentStore:
    """Stores and serves the attachments of dossiers (each call is one transaction)."""

    def __init__(self, db, clock, max_bytes: int = MAX_BYTES):
        self.db = db
        self.clock = clock
        self.max_bytes = max_bytes

    def store(self, instance_id: int, filename: str, content: bytes, login: str) -> AttachmentInfo:
        return self.store_all(instance_id, [self.prepare(filename, content)], login)[0]

    def prepare(self, filename: str, content: bytes) -> Upload:
        """A file checked (type, size; :class:`Invalid` else) and hashed, not stored yet."""
        name = clean_filename(filename)
        media_type = check(name, content, self.max_bytes)
        return Upload(name, media_type, hashlib.sha256(content).hexdigest(), content)

    def store_all(self, instance_id: int, uploads: list[Upload], login: str) -> list[AttachmentInfo]:
        """Store the files of one form in one transaction (a dossier's 4 pieces: 2 queries and one
        commit, not 4 of each); content already stored is not stored again."""
        if not uploads:
            return []
        shas = {upload.sha256 for upload in uploads}
        with self.db.sessions.begin() as session:
            # Only whether the content is already stored: never load it (up to MAX_BYTES) for that.
            stored = set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(shas))))
            rows = {row.sha256: row for row in session.scalars(
                select(Attachment).where(Attachment.instance_id == instance_id, Attachment.sha256.in_(shas)))}
            for upload in uploads:
                if upload.sha256 not in stored:
                    session.add(Blob(sha256=upload.sha256, size=len(upload.content), content=upload.content))
                    stored.add(upload.sha256)
            session.flush()  # the blobs first: the attachment rows refer to them
            for upload in uploads:
                if upload.sha256 not in rows:
                    rows[upload.sha256] = Attachment(
                        instance_id=instance_id,
                        sha256=upload.sha256,
                        filename=upload.filename,
                        media_type=upload.media_type,
                        size=len(upload.content),
                        uploaded_by=login,
                        uploaded_at=self.clock.now(),
                    )
                    session.add(rows[upload.sha256])
            session.flush()
            return [_info(rows[upload.sha256]) for upload in uploads]

    def list(self, instance_id: int) -> list[AttachmentInfo]:
        with self.db.sessions() as session:
            rows = session.scalars(
                select(Attachment)
                .where(Attachment.instance_id == instance_id)
                .order_by(Attachment.uploaded_at, Attachment.id)
            )
            return [_info(row) for row in rows]

    def refs(self, instance_id: int) -> set[str]:
        """The references (``sha256:<hex>``) of the dossier's attachments."""
        with self.db.sessions() as session:
            rows = session.scalars(select(Attachment.sha256).where(Attachment.instance_id == instance_id))
            return {PREFIX + sha for sha in rows}

    def get(self, instance_id: int, ref: str) -> tuple[AttachmentInfo, bytes]:
        """The attachment ``ref`` (``sha256:<hex>`` or bare hex) of this dossier, with its content."""
        sha = ref[len(PREFIX) :] if ref.startswith(PREFIX) else ref
        with self.db.sessions() as session:
            row = session.scalar(
                select(Attachment).where(Attachment.instance_id == instance_id, Attachment.sha256 == sha)
            )
            if row is None:
                raise NotFound("Ce document n'existe pas dans ce dossier.",
                               code="attachment.not_found", instance_id=instance_id)
            return _info(row), session.get(Blob, sha).content


def foreign_paths(connection, instance_id: int, schema: dict, data: object) -> list[str]:
    """The paths of the attachment fields of ``data`` (by the form's ``schema``) that do not hold
    an attachment of this dossier: another dossier's file, a path, anything typed. Read on the
    command's ``connection``; the ``complete`` command refuses them (:func:`engine.forms.validate_form`)."""
    values = attachment_values(schema, data)
    if not values:
        return []
    shas = {value[len(PREFIX):] for _, value in values if isinstance(value, str) and value.startswith(PREFIX)}
    known = set(connection.execute(
        select(Attachment.sha256).where(Attachment.instance_id == instance_id, Attachment.sha256.in_(shas))
    ).scalars()) if shas else set()
    return [path for path, value in values
            if not (isinstance(value, str) and value.startswith(PREFIX) and value[len(PREFIX):] in known)]

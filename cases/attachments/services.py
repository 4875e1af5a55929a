"""Photos and documents: checking, cleaning, storing encrypted, serving and purging.

What an upload goes through (OWASP ASVS V5.2-5.4):

- Size: at most ``ATTACHMENT_MAX_BYTES`` (8 MB by default), read in one bounded read.
  ``MAX_CONTENT_LENGTH`` caps the whole request a little above that.
- Type, by content only: ``puremagic`` names the type from the bytes, and Pillow must agree and
  decode the image. The file name and the browser's Content-Type are never trusted.
- Photos (JPEG, PNG, WebP) are rebuilt from their pixels alone: the EXIF orientation is applied,
  then EXIF (GPS included), XMP, ICC profiles, comments and anything appended after the image
  (polyglots) are left behind; the longer side is cut to ``MAX_DIMENSION``; images above
  ``MAX_PIXELS`` are refused before they are decoded (decompression bombs). They are saved as
  JPEG, or PNG when they use transparency. Animated images keep their first frame.
- HEIC (iPhone) photos: the Pillow build here cannot read them, so they are refused with a
  message asking for a JPEG. Browsers on iPhones usually convert to JPEG when uploading.
- PDFs must start with ``%PDF-``. They are refused when encrypted, or when their text names
  JavaScript, launch actions or embedded files (``#xx`` escapes in PDF names are decoded first).
  What is NOT checked: PDFs are neither parsed nor rewritten, so active content inside
  compressed object streams goes unseen and their metadata (author, software) stays. That is
  why they are only ever served as downloads, with a sandbox CSP and ``nosniff``.

Files are encrypted with ``cases.crypto`` and stored under ``ATTACHMENT_FOLDER`` (default
``<instance>/attachments``, outside any static folder) by a random name only.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import threading
import time
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import puremagic
from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import selectinload

from .. import crypto
from ..audit import services as audit
from ..auth.models import Role, User
from ..casework.access import can_see_contacts, can_work_on
from ..casework.models import Case
from ..casework.timeline import Entry, register_source
from ..clock import utcnow
from ..extensions import db
from ..inquiries.models import Alert, Inquiry
from .models import Attachment, AttachmentKind, AttachmentSource

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
MAX_DIMENSION = 4000  # px on the longer side: plenty to recognise a face or read a document
MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo passes; larger is refused undecoded
# PNG and WebP have no reduced-size decoding like JPEG's draft mode: a small, highly compressed
# 7000x7000 PNG decodes to about 1 GB. Phones send photos as JPEG; a screenshot is far smaller.
MAX_LOSSLESS_PIXELS = 4096 * 4096
# Decoding is the one step whose memory a sender controls: at most two at once per process.
_DECODING = threading.BoundedSemaphore(2)
JPEG_QUALITY = 85
NAME_LENGTH = 120
# Pillow warns above MAX_IMAGE_PIXELS and refuses at twice that; clean_upload turns the warning
# into a refusal as well.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
PDF_TYPE = "application/pdf"
HEIF_TYPES = {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"}
# Names whose presence makes a PDF do more than show pages. "/JS" also covers "/JavaScript".
PDF_ACTIVE = (b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA")
PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
STORED_NAME = re.compile(r"[0-9a-f]{32}")


class AttachmentError(Exception):
    """An upload was refused; ``str(error)`` is the message for the person who sent it."""


@dataclass(frozen=True)
class CleanFile:
    """An upload that passed every check, ready to be stored."""

    kind: AttachmentKind
    content: bytes
    content_type: str
    original_name: str | None


# --- checking and cleaning -----------------------------------------------------------------


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def clean_upload(stream: BinaryIO, filename: str | None) -> CleanFile:
    """Check an uploaded file by its content and return a clean copy, or raise AttachmentError.

    Photos come back re-encoded without metadata; PDFs come back as sent.
    """
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise AttachmentError(
            _l("The file is too large. It can be at most %(size)s MB.", size=limit // 2**20)
        )
    if not data:
        raise AttachmentError(_l("The file is empty."))
    detected = _detected_type(data)
    name = safe_original_name(filename)
    if detected == PDF_TYPE:
        _check_pdf(data)
        return CleanFile(AttachmentKind.DOCUMENT, data, PDF_TYPE, name)
    if detected in IMAGE_FORMATS:
        content, content_type = _reencode_image(data, IMAGE_FORMATS[detected])
        return CleanFile(AttachmentKind.PHOTO, content, content_type, name)
    if detected in HEIF_TYPES:
        raise AttachmentError(
            _l("iPhone photos in HEIC format cannot be read here. Please send it as JPEG.")
        )
    raise AttachmentError(_l("Only photos (JPEG, PNG, WebP) and PDF documents can be added."))


def _detected_type(data: bytes) -> str | None:
    try:
        return puremagic.from_string(data, mime=True) or None
    except puremagic.PureError:
        return None


def _check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-"):
        raise AttachmentError(_l("This PDF is damaged and cannot be read."))
    text = PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    if b"/Encrypt" in text:
        raise AttachmentError(
            _l("This PDF is protected with a password. Please send it without the password.")
        )
    if any(marker in text for marker in PDF_ACTIVE):
        raise AttachmentError(
            _l("This PDF contains scripts or embedded files and cannot be added.")
        )


def _reencode_image(data: bytes, expected_format: str) -> tuple[bytes, str]:
    """Decode the image and save its pixels alone; (bytes, content type)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[expected_format]) as probe:
                probe.verify()
            with _DECODING, Image.open(io.BytesIO(data), formats=[expected_format]) as image:
                limit = MAX_PIXELS if expected_format == "JPEG" else MAX_LOSSLESS_PIXELS
                if image.width * image.height > limit:
                    raise Image.DecompressionBombError("too many pixels")
                if expected_format == "JPEG":
                    # Decode big JPEGs at 1/2, 1/4 or 1/8 scale: far less memory and time.
                    # draft() keeps a scale only if both sides stay at least the size asked
                    # for, so ask for the image's own shape with the long side at the cap.
                    ratio = min(1.0, MAX_DIMENSION / max(image.size))
                    image.draft("RGB", (int(image.width * ratio), int(image.height * ratio)))
                image.load()
                upright = ImageOps.exif_transpose(image)
                clean = _pixels_only(upright)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise AttachmentError(
                _l("The image is too large. Please send a smaller photo.")
            ) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise AttachmentError(_l("This image is damaged and cannot be read.")) from error
    clean.thumbnail((MAX_DIMENSION, MAX_DIMENSION), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if clean.mode == "RGBA":
        clean.save(out, "PNG", optimize=True)
        return out.getvalue(), "image/png"
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), "image/jpeg"


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image with the same pixels and no metadata at all (info, EXIF, ICC, comments)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if has_alpha:
        image = image.convert("RGBA")
        if image.getchannel("A").getextrema()[0] == 255:
            image = image.convert("RGB")  # an alpha channel nobody uses: JPEG is smaller
    else:
        image = image.convert("RGB")
    # Pasting copies the pixels once into an image that never had any metadata (frombytes of
    # tobytes would hold two extra copies of a large photo at once).
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def safe_original_name(filename: str | None) -> str | None:
    """The uploader's file name, for staff to read: no path, no control or bidi characters."""
    if not filename:
        return None
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", filename))[-1]
    kept = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    kept = " ".join(kept.split())[:NAME_LENGTH]
    return kept or None


# --- storing --------------------------------------------------------------------------------


def folder_path() -> Path:
    """Where the encrypted files live (ATTACHMENT_FOLDER, else <instance>/attachments)."""
    configured = current_app.config.get("ATTACHMENT_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


def folder() -> Path:
    """Where the encrypted files live; created private (0700) on first use."""
    path = folder_path()
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _path(stored_name: str) -> Path:
    # Names are generated here, but a tampered row must still not reach outside the folder.
    if not STORED_NAME.fullmatch(stored_name):
        raise ValueError("not a stored attachment name")
    return folder() / stored_name


def _write(stored_name: str, content: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(_path(stored_name), flags, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(crypto.encrypt_bytes(content))


def _unlink(stored_name: str) -> None:
    _path(stored_name).unlink(missing_ok=True)


def _store(clean: CleanFile, description: str | None, **owner: object) -> Attachment:
    """Write the file, add its row and audit event, commit; no file is left behind on failure."""
    stored_name = secrets.token_hex(16)
    try:
        _write(stored_name, clean.content)
    except OSError as error:
        current_app.logger.exception("attachment could not be written")
        _unlink(stored_name)
        raise AttachmentError(_l("The file could not be saved. Please try again.")) from error
    try:
        attachment = Attachment(
            kind=clean.kind,
            stored_name=stored_name,
            content_type=clean.content_type,
            byte_size=len(clean.content),
            sha256=hashlib.sha256(clean.content).hexdigest(),
            original_name=clean.original_name,
            description=(description or "").strip()[:200] or None,
            created_at=utcnow(),
            **owner,
        )
        db.session.add(attachment)
        db.session.flush()
        audit.record("attachment_add", "attachment", attachment.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        _unlink(stored_name)
        raise
    return attachment


def _refuse_duplicate(clean: CleanFile, scope: list) -> None:
    digest = hashlib.sha256(clean.content).hexdigest()
    same = db.session.scalar(
        select(Attachment.id).where(
            Attachment.sha256 == digest, Attachment.deleted_at.is_(None), or_(*scope)
        )
    )
    if same is not None:
        raise AttachmentError(_l("This file has already been added."))


def add_to_case(
    actor: User, case: Case, clean: CleanFile, description: str | None = None
) -> Attachment:
    """A caseworker or supervisor adds a photo or document to a case they may work on."""
    if not can_work_on(actor, case) or case.anonymised_at is not None:
        raise AttachmentError(_l("You cannot add files to this case."))
    _refuse_duplicate(clean, _case_scope(case.id))
    case.last_activity_at = utcnow()
    return _store(
        clean,
        description,
        case_id=case.id,
        uploaded_by_id=actor.id,
        source=AttachmentSource.STAFF,
    )


def add_from_family(
    inquiry: Inquiry, clean: CleanFile, description: str | None = None
) -> Attachment:
    """A family adds a file to its inquiry; the case owner is alerted when there is a case."""
    _refuse_duplicate(clean, [Attachment.inquiry_id == inquiry.id])
    case = db.session.get(Case, inquiry.case_id) if inquiry.case_id else None
    if case is not None:
        case.last_activity_at = utcnow()
        if case.owner_id is not None and not _unread_family_alert(case):
            db.session.add(Alert(user_id=case.owner_id, case_id=case.id, kind="family_info"))
    return _store(clean, description, inquiry_id=inquiry.id, source=AttachmentSource.FAMILY)


def _unread_family_alert(case: Case) -> bool:
    # Text and photo sent together raise one alert, not two.
    return (
        db.session.scalar(
            select(Alert.id).where(
                Alert.user_id == case.owner_id,
                Alert.case_id == case.id,
                Alert.kind == "family_info",
                Alert.read_at.is_(None),
            )
        )
        is not None
    )


# --- reading --------------------------------------------------------------------------------


def _case_scope(case_id: int) -> list:
    """Files on the case itself and files families sent with the case's inquiries."""
    linked = select(Inquiry.id).where(Inquiry.case_id == case_id)
    return [Attachment.case_id == case_id, Attachment.inquiry_id.in_(linked)]


def attachments_for_case(
    case: Case, include_removed: bool = False, viewer: User | None = None
) -> list[Attachment]:
    """The case's files, newest first; for ``viewer``, only those they may open."""
    stmt = (
        select(Attachment)
        .where(or_(*_case_scope(case.id)), *_hidden_from(viewer, case))
        .options(selectinload(Attachment.uploaded_by), selectinload(Attachment.deleted_by))
        .order_by(Attachment.created_at.desc(), Attachment.id.desc())
    )
    if not include_removed:
        stmt = stmt.where(Attachment.deleted_at.is_(None))
    return list(db.session.scalars(stmt))


def _hidden_from(viewer: User | None, case: Case) -> list:
    """Files a family sent often show their IDs, phones or faces: like the family's contact
    details, they are for the case owner and supervisors, not a colleague it is shared with."""
    if viewer is None or can_see_contacts(viewer, case):
        return []
    return [Attachment.source != AttachmentSource.FAMILY]


def attachment_on_case(
    case: Case, attachment_id: int, viewer: User | None = None
) -> Attachment | None:
    """The file if it belongs to ``case`` (directly or through an inquiry), is not removed and,
    for ``viewer``, is one they may open."""
    return db.session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id,
            Attachment.deleted_at.is_(None),
            or_(*_case_scope(case.id)),
            *_hidden_from(viewer, case),
        )
    )


def attachments_for_inquiry(inquiry: Inquiry) -> list[Attachment]:
    """Files a family sent with an inquiry, newest first."""
    return list(
        db.session.scalars(
            select(Attachment)
            .where(Attachment.inquiry_id == inquiry.id, Attachment.deleted_at.is_(None))
            .order_by(Attachment.created_at.desc(), Attachment.id.desc())
        )
    )


def attachment_on_inquiry(inquiry: Inquiry, attachment_id: int) -> Attachment | None:
    """The family's file if it came with ``inquiry`` and is not removed."""
    return db.session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id,
            Attachment.inquiry_id == inquiry.id,
            Attachment.deleted_at.is_(None),
        )
    )


def read_content(attachment: Attachment) -> bytes | None:
    """The decrypted bytes, or None when the file is gone or does not match its checksum."""
    try:
        token = _path(attachment.stored_name).read_bytes()
        content = crypto.decrypt_bytes(token)
    except (OSError, ValueError, crypto.CryptoError):
        current_app.logger.warning("attachment %s cannot be read", attachment.id)
        return None
    if hashlib.sha256(content).hexdigest() != attachment.sha256:
        current_app.logger.warning("attachment %s does not match its checksum", attachment.id)
        return None
    return content


def open_for(actor: User, attachment: Attachment) -> bytes | None:
    """The file's bytes for ``actor``, who was checked to see its case; the view is audited."""
    content = read_content(attachment)
    if content is not None:
        audit.record("attachment_view", "attachment", attachment.id, actor, commit=True)
    return content


# --- removing -------------------------------------------------------------------------------


def can_remove(actor: User, case: Case, attachment: Attachment) -> bool:
    """Supervisors, the case owner and whoever uploaded the file may remove it, unless the
    case is on legal hold."""
    if case.legal_hold:
        return False
    return actor.role == Role.SUPERVISOR or (
        actor.role == Role.CASEWORKER
        and can_work_on(actor, case)
        and actor.id in (case.owner_id, attachment.uploaded_by_id)
    )


def remove(actor: User, case: Case, attachment: Attachment) -> None:
    """Delete the file's bytes for good; the row stays as a trace without name or description."""
    if attachment.removed:
        return
    if case.legal_hold:
        # Removal destroys the bytes for good: evidence a hold keeps for a court.
        raise AttachmentError(
            _l("The case is on legal hold: nothing can be deleted until a supervisor lifts it.")
        )
    if not can_remove(actor, case, attachment):
        raise AttachmentError(_l("Only the case owner or a supervisor can remove this file."))
    attachment.deleted_at = utcnow()
    attachment.deleted_by_id = actor.id
    attachment.original_name = None
    attachment.description = None
    audit.record("attachment_remove", "attachment", attachment.id, actor)
    db.session.commit()
    _unlink(attachment.stored_name)


def _purge(condition: object) -> int:
    rows = db.session.execute(select(Attachment.id, Attachment.stored_name).where(condition)).all()
    for _, stored_name in rows:
        _unlink(stored_name)
    if rows:
        db.session.execute(
            delete(Attachment).where(Attachment.id.in_([ident for ident, _ in rows])),
            execution_options={"synchronize_session": "fetch"},
        )
    return len(rows)


def purge_for_case(case_id: int) -> int:
    """Delete the files staff added to the case, from disk and database; does not commit.

    Files families sent with an inquiry belong to the inquiry: ``purge_for_inquiry`` removes
    them. Returns how many rows were deleted (removed ones included).
    """
    return _purge(Attachment.case_id == case_id)


def purge_for_inquiry(inquiry_id: int) -> int:
    """Delete the files a family sent with an inquiry, from disk and database; does not commit.

    Returns how many rows were deleted.
    """
    return _purge(Attachment.inquiry_id == inquiry_id)


def remove_orphan_files(min_age_seconds: int = 3600) -> int:
    """Delete stored files that no live row names; returns how many.

    They are left behind when rows go without ``purge_for_*`` (a database cascade) or when a
    purge is rolled back after the fact. Recent files are spared: an upload writes its file
    just before committing its row.
    """
    live = set(
        db.session.scalars(select(Attachment.stored_name).where(Attachment.deleted_at.is_(None)))
    )
    cutoff = time.time() - min_age_seconds
    removed = 0
    for path in folder().iterdir():
        ours = STORED_NAME.fullmatch(path.name) and path.name not in live
        if ours and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# --- key rotation (`flask crypto rotate` and `check`) ----------------------------------------


def _live_files() -> list[Path]:
    names = db.session.scalars(
        select(Attachment.stored_name).where(Attachment.deleted_at.is_(None))
    )
    return [_path(name) for name in names]


def rotate_files() -> dict[str, int]:
    """Re-encrypt every stored file not yet under the first data key; counts only.

    Each file is replaced in one rename, so a reader meanwhile gets the old or the new
    version, and both decrypt while the old key is still configured.
    """
    counts = {"rotated": 0, "current": 0, "unreadable": 0, "failed": 0}
    for path in _live_files():
        try:
            token = path.read_bytes()
            if crypto.is_current_bytes(token):
                counts["current"] += 1
                continue
            fresh = crypto.rotate_bytes(token)
        except (OSError, crypto.CryptoError):
            counts["unreadable"] += 1
            continue
        spare = path.with_name(path.name + ".rotating")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
            with os.fdopen(os.open(spare, flags, 0o600), "wb") as handle:
                handle.write(fresh)
            os.replace(spare, path)
        except OSError:
            # A full disk: the file stays as it was, under the old key; the count says so.
            spare.unlink(missing_ok=True)
            current_app.logger.exception("attachment %s could not be rotated", path.name)
            counts["failed"] += 1
            continue
        counts["rotated"] += 1
    return counts


def check_files() -> dict[str, int]:
    """How many stored files there are, how many no key opens, how many are under an older key."""
    counts = {"files": 0, "unreadable": 0, "older": 0}
    for path in _live_files():
        counts["files"] += 1
        try:
            token = path.read_bytes()
            crypto.decrypt_bytes(token)
        except (OSError, crypto.CryptoError):
            counts["unreadable"] += 1
            continue
        counts["older"] += not crypto.is_current_bytes(token)
    return counts


# --- timeline -------------------------------------------------------------------------------


@register_source
def attachment_events(case: Case) -> list[Entry]:
    """Files added to the case (and removed from it) on the case timeline."""
    entries = []
    for attachment in attachments_for_case(case, include_removed=True):
        entries.append(Entry(attachment.created_at, "attachment", attachment))
        if attachment.deleted_at is not None:
            entries.append(Entry(attachment.deleted_at, "attachment_removed", attachment))
    return entries

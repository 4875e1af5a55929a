"""The upload rules without HTTP: what is refused, what is cleaned, how files are kept."""

from __future__ import annotations

import hashlib
import io
import stat

import pytest
from PIL import Image
from sqlalchemy import func, select

from cases import crypto
from cases.attachments import services
from cases.attachments.models import Attachment, AttachmentKind
from cases.attachments.services import AttachmentError, clean_upload
from cases.audit.models import AuditEvent
from cases.casework.timeline import case_timeline
from cases.extensions import db
from cases.inquiries import services as inquiries
from cases.inquiries.models import Alert

from ..factories import make_case
from ..inquiries.factories import make_inquiry
from .conftest import CAMERA, jpeg_with_gps, pdf, png, png_claiming


def _clean(data: bytes, name: str = "photo.jpg") -> services.CleanFile:
    return clean_upload(io.BytesIO(data), name)


def _refusal(data: bytes, name: str = "photo.jpg") -> str:
    with pytest.raises(AttachmentError) as error:
        _clean(data, name)
    return str(error.value)


def _count() -> int:
    return db.session.scalar(select(func.count(Attachment.id)))


# --- what is refused ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"<?php system($_GET['c']); ?>",
        b"<html><script>alert(document.cookie)</script></html>",
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100,  # a Windows program
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",  # a GIF: not on the list
    ],
)
def test_files_that_only_claim_to_be_photos_are_refused(app, content: bytes) -> None:
    message = _refusal(content, "photo.jpg")
    assert "Only photos (JPEG, PNG, WebP) and PDF documents" in message


def test_a_jpeg_header_in_front_of_a_script_is_refused(app) -> None:
    message = _refusal(b"\xff\xd8\xff\xe0" + b"<?php system($_GET['c']); ?>" * 20)
    assert message == "This image is damaged and cannot be read."


def test_a_script_appended_to_a_real_photo_does_not_survive(case) -> None:
    polyglot = jpeg_with_gps() + b"<?php system($_GET['c']); ?><script>alert(1)</script>"
    clean = _clean(polyglot)
    assert clean.kind == AttachmentKind.PHOTO
    assert b"<?php" not in clean.content
    assert b"<script>" not in clean.content


def test_huge_dimensions_are_refused_before_decoding(app) -> None:
    assert Image.MAX_IMAGE_PIXELS == services.MAX_PIXELS
    for width, height in ((10_000, 6_000), (60_000, 60_000)):
        message = _refusal(png_claiming(width, height), "bomb.png")
        assert message == "The image is too large. Please send a smaller photo."


def test_a_lossless_image_too_big_to_decode_safely_is_refused(app) -> None:
    # 5000x5000 is within the JPEG limit but would decode to ~100 MB as a PNG, undrafted.
    message = _refusal(png_claiming(5_000, 5_000), "screenshot.png")
    assert message == "The image is too large. Please send a smaller photo."
    assert services.MAX_LOSSLESS_PIXELS < 5_000 * 5_000 < services.MAX_PIXELS


def test_a_file_over_the_size_limit_is_refused_with_the_limit(app) -> None:
    app.config["ATTACHMENT_MAX_BYTES"] = 2 * 1024 * 1024
    message = _refusal(b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024), "big.pdf")
    assert message == "The file is too large. It can be at most 2 MB."


def test_an_empty_file_is_refused(app) -> None:
    assert _refusal(b"") == "The file is empty."


def test_heic_photos_are_refused_with_advice(app) -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert "HEIC" in _refusal(heic, "IMG_0001.HEIC")


@pytest.mark.parametrize(
    "extra",
    [
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
        b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>",  # names with #xx escapes
        b"/OpenAction << /S /Launch /F (cmd.exe) >>",
        b"/Names << /EmbeddedFiles 5 0 R >>",
    ],
)
def test_pdfs_with_scripts_or_embedded_files_are_refused(app, extra: bytes) -> None:
    assert "scripts or embedded files" in _refusal(pdf(extra), "report.pdf")


def test_encrypted_pdfs_are_refused(app) -> None:
    encrypted = pdf().replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 9 0 R")
    assert "password" in _refusal(encrypted, "report.pdf")


def test_a_plain_pdf_is_kept_as_sent(app) -> None:
    document = pdf()
    clean = _clean(document, "../../etc/report.pdf")
    assert clean.kind == AttachmentKind.DOCUMENT
    assert clean.content_type == "application/pdf"
    assert clean.content == document
    assert clean.original_name == "report.pdf"


def test_original_names_lose_paths_and_direction_tricks() -> None:
    assert services.safe_original_name("C:\\Users\\x\\صورة\u202egpj.exe") == "صورةgpj.exe"
    assert services.safe_original_name("a\x00b\r\n.jpg") == "ab.jpg"
    assert services.safe_original_name("x" * 500 + ".jpg") == "x" * 120
    assert services.safe_original_name("   ") is None


# --- what a photo becomes -------------------------------------------------------------------


def test_location_and_camera_data_are_removed(app) -> None:
    original = jpeg_with_gps()
    assert CAMERA.encode() in original and b"GPSLatitude" in original
    clean = _clean(original)
    assert clean.content_type == "image/jpeg"
    for marker in (CAMERA.encode(), b"Exif\x00\x00", b"GPSLatitude", b"home address", b"ICC"):
        assert marker not in clean.content
    image = Image.open(io.BytesIO(clean.content))
    assert dict(image.getexif()) == {}
    assert not set(image.info) & {"exif", "xmp", "icc_profile", "comment"}
    assert image.size == (64, 48)


def test_the_photo_is_turned_upright(app) -> None:
    # Orientation 6: the camera was held sideways; viewers rotate it 90 degrees.
    clean = _clean(jpeg_with_gps(size=(60, 20), orientation=6))
    assert Image.open(io.BytesIO(clean.content)).size == (20, 60)


def test_big_photos_are_scaled_down(app) -> None:
    out = io.BytesIO()
    Image.new("RGB", (6000, 1500), (1, 2, 3)).save(out, "JPEG")
    clean = _clean(out.getvalue())
    assert Image.open(io.BytesIO(clean.content)).size == (4000, 1000)


def test_transparent_images_stay_png_and_opaque_ones_become_jpeg(app) -> None:
    assert _clean(png("RGBA", alpha=100), "logo.png").content_type == "image/png"
    assert _clean(png("RGBA", alpha=255), "x.png").content_type == "image/jpeg"
    webp = io.BytesIO()
    Image.new("RGB", (30, 30), (9, 9, 9)).save(webp, "WEBP")
    assert _clean(webp.getvalue(), "x.webp").content_type == "image/jpeg"


# --- storing --------------------------------------------------------------------------------


def test_the_file_on_disk_is_encrypted_and_private(caseworker, case, upload_folder) -> None:
    clean = _clean(jpeg_with_gps())
    attachment = services.add_to_case(caseworker, case, clean, "  His passport photo  ")
    path = upload_folder / attachment.stored_name
    on_disk = path.read_bytes()
    assert on_disk != clean.content
    assert b"\xff\xd8\xff" not in on_disk  # no JPEG marker: it is not the picture
    assert crypto.decrypt_bytes(on_disk) == clean.content
    assert attachment.sha256 == hashlib.sha256(clean.content).hexdigest()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(upload_folder.stat().st_mode) == 0o700
    assert attachment.stored_name not in "photo.jpg"
    assert len(attachment.stored_name) == 32
    assert attachment.description == "His passport photo"
    assert attachment.source == "staff" and attachment.uploaded_by_id == caseworker.id
    event = db.session.scalar(select(AuditEvent).filter_by(action="attachment_add"))
    assert (event.object_type, event.object_id) == ("attachment", attachment.id)


def test_the_same_file_twice_is_refused(caseworker, case) -> None:
    clean = _clean(pdf(), "a.pdf")
    services.add_to_case(caseworker, case, clean)
    with pytest.raises(AttachmentError, match="already been added"):
        services.add_to_case(caseworker, case, clean)
    assert _count() == 1


def test_a_caseworker_cannot_add_to_someone_elses_case(other_caseworker, case) -> None:
    with pytest.raises(AttachmentError):
        services.add_to_case(other_caseworker, case, _clean(pdf(), "a.pdf"))
    assert _count() == 0


def test_family_files_reach_the_linked_case_and_alert_its_owner(caseworker) -> None:
    inquiry, _secret = make_inquiry()
    case = inquiries.create_case_from_inquiry(caseworker, inquiry)
    attachment = services.add_from_family(inquiry, _clean(jpeg_with_gps()))
    assert attachment.inquiry_id == inquiry.id and attachment.case_id is None
    assert attachment.uploaded_by_id is None and attachment.source == "family"
    assert [a.id for a in services.attachments_for_case(case)] == [attachment.id]
    assert services.attachment_on_case(case, attachment.id) is attachment
    assert db.session.scalar(select(func.count(Alert.id)).filter_by(kind="family_info")) == 1
    # Another case never reaches it through its own URL.
    other = make_case(caseworker)
    assert services.attachment_on_case(other, attachment.id) is None


def test_uploads_and_removals_appear_on_the_timeline(caseworker, case) -> None:
    attachment = services.add_to_case(caseworker, case, _clean(pdf(), "a.pdf"))
    services.remove(caseworker, case, attachment)
    kinds = [entry.kind for entry in case_timeline(case)]
    assert "attachment" in kinds and "attachment_removed" in kinds


def test_removal_deletes_the_bytes_and_keeps_a_trace(
    caseworker, other_caseworker, case, upload_folder
) -> None:
    attachment = services.add_to_case(caseworker, case, _clean(pdf(), "report.pdf"), "note")
    with pytest.raises(AttachmentError):
        services.remove(other_caseworker, case, attachment)
    services.remove(caseworker, case, attachment)
    assert not (upload_folder / attachment.stored_name).exists()
    db.session.expire_all()
    assert attachment.deleted_at is not None and attachment.deleted_by_id == caseworker.id
    assert attachment.original_name is None and attachment.description is None
    assert services.attachment_on_case(case, attachment.id) is None
    assert db.session.scalar(
        select(func.count(AuditEvent.id)).filter_by(action="attachment_remove")
    )


def test_purge_for_case_removes_files_and_rows_without_committing(
    caseworker, case, upload_folder
) -> None:
    first = services.add_to_case(caseworker, case, _clean(pdf(), "a.pdf"))
    second = services.add_to_case(caseworker, case, _clean(jpeg_with_gps()))
    services.remove(caseworker, case, second)
    other = services.add_to_case(caseworker, make_case(caseworker), _clean(pdf(), "b.pdf"))
    names = [first.stored_name, second.stored_name]

    assert services.purge_for_case(case.id) == 2
    assert not any((upload_folder / name).exists() for name in names)
    db.session.rollback()  # the caller decides: nothing was committed
    assert _count() == 3

    assert services.purge_for_case(case.id) == 2
    db.session.commit()
    assert _count() == 1
    assert (upload_folder / other.stored_name).exists()


def test_purge_for_inquiry_removes_the_familys_files(caseworker, upload_folder) -> None:
    inquiry, _secret = make_inquiry()
    kept, _ = make_inquiry()
    stored_name = services.add_from_family(inquiry, _clean(jpeg_with_gps())).stored_name
    services.add_from_family(kept, _clean(pdf(), "x.pdf"))
    assert services.purge_for_inquiry(inquiry.id) == 1
    db.session.commit()
    assert not (upload_folder / stored_name).exists()
    assert _count() == 1


def test_a_tampered_file_is_not_served(caseworker, case, upload_folder) -> None:
    attachment = services.add_to_case(caseworker, case, _clean(pdf(), "a.pdf"))
    (upload_folder / attachment.stored_name).write_bytes(crypto.encrypt_bytes(b"%PDF-1.4 other"))
    assert services.read_content(attachment) is None
    (upload_folder / attachment.stored_name).unlink()
    assert services.read_content(attachment) is None


def test_orphaned_files_are_swept_and_live_ones_kept(caseworker, case, upload_folder) -> None:
    live = services.add_to_case(caseworker, case, _clean(pdf(), "a.pdf"))
    orphan = upload_folder / ("ab" * 16)
    orphan.write_bytes(b"left by a cascade")
    unrelated = upload_folder / "README"
    unrelated.write_bytes(b"not ours")
    assert services.remove_orphan_files() == 0  # too recent: it may be an upload in progress
    assert services.remove_orphan_files(min_age_seconds=-1) == 1
    assert not orphan.exists()
    assert (upload_folder / live.stored_name).exists() and unrelated.exists()


def test_the_sweep_command_reports_what_it_deleted(app, runner, upload_folder) -> None:
    services.folder()
    (upload_folder / ("cd" * 16)).write_bytes(b"x")
    result = runner.invoke(args=["attachments", "sweep", "--min-age", "-1"])
    assert result.exit_code == 0
    assert "Deleted 1 orphaned file(s)." in result.output

"""Photos and documents over HTTP: the case page, serving, access rules, the family pages."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from cases.attachments import services
from cases.attachments.models import Attachment
from cases.audit.models import AuditEvent
from cases.casework import services as casework
from cases.extensions import db
from cases.inquiries import services as inquiries
from cases.inquiries.models import Inquiry, InquiryUpdate

from ..factories import make_case
from ..inquiries.factories import make_inquiry
from ..inquiries.test_public_views import FORM
from .conftest import CAMERA, jpeg_with_gps, pdf


def _page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def _file(data: bytes, name: str, content_type: str = "image/jpeg") -> tuple:
    return (io.BytesIO(data), name, content_type)


def _post_big(client, url: str, content: bytes):  # noqa: ANN001, ANN202
    # Encoded up front: a test client's spooled temporary file would be left open by a 413.
    upload = FileStorage(io.BytesIO(content), "big.pdf", content_type="application/pdf")
    boundary, body = encode_multipart({"file": upload})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _count(action: str | None = None) -> int:
    if action is None:
        return db.session.scalar(select(func.count(Attachment.id)))
    return db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action=action))


def _add(user, case, data: bytes = b"", name: str = "a.pdf") -> Attachment:  # noqa: ANN001
    clean = services.clean_upload(io.BytesIO(data or pdf()), name)
    return services.add_to_case(user, case, clean)


def _url(case, attachment) -> str:  # noqa: ANN001
    return f"/cases/{case.id}/attachments/{attachment.id}"


# --- staff ----------------------------------------------------------------------------------


def test_staff_add_a_photo_from_the_case_page(client, auth, caseworker, case) -> None:
    auth.login(caseworker)
    page = _page(client.get(f"/cases/{case.id}"))
    assert 'enctype="multipart/form-data"' in page
    assert f'action="/cases/{case.id}/attachments"' in page
    response = client.post(
        f"/cases/{case.id}/attachments",
        data={"file": _file(jpeg_with_gps(), "IMG_2024.jpg"), "description": "صورة الجواز"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    attachment = db.session.scalar(select(Attachment))
    page = _page(client.get(f"/cases/{case.id}"))
    assert f'<img src="{_url(case, attachment)}"' in page
    assert "صورة الجواز" in page and "IMG_2024.jpg" in page
    assert "Photo added" in page  # on the timeline
    assert _count("attachment_add") == 1


def test_a_refused_file_keeps_the_description_and_says_why(client, auth, caseworker, case) -> None:
    auth.login(caseworker)
    response = client.post(
        f"/cases/{case.id}/attachments",
        data={
            "file": _file(b"<?php echo 1; ?>", "photo.jpg"),
            "description": "written before the error",
        },
        content_type="multipart/form-data",
    )
    page = _page(response)
    assert response.status_code == 400
    assert "Only photos (JPEG, PNG, WebP) and PDF documents can be added." in page
    assert 'value="written before the error"' in page
    assert _count() == 0


def test_an_upload_without_a_file_is_refused(client, auth, caseworker, case) -> None:
    auth.login(caseworker)
    response = client.post(f"/cases/{case.id}/attachments", data={"description": "x"})
    assert response.status_code == 400
    assert "Choose a file to add." in _page(response)


def test_an_oversize_file_gets_a_message(app, client, auth, caseworker, case) -> None:
    app.config["ATTACHMENT_MAX_BYTES"] = 1024 * 1024
    auth.login(caseworker)
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    response = _post_big(client, f"/cases/{case.id}/attachments", big)
    assert response.status_code == 400
    assert "The file is too large. It can be at most 1 MB." in _page(response)
    assert _count() == 0


def test_a_request_above_the_cap_gets_the_413_page(app, client, auth, caseworker, case) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024
    assert app.config["ATTACHMENT_MAX_BYTES"] < app.config["MAX_CONTENT_LENGTH"]
    auth.login(caseworker)
    huge = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)
    response = _post_big(client, f"/cases/{case.id}/attachments", huge)
    assert response.status_code == 413
    assert "What you sent is too large." in _page(response)
    assert _count() == 0


def test_photos_are_served_inline_with_strict_headers(client, auth, caseworker, case) -> None:
    attachment = _add(caseworker, case, jpeg_with_gps(), "p.jpg")
    auth.login(caseworker)
    response = client.get(_url(case, attachment))
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="{case.reference}-{attachment.id}.jpg"'
    )
    assert CAMERA.encode() not in response.data
    assert Image.open(io.BytesIO(response.data)).getexif() == {}
    event = db.session.scalar(select(AuditEvent).filter_by(action="attachment_view"))
    assert (event.actor_id, event.object_type, event.object_id) == (
        caseworker.id,
        "attachment",
        attachment.id,
    )


def test_pdfs_are_served_as_downloads(client, auth, caseworker, case) -> None:
    attachment = _add(caseworker, case, pdf(), "report.pdf")
    auth.login(caseworker)
    response = client.get(_url(case, attachment))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.data == pdf()


def test_the_owner_and_a_supervisor_see_the_file(
    client, auth, caseworker, supervisor, case
) -> None:
    attachment = _add(caseworker, case)
    for user in (caseworker, supervisor):
        auth.login(user)
        assert client.get(_url(case, attachment)).status_code == 200, user.username
        auth.logout()
    assert _count("attachment_view") == 2


def test_another_caseworker_gets_a_404(client, auth, caseworker, other_caseworker, case) -> None:
    attachment = _add(caseworker, case)
    theirs = make_case(other_caseworker)
    auth.login(other_caseworker)
    assert client.get(_url(case, attachment)).status_code == 404
    # Nor through a case they do own: the file must belong to the case in the URL.
    assert client.get(f"/cases/{theirs.id}/attachments/{attachment.id}").status_code == 404
    response = client.post(f"{_url(case, attachment)}/remove")
    assert response.status_code == 404
    assert _count("attachment_view") == 0
    db.session.expire_all()
    assert db.session.get(Attachment, attachment.id).deleted_at is None


def test_a_shared_colleague_sees_but_cannot_remove(
    client, auth, caseworker, other_caseworker, case
) -> None:
    attachment = _add(caseworker, case)
    casework.share_case(caseworker, case, other_caseworker)
    auth.login(other_caseworker)
    assert client.get(_url(case, attachment)).status_code == 200
    page = _page(client.get(f"/cases/{case.id}"))
    assert f"{_url(case, attachment)}/remove" not in page
    client.post(f"{_url(case, attachment)}/remove")
    db.session.expire_all()
    assert db.session.get(Attachment, attachment.id).deleted_at is None


def test_family_files_are_for_the_owner_and_supervisors_like_their_contacts(
    client, auth, caseworker, other_caseworker, supervisor
) -> None:
    client.post(
        "/inquiry",
        data=dict(FORM, photo=_file(jpeg_with_gps(), "haidar.jpg")),
        content_type="multipart/form-data",
    )
    family_file = db.session.scalar(select(Attachment))
    case = inquiries.create_case_from_inquiry(caseworker, db.session.scalar(select(Inquiry)))
    staff_file = _add(caseworker, case)
    casework.share_case(caseworker, case, other_caseworker)

    auth.login(other_caseworker)
    page = _page(client.get(f"/cases/{case.id}"))
    assert _url(case, staff_file) in page and _url(case, family_file) not in page
    assert client.get(_url(case, family_file)).status_code == 404
    assert client.get(_url(case, staff_file)).status_code == 200
    auth.logout()
    for allowed in (caseworker, supervisor):
        auth.login(allowed)
        assert _url(case, family_file) in _page(client.get(f"/cases/{case.id}"))
        assert client.get(_url(case, family_file)).status_code == 200
        auth.logout()


def test_admins_are_refused_and_anonymous_visitors_sent_to_log_in(
    client, auth, caseworker, admin, case
) -> None:
    attachment = _add(caseworker, case)
    response = client.get(_url(case, attachment))
    assert response.status_code == 302
    assert "/login" in response.location
    auth.login(admin)
    assert client.get(_url(case, attachment)).status_code == 403
    assert _count("attachment_view") == 0


def test_removing_a_file_deletes_it(client, auth, caseworker, case, upload_folder) -> None:
    attachment = _add(caseworker, case)
    stored = upload_folder / attachment.stored_name
    auth.login(caseworker)
    page = _page(client.get(f"/cases/{case.id}"))
    assert "The file will be deleted for good." in page
    response = client.post(f"{_url(case, attachment)}/remove")
    assert response.status_code == 302
    assert not stored.exists()
    assert client.get(_url(case, attachment)).status_code == 404
    assert _count("attachment_remove") == 1
    assert "File deleted" in _page(client.get(f"/cases/{case.id}"))


# --- families -------------------------------------------------------------------------------


def test_a_family_sends_a_photo_with_the_inquiry_and_staff_see_it_on_the_case(
    client, auth, caseworker
) -> None:
    page = _page(client.get("/inquiry"))
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    response = client.post(
        "/inquiry",
        data=dict(FORM, photo=_file(jpeg_with_gps(), "haidar.jpg")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert 'id="reference"' in _page(response)
    attachment = db.session.scalar(select(Attachment))
    inquiry = db.session.scalar(select(Inquiry))
    assert (attachment.inquiry_id, attachment.source) == (inquiry.id, "family")

    case = inquiries.create_case_from_inquiry(caseworker, inquiry)
    auth.login(caseworker)
    page = _page(client.get(f"/cases/{case.id}"))
    assert _url(case, attachment) in page
    assert "Sent by the family" in page
    served = client.get(_url(case, attachment))
    assert served.status_code == 200
    assert CAMERA.encode() not in served.data


def test_the_family_photo_is_on_the_intake_page_until_the_inquiry_becomes_a_case(
    client, auth, caseworker, other_caseworker
) -> None:
    client.post(
        "/inquiry",
        data=dict(FORM, photo=_file(jpeg_with_gps(), "haidar.jpg")),
        content_type="multipart/form-data",
    )
    attachment = db.session.scalar(select(Attachment))
    inquiry = db.session.scalar(select(Inquiry))
    file_url = f"/intake/{inquiry.id}/files/{attachment.id}"
    auth.login(caseworker)
    page = _page(client.get(f"/intake/{inquiry.id}"))
    assert "Photos and documents from the family" in page and file_url in page
    served = client.get(file_url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert CAMERA.encode() not in served.data
    assert client.get(f"/intake/{inquiry.id + 1}/files/{attachment.id}").status_code == 404

    # Once on a case, the file follows the case's rules: not through the intake page.
    inquiries.create_case_from_inquiry(caseworker, inquiry)
    auth.logout()
    auth.login(other_caseworker)
    assert client.get(file_url).status_code == 404
    assert file_url not in _page(client.get(f"/intake/{inquiry.id}"))


def test_a_bad_photo_keeps_everything_the_family_typed(client) -> None:
    response = client.post(
        "/inquiry",
        data=dict(FORM, photo=_file(b"<html><script>x</script></html>", "photo.jpg")),
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    page = _page(response)
    assert response.status_code == 200
    assert 'id="reference"' not in page
    assert "Only photos (JPEG, PNG, WebP) and PDF documents can be added." in page
    assert 'value="أم حيدر"' in page and "آخر رسالة من روستوف" in page
    assert db.session.scalar(select(func.count(Inquiry.id))) == 0
    assert _count() == 0


def test_the_new_inquiry_takes_photos_only(client) -> None:
    response = client.post(
        "/inquiry",
        data=dict(FORM, photo=_file(pdf(), "passport.pdf", "application/pdf")),
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert "Please choose a photo (JPEG, PNG or WebP)." in _page(response)
    assert db.session.scalar(select(func.count(Inquiry.id))) == 0


def _checked_in(client) -> tuple:  # noqa: ANN001
    inquiry, secret = make_inquiry()
    client.post("/check", data={"reference": inquiry.reference, "secret": secret})
    return inquiry, secret


def test_a_family_adds_a_document_to_its_inquiry(client, caseworker) -> None:
    inquiry, _secret = _checked_in(client)
    case = inquiries.create_case_from_inquiry(caseworker, inquiry)
    page = _page(client.get("/check/result"))
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    response = client.post(
        "/check/add",
        data={"body": "", "file": _file(pdf(), "death-certificate.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    attachment = db.session.scalar(select(Attachment))
    assert attachment.inquiry_id == inquiry.id and attachment.kind == "document"
    assert services.attachment_on_case(case, attachment.id) is not None
    assert inquiries.unread_alerts(caseworker) == 1
    assert db.session.scalar(select(func.count(InquiryUpdate.id))) == 0


def test_text_and_photo_together_raise_one_alert(client, caseworker) -> None:
    inquiry, _secret = _checked_in(client)
    inquiries.create_case_from_inquiry(caseworker, inquiry)
    response = client.post(
        "/check/add",
        data={"body": "هذه صورته الأخيرة", "file": _file(jpeg_with_gps(), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert _count() == 1
    assert db.session.scalar(select(func.count(InquiryUpdate.id))) == 1
    assert inquiries.unread_alerts(caseworker) == 1


@pytest.mark.parametrize("lang", ["en", "ar", "ckb"])
def test_a_bad_file_on_the_add_page_keeps_the_text(client, lang: str) -> None:
    _checked_in(client)
    response = client.post(
        "/check/add",
        data={"body": "كلام لا يضيع", "file": _file(b"<?php echo 1; ?>", "a.jpg")},
        content_type="multipart/form-data",
        headers={"Accept-Language": lang},
    )
    page = _page(response)
    assert response.status_code == 400
    assert "كلام لا يضيع" in page
    assert re.search(r'id="file-error-1" class="error">[^<]+<', page)
    assert f'<html lang="{lang}"' in page
    assert _count() == 0
    assert db.session.scalar(select(func.count(InquiryUpdate.id))) == 0


def test_an_empty_addition_is_still_refused(client) -> None:
    _checked_in(client)
    response = client.post("/check/add", data={"body": "  "}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "This field is required." in _page(response) or "مطلوب" in _page(response)

"""The intake queue for caseworkers over HTTP."""

from __future__ import annotations

from cases.casework.models import Case
from cases.extensions import db
from cases.inquiries import services
from cases.inquiries.models import Inquiry, InquiryState
from tests.factories import PASSWORD, make_case

from .factories import make_inquiry


def _page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def test_queue_lists_new_inquiries_oldest_first(client, auth, caseworker) -> None:
    first, _ = make_inquiry(given_name="أول")
    second, _ = make_inquiry(given_name="ثاني")
    done, _ = make_inquiry(given_name="منتهي")
    services.reject_inquiry(caseworker, done, "spam", None)
    auth.login(caseworker)
    page = _page(client.get("/intake/"))
    assert page.index("أول") < page.index("ثاني")
    assert "منتهي" not in page
    assert "2 inquiries waiting" in page


def test_queue_marks_inquiries_an_existing_case_strongly_matches(client, auth, caseworker) -> None:
    make_case(
        caseworker,
        given_name="حيدر",
        father_name="كاظم",
        grandfather_name="جاسم",
        mother_name="زينب علي حسين",
    )
    make_inquiry()  # حيدر كاظم جاسم, mother زينب علي حسين: the same man
    make_inquiry(given_name="زيد", father_name="نوري", grandfather_name="سلمان")
    auth.login(caseworker)
    page = _page(client.get("/intake/"))
    rows = page.split("<tr>")[2:]
    assert "حيدر" in rows[0] and "May already have a case" in rows[0]
    assert "زيد" in rows[1] and "May already have a case" not in rows[1]


def test_admins_do_not_see_inquiries(client, auth, admin) -> None:
    make_inquiry()
    auth.login(admin)
    assert client.get("/intake/").status_code == 403


def test_inquiry_page_shows_possible_matches(client, auth, caseworker, other_caseworker) -> None:
    # The inquiry (factories.make_inquiry) asks about حيدر كاظم جاسم, mother زينب علي حسين.
    same = make_case(
        caseworker,
        given_name="حيدر",
        father_name="كاظم",
        grandfather_name="جاسم",
        mother_name="زينب علي حسين",
        latin_names=["Haider Kadhim Jasim"],
    )
    theirs = make_case(
        other_caseworker,
        given_name="Hayder",
        father_name="Kazim",
        grandfather_name="Jassim",
        mother_name="زينب علي حسين",
    )
    namesake = make_case(caseworker, given_name="حيدر", father_name="كاظم")
    inquiry, _ = make_inquiry()
    auth.login(caseworker)
    page = _page(client.get(f"/intake/{inquiry.id}"))
    assert same.reference in page
    assert "Strong match" in page
    assert "Mother&#39;s name: same (زينب علي حسين = زينب علي حسين)" in page
    # Another caseworker's case: its reference and holder, none of its details.
    assert theirs.reference in page
    assert "held by Ali; ask them or a supervisor" in page
    assert "Hayder" not in page
    # Same given and father's name, different grandfather and mother: not him.
    assert namesake.reference not in page


def test_inquiry_page_says_when_nothing_matches(client, auth, caseworker) -> None:
    inquiry, _ = make_inquiry(given_name="زيد", father_name="نوري")
    auth.login(caseworker)
    page = _page(client.get(f"/intake/{inquiry.id}"))
    assert "No existing case seems to be the same person." in page


def test_create_case_from_inquiry(client, auth, caseworker) -> None:
    inquiry, _ = make_inquiry()
    auth.login(caseworker)
    response = client.post(f"/intake/{inquiry.id}/create-case")
    case = db.session.scalar(db.select(Case))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    page = _page(client.get(f"/cases/{case.id}"))
    assert "was linked to this case" in page
    assert case.given_name == "حيدر"


def test_attach_by_reference(client, auth, caseworker) -> None:
    case = make_case(caseworker)
    inquiry, _ = make_inquiry()
    auth.login(caseworker)
    response = client.post(
        f"/intake/{inquiry.id}/attach", data={"case_reference": case.reference.lower()}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).case_id == case.id


def test_attach_to_an_unknown_or_foreign_case_keeps_the_form(
    client, auth, caseworker, other_caseworker
) -> None:
    theirs = make_case(other_caseworker)
    inquiry, _ = make_inquiry()
    auth.login(caseworker)
    for ref in ("ZZZ-ZZZ-ZZ", theirs.reference):
        response = client.post(f"/intake/{inquiry.id}/attach", data={"case_reference": ref})
        assert response.status_code == 400
        assert "No case with this reference that you work on." in _page(response)
        assert f'value="{ref}"' in _page(response)
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).state == InquiryState.NEW


def test_reject_with_reason(client, auth, caseworker) -> None:
    inquiry, _ = make_inquiry()
    auth.login(caseworker)
    response = client.post(
        f"/intake/{inquiry.id}/reject", data={"reason": "invalid", "comment": "test message"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Inquiry, inquiry.id)
    assert (stored.state, stored.reject_reason, stored.triage_comment) == (
        "rejected",
        "invalid",
        "test message",
    )


def test_alerts_show_family_news_and_clear_when_opened(client, auth, caseworker) -> None:
    inquiry, _ = make_inquiry()
    case = services.create_case_from_inquiry(caseworker, inquiry)
    services.add_family_information(inquiry, "new detail")
    auth.login(caseworker)
    nav = _page(client.get("/cases/"))
    assert 'News from families <span class="badge pending">1</span>' in nav
    alert_page = _page(client.get("/intake/alerts"))
    assert case.reference in alert_page
    alert_id = db.session.scalar(db.select(services.Alert.id))
    response = client.post(f"/intake/alerts/{alert_id}/open")
    assert response.headers["Location"].endswith(f"/cases/{case.id}#timeline")
    assert services.unread_alerts(caseworker) == 0


def test_someone_elses_alert_cannot_be_opened(client, auth, caseworker, other_caseworker) -> None:
    inquiry, _ = make_inquiry()
    services.create_case_from_inquiry(caseworker, inquiry)
    services.add_family_information(inquiry, "new detail")
    alert_id = db.session.scalar(db.select(services.Alert.id))
    auth.login(other_caseworker)
    assert client.post(f"/intake/alerts/{alert_id}/open").status_code == 404
    assert services.unread_alerts(caseworker) == 1


def test_supervisor_decides_family_data_requests(client, auth, caseworker, supervisor) -> None:
    inquiry, _ = make_inquiry()
    services.create_case_from_inquiry(caseworker, inquiry)
    request = services.request_about_data(inquiry, services.RequestKind.DELETION)
    auth.login(supervisor)
    page = _page(client.get("/oversight/approvals"))
    assert "The family asked to delete their information." in page
    response = client.post(f"/oversight/data-requests/{request.id}/decline", data={"comment": ""})
    assert response.status_code == 400
    assert "Say why you decline the request." in _page(response)
    db.session.expire_all()
    assert db.session.get(services.DataRequest, request.id).state == "pending"
    # Accepting a deletion erases data at once: the supervisor types their password again.
    client.post(
        f"/oversight/data-requests/{request.id}/accept",
        data={"comment": "Called the mother", "password": PASSWORD},
    )
    db.session.expire_all()
    decided = db.session.get(services.DataRequest, request.id)
    assert (decided.state, decided.decided_by_id, decided.comment) == (
        "accepted",
        supervisor.id,
        "Called the mother",
    )
    assert "No request from families is waiting." in _page(client.get("/oversight/approvals"))


def test_caseworkers_cannot_decide_data_requests(client, auth, caseworker) -> None:
    inquiry, _ = make_inquiry()
    request = services.request_about_data(inquiry, services.RequestKind.DELETION)
    auth.login(caseworker)
    assert client.post(f"/oversight/data-requests/{request.id}/accept").status_code == 403


def test_a_reference_read_out_on_the_phone_opens_the_inquiry(client, auth, caseworker) -> None:
    inquiry, _ = make_inquiry()
    auth.login(caseworker)
    typed = services.format_reference(inquiry.reference).translate(
        str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    )
    response = client.get("/intake/", query_string={"reference": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/intake/{inquiry.id}")
    missing = client.get("/intake/", query_string={"reference": "1111-2222"})
    assert missing.status_code == 200
    assert "No inquiry has this reference." in _page(missing)

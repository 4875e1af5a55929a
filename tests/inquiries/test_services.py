"""Inquiry rules without HTTP: codes, status mapping, family updates, triage."""

from __future__ import annotations

import re

import pytest

from cases.casework import services as casework
from cases.casework.models import Case, CaseStatus, NoteVisibility
from cases.casework.timeline import case_timeline
from cases.extensions import cache, db
from cases.inquiries import services
from cases.inquiries.models import (
    Alert,
    DataRequest,
    FamilyStatus,
    Inquiry,
    InquiryState,
    RequestKind,
)
from tests.factories import make_case

from .factories import make_inquiry


def test_submitting_stores_only_a_slow_hash_of_the_secret(app) -> None:
    inquiry, secret = make_inquiry()
    assert re.fullmatch(r"[1-9]\d{7}", inquiry.reference)
    assert re.fullmatch(r"[1-9]\d{11}", secret)
    assert inquiry.secret_hash.startswith("$argon2id$")
    assert secret not in inquiry.secret_hash
    assert inquiry.notice_version == services.NOTICE_VERSION
    assert inquiry.consent_search is True
    assert inquiry.state == InquiryState.NEW


def test_references_are_not_sequential(app) -> None:
    refs = [int(make_inquiry()[0].reference) for _ in range(6)]
    steps = {b - a for a, b in zip(refs, refs[1:], strict=False)}
    assert len(set(refs)) == 6
    assert steps != {1}


def test_no_consent_no_inquiry(app) -> None:
    with pytest.raises(services.InquiryError):
        make_inquiry(consent_search=False)
    assert db.session.scalar(db.select(db.func.count(Inquiry.id))) == 0


def test_find_inquiry_accepts_codes_as_people_type_them(app) -> None:
    inquiry, secret = make_inquiry()
    arabic_digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    typed_ref = services.format_reference(inquiry.reference).translate(arabic_digits)
    typed_secret = " ".join(services.format_secret(secret).split("-"))
    assert services.find_inquiry(typed_ref, typed_secret) == inquiry


def test_wrong_secret_and_unknown_reference_both_give_nothing(app) -> None:
    inquiry, secret = make_inquiry()
    wrong = str((int(secret) + 1) % 10**12).zfill(12)
    assert services.find_inquiry(inquiry.reference, wrong) is None
    assert services.find_inquiry("99999999", secret) is None
    assert services.find_inquiry("", "") is None


def test_family_status_is_coarse(app, caseworker, supervisor) -> None:
    inquiry, _ = make_inquiry()
    assert services.family_status(inquiry) == FamilyStatus.RECEIVED
    case = services.create_case_from_inquiry(caseworker, inquiry)
    assert services.family_status(inquiry) == FamilyStatus.UNDER_REVIEW
    casework.change_status(caseworker, case, CaseStatus.OPEN, "tracing")
    assert services.family_status(inquiry) == FamilyStatus.SEARCHING
    casework.change_status(caseworker, case, CaseStatus.LOCATED_DETAINED, "ICRC visit")
    # Detention or death is told by a person, never shown on the web page.
    assert services.family_status(inquiry) == FamilyStatus.SEARCHING


def test_rejected_inquiry_reads_as_closed(app, caseworker) -> None:
    inquiry, _ = make_inquiry()
    services.reject_inquiry(caseworker, inquiry, "spam", "advert")
    assert services.family_status(inquiry) == FamilyStatus.CLOSED
    assert inquiry.reject_reason == "spam"
    assert inquiry.triaged_by_id == caseworker.id


def test_reject_needs_a_known_reason(app, caseworker) -> None:
    inquiry, _ = make_inquiry()
    with pytest.raises(services.InquiryError):
        services.reject_inquiry(caseworker, inquiry, "boring", None)
    assert inquiry.state == InquiryState.NEW


def test_creating_a_case_carries_the_fields_over(app, caseworker) -> None:
    inquiry, _ = make_inquiry()
    case = services.create_case_from_inquiry(caseworker, inquiry)
    assert (case.given_name, case.father_name, case.grandfather_name, case.laqab) == (
        "حيدر",
        "كاظم",
        "جاسم",
        "الخفاجي",
    )
    assert case.mother_name == "زينب علي حسين"
    assert case.district_pcode == "IQG07Q04"
    assert case.age == 23 and case.age_estimated
    assert case.travel_company == "شركة الرافدين للسفر"
    assert case.owner_id == caseworker.id
    assert [(c.name, c.phone_e164) for c in case.contacts] == [("زينب كاظم", "+9647801234567")]
    # In words, as a caseworker would have typed it, not the form's code.
    assert case.contacts[0].relationship_to_person in {"Mother", "الأم", "أم"}
    assert inquiry.state == InquiryState.LINKED and inquiry.case_id == case.id
    kinds = [e.kind for e in case_timeline(case)]
    assert "inquiry_linked" in kinds


def test_an_inquiry_is_triaged_once(app, caseworker) -> None:
    inquiry, _ = make_inquiry()
    services.create_case_from_inquiry(caseworker, inquiry)
    with pytest.raises(services.InquiryError):
        services.create_case_from_inquiry(caseworker, inquiry)
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 1


def test_one_case_many_inquiries(app, caseworker) -> None:
    first, _ = make_inquiry()
    case = services.create_case_from_inquiry(caseworker, first)
    second, _ = make_inquiry(inquirer_name="علي كاظم", inquirer_phone="+9647711111111")
    services.attach_to_case(caseworker, second, case)
    assert second.case_id == case.id
    assert sorted(c.name for c in case.contacts) == ["زينب كاظم", "علي كاظم"]
    linked = [e for e in case_timeline(case) if e.kind == "inquiry_linked"]
    assert len(linked) == 2


def test_attaching_to_someone_elses_case_is_refused(app, caseworker, other_caseworker) -> None:
    theirs = make_case(other_caseworker)
    inquiry, _ = make_inquiry()
    with pytest.raises(services.InquiryError):
        services.attach_to_case(caseworker, inquiry, theirs)
    assert inquiry.case_id is None
    assert services.find_case_by_reference(caseworker, theirs.reference) is None
    assert services.find_case_by_reference(other_caseworker, theirs.reference.lower()) == theirs


def test_family_information_lands_on_the_timeline_and_alerts_the_owner(app, caseworker) -> None:
    inquiry, _ = make_inquiry()
    case = services.create_case_from_inquiry(caseworker, inquiry)
    services.add_family_information(inquiry, "اتصل بنا صديقه من روستوف")
    entries = [e for e in case_timeline(case) if e.kind == "family_update"]
    assert [e.item.body for e in entries] == ["اتصل بنا صديقه من روستوف"]
    assert services.unread_alerts(caseworker) == 1
    services.mark_alerts_read(caseworker, case)
    assert services.unread_alerts(caseworker) == 0


def test_empty_family_information_is_refused(app) -> None:
    inquiry, _ = make_inquiry()
    with pytest.raises(services.InquiryError):
        services.add_family_information(inquiry, "   ")


def test_only_shareable_notes_reach_the_family(app, caseworker) -> None:
    inquiry, _ = make_inquiry()
    case = services.create_case_from_inquiry(caseworker, inquiry)
    casework.add_note(caseworker, case, "internal: source in Rostov", visibility="internal")
    casework.add_note(
        caseworker, case, "We have contacted the ICRC.", visibility=NoteVisibility.SHAREABLE
    )
    assert [n.body for n in services.shareable_notes(inquiry)] == ["We have contacted the ICRC."]


def test_withdrawal_is_immediate_and_goes_to_a_supervisor(app, caseworker) -> None:
    inquiry, _ = make_inquiry()
    services.create_case_from_inquiry(caseworker, inquiry)
    request = services.request_about_data(inquiry, RequestKind.WITHDRAW_CONSENT)
    assert inquiry.consent_withdrawn_at is not None
    assert request.state == "pending"
    again = services.request_about_data(inquiry, RequestKind.WITHDRAW_CONSENT)
    assert again.id == request.id
    services.request_about_data(inquiry, RequestKind.DELETION)
    assert db.session.scalar(db.select(db.func.count(DataRequest.id))) == 2
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 2


def test_possible_matches_explain_themselves(app, caseworker, other_caseworker) -> None:
    same = make_case(
        other_caseworker,
        given_name="حَيدر",
        father_name="كاظم",
        grandfather_name="جاسم",
        mother_name="زينب علي حسين",
        district_pcode="IQG07Q04",
        age=24,
    )
    brother = make_case(
        caseworker,
        given_name="حيدر",
        father_name="كاظم",
        grandfather_name="محمد",
        mother_name="فاطمة",
        district_pcode="IQG11Q01",
        age=40,
    )
    make_case(caseworker, given_name="علي", father_name="حسن")
    inquiry, _ = make_inquiry()
    found = services.possible_matches(caseworker, inquiry)
    # The namesake with another grandfather and mother, from elsewhere, is not suggested.
    assert [m.case.id for m in found] == [same.id]
    (best,) = found
    assert best.result.band == "strong"
    verdicts = {r.field: r.verdict for r in best.result.reasons}
    assert verdicts["given"] == verdicts["mother"] == verdicts["place"] == "same"
    assert "Same district" in [r.detail for r in best.result.reasons]
    assert not best.visible  # another caseworker's case: shown as held by them
    assert brother.id not in {m.case.id for m in found}


def test_an_inquiry_does_not_suggest_its_own_case(app, caseworker) -> None:
    inquiry, _ = make_inquiry()
    case = services.create_case_from_inquiry(caseworker, inquiry)
    twin = make_case(
        caseworker,
        given_name="حيدر",
        father_name="كاظم",
        grandfather_name="جاسم",
        mother_name="زينب علي حسين",
    )
    assert [m.case.id for m in services.possible_matches(caseworker, inquiry)] == [twin.id]
    assert case.id != twin.id


def test_queue_marks_are_kept_for_a_while(app, caseworker, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "INTAKE_MARK_SECONDS", 300)
    cache.clear()
    inquiry, _ = make_inquiry()
    assert services.strongly_matched([inquiry]) == set()
    make_case(
        caseworker,
        given_name="حيدر",
        father_name="كاظم",
        grandfather_name="جاسم",
        mother_name="زينب علي حسين",
    )
    # The answer is kept: the queue does not search again on every view.
    assert services.strongly_matched([inquiry]) == set()
    cache.clear()
    assert services.strongly_matched([inquiry]) == {inquiry.id}

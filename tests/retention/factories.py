"""Cases and inquiries at the end of their life, with personal data that is easy to look for."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, select

from cases.auth.models import User
from cases.casework import services as casework
from cases.casework.models import Case, CaseStatus, StatusChange
from cases.casework.services import ContactDetails, DocumentDetails
from cases.clock import utcnow
from cases.crypto import EncryptedString
from cases.extensions import db
from cases.inquiries import services as inquiries
from cases.inquiries.models import Inquiry

from ..factories import make_case
from ..inquiries.factories import make_inquiry

# Unusual strings that appear nowhere else in the test data: any trace of them is a leak.
WORDS = {
    "given_name": "سلوان",
    "father_name": "زهير",
    "mother_name": "نرجس حميد",
    "latin": "Salwan Zuhair",
    "alias": "أبو الطيف",
    "document": "A77X51Q",
    "contact": "خالة سلوان",
    "circumstances": "اختفى قرب معبر ربيعة",
    "note": "اتصل المصدر من أربيل",
    "status_reason": "أغلقت بطلب من العائلة",
    "inquirer": "وداد الراوي",
    "update": "رسالة جديدة من قريب في تركيا",
}


def markers(n: int) -> dict[str, str]:
    """The markers of case number ``n`` (1 to 9): none is part of another case's."""
    found = {key: f"{word} {n}{n}" for key, word in WORDS.items()}
    found["phone"] = f"+96477055501{n}{n}"
    found["contact_phone"] = f"+96478055502{n}{n}"
    found["inquirer_phone"] = f"+96475055503{n}{n}"
    return found


def marked_case(owner: User, n: int, **overrides) -> Case:  # noqa: ANN003
    """A case full of personal data carrying the markers of number ``n``."""
    m = markers(n)
    values = dict(
        given_name=m["given_name"],
        father_name=m["father_name"],
        mother_name=m["mother_name"],
        circumstances=m["circumstances"],
        latin_names=[m["latin"]],
        aliases=[m["alias"]],
        phones=[m["phone"]],
        documents=[DocumentDetails("passport", m["document"])],
        contacts=[ContactDetails(m["contact"], "الخالة", m["contact_phone"], "ar")],
        birth_year=1990,
        birth_month=5,
        birth_day=17,
        locality="حي الجهاد",
    )
    values.update(overrides)
    case = make_case(owner, **values)
    casework.add_note(owner, case, m["note"])
    return case


def linked_inquiry(owner: User, case: Case, n: int) -> tuple[Inquiry, str]:
    """A family's inquiry attached to ``case``, with something they added later."""
    m = markers(n)
    inquiry, secret = make_inquiry(inquirer_name=m["inquirer"], inquirer_phone=m["inquirer_phone"])
    inquiries.attach_to_case(owner, inquiry, case)
    inquiries.add_family_information(inquiry, m["update"])
    return inquiry, secret


def close(
    caseworker: User,
    supervisor: User,
    case: Case,
    reason: str,
    days_ago: int,
    why: str = "closing",
) -> Case:
    """Close ``case`` for ``reason`` through the workflow, then date the closure back."""
    if reason == "in_contact":
        casework.change_status(caseworker, case, CaseStatus.OPEN, "started")
        casework.change_status(caseworker, case, CaseStatus.LOCATED_ALIVE, "found")
    request = casework.change_status(caseworker, case, CaseStatus.CLOSED, why, reason)
    casework.decide_approval(supervisor, request, True, "ok")
    back_date_closure(case, days_ago)
    return case


def back_date_closure(case: Case, days_ago: int) -> None:
    when = utcnow() - timedelta(days=days_ago)
    change = db.session.scalar(
        select(StatusChange)
        .filter_by(case_id=case.id, to_status=CaseStatus.CLOSED)
        .order_by(StatusChange.id.desc())
    )
    change.created_at = when
    case.last_activity_at = when
    db.session.commit()


def ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def text_everywhere() -> str:
    """Every text value in every table, decrypted where the column is encrypted."""
    parts = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | EncryptedString)]
        if columns:
            for row in db.session.execute(select(*columns)):
                parts += [str(v) for v in row if v is not None]
    return "\n".join(parts)

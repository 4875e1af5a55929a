"""A new case is checked against the existing ones before it is saved (cases.matching)."""

from __future__ import annotations

from cases.casework.models import Case
from cases.extensions import db
from cases.matching.candidates import find_matches
from cases.matching.decisions import not_same_case_ids
from cases.matching.records import PersonRecord
from tests.factories import make_case

from .test_case_views import FULL_CASE, browser_form, case_count, page


def _existing(owner, **overrides) -> Case:  # noqa: ANN001, ANN003
    """محمد عماد جبار, mother فاطمة حسين علي, from Al-Musayyib (tests.factories.make_case)."""
    return make_case(owner, **overrides)


def test_a_new_person_is_saved_at_once(client, auth, caseworker) -> None:
    # His brother: same mother, district and family phone, another given name.
    _existing(caseworker, given_name="علي", birth_year=1996, latin_names=[])
    auth.login(caseworker)
    response = client.post("/cases/new", data=browser_form(**FULL_CASE))
    assert response.status_code == 302
    assert case_count() == 2


def test_a_likely_duplicate_is_shown_and_nothing_is_saved(client, auth, caseworker) -> None:
    existing = _existing(caseworker)
    auth.login(caseworker)
    typed = FULL_CASE | {"given_name": "Mohammed", "father_name": "Imad", "latin_names": ""}
    response = client.post("/cases/new", data=browser_form(**typed))
    assert response.status_code == 200
    text = page(response)
    assert "This person may already have a case" in text
    assert existing.reference in text
    assert f'href="/cases/{existing.id}"' in text
    assert "Strong match" in text
    assert "Given name: same (Mohammed = محمد)" in text
    # The check-again button comes first: Enter in a field must not skip the check.
    assert text.index(">Save case<") < text.index("This is a different person — save anyway")
    # Nothing typed is lost.
    assert 'value="Mohammed"' in text
    assert 'value="فاطمة حسين علي"' in text
    assert case_count() == 1


def test_saving_anyway_creates_the_case(client, auth, caseworker) -> None:
    existing = _existing(caseworker)
    auth.login(caseworker)
    data = browser_form(**FULL_CASE) | {"different_person": "y"}
    response = client.post("/cases/new", data=data)
    assert response.status_code == 302
    assert case_count() == 2
    db.session.expire_all()
    new = db.session.scalar(db.select(Case).order_by(Case.id.desc()).limit(1))
    assert response.headers["Location"].endswith(f"/cases/{new.id}")
    assert new.given_name == "محمد"
    # Remembered: the new case's page does not suggest the other one again.
    assert not_same_case_ids(case_id=new.id) == {existing.id}
    assert find_matches(caseworker, PersonRecord.from_case(new), case_id=new.id) == []


def test_someone_elses_case_shows_only_its_reference_and_holder(
    client, auth, caseworker, other_caseworker
) -> None:
    theirs = _existing(other_caseworker)
    auth.login(caseworker)
    response = client.post("/cases/new", data=browser_form(**FULL_CASE))
    text = page(response)
    assert response.status_code == 200
    assert theirs.reference in text
    assert "held by Ali; ask them or a supervisor" in text
    assert f'href="/cases/{theirs.id}"' not in text
    assert "Given name: same" not in text
    assert case_count() == 1
    # Saved anyway: not remembered as different, the holder of that case has not looked.
    client.post("/cases/new", data=browser_form(**FULL_CASE) | {"different_person": "y"})
    assert case_count() == 2
    assert not_same_case_ids(case_id=theirs.id) == set()


def test_editing_a_case_does_not_warn_about_itself(client, auth, caseworker) -> None:
    case = _existing(caseworker)
    auth.login(caseworker)
    response = client.post(f"/cases/{case.id}/edit", data=browser_form(**FULL_CASE))
    assert response.status_code == 302
    assert "This person may already have a case" not in page(client.get(f"/cases/{case.id}"))

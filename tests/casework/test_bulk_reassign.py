"""Bulk reassignment: a supervisor gives many ticked cases on the list to one person at once."""

from __future__ import annotations

from html import unescape

import pytest

from cases.auth.models import Role
from cases.casework.models import Assignment, Case
from cases.casework.services import MAX_BULK_ASSIGN, CaseRuleError, reassign_cases
from cases.extensions import db

from ..factories import make_case, make_user

LIST_WITH_FILTERS = "/cases/?status=new&sort=name"


def owners(*cases: Case) -> list[int | None]:
    db.session.expire_all()
    return [db.session.get(Case, c.id).owner_id for c in cases]


def handovers(case: Case) -> list[Assignment]:
    """Assignments made after the one written when the case was opened."""
    rows = db.session.scalars(
        db.select(Assignment).filter_by(case_id=case.id).order_by(Assignment.id)
    ).all()
    return rows[1:]


def assignment_count() -> int:
    return db.session.scalar(db.select(db.func.count(Assignment.id)))


def page(response) -> str:  # noqa: ANN001
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def three_cases(caseworker) -> list[Case]:  # noqa: ANN001
    return [make_case(caseworker) for _ in range(3)]


def bulk_form(cases_or_ids, to_user, reason="Zainab is on leave", **extra) -> dict:  # noqa: ANN001
    ids = [str(c.id) if isinstance(c, Case) else c for c in cases_or_ids]
    return {"case_ids": ids, "to_user_id": str(to_user.id), "reason": reason} | extra


# --- the rule, without HTTP ----------------------------------------------------------------


def test_moves_exactly_the_selected_cases(supervisor, caseworker, other_caseworker, three_cases):
    first, second, untouched = three_cases

    moved = reassign_cases(supervisor, [first.id, second.id], other_caseworker, "  On leave  ")

    assert moved == 2
    assert owners(first, second, untouched) == [
        other_caseworker.id,
        other_caseworker.id,
        caseworker.id,
    ]
    for case in (first, second):
        [assignment] = handovers(case)
        assert assignment.actor_id == supervisor.id
        assert assignment.from_user_id == caseworker.id
        assert assignment.to_user_id == other_caseworker.id
        assert assignment.reason == "On leave"
    assert handovers(untouched) == []


def test_skips_cases_the_person_already_owns(supervisor, caseworker, other_caseworker):
    theirs = make_case(other_caseworker)
    mine = make_case(caseworker)

    assert reassign_cases(supervisor, [theirs.id, mine.id], other_caseworker, "Workload") == 1

    assert owners(theirs, mine) == [other_caseworker.id, other_caseworker.id]
    assert handovers(theirs) == []
    assert len(handovers(mine)) == 1


def test_ignores_ids_of_cases_that_do_not_exist(supervisor, other_caseworker, case):
    assert reassign_cases(supervisor, [case.id, case.id, 987654], other_caseworker, "Leave") == 1
    assert len(handovers(case)) == 1


@pytest.mark.parametrize("reason", [None, "", "   \n "])
def test_a_bulk_move_needs_a_reason(supervisor, caseworker, other_caseworker, case, reason):
    with pytest.raises(CaseRuleError, match="Say why"):
        reassign_cases(supervisor, [case.id], other_caseworker, reason)
    assert owners(case) == [caseworker.id]
    assert handovers(case) == []


def test_the_same_rules_as_a_single_assignment(
    supervisor, caseworker, other_caseworker, admin, case
):
    with pytest.raises(CaseRuleError, match="supervisor"):
        reassign_cases(caseworker, [case.id], other_caseworker, "Please take them")
    gone = make_user("former", Role.CASEWORKER, "Former")
    gone.active = False
    db.session.commit()
    for target in (admin, gone):
        with pytest.raises(CaseRuleError, match="active caseworker"):
            reassign_cases(supervisor, [case.id], target, "Reason")
    assert owners(case) == [caseworker.id]
    assert handovers(case) == []


def test_nothing_selected_or_too_many(supervisor, caseworker, other_caseworker, case):
    with pytest.raises(CaseRuleError, match="Tick"):
        reassign_cases(supervisor, [], other_caseworker, "Reason")
    too_many = [case.id, *range(10_000, 10_000 + MAX_BULK_ASSIGN)]
    with pytest.raises(CaseRuleError, match=str(MAX_BULK_ASSIGN)):
        reassign_cases(supervisor, too_many, other_caseworker, "Reason")
    assert owners(case) == [caseworker.id]


# --- over HTTP -----------------------------------------------------------------------------


def test_supervisor_sees_checkboxes_and_the_form(client, auth, supervisor, case):
    auth.login(supervisor)
    html = page(client.get(LIST_WITH_FILTERS))
    assert f'name="case_ids" value="{case.id}" form="bulk-assign"' in html
    assert 'id="bulk-assign" action="/cases/reassign"' in html
    # The filters come back with the form, so the supervisor returns to the same list.
    assert f'name="next" type="hidden" value="{LIST_WITH_FILTERS}"' in html


def test_caseworker_sees_no_checkboxes(client, auth, caseworker, case):
    auth.login(caseworker)
    html = page(client.get("/cases/"))
    assert case.reference in html
    assert "case_ids" not in html
    assert "bulk-assign" not in html


def test_supervisor_gives_the_ticked_cases_and_returns_to_the_filtered_list(
    client, auth, supervisor, caseworker, other_caseworker, three_cases
):
    first, second, untouched = three_cases
    auth.login(supervisor)

    response = client.post(
        "/cases/reassign",
        data=bulk_form([first, second], other_caseworker, next=LIST_WITH_FILTERS),
    )

    assert response.status_code == 302
    assert response.location == LIST_WITH_FILTERS
    assert "2 cases given to Ali." in page(client.get(response.location))
    assert owners(first, second, untouched) == [
        other_caseworker.id,
        other_caseworker.id,
        caseworker.id,
    ]
    assert [a.reason for a in handovers(first) + handovers(second)] == ["Zainab is on leave"] * 2


def test_the_case_timeline_shows_the_bulk_assignment(
    client, auth, supervisor, other_caseworker, case
):
    auth.login(supervisor)
    client.post("/cases/reassign", data=bulk_form([case], other_caseworker, "Ali knows Babil"))

    html = page(client.get(f"/cases/{case.id}"))
    timeline = html[html.index('id="timeline"') :]
    assert "From Zainab to Ali" in timeline
    assert "Ali knows Babil" in timeline


@pytest.mark.parametrize("role", ["caseworker", "admin"])
def test_only_supervisors_may_reassign(
    request, client, auth, caseworker, other_caseworker, case, role
):
    auth.login(request.getfixturevalue(role))
    before = assignment_count()

    response = client.post("/cases/reassign", data=bulk_form([case], other_caseworker))

    assert response.status_code == 403
    assert owners(case) == [caseworker.id]
    assert assignment_count() == before


def test_missing_reason_is_refused_with_a_message(
    client, auth, supervisor, caseworker, other_caseworker, three_cases
):
    auth.login(supervisor)
    before = assignment_count()

    response = client.post(
        "/cases/reassign",
        data=bulk_form(three_cases, other_caseworker, reason="  ", next=LIST_WITH_FILTERS),
    )

    assert response.status_code == 302
    assert response.location == LIST_WITH_FILTERS
    assert "Say why these cases are given to someone else." in page(client.get(response.location))
    assert owners(*three_cases) == [caseworker.id] * 3
    assert assignment_count() == before


def test_garbage_ids_are_ignored_without_an_error(
    client, auth, supervisor, caseworker, other_caseworker, three_cases
):
    first, *others = three_cases
    garbage = ["abc", "-1", "0", "99999999999999999999", "2147483648", "1e3", "", " 1", "١"]
    auth.login(supervisor)

    response = client.post("/cases/reassign", data=bulk_form([*garbage, first], other_caseworker))

    assert response.status_code == 302
    assert "1 case given to Ali." in page(client.get(response.location))
    assert owners(first, *others) == [other_caseworker.id, caseworker.id, caseworker.id]


def test_only_garbage_moves_nothing(client, auth, supervisor, caseworker, other_caseworker, case):
    auth.login(supervisor)
    before = assignment_count()

    response = client.post(
        "/cases/reassign", data=bulk_form(["abc", "99999999999999999999"], other_caseworker)
    )

    assert response.status_code == 302
    assert "Tick the cases to give to someone else." in page(client.get(response.location))
    assert owners(case) == [caseworker.id]
    assert assignment_count() == before


def test_at_most_500_ids_per_request(
    client, auth, supervisor, caseworker, other_caseworker, three_cases
):
    auth.login(supervisor)
    filler = [str(n) for n in range(100_000, 100_000 + MAX_BULK_ASSIGN)]
    before = assignment_count()

    # 501 values, even with some of them garbage: refused, nothing moves.
    too_many = bulk_form([*three_cases[:1], *filler], other_caseworker)
    response = client.post("/cases/reassign", data=too_many)
    assert response.status_code == 302
    assert "At most 500 cases can be given at once." in page(client.get(response.location))
    assert owners(*three_cases) == [caseworker.id] * 3
    assert assignment_count() == before

    # Exactly 500: accepted; the ids of cases that do not exist are ignored.
    at_the_cap = bulk_form([*three_cases, *filler[3:]], other_caseworker)
    assert len(at_the_cap["case_ids"]) == MAX_BULK_ASSIGN
    response = client.post("/cases/reassign", data=at_the_cap)
    assert "3 cases given to Ali." in page(client.get(response.location))
    assert owners(*three_cases) == [other_caseworker.id] * 3


def test_no_one_chosen_changes_nothing(client, auth, supervisor, caseworker, case):
    auth.login(supervisor)
    response = client.post(
        "/cases/reassign", data={"case_ids": [str(case.id)], "to_user_id": "", "reason": "X"}
    )
    assert "Choose who should take the cases." in page(client.get(response.location))
    assert owners(case) == [caseworker.id]


@pytest.mark.parametrize(
    "target", ["https://evil.example/cases/", "//evil.example/", "/\\evil.example", ""]
)
def test_return_address_stays_on_this_site(
    client, auth, supervisor, other_caseworker, case, target
):
    auth.login(supervisor)
    response = client.post("/cases/reassign", data=bulk_form([case], other_caseworker, next=target))
    assert response.status_code == 302
    assert response.location == "/cases/"

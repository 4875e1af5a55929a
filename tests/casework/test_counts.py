"""The case list counts exactly up to a cap, and says "more than" beyond it."""

from __future__ import annotations

from cases.casework import listing, views
from cases.casework.listing import CaseFilter, bounded_count, filtered_cases
from tests.factories import make_case


def test_bounded_count_is_exact_below_the_cap(app, supervisor, caseworker) -> None:
    for _ in range(3):
        make_case(caseworker)
    stmt = filtered_cases(supervisor, CaseFilter())
    assert bounded_count(stmt, cap=5) == 3
    assert bounded_count(stmt, cap=2) == 3  # cap + 1: enough to know it is over


def test_list_says_more_than_the_cap(client, auth, supervisor, caseworker, monkeypatch) -> None:
    for _ in range(3):
        make_case(caseworker)
    monkeypatch.setattr(views, "COUNT_CAP", 2)
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    auth.login(supervisor)
    page = client.get("/cases/").get_data(as_text=True)
    assert "More than 2 cases found" in page
    monkeypatch.setattr(views, "COUNT_CAP", 10)
    page = client.get("/cases/").get_data(as_text=True)
    assert "3 cases found" in page

"""The supervisor dashboard: exact figures on a known dataset, links, access, query count."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from cases.casework import services as casework
from cases.casework.models import Case, CaseStatus
from cases.clock import utcnow
from cases.extensions import db
from cases.oversight import charts, stats
from tests.factories import make_case, make_user
from tests.inquiries.factories import make_inquiry


def _set(case: Case, **values) -> None:  # noqa: ANN003
    for key, value in values.items():
        setattr(case, key, value)
    db.session.commit()


@pytest.fixture
def dataset(app, caseworker, other_caseworker, supervisor, second_supervisor):  # noqa: ANN001, ANN201
    """7 cases: 4 in Babil (3 of them in Al-Musayyib), 2 in Baghdad, 1 with no place."""
    now = utcnow()
    babil = [make_case(caseworker) for _ in range(3)]  # IQG07 / IQG07Q04 from the factory
    hilla = make_case(other_caseworker, district_pcode="IQG07Q02")
    baghdad = [
        make_case(other_caseworker, governorate_pcode="IQG05", district_pcode="IQG05Q01")
        for _ in range(2)
    ]
    nowhere = make_case(caseworker, governorate_pcode=None, district_pcode=None)
    # Statuses: 2 open, 1 located alive, 1 closed (approved), 3 new.
    for case in babil[:2]:
        casework.change_status(caseworker, case, CaseStatus.OPEN, "tracing")
    casework.change_status(other_caseworker, hilla, CaseStatus.OPEN, "tracing")
    casework.change_status(other_caseworker, hilla, CaseStatus.LOCATED_ALIVE, "found")
    casework.change_status(other_caseworker, baghdad[0], CaseStatus.OPEN, "tracing")
    request = casework.change_status(
        other_caseworker, baghdad[0], CaseStatus.CLOSED, "withdrew", "family_withdrew"
    )
    casework.decide_approval(supervisor, request, approve=True, comment="")
    # One pending approval.
    casework.change_status(caseworker, babil[0], CaseStatus.CLOSED, "dup", "duplicate")
    # Stale: babil[2] (new) and nowhere untouched for 40 days; closed ones never count.
    for case in (babil[2], nowhere):
        _set(case, last_activity_at=now - timedelta(days=40))
    _set(baghdad[0], last_activity_at=now - timedelta(days=90))
    # Created months: one case last month.
    last_month = (now.replace(day=1) - timedelta(days=1)).replace(hour=12)
    _set(baghdad[1], created_at=last_month)
    make_inquiry()
    make_inquiry()
    return {"babil": babil, "hilla": hilla, "baghdad": baghdad, "nowhere": nowhere}


def test_counts_by_status_and_place(dataset) -> None:
    figures = stats.compute(stale_days=30)
    assert figures.by_status == {
        "new": 3,
        "open": 2,
        "located_alive": 1,
        "located_detained": 0,
        "located_deceased": 0,
        "closed": 1,
    }
    assert figures.total == 7
    assert figures.by_governorate == [("IQG07", 4), ("IQG05", 2)]
    assert figures.by_district == [("IQG07Q04", 3), ("IQG05Q01", 2), ("IQG07Q02", 1)]


def test_new_cases_and_inquiries_per_month(dataset) -> None:
    figures = stats.compute(stale_days=30)
    assert len(figures.months) == 12
    assert figures.new_cases[-1] == 6 and figures.new_cases[-2] == 1
    assert sum(figures.new_cases) == 7
    assert figures.new_inquiries[-1] == 2


def test_stale_pending_and_caseload(dataset, caseworker, other_caseworker) -> None:
    figures = stats.compute(stale_days=30)
    assert figures.stale_cases == 2
    assert stats.compute(stale_days=100).stale_cases == 0
    assert figures.pending_approvals == 1
    loads = {user_id: counts for user_id, counts in figures.caseload}
    assert loads[caseworker.id] == {"new": 2, "open": 2}
    assert loads[other_caseworker.id] == {"new": 1, "located_alive": 1}


def test_median_days_in_status(app, caseworker) -> None:
    cases = [make_case(caseworker) for _ in range(3)]
    for days, case in zip((2, 4, 10), cases, strict=True):
        casework.change_status(caseworker, case, CaseStatus.OPEN, "tracing")
        # Pretend the case sat in "new" for `days` before it was opened.
        change = case_latest_change(case)
        change.seconds_in_previous = days * 86400
        db.session.commit()
    figures = stats.compute(stale_days=30)
    assert figures.median_days_in_status["new"] == 4.0
    assert figures.median_days_in_status["open"] is None
    casework.change_status(caseworker, cases[0], CaseStatus.LOCATED_ALIVE, "found")
    case_latest_change(cases[0]).seconds_in_previous = 86400
    db.session.commit()
    figures = stats.compute(stale_days=30)
    assert figures.median_days_in_status["open"] == 1.0


def case_latest_change(case: Case):  # noqa: ANN201
    from cases.casework.models import StatusChange

    return db.session.scalars(
        db.select(StatusChange).filter_by(case_id=case.id).order_by(StatusChange.id.desc())
    ).first()


def test_status_change_records_time_in_previous_status(app, caseworker) -> None:
    case = make_case(caseworker)
    first = case_latest_change(case)
    first.created_at = datetime.now() - timedelta(days=3)  # noqa: DTZ005 - naive UTC in DB
    db.session.commit()
    casework.change_status(caseworker, case, CaseStatus.OPEN, "tracing")
    seconds = case_latest_change(case).seconds_in_previous
    assert 3 * 86400 - 60 < seconds < 3 * 86400 + 4 * 3600


def test_dashboard_page_links_every_figure(client, auth, supervisor, dataset) -> None:
    auth.login(supervisor)
    response = client.get("/oversight/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/cases/?status=open"' in page
    assert 'href="/cases/?governorate=IQG07"' in page
    assert 'href="/cases/?district=IQG07Q04"' in page
    assert "inactive_days=30" in page
    assert 'href="/oversight/approvals"' in page
    assert "created_from=" in page
    assert '<svg class="chart bars"' in page
    assert '<svg class="chart lines"' in page
    assert "<summary>The numbers</summary>" in page


def test_dashboard_is_for_supervisors_only(client, auth, caseworker, admin) -> None:
    for user in (caseworker, admin):
        auth.login(user)
        assert client.get("/oversight/").status_code == 403
        auth.logout()


def test_arabic_dashboard_mirrors_the_charts(client, auth, supervisor, dataset) -> None:
    auth.login(supervisor, lang="ar")
    page = client.get("/oversight/").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert 'direction="rtl"' in page


def test_bar_chart_geometry_mirrors_in_rtl() -> None:
    rows = [("a", 10, "/a"), ("b", 5, "/b")]
    ltr, rtl = charts.bar_chart(rows, rtl=False), charts.bar_chart(rows, rtl=True)
    assert ltr.bars[0].width == rtl.bars[0].width == 2 * ltr.bars[1].width
    assert ltr.bars[0].x == charts.LABEL_WIDTH
    assert rtl.bars[0].x + rtl.bars[0].width == charts.WIDTH - charts.LABEL_WIDTH
    assert ltr.bars[0].label_x < ltr.bars[0].x  # label left of the bar
    assert rtl.bars[0].x + rtl.bars[0].width < rtl.bars[0].label_x  # label right of the bar


def test_line_chart_time_runs_with_the_reading_direction() -> None:
    ltr = charts.line_chart([("x", [1, 2, 3], "c")], ["m1", "m2", "m3"], rtl=False)
    rtl = charts.line_chart([("x", [1, 2, 3], "c")], ["m1", "m2", "m3"], rtl=True)
    assert ltr.labels[0][0] < ltr.labels[-1][0]
    assert rtl.labels[0][0] > rtl.labels[-1][0]


def _count_statements(app, fn) -> int:  # noqa: ANN001
    seen = []

    def record(*_args) -> None:  # noqa: ANN002
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(seen)


@pytest.mark.parametrize("url", ["/oversight/", "/cases/", "/oversight/approvals"])
def test_no_n_plus_one(app, client, auth, supervisor, caseworker, url: str) -> None:
    """The number of queries a page makes does not grow with the number of cases."""
    auth.login(supervisor)
    # One of each kind of row first, so loaders that only run when rows exist are counted.
    casework.change_status(caseworker, make_case(caseworker), CaseStatus.CLOSED, "d", "duplicate")
    few = _count_statements(app, lambda: client.get(url))
    more_people = [make_user(f"cw{i}", caseworker.role, f"CW {i}") for i in range(3)]
    for person in more_people:
        for _ in range(4):
            casework.change_status(person, make_case(person), CaseStatus.CLOSED, "dup", "duplicate")
    many = _count_statements(app, lambda: client.get(url))
    assert many == few


def test_the_case_list_behind_the_stale_and_month_figures(client, auth, supervisor, dataset):  # noqa: ANN001, ANN201
    auth.login(supervisor)
    stale = client.get(
        "/cases/", query_string={"status": list(stats.OPEN_STATUSES), "inactive_days": 30}
    ).get_data(as_text=True)
    assert "2 cases found" in stale
    assert dataset["babil"][2].reference in stale and dataset["nowhere"].reference in stale
    last_month = stats.compute(stale_days=30).months[-2]
    created = client.get(
        "/cases/",
        query_string={
            "created_from": last_month.isoformat(),
            "created_to": (stats.next_month(last_month) - timedelta(days=1)).isoformat(),
        },
    ).get_data(as_text=True)
    assert "1 case found" in created
    assert dataset["baghdad"][1].reference in created


class _InlineThread:
    """Runs the refresh at once, so the test sees what the background thread would do."""

    def __init__(self, target, args, daemon) -> None:  # noqa: ANN001
        self._target, self._args = target, args

    def start(self) -> None:
        self._target(*self._args)


def test_figures_are_served_from_cache_and_refreshed_ahead(app, caseworker, monkeypatch) -> None:
    from cases.extensions import cache

    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    cache.clear()
    make_case(caseworker)
    assert stats.dashboard(30).total == 1
    make_case(caseworker)
    assert stats.dashboard(30).total == 1  # fresh enough: no recomputation
    monkeypatch.setattr(stats, "Thread", _InlineThread)
    monkeypatch.setattr(stats, "utcnow", lambda: utcnow() + timedelta(minutes=5))
    assert stats.dashboard(30).total == 1  # stale: served as is while the refresh runs
    assert stats.dashboard(30).total == 2  # the refreshed figures
    cache.clear()


def test_median_of_a_histogram() -> None:
    assert stats._median({}) is None
    assert stats._median({3: 1}) == 3
    assert stats._median({1: 1, 5: 1}) == 3
    assert stats._median({0: 5, 9: 4}) == 0
    assert stats._median({0: 2, 2: 1, 7: 3}) == 4.5

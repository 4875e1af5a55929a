"""The supervisor dashboard's figures, each one aggregate query over indexed columns.

Every figure is computed in the database (GROUP BY over covering indexes); nothing loads
cases into Python. The whole set is cached for a few minutes (Flask-Caching: per process, or
Redis when REDIS_URL is set) because supervisors look at trends, not at the last second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from threading import Thread

from flask import Flask, current_app
from sqlalchemy import func, select

from ..auth.models import Role, User
from ..casework.models import ApprovalRequest, ApprovalState, Case, CaseStatus, StatusChange
from ..clock import utcnow
from ..extensions import cache, db
from ..inquiries.models import Inquiry

KEEP_SECONDS = 24 * 3600  # stale figures are still better than a blank page
REFRESH_LOCK_SECONDS = 120
OPEN_STATUSES = tuple(s.value for s in CaseStatus if s != CaseStatus.CLOSED)


@dataclass
class Dashboard:
    computed_at: datetime
    stale_days: int
    by_status: dict[str, int]
    by_governorate: list[tuple[str, int]]
    by_district: list[tuple[str, int]]
    months: list[date]
    new_cases: list[int]
    new_inquiries: list[int]
    median_days_in_status: dict[str, float | None]
    stale_cases: int
    pending_approvals: int
    caseload: list[tuple[User, dict[str, int]]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def dashboard(stale_days: int, months: int = 12) -> Dashboard:
    """All figures, served from the cache and refreshed ahead of time.

    At a million cases computing every figure takes seconds on PostgreSQL
    (bench/dashboard.py). Once figures exist, a request never waits for them: when they are
    older than DASHBOARD_CACHE_SECONDS one background thread (one per cache, thanks to an
    atomic add) recomputes them while supervisors keep seeing the previous set.
    """
    refresh_after = int(current_app.config.get("DASHBOARD_CACHE_SECONDS", 0))
    if not refresh_after:
        return _with_users(compute(stale_days, months))
    key = f"dashboard:{stale_days}:{months}"
    figures = cache.get(key)
    if figures is None:
        figures = compute(stale_days, months)
        cache.set(key, figures, timeout=KEEP_SECONDS)
    elif (utcnow() - figures.computed_at).total_seconds() > refresh_after and cache.add(
        key + ":refreshing", True, timeout=REFRESH_LOCK_SECONDS
    ):
        app = current_app._get_current_object()  # noqa: SLF001 - the thread needs the app
        Thread(target=_refresh, args=(app, key, stale_days, months), daemon=True).start()
    return _with_users(figures)


def _refresh(app: Flask, key: str, stale_days: int, months: int) -> None:
    with app.app_context():
        try:
            cache.set(key, compute(stale_days, months), timeout=KEEP_SECONDS)
        except Exception:  # keep serving the previous figures; the next request retries
            app.logger.exception("Refreshing the dashboard figures failed")
        finally:
            cache.delete(key + ":refreshing")
            db.session.remove()


def compute(stale_days: int, months: int = 12, now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard, straight from the database."""
    now = now or utcnow()
    first_month = _month_start(now.date(), months - 1)
    month_list = [_month_start(now.date(), months - 1 - i) for i in range(months)]
    by_status = dict(
        db.session.execute(select(Case.status, func.count()).group_by(Case.status)).all()
    )
    by_governorate = _pairs(
        select(Case.governorate_pcode, func.count())
        .where(Case.governorate_pcode.is_not(None))
        .group_by(Case.governorate_pcode)
    )
    by_district = _pairs(
        select(Case.district_pcode, func.count())
        .where(Case.district_pcode.is_not(None))
        .group_by(Case.district_pcode)
    )
    new_cases = _per_month(Case.created_at, first_month, month_list)
    new_inquiries = _per_month(Inquiry.created_at, first_month, month_list)
    stale_before = now - timedelta(days=stale_days)
    stale = db.session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.status.in_(OPEN_STATUSES), Case.last_activity_at < stale_before)
    )
    pending = db.session.scalar(
        select(func.count())
        .select_from(ApprovalRequest)
        .where(ApprovalRequest.state == ApprovalState.PENDING)
    )
    caseload_rows = db.session.execute(
        select(Case.owner_id, Case.status, func.count())
        .where(Case.status.in_(OPEN_STATUSES), Case.owner_id.is_not(None))
        .group_by(Case.owner_id, Case.status)
    ).all()
    caseload: dict[int, dict[str, int]] = {}
    for owner_id, status, count in caseload_rows:
        caseload.setdefault(owner_id, {})[status] = count
    return Dashboard(
        computed_at=now,
        stale_days=stale_days,
        by_status={s.value: by_status.get(s.value, 0) for s in CaseStatus},
        by_governorate=by_governorate,
        by_district=by_district,
        months=month_list,
        new_cases=new_cases,
        new_inquiries=new_inquiries,
        median_days_in_status=_median_days_by_status(),
        stale_cases=stale or 0,
        pending_approvals=pending or 0,
        caseload=[(owner_id, counts) for owner_id, counts in caseload.items()],
    )


def _with_users(figures: Dashboard) -> Dashboard:
    """Caseload rows carry user ids in the cache; names are looked up fresh (one query)."""
    ids = [row[0] for row in figures.caseload if not isinstance(row[0], User)]
    if not ids:
        return figures
    users = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_(ids), User.role != Role.ADMIN))
    }
    rows = [(users[i], counts) for i, counts in figures.caseload if i in users]
    rows.sort(key=lambda row: (-sum(row[1].values()), row[0].display_name))
    return Dashboard(**{**figures.__dict__, "caseload": rows})


def _pairs(stmt) -> list[tuple[str, int]]:  # noqa: ANN001
    rows = db.session.execute(stmt).all()
    return sorted(((code, count) for code, count in rows), key=lambda r: (-r[1], r[0]))


def _month_start(today: date, months_back: int) -> date:
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_key(column):  # noqa: ANN001, ANN202
    """'YYYY-MM' of a timestamp, in the database's own dialect."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _per_month(column, first: date, months: list[date]) -> list[int]:  # noqa: ANN001
    key = _month_key(column)
    rows = dict(
        db.session.execute(
            select(key, func.count())
            .where(column >= datetime(first.year, first.month, 1))
            .group_by(key)
        ).all()
    )
    return [rows.get(m.strftime("%Y-%m"), 0) for m in months]


def _median_days_by_status() -> dict[str, float | None]:
    """Median days cases spent in each status before moving on (completed stays only).

    Both ways read the covering index (from_status, seconds_in_previous); each database is
    fastest with a different one (bench/dashboard.py, a million cases).
    """
    if db.engine.dialect.name == "sqlite":
        return {s.value: _median_days_by_offset(s.value) for s in CaseStatus}
    return _median_days_by_histogram()


def _median_days_by_offset(status: str) -> float | None:
    """SQLite: count the stays, then read the middle one(s) in index order."""
    where = (StatusChange.from_status == status, StatusChange.seconds_in_previous.is_not(None))
    n = db.session.scalar(select(func.count()).select_from(StatusChange).where(*where)) or 0
    if n == 0:
        return None
    middle = db.session.scalars(
        select(StatusChange.seconds_in_previous)
        .where(*where)
        .order_by(StatusChange.seconds_in_previous)
        .offset((n - 1) // 2)
        .limit(2 if n % 2 == 0 else 1)
    ).all()
    return round(sum(middle) / len(middle) / 86400, 1)


def _median_days_by_histogram() -> dict[str, float | None]:
    """PostgreSQL: one pass counting stays per whole day; the median is read off that
    histogram, to the day (offsets deep into an index are slow there)."""
    day = StatusChange.seconds_in_previous // 86400
    rows = db.session.execute(
        select(StatusChange.from_status, day, func.count())
        .where(StatusChange.seconds_in_previous.is_not(None))
        .group_by(StatusChange.from_status, day)
    ).all()
    histograms: dict[str, dict[int, int]] = {}
    for status, days, count in rows:
        histograms.setdefault(status, {})[int(days)] = count
    return {s.value: _median(histograms.get(s.value, {})) for s in CaseStatus}


def _median(histogram: dict[int, int]) -> float | None:
    """The median of values given as {value: how many times}."""
    total = sum(histogram.values())
    if not total:
        return None
    lower, upper = (total - 1) // 2, total // 2
    seen, low_value = 0, None
    for value in sorted(histogram):
        seen += histogram[value]
        if low_value is None and seen > lower:
            low_value = value
        if seen > upper:
            return (low_value + value) / 2
    return None

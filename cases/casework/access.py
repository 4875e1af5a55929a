"""Who may see and change which case: the one data-level helper every view goes through.

Supervisors see all cases; a caseworker sees the cases they own and those explicitly shared
with them; admins see none. Anything else is a 404, so ids of other people's cases reveal
nothing (not even that they exist).

A case merged into another as a duplicate (cases.matching.decisions) follows the case it was
merged into: whoever works on that one works on its duplicates, whose notes and inquiries are
part of the same search. The case list still shows only a caseworker's own and shared cases;
duplicates are reached from the case they were merged into.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import abort
from sqlalchemy import Select, false, or_, select

from ..auth.models import Role, User
from ..extensions import db
from .models import Case, CaseShare

# Merges can chain (A into B, later B into C); a longer chain than this is not followed.
MAX_MERGE_CHAIN = 20


def visible_cases(user: User, stmt: Select | None = None) -> Select:
    """``stmt`` (default: all cases) narrowed to the cases ``user`` may see."""
    stmt = stmt if stmt is not None else select(Case)
    if user.role == Role.SUPERVISOR:
        return stmt
    if user.role == Role.CASEWORKER:
        # The few shared ids are fetched first: "owner OR id IN (subquery)" makes PostgreSQL
        # scan the whole table, while "owner OR id IN (1, 2)" uses two indexes
        # (bench/case_list.py).
        shared = db.session.scalars(
            select(CaseShare.case_id).where(CaseShare.user_id == user.id)
        ).all()
        mine = Case.owner_id == user.id
        return stmt.where(or_(mine, Case.id.in_(shared)) if shared else mine)
    return stmt.where(false())


def can_work_on(user: User, case: Case) -> bool:
    if user.role == Role.SUPERVISOR:
        return True
    if user.role != Role.CASEWORKER:
        return False
    return any(
        c.owner_id == user.id or db.session.get(CaseShare, (c.id, user.id)) is not None
        for c in _case_and_survivors(case)
    )


def _case_and_survivors(case: Case) -> Iterator[Case]:
    """The case, then the case it was merged into, and so on."""
    seen: set[int] = set()
    current: Case | None = case
    while current is not None and current.id not in seen and len(seen) < MAX_MERGE_CHAIN:
        seen.add(current.id)
        yield current
        current = db.session.get(Case, current.duplicate_of_id) if current.duplicate_of_id else None


def get_case(user: User, case_id: int) -> Case:
    """The case if ``user`` may see it, else 404."""
    case = db.session.get(Case, case_id)
    if case is None or not can_work_on(user, case):
        abort(404)
    return case


def can_see_contacts(user: User, case: Case) -> bool:
    """Family contact details: only the case owner and supervisors (minimisation; a colleague
    the case is shared with works on the search, not with the family). The owner of the case a
    duplicate was merged into now works with that family too."""
    if user.role == Role.SUPERVISOR:
        return True
    return user.role == Role.CASEWORKER and any(
        c.owner_id == user.id for c in _case_and_survivors(case)
    )

"""The case list: filters, name search and sorting, all checked against allow-lists."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import ClauseElement, Label, Select, func, intersect, select, union_all
from sqlalchemy.sql.visitors import replacement_traverse
from werkzeug.datastructures import MultiDict

from .. import places
from ..auth.models import Role, User
from ..auth.services import case_staff
from ..clock import utcnow
from ..extensions import db
from ..matching.keys import is_arabic, search_skeletons, skeleton
from ..matching.normalize import search_tokens
from .access import visible_cases
from .forms import LABELS, CaseFilterForm, district_choices, governorate_choices, options
from .models import Case, CaseNameToken

SORTS = {
    "activity": (Case.last_activity_at.desc(), Case.id.desc()),
    "oldest_activity": (Case.last_activity_at.asc(), Case.id.asc()),
    "created": (Case.created_at.desc(), Case.id.desc()),
    "name": (Case.name_key.asc(), Case.id.asc()),
    "last_contact": (Case.last_contact_date.desc(), Case.id.desc()),
    "reference": (Case.reference.asc(),),
}
DEFAULT_SORT = "activity"
MAX_QUERY_TOKENS = 6
COUNT_CAP = 10_000
ONE_DAY = timedelta(days=1)
SEARCH_IDS_INLINE = 5_000
# Latin and Cyrillic tokens are folded to ASCII, so they all sort below this.
ASCII_END = "\x80"
# Marks "cases.id + 0" in a broad name search (see filtered_cases and bounded_count).
_UNINDEXED_ID = "unindexed_case_id"


@dataclass
class CaseFilter:
    status: list[str] | None = None
    governorate: str | None = None
    district: str | None = None
    owner_id: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    contact_from: date | None = None
    contact_to: date | None = None
    created_from: date | None = None
    created_to: date | None = None
    inactive_days: int | None = None
    q: str | None = None
    sort: str = DEFAULT_SORT


def count_filters(filters: CaseFilter) -> int:
    """How many filters (the name search included) are set; the sort order is not one."""
    return sum(
        1
        for f in fields(CaseFilter)
        if f.name != "sort" and getattr(filters, f.name) not in (None, "", [])
    )


def case_filter_from_args(args: MultiDict) -> tuple[CaseFilterForm, CaseFilter]:
    """The case list's query string as a form (to redisplay) and a CaseFilter (to query).

    Shared by the list and its exports so both always select the same cases. Values outside
    the allow-lists (unknown statuses, places, sorts, out-of-range ages) are dropped, never an
    error page.
    """
    form = CaseFilterForm(args)
    form.governorate.choices = governorate_choices(blank=_("All"))
    form.district.choices = district_choices(blank=_("All"))
    form.owner.choices = options(((u.id, u.display_name) for u in case_staff()), _("All"))
    form.validate()
    filters = CaseFilter(
        status=[s for s in (form.status.data or []) if s in LABELS["status"]],
        governorate=_known_place(form.governorate.data, places.governorate),
        district=_known_place(form.district.data, places.district),
        owner_id=int(form.owner.data) if (form.owner.data or "").isdigit() else None,
        age_min=None if form.age_min.errors else form.age_min.data,
        age_max=None if form.age_max.errors else form.age_max.data,
        contact_from=None if form.contact_from.errors else form.contact_from.data,
        contact_to=None if form.contact_to.errors else form.contact_to.data,
        created_from=None if form.created_from.errors else form.created_from.data,
        created_to=None if form.created_to.errors else form.created_to.data,
        inactive_days=None if form.inactive_days.errors else form.inactive_days.data,
        q=(form.q.data or "").strip()[:200] or None,
        sort=form.sort.data if form.sort.data in SORTS else DEFAULT_SORT,
    )
    return form, filters


def _known_place(value: str | None, lookup) -> str | None:  # noqa: ANN001
    return value if value and lookup(value) is not None else None


def _prefix_bounds(token: str) -> tuple[str, str]:
    # Prefix search as a range so both databases use the (token, case_id) index.
    return token, token[:-1] + chr(ord(token[-1]) + 1)


def _token_case_ids(token: str, skeletons: frozenset[str]) -> Select:
    """Ids of cases with a stored token that begins with ``token`` or has one of its
    skeletons (Mohammed ↔ محمد); a case may come more than once.

    Each side reads one index, (token, case_id) or (skeleton, token, case_id), without touching
    the table. They are joined by UNION ALL rather than OR: PostgreSQL would turn an OR into a
    bitmap scan of the table, twice as slow.
    """
    column = CaseNameToken.token
    low, high = _prefix_bounds(token)
    if not skeletons:
        return select(CaseNameToken.case_id).where(column >= low, column < high)
    by_skeleton = select(CaseNameToken.case_id).where(CaseNameToken.skeleton.in_(skeletons))
    if is_arabic(token):
        # Arabic spellings already meet through normalisation; the skeleton only adds Latin
        # and Cyrillic ones (stored as ASCII), so «حسن» does not list every حسين. A Latin row
        # keeps its skeleton only when no Arabic token of the case has it, so this side reads
        # just the cases known by a Latin spelling alone.
        by_prefix = select(CaseNameToken.case_id).where(column >= low, column < high)
        by_skeleton = by_skeleton.where(column < ASCII_END)
    else:
        # Every case with the token itself has its skeleton on some row: leave the token out
        # of the prefix range (">") so the rows of a common name are not read twice.
        after = column > low if skeleton(token) in skeletons else column >= low
        by_prefix = select(CaseNameToken.case_id).where(after, column < high)
    either = union_all(by_prefix, by_skeleton).subquery()
    return select(either.c.case_id)


def filtered_cases(user: User, f: CaseFilter, today: date | None = None) -> Select:
    """The cases ``user`` may see that match ``f``, sorted; a Select ready to paginate."""
    stmt = visible_cases(user, select(Case))
    if f.status:
        stmt = stmt.where(Case.status.in_(f.status))
    if f.governorate:
        stmt = stmt.where(Case.governorate_pcode == f.governorate)
    if f.district:
        stmt = stmt.where(Case.district_pcode == f.district)
    if f.owner_id:
        stmt = stmt.where(Case.owner_id == f.owner_id)
    year = (today or date.today()).year
    if f.age_min is not None:
        stmt = stmt.where(Case.birth_year_key <= year - f.age_min)
    if f.age_max is not None:
        stmt = stmt.where(Case.birth_year_key >= year - f.age_max)
    if f.contact_from:
        stmt = stmt.where(Case.last_contact_date >= f.contact_from)
    if f.contact_to:
        stmt = stmt.where(Case.last_contact_date <= f.contact_to)
    if f.created_from:
        stmt = stmt.where(Case.created_at >= datetime.combine(f.created_from, time.min))
    if f.created_to:
        stmt = stmt.where(Case.created_at < datetime.combine(f.created_to, time.min) + ONE_DAY)
    if f.inactive_days:
        stmt = stmt.where(Case.last_activity_at < utcnow() - timedelta(days=f.inactive_days))
    tokens = search_tokens(f.q)[:MAX_QUERY_TOKENS] if f.q else []
    if tokens:
        # One INTERSECT of the tokens' case ids: several times faster than one IN per token
        # when the names are common (محمد matches a fifth of all cases).
        per_token = [
            _token_case_ids(token, skeletons)
            for token, skeletons in zip(tokens, search_skeletons(tokens), strict=True)
        ]
        if user.role != Role.SUPERVISOR:
            # A caseworker sees a few thousand cases: intersect with those first, so the ids
            # are fetched (below) instead of walking the sort index over everyone's cases.
            per_token.append(visible_cases(user, select(Case.id)))
        matching = per_token[0] if len(per_token) == 1 else intersect(*per_token)
        # Fetch the matching ids first when there are not too many: planners misjudge how few
        # rows a token intersection yields and then scan the whole cases table.
        ids = db.session.scalars(matching.limit(SEARCH_IDS_INLINE + 1)).all()
        if len(ids) <= SEARCH_IDS_INLINE:
            stmt = stmt.where(Case.id.in_(sorted(set(ids))))  # a case can match twice
        else:
            # So many cases match that walking the sort order's index and checking each one
            # against the matching set finds a page sooner than fetching them all and sorting:
            # "+ 0" keeps SQLite's planner from driving the page by the set. Counting is
            # quicker driven by the set, unless the cases are one owner's (a caseworker's
            # list, the owner filter): bounded_count takes "+ 0" out where it is labelled.
            unindexed = Case.id + 0
            if user.role == Role.SUPERVISOR and not f.owner_id:
                unindexed = unindexed.label(_UNINDEXED_ID)
            stmt = stmt.where(unindexed.in_(matching))
    return stmt.order_by(*SORTS.get(f.sort, SORTS[DEFAULT_SORT]))


def _indexed_id(element: ClauseElement) -> ClauseElement | None:
    """Case.id in place of the unindexed "cases.id + 0" of a broad name search."""
    return Case.id if isinstance(element, Label) and element.name == _UNINDEXED_ID else None


def bounded_count(stmt: Select, cap: int = COUNT_CAP) -> int:
    """How many rows ``stmt`` yields, counting no further than ``cap`` + 1.

    Counting every match of a broad filter costs more than showing the page itself; past the
    cap the list says "more than 10,000".
    """
    counted = replacement_traverse(stmt.order_by(None).with_only_columns(Case.id), {}, _indexed_id)
    limited = counted.limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(limited)) or 0

"""The status workflow: one transition table and the rules around it.

Documented for caseworkers in the README ("Case statuses").
"""

from __future__ import annotations

from .models import CaseStatus as S
from .models import ClosureReason as R

# Where a case may go from each status. Reopening a closed case is CLOSED -> OPEN.
TRANSITIONS: dict[S, frozenset[S]] = {
    S.NEW: frozenset({S.OPEN, S.CLOSED}),
    S.OPEN: frozenset({S.LOCATED_ALIVE, S.LOCATED_DETAINED, S.LOCATED_DECEASED, S.CLOSED}),
    S.LOCATED_ALIVE: frozenset({S.OPEN, S.LOCATED_DETAINED, S.LOCATED_DECEASED, S.CLOSED}),
    S.LOCATED_DETAINED: frozenset({S.OPEN, S.LOCATED_ALIVE, S.LOCATED_DECEASED, S.CLOSED}),
    S.LOCATED_DECEASED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset({S.OPEN}),
}

# Four-eyes: these are requested by one person and carried out when a supervisor approves.
NEEDS_APPROVAL: frozenset[S] = frozenset({S.LOCATED_DECEASED, S.CLOSED})

# A closure reason must fit where the case stands: "death confirmed" only after "located
# deceased", "in contact" only once he has been found alive or in detention.
CLOSURE_REASONS_FROM: dict[R, frozenset[S]] = {
    R.IN_CONTACT: frozenset({S.LOCATED_ALIVE, S.LOCATED_DETAINED}),
    R.DEATH_CONFIRMED: frozenset({S.LOCATED_DECEASED}),
    R.FAMILY_WITHDREW: frozenset(set(S) - {S.CLOSED}),
    R.DUPLICATE: frozenset(set(S) - {S.CLOSED}),
    R.NO_TRACE: frozenset({S.OPEN, S.LOCATED_DETAINED}),
}

# Merging a duplicate into the case it repeats (cases.matching.decisions) closes it from
# wherever it stands, an already closed case included (its reason becomes "duplicate"): the
# supervisor approving the merge is the second person. Undoing the merge puts it back.
MERGE_CLOSES_FROM: frozenset[S] = frozenset(S)


def allowed_targets(current: str) -> frozenset[S]:
    return TRANSITIONS.get(S(current), frozenset())


def closure_reasons_for(current: str) -> list[R]:
    return [r for r in R if S(current) in CLOSURE_REASONS_FROM[r]]

"""A case's life in one place: the status moves allowed, and the one function that makes them.

Every service that changes Case.status calls case_move(), which is a conditional UPDATE
(`WHERE status IN <the states this move may leave>`): its row count says whether the case
moved, so a move that lost a race to another one does nothing and records nothing.

The table says, for each (from, to) move, which timeline events the move may record. It
holds sets, not one event, because several services make the same move and each records
what it did: a case goes from in review to closed by a sign-off (`reviewed`) and from in
review to in review again by a claim or a reassignment. `None` in a set is a move that
records no event of its own: the service records its event (a claim released, a photo
removed, an analysis finished) whether or not the case moved, so it writes it itself.

Several moves leave from any state: the services that make them (a claim, a decision)
update the case whatever it stood at, and they are kept so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from audit.models import TimelineKind
from audit.services import record_event
from diagnosis.models import Case, CaseStatus

S = CaseStatus
ANY_STATE = frozenset(CaseStatus)

# (the states a case may leave, the state it goes to, the event the move records).
_LIFE: tuple[tuple[frozenset[CaseStatus], CaseStatus, TimelineKind | None], ...] = (
    # An analysis finished with flags (diagnosis.services.analysis_record_result); a case
    # someone is reviewing, or that waits for a second opinion, keeps its state.
    (frozenset({S.OPEN, S.AWAITING_REVIEW, S.AWAITING_RETAKE, S.CLOSED}), S.AWAITING_REVIEW,
     None),
    # A dermatologist claims the case, or an administrator hands it to one.
    (ANY_STATE, S.IN_REVIEW, TimelineKind.CLAIMED),
    (ANY_STATE, S.IN_REVIEW, TimelineKind.REASSIGNED),
    # The claim was released or ran out: back to the queue, or to the second opinion.
    (frozenset({S.IN_REVIEW}), S.AWAITING_REVIEW, None),
    (frozenset({S.IN_REVIEW}), S.ESCALATED, None),
    # Decisions: signed off (closed, or back to the queue for newer photos), escalated,
    # a new photo asked for.
    (ANY_STATE, S.CLOSED, TimelineKind.REVIEWED),
    (ANY_STATE, S.AWAITING_REVIEW, TimelineKind.REVIEWED),
    (ANY_STATE, S.ESCALATED, TimelineKind.ESCALATED),
    (ANY_STATE, S.AWAITING_RETAKE, TimelineKind.RETAKE_REQUESTED),
    # The new photo arrived.
    (frozenset({S.AWAITING_RETAKE}), S.AWAITING_REVIEW, TimelineKind.REOPENED),
    # The patient removed the only photo waiting for review (diagnosis.image_services):
    # back to the retake request it answered, or to open.
    (frozenset({S.AWAITING_REVIEW}), S.AWAITING_RETAKE, None),
    (frozenset({S.AWAITING_REVIEW}), S.OPEN, None),
)


def _by_move() -> dict[tuple[CaseStatus, CaseStatus], frozenset[TimelineKind | None]]:
    table: dict[tuple[CaseStatus, CaseStatus], frozenset[TimelineKind | None]] = {}
    for leaving, to, kind in _LIFE:
        for from_ in leaving:
            table[(from_, to)] = table.get((from_, to), frozenset()) | {kind}
    return table


# {(from, to): the events that move may record}; a pair not listed is refused.
CASE_MOVES = _by_move()


class CaseMoveRefused(ValueError):
    """The table lists no such move (or not with that event): a bug in the caller."""


def allowed_from(to: CaseStatus, kind: TimelineKind | None) -> frozenset[CaseStatus]:
    """The states a case may leave for `to` by a move that records `kind`."""
    return frozenset(f for (f, t), kinds in CASE_MOVES.items() if t == to and kind in kinds)


def case_move(
    *,
    case: Case,
    to: CaseStatus,
    kind: TimelineKind | None = None,
    from_states: Iterable[CaseStatus] | None = None,
    actor: Any = None,
    patient_visible: bool = False,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> bool:
    """Move the case to `to` if it stands in one of `from_states`; True if it moved.

    `from_states` defaults to every state the table lets this move (to, kind) leave; a
    service that moves from fewer names them. When the case moved and `kind` is given, the
    event is recorded (actor, message, ...) in the caller's transaction. Raises
    CaseMoveRefused for a move the table does not list. The instance's `status` is left as
    it was: the row is what moved, and callers that read it on set it themselves.
    """
    allowed = allowed_from(to, kind)
    leaving = allowed if from_states is None else frozenset(from_states)
    if not leaving or not leaving <= allowed:
        refused = sorted(leaving - allowed) or sorted(leaving)
        raise CaseMoveRefused(f"no move from {refused} to {to} recording {kind}")
    moved = Case.objects.filter(pk=case.pk, status__in=leaving).update(status=to)
    if moved and kind is not None:
        record_event(case, kind, actor=actor, patient_visible=patient_visible,
                     message=message, data=data)
    return bool(moved)

"""A case's life (diagnosis/case_life.py): every move the table lists is made, and records its
event; every other move is refused and leaves the row as it was; a move that lost a race does
nothing and records nothing."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from audit.models import TimelineEvent, TimelineKind
from diagnosis.case_life import CASE_MOVES, CaseMoveRefused, allowed_from, case_move
from diagnosis.models import Case, CaseStatus
from patients.models import Role
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

LISTED = sorted(
    ((from_, to, kind) for (from_, to), kinds in CASE_MOVES.items() for kind in kinds),
    key=str,
)
KINDS: list[TimelineKind | None] = [None, *TimelineKind]
PAIRS = list(itertools.product(CaseStatus, CaseStatus))


def _id(value: object) -> str:
    return str(value) if value is not None else "no-event"


def case_in(status: CaseStatus) -> Case:
    case = CaseFactory.create()
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    return case


def status_of(case: Case) -> str:
    return Case.objects.values_list("status", flat=True).get(pk=case.pk)


@pytest.mark.parametrize(("from_", "to", "kind"), LISTED, ids=_id)
def test_each_listed_move_is_made_and_records_its_event(
    from_: CaseStatus, to: CaseStatus, kind: TimelineKind | None
) -> None:
    dana = UserFactory.create(role=Role.DERMATOLOGIST)
    case = case_in(from_)

    moved = case_move(case=case, to=to, kind=kind, from_states=(from_,), actor=dana,
                      patient_visible=True, message="what happened", data={"n": 1})

    assert moved is True
    assert status_of(case) == to
    events = list(TimelineEvent.objects.filter(case=case))
    if kind is None:
        assert events == []
    else:
        assert [(e.kind, e.actor, e.patient_visible, e.message, e.data) for e in events] == [
            (kind, dana, True, "what happened", {"n": 1})
        ]


@pytest.mark.parametrize(("from_", "to"), PAIRS, ids=_id)
def test_a_move_the_table_does_not_list_is_refused_and_changes_nothing(
    from_: CaseStatus, to: CaseStatus
) -> None:
    case = case_in(from_)
    refused = [k for k in KINDS if k not in CASE_MOVES.get((from_, to), frozenset())]
    assert refused  # no (from, to) pair may record every event there is

    for kind in refused:
        with pytest.raises(CaseMoveRefused):
            case_move(case=case, to=to, kind=kind, from_states=(from_,))

    assert status_of(case) == from_
    assert not TimelineEvent.objects.filter(case=case).exists()


def test_the_case_cannot_be_moved_back_to_open_but_by_removing_its_photo() -> None:
    # The one target the table reaches from a single state: the table is not all "any".
    assert allowed_from(CaseStatus.OPEN, None) == {CaseStatus.AWAITING_REVIEW}
    case = case_in(CaseStatus.CLOSED)

    with pytest.raises(CaseMoveRefused):
        case_move(case=case, to=CaseStatus.OPEN, from_states=(CaseStatus.CLOSED,))
    # Without from_states the UPDATE leaves only "awaiting review", so it matches nothing.
    assert case_move(case=case, to=CaseStatus.OPEN) is False

    assert status_of(case) == CaseStatus.CLOSED


def test_from_states_with_one_state_the_table_refuses_is_refused_whole() -> None:
    case = case_in(CaseStatus.AWAITING_REVIEW)

    with pytest.raises(CaseMoveRefused):
        case_move(case=case, to=CaseStatus.OPEN,
                  from_states=(CaseStatus.AWAITING_REVIEW, CaseStatus.CLOSED))

    assert status_of(case) == CaseStatus.AWAITING_REVIEW


def test_a_move_from_a_state_the_caller_did_not_name_does_nothing() -> None:
    # A claim released leaves only "in review": an escalated case stays escalated.
    case = case_in(CaseStatus.ESCALATED)

    moved = case_move(case=case, to=CaseStatus.AWAITING_REVIEW,
                      from_states=(CaseStatus.IN_REVIEW,))

    assert moved is False
    assert status_of(case) == CaseStatus.ESCALATED


def test_a_move_that_lost_the_race_returns_false_and_records_nothing() -> None:
    alice = UserFactory.create()
    case = case_in(CaseStatus.AWAITING_RETAKE)
    # Meanwhile the case left "awaiting a retake" (another photo reopened it first).
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.AWAITING_REVIEW)

    moved = case_move(case=case, to=CaseStatus.AWAITING_REVIEW, kind=TimelineKind.REOPENED,
                      actor=alice, patient_visible=True, message="Your new photo was sent.")

    assert moved is False
    assert status_of(case) == CaseStatus.AWAITING_REVIEW
    assert not TimelineEvent.objects.filter(case=case).exists()


def test_the_default_from_states_are_every_state_the_move_may_leave() -> None:
    case = case_in(CaseStatus.CLOSED)

    assert case_move(case=case, to=CaseStatus.IN_REVIEW, kind=TimelineKind.CLAIMED)

    assert status_of(case) == CaseStatus.IN_REVIEW
    assert allowed_from(CaseStatus.IN_REVIEW, TimelineKind.CLAIMED) == set(CaseStatus)


def _case_status_updates(path: Path) -> list[int]:
    """Lines of `Case.objects....update(status=...)` (or `type(case).objects...`) in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "update"
                and any(k.arg == "status" for k in node.keywords)):
            continue
        base: ast.expr = node.func.value
        while isinstance(base, ast.Call | ast.Attribute):
            base = base.func if isinstance(base, ast.Call) else base.value
            if isinstance(base, ast.Name) and base.id == "type":
                found.append(node.lineno)
        if isinstance(base, ast.Name) and base.id == "Case":
            found.append(node.lineno)
    return found


def test_no_service_moves_a_case_but_through_case_move() -> None:
    root = Path(__file__).resolve().parents[2]
    files = [p for app in ("diagnosis", "review") for p in (root / app).rglob("*.py")
             if "migrations" not in p.parts and p.name != "case_life.py"]
    assert files

    assert {str(p.relative_to(root)): lines for p in files
            if (lines := _case_status_updates(p))} == {}

"""audited_view: the role check inside the audit record, in one decorator.

A signed-in user with the wrong role gets 403 and the refusal is on the record, exactly as when
@audited sat above the role decorator; anonymous visitors go to the login page, unrecorded.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from audit.models import AuditEvent
from patients.models import Role, User
from patients.permissions import audited_view
from tests.factories import FlaggedAnalysisFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
reached: list[int] = []


@audited_view("claim", "diagnosis.analysis", roles=[Role.DERMATOLOGIST])
def _claim(request: HttpRequest, pk: int) -> HttpResponse:
    reached.append(pk)
    return HttpResponse(status=204)


def _post(user: object) -> HttpRequest:
    request = RequestFactory().post("/review/analyses/7/claim/")
    request.user = user  # type: ignore[assignment]
    return request


def test_a_patient_posting_a_claim_gets_403_and_the_refusal_is_recorded(
    client: Client, alice: User
) -> None:
    analysis = FlaggedAnalysisFactory.create()
    client.force_login(alice)

    response = client.post(f"/review/analyses/{analysis.pk}/claim/")

    assert response.status_code == 403
    event = AuditEvent.objects.get(action="claim")
    assert (event.user, event.username, event.role) == (alice, "alice", "patient")
    assert (event.action, event.object_type, event.object_id) == (
        "claim", "diagnosis.analysis", str(analysis.pk)
    )
    assert (event.method, event.path, event.status_code) == (
        "POST", f"/review/analyses/{analysis.pk}/claim/", 403
    )


def test_the_wrong_role_never_reaches_the_view_but_is_on_the_record(alice: User) -> None:
    reached.clear()

    with pytest.raises(PermissionDenied):
        _claim(_post(alice), pk=7)

    assert reached == []
    event = AuditEvent.objects.get()
    assert (event.user, event.object_id, event.status_code) == (alice, "7", 403)


def test_the_right_role_reaches_the_view_and_is_on_the_record(dana: User) -> None:
    reached.clear()

    assert _claim(_post(dana), pk=7).status_code == 204

    assert reached == [7]
    event = AuditEvent.objects.get()
    assert (event.user, event.role, event.status_code) == (dana, "dermatologist", 204)


def test_anonymous_visitors_are_sent_to_log_in_unrecorded() -> None:
    response = _claim(_post(AnonymousUser()), pk=7)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not AuditEvent.objects.exists()


def test_no_view_stacks_audited_by_hand() -> None:
    """Function views take audited_view, so the role check cannot end up outside the record."""
    stacked = []
    for top in ("patients", "diagnosis", "review", "knowledge", "audit", "skincare_project"):
        for path in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.FunctionDef):
                    continue
                for decorator in node.decorator_list:
                    func = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if isinstance(func, ast.Name) and func.id == "audited":
                        stacked.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert not stacked, f"use patients.permissions.audited_view: {stacked}"

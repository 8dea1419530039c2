"""The audit log and timelines are append-only, in the ORM and in the admin."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import Client, RequestFactory

from audit.models import AppendOnlyError, AuditEvent, TimelineEvent, TimelineKind
from audit.services import record_access, record_event
from diagnosis.models import Case
from patients.models import User
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(alice: User) -> AuditEvent:
    return record_access(None, "view", alice, user=alice)


@pytest.fixture
def case(alice: User) -> Case:
    return CaseFactory.create(patient=alice)


@pytest.fixture
def history(case: Case) -> TimelineEvent:
    return record_event(case, TimelineKind.OPENED, patient_visible=True, message="Case opened.")


def test_an_audit_row_cannot_be_saved_again(event: AuditEvent) -> None:
    event.action = "delete"

    with pytest.raises(AppendOnlyError):
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_an_audit_row_cannot_be_deleted(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        event.delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_audit_log_refuses_bulk_updates_and_deletes(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="delete")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_a_timeline_event_cannot_be_changed_or_removed(history: TimelineEvent) -> None:
    history.message = "rewritten"
    with pytest.raises(AppendOnlyError):
        history.save()
    with pytest.raises(AppendOnlyError):
        history.delete()
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.filter(pk=history.pk).update(message="rewritten")
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.filter(pk=history.pk).delete()

    assert TimelineEvent.objects.get(pk=history.pk).message == "Case opened."


def test_unknown_actions_and_kinds_are_refused(alice: User, case: Case) -> None:
    with pytest.raises(ValueError):
        record_access(None, "peek", alice, user=alice)
    with pytest.raises(ValueError):
        record_event(case, "gossip")  # type: ignore[arg-type]


def test_a_kind_given_as_a_bare_string_is_refused(case: Case) -> None:
    with pytest.raises(TypeError, match="TimelineKind.OPENED"):
        record_event(case, "opened")  # type: ignore[arg-type]

    assert not TimelineEvent.objects.exists()


def test_deleting_a_user_keeps_their_audit_rows_with_the_username(event: AuditEvent) -> None:
    User.objects.filter(username="alice").delete()

    event = AuditEvent.objects.get(pk=event.pk)
    assert event.user is None
    assert event.username == "alice" and event.role == "patient"


@pytest.mark.parametrize("model", [AuditEvent, TimelineEvent])
def test_the_admin_can_neither_add_change_nor_delete(admin: User, model: type) -> None:
    request = RequestFactory().get("/admin/")
    request.user = admin
    model_admin = site._registry[model]

    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_the_admin_lists_filters_and_shows_audit_rows_read_only(
    client: Client, admin: User, event: AuditEvent
) -> None:
    client.force_login(admin)

    listing = client.get("/admin/audit/auditevent/", {"action": "view", "role": "patient"})
    detail = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    post = client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "delete"})
    delete = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200 and b"alice" in listing.content
    assert detail.status_code == 200 and b"Save" not in detail.content
    assert post.status_code == 403
    assert delete.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_the_admin_browses_timelines(client: Client, admin: User, history: TimelineEvent) -> None:
    client.force_login(admin)

    listing = client.get("/admin/audit/timelineevent/", {"kind": "opened"})

    assert listing.status_code == 200
    assert f"Case {history.case_id}" in listing.content.decode()

"""Writes to the audit log and to case timelines. Both tables are append-only (see models).

Public interface, for every app:

    record_access(request, action, obj=None, *, user=None, object_type="", object_id="",
                  detail=None, status_code=None) -> AuditEvent
        Someone read or wrote health data. `action` is an AuditAction value: view, list,
        create, update, delete, upload, download, export, claim, release, reassign, review,
        annotate, message, login, logout, login_failed. The object is `obj` (its type is
        `app_label.model`, e.g. "diagnosis.case"), or `object_type`/`object_id` when there is
        no instance at hand. `detail` holds ids, counts and codes, never health data (no
        notes, answers, diagnoses, names). `request` may be Django's or DRF's (DRF's knows
        the token user), or None outside a request (then pass `user`).

    record_event(case, kind, *, actor=None, patient_visible=False, message="", data=None)
        -> TimelineEvent
        Something happened to a case (a diagnosis.Case). `kind` is a TimelineKind member,
        never its bare string: opened, image_uploaded, image_removed, image_hidden,
        analysis_finished, analysis_rejected, analysis_failed, flagged, claimed, released,
        claim_expired, reassigned, reviewed, self_care_override, message_sent,
        retake_requested, reopened, escalated, closed. `actor` None means the
        system (the worker, the sweeper). Call it in the same transaction as the change it
        describes. `message` is shown on the timeline (to the patient too when `patient_visible`).

Request glue, in audit.mixins (and patients.permissions.audited_view, the role-checked form):

    @audited_view("view", "diagnosis.case", roles=[Role.PATIENT])   # function views: the
    def case_detail(request, pk): ...     # role check runs inside the record; the object id
                                          # is the URL's `pk` (pk_kwarg=None for lists)

    class QueueApi(AuditedViewMixin, generics.ListAPIView):   # DRF views
        audit_object_type = "diagnosis.analysis"
        audit_actions = {"GET": "list", "POST": "claim"}      # method -> action

    audit_target(request, obj, **detail)   # inside either: name the object actually touched
                                           # (e.g. the image an upload created)

    class CaseAdmin(AuditedAdminMixin, admin.ModelAdmin): ...   # Django admin pages

Both record after the view answered, with its status code; refused requests (403, 404) of
signed-in users are recorded too, anonymous ones are not (they never reach any data).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.db import models
from django.http import HttpRequest
from rest_framework.request import Request

from audit.addresses import client_ip
from audit.models import AuditAction, AuditEvent, TimelineEvent, TimelineKind

USER_AGENT_MAX = 200
PATH_MAX = 300


def _signed_in(user: Any) -> Any:
    """The user if it is a real, signed-in account, else None."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _ip(request: HttpRequest | Request) -> str | None:
    # X-Forwarded-For is only trusted as far as settings.NUM_PROXIES (audit.addresses);
    # anything that is not an address is dropped rather than failing the request.
    raw = client_ip(request)
    try:
        return str(ipaddress.ip_address((raw or "").strip()))
    except ValueError:
        return None


def record_access(
    request: HttpRequest | Request | None,
    action: str,
    obj: models.Model | None = None,
    *,
    user: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
    status_code: int | None = None,
) -> AuditEvent:
    """Write one audit row: who (and in what role) did `action` to which object, from where."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    if user is None and request is not None:
        user = _signed_in(getattr(request, "user", None))
    else:
        user = _signed_in(user)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    event = AuditEvent(
        user=user,
        username=user.get_username() if user else "",
        role=getattr(user, "role", "") if user else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail or {},
        status_code=status_code,
    )
    if request is not None:
        event.path = request.path[:PATH_MAX]
        event.method = (request.method or "")[:8]
        event.ip_address = _ip(request)
        event.user_agent = request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX]
    event.save()
    return event


def record_event(
    case: Any,  # a diagnosis.Case: audit imports none of our apps
    kind: TimelineKind,
    *,
    actor: Any = None,
    patient_visible: bool = False,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Append one event to a case's timeline.

    `kind` must be a TimelineKind member, at run time too: a bare string is how a typo or a
    kind nobody added to TimelineKind would slip past the type checker.
    """
    if not isinstance(kind, TimelineKind):
        member = TimelineKind(kind)  # ValueError for a kind that does not exist
        raise TypeError(f"pass TimelineKind.{member.name}, not the bare string {kind!r}")
    actor = _signed_in(actor)
    event = TimelineEvent(
        case=case,
        kind=kind,
        actor=actor,
        actor_role=getattr(actor, "role", "") if actor else "",
        patient_visible=patient_visible,
        message=message,
        data=data or {},
    )
    event.save()
    return event

"""Audit glue for views: a decorator for function views, mixins for DRF views and the admin.

Each records one AuditEvent per request after the view answered (see audit.services for the
usage summary). Requests of anonymous visitors are not recorded: they reach no data.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditAction
from audit.services import record_access

ViewFunc = Callable[..., HttpResponse]

_TARGET_ATTR = "_audit_target"


def _django_request(request: HttpRequest | Request) -> HttpRequest:
    """The Django request under a DRF one: where the target travels between view and mixin."""
    return request._request if isinstance(request, Request) else request


def audit_target(request: HttpRequest | Request, obj: models.Model, **detail: Any) -> None:
    """Name the object a request actually touched, for the row recorded after the view.

    For when the URL does not name it: the case a POST created, the image an upload stored.
    """
    setattr(_django_request(request), _TARGET_ATTR, (obj, detail))


def _record(
    request: HttpRequest | Request,
    action: str,
    object_type: str,
    object_id: Any,
    status_code: int,
    detail: dict[str, Any] | None = None,
) -> None:
    if not getattr(request.user, "is_authenticated", False):
        return
    target = getattr(_django_request(request), _TARGET_ATTR, None)
    if target is not None:
        obj, target_detail = target
        record_access(request, action, obj, detail={**(detail or {}), **target_detail},
                      status_code=status_code)
        return
    record_access(
        request, action, object_type=object_type,
        object_id="" if object_id is None else str(object_id), detail=detail,
        status_code=status_code,
    )


def audited(
    action: str,
    object_type: str,
    *,
    pk_kwarg: str | None = "pk",
    methods: Collection[str] | None = None,
    detail: dict[str, Any] | None = None,
) -> Callable[[ViewFunc], ViewFunc]:
    """Record `action` on `object_type` (id from the URL's `pk_kwarg`) for every request.

    Views that check a role use patients.permissions.audited_view, which puts this around the
    role check, so refused requests of signed-in users are recorded as well.
    `methods` limits it (e.g. {"POST"} for a form whose GET shows nothing yet); `detail` is
    added to every row (e.g. {"variant": "thumbnail"}).
    """
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if methods is not None and request.method not in methods:
                return view(request, *args, **kwargs)
            object_id = kwargs.get(pk_kwarg) if pk_kwarg else None
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                _record(request, action, object_type, object_id, 404, detail)
                raise
            except PermissionDenied:
                _record(request, action, object_type, object_id, 403, detail)
                raise
            except Exception:
                # It may have read data before failing: the attempt is on the record.
                _record(request, action, object_type, object_id, 500, detail)
                raise
            _record(request, action, object_type, object_id, response.status_code, detail)
            return response

        return wrapper

    return decorator


DEFAULT_ACTIONS = {
    "GET": AuditAction.VIEW, "POST": AuditAction.CREATE, "PUT": AuditAction.UPDATE,
    "PATCH": AuditAction.UPDATE, "DELETE": AuditAction.DELETE,
}


class AuditedViewMixin(APIView):
    """DRF views: one audit row per request, written in finalize_response.

    Set `audit_object_type`, and `audit_actions` (HTTP method -> action) where the defaults
    (GET view, POST create, PUT/PATCH update, DELETE delete) do not fit, e.g. {"GET": "list"}.
    The object id is the URL kwarg `audit_lookup_kwarg` ("pk"); call audit_target() in the
    view to name another object. HEAD and OPTIONS are not recorded (they return no data).
    """

    audit_object_type: str = ""
    audit_actions: dict[str, str] = {}
    audit_lookup_kwarg: str = "pk"
    audit_detail: dict[str, Any] = {}

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        action = {**DEFAULT_ACTIONS, **self.audit_actions}.get(request.method or "")
        if action:
            _record(request, action, self.audit_object_type,
                    kwargs.get(self.audit_lookup_kwarg), response.status_code, self.audit_detail)
        return response


class AuditedAdminMixin(admin.ModelAdmin):
    """Django admin pages of models holding health data: lists, forms, deletions, history."""

    def _audit(self, request: HttpRequest, action: str, object_id: str | None,
               call: Callable[[], HttpResponse]) -> HttpResponse:
        object_type = self.model._meta.label_lower
        try:
            response = call()
        except PermissionDenied:
            _record(request, action, object_type, object_id, 403)
            raise
        _record(request, action, object_type, object_id, response.status_code)
        return response

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self._audit(
            request, AuditAction.LIST, None,
            lambda: super(AuditedAdminMixin, self).changelist_view(request, extra_context),
        )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            action = AuditAction.VIEW
        else:
            action = AuditAction.CREATE if object_id is None else AuditAction.UPDATE
        return self._audit(
            request, action, object_id,
            lambda: super(AuditedAdminMixin, self).changeform_view(
                request, object_id, form_url, extra_context
            ),
        )

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self._audit(
            request, AuditAction.DELETE if request.method == "POST" else AuditAction.VIEW,
            object_id,
            lambda: super(AuditedAdminMixin, self).delete_view(request, object_id, extra_context),
        )

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self._audit(
            request, AuditAction.VIEW, object_id,
            lambda: super(AuditedAdminMixin, self).history_view(request, object_id, extra_context),
        )

"""Role checks for every view: DRF permission classes, view decorators and CBV mixins.

Anonymous web visitors are sent to the login page; signed-in users with the wrong role get
403. In the API, DRF answers 401 (no or bad token) or 403 (wrong role).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from audit.mixins import audited
from patients.models import Role


def has_role(user: Any, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


class _RolePermission(BasePermission):
    roles: tuple[str, ...] = ()

    def has_permission(self, request: Request, view: APIView) -> bool:
        return has_role(request.user, *self.roles)


class IsPatient(_RolePermission):
    roles = (Role.PATIENT,)


class IsDermatologist(_RolePermission):
    roles = (Role.DERMATOLOGIST,)


class IsAdminRole(_RolePermission):
    roles = (Role.ADMIN,)


class IsClinician(_RolePermission):
    """Dermatologists and administrators: everyone who may see any patient's data."""

    roles = (Role.DERMATOLOGIST, Role.ADMIN)


ViewFunc = Callable[..., HttpResponse]

# Everyone who may see any patient's data (as IsClinician).
CLINICIANS = (Role.DERMATOLOGIST, Role.ADMIN)


def role_required(*roles: str) -> Callable[[ViewFunc], ViewFunc]:
    """Decorate a function view so only signed-in users with one of `roles` reach it."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def audited_view(
    action: str,
    object_type: str,
    *,
    roles: Collection[str],
    pk_kwarg: str | None = "pk",
    methods: Collection[str] | None = None,
    detail: dict[str, Any] | None = None,
) -> Callable[[ViewFunc], ViewFunc]:
    """A function view only `roles` may reach, with every request on the audit record.

    The role check runs inside the audit record (audit.mixins.audited), so a signed-in user
    refused with 403 is recorded too; one decorator, so the two cannot be stacked the wrong
    way round. The other arguments are audited's.
    """
    record = audited(action, object_type, pk_kwarg=pk_kwarg, methods=methods, detail=detail)
    check = role_required(*roles)

    def decorator(view: ViewFunc) -> ViewFunc:
        return record(check(view))

    return decorator


patient_required = role_required(Role.PATIENT)
dermatologist_required = role_required(Role.DERMATOLOGIST)
admin_required = role_required(Role.ADMIN)
clinician_required = role_required(Role.DERMATOLOGIST, Role.ADMIN)


class RoleRequiredMixin(AccessMixin):
    """Class-based views: set `allowed_roles`."""

    allowed_roles: tuple[str, ...] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, *self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class PatientRequiredMixin(RoleRequiredMixin):
    allowed_roles = (Role.PATIENT,)


class DermatologistRequiredMixin(RoleRequiredMixin):
    allowed_roles = (Role.DERMATOLOGIST,)


class AdminRequiredMixin(RoleRequiredMixin):
    allowed_roles = (Role.ADMIN,)

"""Sign-ins and sign-outs in the audit log, from Django's auth signals.

A signal rather than a service call because the login views are Django's own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from audit.models import AuditAction
from audit.services import record_access


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record_access(request, AuditAction.LOGIN, user, user=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_access(request, AuditAction.LOGOUT, user, user=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The username tried goes in the detail (it may be nobody's); never the password.
    username = str(credentials.get("username", ""))[:150]
    record_access(request, AuditAction.LOGIN_FAILED, object_type="patients.user",
                  detail={"username": username})

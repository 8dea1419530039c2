"""Hooks for django-axes (login-attempt limiting)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKOUT_MESSAGE = "Too many failed login attempts. Please try again later."


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """What a locked-out client sees: JSON for the API, a page for the web."""
    status: int = getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKOUT_MESSAGE}, status=status)
    return render(
        request,
        "registration/locked_out.html",
        {"message": LOCKOUT_MESSAGE, "cooloff_hours": settings.AXES_COOLOFF_TIME},
        status=status,
    )


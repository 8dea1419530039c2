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


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies.

    With NUM_PROXIES trusted proxies, the address the outermost one saw is the
    NUM_PROXIES-th from the right; anything further left could be forged by the client.
    """
    num_proxies: int = settings.NUM_PROXIES
    if num_proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= num_proxies:
            return hops[-num_proxies]
    remote: str | None = request.META.get("REMOTE_ADDR")
    return remote
